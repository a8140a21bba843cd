/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * vcard: the card's cryptography, all through OpenSSL.  PIV algorithm
 * identifiers (SP 800-78-4) name key types: VC_ALG_*.
 *
 * All functions returning int return 0 or a negative TOK_ERR_* code.
 */
#ifndef TESTS_VCARD_CRYPTO_H
#define TESTS_VCARD_CRYPTO_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct buf;

#define VC_ALG_3DES	0x03
#define VC_ALG_RSA3072	0x05
#define VC_ALG_RSA1024	0x06
#define VC_ALG_RSA2048	0x07
#define VC_ALG_RSA4096	0x16
#define VC_ALG_AES128	0x08
#define VC_ALG_AES192	0x0a
#define VC_ALG_AES256	0x0c
#define VC_ALG_ECCP256	0x11
#define VC_ALG_ECCP384	0x14

/* vc_crypto_keygen: a new key for PIV algorithm alg (RSA 1024 to 4096, ECCP256/384) in *pkeyp. */
int vc_crypto_keygen(int alg, EVP_PKEY **pkeyp)
    __attribute__((warn_unused_result));
/* vc_crypto_key_alg: the PIV algorithm of an asymmetric key, or -1. */
int vc_crypto_key_alg(EVP_PKEY *pkey);
/*
 * vc_crypto_selfsign: a DER self-signed X.509 certificate for pkey with
 * subject CN=cn, valid ten years from now; ca 1 makes it a CA certificate
 * (basic constraints, key usage: certificate signing).  *derp is
 * allocated; caller frees.
 */
int vc_crypto_selfsign(EVP_PKEY *pkey, const char *cn, int ca, u_char **derp,
    size_t *lenp) __attribute__((warn_unused_result));
/*
 * vc_crypto_sign: the card's private-key operation, output appended to out.
 * ECDSA: in is a digest (any length; ECDSA truncates), out gets the DER
 * signature.  RSA: in is a block of exactly the modulus size, out gets the
 * raw private operation's result (the host did the padding).
 * TOK_ERR_INVALID_ARGUMENT when the input does not fit the key.
 */
int vc_crypto_sign(EVP_PKEY *pkey, const u_char *in, size_t inlen,
    struct buf *out) __attribute__((warn_unused_result));
/*
 * vc_crypto_pubkey_template: append the public key as a PIV 7F49 template:
 * 81 modulus + 82 exponent (RSA) or 86 uncompressed point (EC).
 */
int vc_crypto_pubkey_template(EVP_PKEY *pkey, struct buf *out)
    __attribute__((warn_unused_result));
/* vc_crypto_pubkey_fields: the same fields without the 7F49 wrapper. */
int vc_crypto_pubkey_fields(EVP_PKEY *pkey, struct buf *out)
    __attribute__((warn_unused_result));
/*
 * vc_crypto_import: a private key from YubiKey IMPORT KEY fields (values
 * borrowed from the caller): for RSA (alg RSA*) p, q, dp, dq, qinv in
 * f[0..4] (public exponent 65537, as on a YubiKey); for EC (ECCP256/384)
 * the private scalar in f[5].  Absent fields have len 0.  The key must
 * have alg's size.  TOK_ERR_KEY_INVALID when the fields do not make one.
 */
struct vc_crypto_field {
	const u_char	*p;
	size_t		 len;
};
#define VC_IMPORT_FIELDS	6
int vc_crypto_import(int alg, const struct vc_crypto_field *f,
    EVP_PKEY **pkeyp) __attribute__((warn_unused_result));
/*
 * vc_crypto_attest: a DER certificate for the public part of pkey, as a
 * YubiKey attests a slot: subject "YubiKey PIV Attestation <slot>", issued
 * and signed by the attestation key signer whose certificate is signer_der,
 * with Yubico's extensions (firmware version, serial, PIN and touch
 * policy, form factor).  *derp is allocated; caller frees.
 */
int vc_crypto_attest(EVP_PKEY *pkey, int keyref, EVP_PKEY *signer,
    const u_char *signer_der, size_t signer_len, const u_char version[3],
    uint32_t serial, int pin_policy, int touch_policy, u_char **derp,
    size_t *lenp) __attribute__((warn_unused_result));
/*
 * vc_crypto_block_size: the block size of management key algorithm alg
 * (3DES: 8, AES: 16), or 0 when unsupported or keylen does not match.
 */
size_t vc_crypto_block_size(int alg, size_t keylen);
/*
 * vc_crypto_encrypt_block: encrypt one block (vc_crypto_block_size bytes)
 * with the management key in ECB mode, no padding.  in and out may alias.
 */
int vc_crypto_encrypt_block(int alg, const u_char *key, size_t keylen,
    const u_char *in, u_char *out) __attribute__((warn_unused_result));
/* vc_crypto_random: len random bytes at p. */
int vc_crypto_random(u_char *p, size_t len) __attribute__((warn_unused_result));

#endif /* TESTS_VCARD_CRYPTO_H */

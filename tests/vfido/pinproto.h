/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * CTAP2 PIN/UV auth protocols 1 and 2 (CTAP 2.1 section 6.5.6/6.5.7):
 * the shared-secret KDF over an ECDH P-256 x-coordinate, encrypt/decrypt
 * and authenticate/verify.  Both sides of the protocol use the same
 * operations, so the unit test plays the platform with them.
 *
 * "shared" is what kdf() made: 32 bytes for protocol 1, 64 for protocol 2
 * (HMAC key then AES key).  authenticate()/verify() also take a
 * pinUvAuthToken as key.  All return 0 or a negative TOK_ERR_* code.
 */
#ifndef VFIDO_PINPROTO_H
#define VFIDO_PINPROTO_H

#include <sys/types.h>
#include <stddef.h>

#include <openssl/evp.h>

#define VFIDO_PIN_SHARED_MAX	64
#define VFIDO_PIN_AUTH_MAX	32
#define VFIDO_PIN_IV_LEN	16

/* vfido_pin_ecdh_new: a fresh P-256 key agreement key (*pkp, EVP_PKEY_free). */
int vfido_pin_ecdh_new(EVP_PKEY **pkp) __attribute__((warn_unused_result));
/* vfido_pin_ecdh_pub: the affine x and y (32 bytes each) of a P-256 key. */
int vfido_pin_ecdh_pub(EVP_PKEY *pk, u_char x[32], u_char y[32])
    __attribute__((warn_unused_result));
/*
 * vfido_pin_ecdh: Z = x-coordinate of ours * peer(x, y).  A peer point not
 * on the curve: TOK_ERR_KEY_INVALID.
 */
int vfido_pin_ecdh(EVP_PKEY *ours, const u_char x[32], const u_char y[32],
    u_char z[32]) __attribute__((warn_unused_result));
/* vfido_pin_kdf: the shared secret for proto (1 or 2) from Z; *sharedlenp = 32 or 64. */
int vfido_pin_kdf(int proto, const u_char z[32],
    u_char shared[VFIDO_PIN_SHARED_MAX], size_t *sharedlenp)
    __attribute__((warn_unused_result));
/*
 * vfido_pin_encrypt: AES-256-CBC without padding; inlen must be a multiple
 * of 16.  Protocol 2 prepends a random IV.  *outp is new (free()).
 */
int vfido_pin_encrypt(int proto, const u_char *shared, size_t sharedlen,
    const u_char *in, size_t inlen, u_char **outp, size_t *outlenp)
    __attribute__((warn_unused_result));
/* vfido_pin_decrypt: the inverse; *outp is new (freezero() it). */
int vfido_pin_decrypt(int proto, const u_char *shared, size_t sharedlen,
    const u_char *in, size_t inlen, u_char **outp, size_t *outlenp)
    __attribute__((warn_unused_result));
/*
 * vfido_pin_authenticate: HMAC-SHA-256 of msg, 16 bytes for protocol 1,
 * 32 for protocol 2 (which keys with the first 32 bytes of key).
 */
int vfido_pin_authenticate(int proto, const u_char *key, size_t keylen,
    const u_char *msg, size_t msglen, u_char out[VFIDO_PIN_AUTH_MAX],
    size_t *outlenp) __attribute__((warn_unused_result));
/* vfido_pin_verify: 0 when sig is authenticate(key, msg), else TOK_ERR_SIGNATURE_INVALID. */
int vfido_pin_verify(int proto, const u_char *key, size_t keylen,
    const u_char *msg, size_t msglen, const u_char *sig, size_t siglen)
    __attribute__((warn_unused_result));

#endif /* VFIDO_PINPROTO_H */

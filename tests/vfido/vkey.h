/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Credential keys of the virtual authenticator: generation, COSE public
 * keys, signatures, and credential IDs that wrap the private key under the
 * token's master secret (AES-256-GCM, bound to the RP ID hash), so that
 * non-resident credentials need no storage, as on real keys.
 *
 * All int functions return 0 or a negative TOK_ERR_* code.
 */
#ifndef VFIDO_VKEY_H
#define VFIDO_VKEY_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include <cbor.h>
#include <openssl/evp.h>

#define VFIDO_COSE_ES256	(-7)
#define VFIDO_COSE_EDDSA	(-8)
#define VFIDO_COSE_ECDH_ES_HKDF	(-25)

#define VFIDO_CREDID_MAX	256	/* longest credential ID we make or take */

/* flags bound into a credential ID */
#define VFIDO_KEY_RK		0x01	/* resident: must also be in the store */
#define VFIDO_KEY_PROT_MASK	0x06	/* credProtect level << 1 */

/* vfido_cbor_int: a CBOR integer in its shortest form (new reference), or NULL. */
cbor_item_t *vfido_cbor_int(int64_t v);

/* vfido_key_generate: a new key for a COSE alg (ES256 or EdDSA). */
int vfido_key_generate(int alg, EVP_PKEY **pkp)
    __attribute__((warn_unused_result));
/* vfido_key_cose: the COSE_Key map (new reference, cbor_decref) for the public key. */
int vfido_key_cose(EVP_PKEY *pk, int alg, cbor_item_t **itemp)
    __attribute__((warn_unused_result));
/* vfido_key_sign: ES256 (DER ECDSA over SHA-256) or EdDSA signature of msg; *sigp new. */
int vfido_key_sign(EVP_PKEY *pk, int alg, const u_char *msg, size_t msglen,
    u_char **sigp, size_t *siglenp) __attribute__((warn_unused_result));
/*
 * vfido_key_wrap: a credential ID (*idp, new) carrying pk, alg and flags,
 * sealed with master and bound to rpid_hash.
 */
int vfido_key_wrap(const u_char master[32], const u_char rpid_hash[32],
    int alg, uint8_t flags, EVP_PKEY *pk, u_char **idp, size_t *idlenp)
    __attribute__((warn_unused_result));
/*
 * vfido_key_unwrap: open a credential ID.  Anything not made by this token
 * for this RP: TOK_ERR_KEY_NOT_FOUND.  *pkp is new.
 */
int vfido_key_unwrap(const u_char master[32], const u_char rpid_hash[32],
    const u_char *id, size_t idlen, int *algp, uint8_t *flagsp,
    EVP_PKEY **pkp) __attribute__((warn_unused_result));
/* vfido_key_forget: drop the keys of recently opened credential IDs. */
void vfido_key_forget(void);

#endif /* VFIDO_VKEY_H */

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Public keys from PKCS#11 object attributes.  Every input comes from the
 * module and is untrusted: encodings are parsed strictly (no trailing
 * bytes) and the resulting key is validated by common/key.c (point on the
 * curve, RSA size limits).
 */
#ifndef PKCS_P11_PUBKEY_H
#define PKCS_P11_PUBKEY_H

#include "common/err.h"

#include <sys/types.h>
#include <stddef.h>

struct key;

/*
 * p11_pubkey_rsa: an RSA public key from CKA_MODULUS and
 * CKA_PUBLIC_EXPONENT (unsigned big-endian).  *keyp is the caller's.
 * TOK_ERR_KEY_INVALID for bad values, as key_from_evp_public otherwise.
 */
int p11_pubkey_rsa(const u_char *n, size_t nlen, const u_char *e, size_t elen,
    struct key **keyp) TOK_WUR;
/*
 * p11_pubkey_ec: an ECDSA (P-256/384/521) or Ed25519 public key from
 * CKA_EC_PARAMS (DER: a named-curve OID, or for Ed25519 the OID 1.3.101.112
 * or the PrintableString "edwards25519") and CKA_EC_POINT (the point, raw
 * or wrapped in a DER OCTET STRING).  TOK_ERR_KEY_TYPE_UNKNOWN for other
 * curves, TOK_ERR_INVALID_FORMAT / TOK_ERR_KEY_INVALID for bad encodings.
 */
int p11_pubkey_ec(const u_char *params, size_t paramslen, const u_char *point,
    size_t pointlen, struct key **keyp) TOK_WUR;
/*
 * p11_pubkey_x509: the public key of a DER X.509 certificate (CKA_VALUE of
 * a CKC_X_509 object); the whole input must be the certificate.
 */
int p11_pubkey_x509(const u_char *der, size_t len, struct key **keyp)
    TOK_WUR;

#endif /* PKCS_P11_PUBKEY_H */

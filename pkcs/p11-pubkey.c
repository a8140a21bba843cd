/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Public keys from PKCS#11 attributes (see p11-pubkey.h). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/key.h"
#include "pkcs/p11-pubkey.h"

#define P11_EC_POINT_MAX	(1 + 2 * 66)	/* uncompressed P-521 */
#define P11_RSA_BYTES_MAX	(KEY_RSA_MAX_BITS / 8)
#define P11_CERT_MAX		(16 * 1024)

/* DER encodings of the CKA_EC_PARAMS values we accept. */
static const u_char p11_oid_p256[] = {
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07
};
static const u_char p11_oid_p384[] = {
	0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22
};
static const u_char p11_oid_p521[] = {
	0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23
};
static const u_char p11_oid_ed25519[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
/* PKCS#11 3.0 lets the curve be named by a PrintableString. */
static const u_char p11_name_ed25519[] = {
	0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9'
};

struct p11_curve {
	const u_char *params;
	size_t paramslen;
	const char *group;	/* OpenSSL group name; NULL for Ed25519 */
	size_t pointlen;	/* raw point length */
};

static const struct p11_curve p11_curves[] = {
	{ p11_oid_p256, sizeof(p11_oid_p256), "prime256v1", 1 + 2 * 32 },
	{ p11_oid_p384, sizeof(p11_oid_p384), "secp384r1", 1 + 2 * 48 },
	{ p11_oid_p521, sizeof(p11_oid_p521), "secp521r1", 1 + 2 * 66 },
	{ p11_oid_ed25519, sizeof(p11_oid_ed25519), NULL, 32 },
	{ p11_name_ed25519, sizeof(p11_name_ed25519), NULL, 32 },
};

int
p11_pubkey_rsa(const u_char *n, size_t nlen, const u_char *e, size_t elen,
    struct key **keyp)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	int r = TOK_ERR_LIBCRYPTO;

	*keyp = NULL;
	if (nlen == 0 || nlen > P11_RSA_BYTES_MAX + 1 || elen == 0 ||
	    elen > 8) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	if ((bn_n = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
	    (bn_e = BN_bin2bn(e, (int)elen, NULL)) == NULL)
		goto out;
	/* Exponent: odd and > 1 (RFC 8017 3.1 asks for 3 <= e <= n - 1). */
	if (!BN_is_odd(bn_e) || BN_is_one(bn_e) || BN_cmp(bn_e, bn_n) >= 0) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	r = key_from_evp_public(pk, keyp);
 out:
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	return r;
}

/*
 * p11_point_unwrap: the raw point in a CKA_EC_POINT of want bytes: either
 * the value itself or a DER OCTET STRING holding exactly that.  Lengths
 * tell the two apart (the wrapper adds 2 or 3 bytes).
 */
static int
p11_point_unwrap(const u_char *v, size_t len, size_t want,
    const u_char **ptp)
{
	size_t hdr, clen;

	*ptp = NULL;
	if (len == want) {
		*ptp = v;
		return 0;
	}
	if (len < 2 || v[0] != 0x04)
		return TOK_ERR_INVALID_FORMAT;
	if (v[1] < 0x80) {
		hdr = 2;
		clen = v[1];
	} else if (v[1] == 0x81 && len >= 3 && v[2] >= 0x80) {
		/* Long form only where short form can not express it (DER). */
		hdr = 3;
		clen = v[2];
	} else
		return TOK_ERR_INVALID_FORMAT;
	if (clen != want || len - hdr != clen)
		return TOK_ERR_INVALID_FORMAT;
	*ptp = v + hdr;
	return 0;
}

int
p11_pubkey_ec(const u_char *params, size_t paramslen, const u_char *point,
    size_t pointlen, struct key **keyp)
{
	const struct p11_curve *c = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *op = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	const u_char *pt;
	size_t i;
	int r = TOK_ERR_KEY_TYPE_UNKNOWN;

	*keyp = NULL;
	for (i = 0; i < sizeof(p11_curves) / sizeof(p11_curves[0]); i++) {
		if (paramslen == p11_curves[i].paramslen &&
		    memcmp(params, p11_curves[i].params, paramslen) == 0) {
			c = &p11_curves[i];
			break;
		}
	}
	if (c == NULL)
		goto out;
	if ((r = p11_point_unwrap(point, pointlen, c->pointlen, &pt)) != 0)
		goto out;
	r = TOK_ERR_KEY_INVALID;
	if (c->group == NULL) {
		if ((pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    pt, c->pointlen)) == NULL)
			goto out;
	} else {
		if (pt[0] != 0x04)	/* uncompressed only */
			goto out;
		if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
		    !OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, c->pointlen) ||
		    (op = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
		    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC",
		    NULL)) == NULL ||
		    EVP_PKEY_fromdata_init(ctx) != 1 ||
		    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, op) != 1)
			goto out;
	}
	r = key_from_evp_public(pk, keyp);
 out:
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(op);
	OSSL_PARAM_BLD_free(bld);
	return r;
}

int
p11_pubkey_x509(const u_char *der, size_t len, struct key **keyp)
{
	const u_char *p = der;
	X509 *x = NULL;
	EVP_PKEY *pk;
	int r = TOK_ERR_INVALID_FORMAT;

	*keyp = NULL;
	if (len == 0 || len > P11_CERT_MAX)
		goto out;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
		goto out;
	if (p != der + len) {
		r = TOK_ERR_TRAILING_DATA;
		goto out;
	}
	if ((pk = X509_get0_pubkey(x)) == NULL) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	r = key_from_evp_public(pk, keyp);
 out:
	X509_free(x);
	return r;
}

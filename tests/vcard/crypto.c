/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* vcard: keys, certificates, signatures and management-key ciphers (see crypto.h). */
#include "config.h"

#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/err.h"
#include "tests/vcard/crypto.h"
#include "tests/vcard/tlv.h"

int
vc_crypto_keygen(int alg, EVP_PKEY **pkeyp)
{
	EVP_PKEY *pkey = NULL;

	*pkeyp = NULL;
	switch (alg) {
	case VC_ALG_RSA1024:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
		break;
	case VC_ALG_RSA2048:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case VC_ALG_RSA3072:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	case VC_ALG_RSA4096:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
		break;
	case VC_ALG_ECCP256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case VC_ALG_ECCP384:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	default:
		return TOK_ERR_KEY_TYPE_UNKNOWN;
	}
	if (pkey == NULL)
		return TOK_ERR_LIBCRYPTO;
	*pkeyp = pkey;
	return 0;
}

int
vc_crypto_key_alg(EVP_PKEY *pkey)
{
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		switch (EVP_PKEY_get_bits(pkey)) {
		case 1024:
			return VC_ALG_RSA1024;
		case 2048:
			return VC_ALG_RSA2048;
		case 3072:
			return VC_ALG_RSA3072;
		case 4096:
			return VC_ALG_RSA4096;
		}
		break;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_bits(pkey) == 256)
			return VC_ALG_ECCP256;
		if (EVP_PKEY_get_bits(pkey) == 384)
			return VC_ALG_ECCP384;
		break;
	}
	return -1;
}

/* A standard extension from its OpenSSL configuration text. */
static int
crypto_add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

int
vc_crypto_selfsign(EVP_PKEY *pkey, const char *cn, int ca, u_char **derp,
    size_t *lenp)
{
	X509 *x = NULL;
	X509_NAME *name = NULL;
	ASN1_INTEGER *serial = NULL;
	BIGNUM *bn = NULL;
	u_char *der = NULL, *p;
	int r = TOK_ERR_LIBCRYPTO, len;

	*derp = NULL;
	*lenp = 0;
	if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL ||
	    (bn = BN_new()) == NULL)
		goto out;
	if (!BN_rand(bn, 63, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_serialNumber(x, serial) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const u_char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, name) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x),
	    10L * 365 * 24 * 3600) == NULL ||
	    !X509_set_pubkey(x, pkey) ||
	    (ca && (!crypto_add_ext(x, NID_basic_constraints,
	    "critical,CA:TRUE") ||
	    !crypto_add_ext(x, NID_key_usage, "critical,keyCertSign"))) ||
	    X509_sign(x, pkey, EVP_sha256()) <= 0)
		goto out;
	if ((len = i2d_X509(x, NULL)) <= 0)
		goto out;
	if ((der = malloc(len)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	p = der;
	if (i2d_X509(x, &p) != len)
		goto out;
	*derp = der;
	*lenp = len;
	der = NULL;
	r = 0;
 out:
	free(der);
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	X509_NAME_free(name);
	X509_free(x);
	return r;
}

int
vc_crypto_sign(EVP_PKEY *pkey, const u_char *in, size_t inlen,
    struct buf *out)
{
	EVP_PKEY_CTX *ctx = NULL;
	u_char *sig = NULL;
	size_t siglen = 0;
	int r = TOK_ERR_LIBCRYPTO, rsa;

	rsa = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA;
	if (inlen == 0 || inlen > 1024 ||
	    (rsa && inlen != (size_t)EVP_PKEY_get_size(pkey))) {
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((ctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL)
		goto out;
	if (rsa) {
		/* The raw private operation is RSA decryption without padding. */
		if (EVP_PKEY_decrypt_init(ctx) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) <= 0 ||
		    EVP_PKEY_decrypt(ctx, NULL, &siglen, in, inlen) <= 0)
			goto out;
		if ((sig = malloc(siglen)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		if (EVP_PKEY_decrypt(ctx, sig, &siglen, in, inlen) <= 0) {
			r = TOK_ERR_INVALID_ARGUMENT;
			goto out;
		}
	} else {
		if (EVP_PKEY_sign_init(ctx) <= 0 ||
		    EVP_PKEY_sign(ctx, NULL, &siglen, in, inlen) <= 0)
			goto out;
		if ((sig = malloc(siglen)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		if (EVP_PKEY_sign(ctx, sig, &siglen, in, inlen) <= 0)
			goto out;
	}
	if ((r = buf_put(out, sig, siglen)) != 0)
		goto out;
	r = 0;
 out:
	freezero(sig, siglen);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

static int
crypto_put_bn(EVP_PKEY *pkey, const char *param, u_int tag, struct buf *out)
{
	BIGNUM *bn = NULL;
	u_char *bin = NULL;
	int r = TOK_ERR_LIBCRYPTO, n;

	if (!EVP_PKEY_get_bn_param(pkey, param, &bn))
		goto out;
	n = BN_num_bytes(bn);
	if ((bin = malloc(n > 0 ? n : 1)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (BN_bn2bin(bn, bin) != n)
		goto out;
	r = vc_tlv_put(out, tag, bin, n);
 out:
	free(bin);
	BN_free(bn);
	return r;
}

int
vc_crypto_pubkey_fields(EVP_PKEY *pkey, struct buf *t)
{
	u_char pt[256];
	size_t ptlen = 0;
	int r = TOK_ERR_LIBCRYPTO;

	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		if ((r = crypto_put_bn(pkey, OSSL_PKEY_PARAM_RSA_N, 0x81,
		    t)) != 0 ||
		    (r = crypto_put_bn(pkey, OSSL_PKEY_PARAM_RSA_E, 0x82,
		    t)) != 0)
			goto out;
		break;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_octet_string_param(pkey,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt),
		    &ptlen))
			goto out;
		if ((r = vc_tlv_put(t, 0x86, pt, ptlen)) != 0)
			goto out;
		break;
	default:
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	r = 0;
 out:
	return r;
}

int
vc_crypto_pubkey_template(EVP_PKEY *pkey, struct buf *out)
{
	struct buf *t = NULL;
	int r = TOK_ERR_INTERNAL;

	if ((t = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = vc_crypto_pubkey_fields(pkey, t)) != 0 ||
	    (r = vc_tlv_putb(out, 0x7f49, t)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(t);
	return r;
}

static int
crypto_import_rsa(int alg, const struct vc_crypto_field *f, EVP_PKEY **pkeyp)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BN_CTX *bnctx = NULL;
	BIGNUM *p = NULL, *q = NULL, *dp = NULL, *dq = NULL, *qinv = NULL;
	BIGNUM *n = NULL, *e = NULL, *d = NULL, *p1 = NULL, *q1 = NULL;
	BIGNUM *phi = NULL;
	int r = TOK_ERR_LIBCRYPTO, i;

	for (i = 0; i < 5; i++)
		if (f[i].len == 0 || f[i].len > 512)
			return TOK_ERR_KEY_INVALID;
	if ((bnctx = BN_CTX_new()) == NULL ||
	    (p = BN_bin2bn(f[0].p, f[0].len, NULL)) == NULL ||
	    (q = BN_bin2bn(f[1].p, f[1].len, NULL)) == NULL ||
	    (dp = BN_bin2bn(f[2].p, f[2].len, NULL)) == NULL ||
	    (dq = BN_bin2bn(f[3].p, f[3].len, NULL)) == NULL ||
	    (qinv = BN_bin2bn(f[4].p, f[4].len, NULL)) == NULL ||
	    (n = BN_new()) == NULL || (e = BN_new()) == NULL ||
	    (d = BN_new()) == NULL || (p1 = BN_dup(p)) == NULL ||
	    (q1 = BN_dup(q)) == NULL || (phi = BN_new()) == NULL)
		goto out;
	if (!BN_set_word(e, 65537) || !BN_mul(n, p, q, bnctx) ||
	    !BN_sub_word(p1, 1) || !BN_sub_word(q1, 1) ||
	    !BN_mul(phi, p1, q1, bnctx))
		goto out;
	if (BN_mod_inverse(d, e, phi, bnctx) == NULL) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	    qinv) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, pkeyp, EVP_PKEY_KEYPAIR, params) <= 0)
		goto out;
	r = 0;
 out:
	(void)alg;
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_clear_free(p);
	BN_clear_free(q);
	BN_clear_free(dp);
	BN_clear_free(dq);
	BN_clear_free(qinv);
	BN_free(n);
	BN_free(e);
	BN_clear_free(d);
	BN_clear_free(p1);
	BN_clear_free(q1);
	BN_clear_free(phi);
	BN_CTX_free(bnctx);
	return r;
}

static int
crypto_import_ec(int alg, const struct vc_crypto_field *f, EVP_PKEY **pkeyp)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EC_GROUP *group = NULL;
	EC_POINT *pub = NULL;
	BIGNUM *d = NULL;
	u_char pt[256];
	size_t ptlen, want;
	const char *curve;
	int r = TOK_ERR_LIBCRYPTO, nid;

	if (alg == VC_ALG_ECCP256) {
		curve = "P-256";
		nid = NID_X9_62_prime256v1;
		want = 32;
	} else {
		curve = "P-384";
		nid = NID_secp384r1;
		want = 48;
	}
	if (f[5].len != want)
		return TOK_ERR_KEY_INVALID;
	if ((group = EC_GROUP_new_by_curve_name(nid)) == NULL ||
	    (d = BN_bin2bn(f[5].p, f[5].len, NULL)) == NULL ||
	    (pub = EC_POINT_new(group)) == NULL)
		goto out;
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(group)) >= 0) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	if (!EC_POINT_mul(group, pub, d, NULL, NULL, NULL) ||
	    (ptlen = EC_POINT_point2oct(group, pub,
	    POINT_CONVERSION_UNCOMPRESSED, pt, sizeof(pt), NULL)) == 0)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld,
	    OSSL_PKEY_PARAM_GROUP_NAME, curve, 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pt, ptlen) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, pkeyp, EVP_PKEY_KEYPAIR, params) <= 0)
		goto out;
	r = 0;
 out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	EC_POINT_free(pub);
	EC_GROUP_free(group);
	BN_clear_free(d);
	return r;
}

int
vc_crypto_import(int alg, const struct vc_crypto_field *f, EVP_PKEY **pkeyp)
{
	EVP_PKEY *pkey = NULL;
	int r = TOK_ERR_INTERNAL;

	*pkeyp = NULL;
	switch (alg) {
	case VC_ALG_RSA1024:
	case VC_ALG_RSA2048:
	case VC_ALG_RSA3072:
	case VC_ALG_RSA4096:
		r = crypto_import_rsa(alg, f, &pkey);
		break;
	case VC_ALG_ECCP256:
	case VC_ALG_ECCP384:
		r = crypto_import_ec(alg, f, &pkey);
		break;
	default:
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		break;
	}
	if (r != 0)
		goto out;
	if (vc_crypto_key_alg(pkey) != alg) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	*pkeyp = pkey;
	pkey = NULL;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	return r;
}

/* An extension whose value is raw bytes, as Yubico's attestation has them. */
static int
crypto_add_raw_ext(X509 *x, const char *oid, const u_char *v, size_t len)
{
	ASN1_OBJECT *obj = NULL;
	ASN1_OCTET_STRING *os = NULL;
	X509_EXTENSION *ext = NULL;
	int ok = 0;

	if ((obj = OBJ_txt2obj(oid, 1)) != NULL &&
	    (os = ASN1_OCTET_STRING_new()) != NULL &&
	    ASN1_OCTET_STRING_set(os, v, (int)len) &&
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) != NULL &&
	    X509_add_ext(x, ext, -1))
		ok = 1;
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return ok;
}

int
vc_crypto_attest(EVP_PKEY *pkey, int keyref, EVP_PKEY *signer,
    const u_char *signer_der, size_t signer_len, const u_char version[3],
    uint32_t serial, int pin_policy, int touch_policy, u_char **derp,
    size_t *lenp)
{
	X509 *x = NULL, *issuer = NULL;
	X509_NAME *name = NULL;
	ASN1_INTEGER *sn = NULL;
	BIGNUM *bn = NULL;
	const u_char *p;
	u_char *der = NULL, *dp, pol[2], ff = 0x01, sbuf[8];
	char cn[64];
	int r = TOK_ERR_LIBCRYPTO, len, i, off;

	*derp = NULL;
	*lenp = 0;
	p = signer_der;
	if ((issuer = d2i_X509(NULL, &p, (long)signer_len)) == NULL) {
		r = TOK_ERR_CERT_INVALID;
		goto out;
	}
	snprintf(cn, sizeof(cn), "YubiKey PIV Attestation %02x", keyref);
	pol[0] = pin_policy;
	pol[1] = touch_policy;
	/* The serial as a DER INTEGER (the one extension that is DER). */
	for (i = 0; i < 4; i++)
		sbuf[3 + i] = (serial >> (24 - 8 * i)) & 0xff;
	sbuf[2] = 0;
	/* Minimal: no leading zero unless the next byte's top bit is set. */
	for (off = 2; off < 6 && sbuf[off] == 0 &&
	    (sbuf[off + 1] & 0x80) == 0; off++)
		;
	sbuf[off - 2] = 0x02;
	sbuf[off - 1] = 7 - off;
	if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL ||
	    (bn = BN_new()) == NULL)
		goto out;
	if (!BN_rand(bn, 63, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_serialNumber(x, sn) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const u_char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(issuer)) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x),
	    10L * 365 * 24 * 3600) == NULL ||
	    !X509_set_pubkey(x, pkey) ||
	    !crypto_add_raw_ext(x, "1.3.6.1.4.1.41482.3.3", version, 3) ||
	    !crypto_add_raw_ext(x, "1.3.6.1.4.1.41482.3.7", sbuf + off - 2,
	    9 - off) ||
	    !crypto_add_raw_ext(x, "1.3.6.1.4.1.41482.3.8", pol, 2) ||
	    !crypto_add_raw_ext(x, "1.3.6.1.4.1.41482.3.9", &ff, 1) ||
	    X509_sign(x, signer, EVP_sha256()) <= 0)
		goto out;
	if ((len = i2d_X509(x, NULL)) <= 0)
		goto out;
	if ((der = malloc(len)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	dp = der;
	if (i2d_X509(x, &dp) != len)
		goto out;
	*derp = der;
	*lenp = len;
	der = NULL;
	r = 0;
 out:
	free(der);
	BN_free(bn);
	ASN1_INTEGER_free(sn);
	X509_NAME_free(name);
	X509_free(issuer);
	X509_free(x);
	return r;
}

static const EVP_CIPHER *
crypto_cipher(int alg, size_t keylen)
{
	switch (alg) {
	case VC_ALG_3DES:
		return keylen == 24 ? EVP_des_ede3_ecb() : NULL;
	case VC_ALG_AES128:
		return keylen == 16 ? EVP_aes_128_ecb() : NULL;
	case VC_ALG_AES192:
		return keylen == 24 ? EVP_aes_192_ecb() : NULL;
	case VC_ALG_AES256:
		return keylen == 32 ? EVP_aes_256_ecb() : NULL;
	}
	return NULL;
}

size_t
vc_crypto_block_size(int alg, size_t keylen)
{
	const EVP_CIPHER *c;

	if ((c = crypto_cipher(alg, keylen)) == NULL)
		return 0;
	return EVP_CIPHER_get_block_size(c);
}

int
vc_crypto_encrypt_block(int alg, const u_char *key, size_t keylen,
    const u_char *in, u_char *out)
{
	const EVP_CIPHER *c;
	EVP_CIPHER_CTX *ctx = NULL;
	u_char tmp[32];
	int r = TOK_ERR_LIBCRYPTO, n = 0, bs;

	if ((c = crypto_cipher(alg, keylen)) == NULL) {
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	bs = EVP_CIPHER_get_block_size(c);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    !EVP_EncryptInit_ex(ctx, c, NULL, key, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0) ||
	    !EVP_EncryptUpdate(ctx, tmp, &n, in, bs) || n != bs)
		goto out;
	memcpy(out, tmp, bs);
	r = 0;
 out:
	explicit_bzero(tmp, sizeof(tmp));
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int
vc_crypto_random(u_char *p, size_t len)
{
	if (RAND_bytes(p, (int)len) != 1)
		return TOK_ERR_LIBCRYPTO;
	return 0;
}

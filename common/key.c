/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* SSH public keys and certificates: blobs, accessors, lines (see key.h). */
#include "config.h"

#include <sys/types.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "common/key_impl.h"
#include "common/mldsa44.h"
#include "common/secmem.h"

#define KEY_CERT_SUFFIX		"-cert-v01@openssh.com"
#define KEY_LINE_MAX		(64 * 1024)
#define KEY_NONCE_MAX		1024

static const struct key_kt key_kts[] = {
	{ KEY_ED25519, "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com",
	    NULL, NULL, 0, 256, NULL },
	{ KEY_ECDSA, "ecdsa-sha2-nistp256",
	    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
	    "nistp256", "prime256v1", 32, 256, "SHA256" },
	{ KEY_ECDSA, "ecdsa-sha2-nistp384",
	    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
	    "nistp384", "secp384r1", 48, 384, "SHA384" },
	{ KEY_ECDSA, "ecdsa-sha2-nistp521",
	    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
	    "nistp521", "secp521r1", 66, 521, "SHA512" },
	{ KEY_RSA, "ssh-rsa", "ssh-rsa-cert-v01@openssh.com",
	    NULL, NULL, 0, 0, NULL },
	{ KEY_ECDSA_SK, "sk-ecdsa-sha2-nistp256@openssh.com",
	    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
	    "nistp256", "prime256v1", 32, 256, "SHA256" },
	{ KEY_ED25519_SK, "sk-ssh-ed25519@openssh.com",
	    "sk-ssh-ed25519-cert-v01@openssh.com", NULL, NULL, 0, 256, NULL },
	{ KEY_MLDSA44_ED25519, "ssh-mldsa44-ed25519@openssh.com",
	    "ssh-mldsa44-ed25519-cert-v01@openssh.com", NULL, NULL, 0, 256,
	    NULL },
};
#define KEY_NKTS	(sizeof(key_kts) / sizeof(key_kts[0]))

const struct key_kt *
key_kt_by_type(enum key_type type, const char *curve)
{
	size_t i;

	for (i = 0; i < KEY_NKTS; i++) {
		if (key_kts[i].type != type)
			continue;
		if (curve != NULL && (key_kts[i].curve == NULL ||
		    strcmp(key_kts[i].curve, curve) != 0))
			continue;
		return &key_kts[i];
	}
	return NULL;
}

const struct key_kt *
key_kt_by_name(const char *name, int *is_certp)
{
	size_t i;

	if (is_certp != NULL)
		*is_certp = 0;
	if (name == NULL)
		return NULL;
	for (i = 0; i < KEY_NKTS; i++) {
		if (strcmp(key_kts[i].name, name) == 0)
			return &key_kts[i];
		if (strcmp(key_kts[i].certname, name) == 0) {
			if (is_certp != NULL)
				*is_certp = 1;
			return &key_kts[i];
		}
	}
	return NULL;
}

enum key_type
key_type_from_name(const char *name, int *is_certp)
{
	const struct key_kt *kt;

	if ((kt = key_kt_by_name(name, is_certp)) == NULL)
		return KEY_UNSPEC;
	return kt->type;
}

struct key *
key_new(const struct key_kt *kt)
{
	struct key *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->kt = kt;
	return k;
}

static void
key_cert_free(struct key_cert *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->key_id);
	for (i = 0; i < c->nprincipals; i++)
		free(c->principals[i]);
	free(c->principals);
	free(c->critical);
	free(c->extensions);
	key_free(c->signature_key);
	freezero(c, sizeof(*c));
}

/* The hybrid key's parts (see key_impl.h); its crypto is in key_mldsa.c. */
static void
key_mldsa_free(struct key *k)
{
	free(k->mldsa_pub);
	secmem_free(k->mldsa_seed);
	mldsa44_key_free(k->mldsa);
	k->mldsa_pub = NULL;
	k->mldsa_seed = NULL;
	k->mldsa = NULL;
}

int
key_mldsa_set_public(struct key *k, const u_char *pub, size_t len)
{
	EVP_PKEY *pk;

	if (len != KEY_MLDSA_PK_LEN)
		return TOK_ERR_KEY_INVALID;
	if ((pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
	    pub + MLDSA44_PK_LEN, KEY_ED25519_PK_LEN)) == NULL)
		return TOK_ERR_KEY_INVALID;
	if (k->mldsa_pub == NULL &&
	    (k->mldsa_pub = malloc(KEY_MLDSA_PK_LEN)) == NULL) {
		EVP_PKEY_free(pk);
		return TOK_ERR_ALLOC;
	}
	memcpy(k->mldsa_pub, pub, KEY_MLDSA_PK_LEN);
	memcpy(k->pub, pub + MLDSA44_PK_LEN, KEY_ED25519_PK_LEN);
	k->publen = KEY_ED25519_PK_LEN;
	EVP_PKEY_free(k->pkey);
	k->pkey = pk;
	return 0;
}

void
key_free(struct key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	key_mldsa_free(k);
	free(k->sk_application);
	freezero(k->sk_key_handle, k->sk_khlen);
	freezero(k->sk_reserved, k->sk_reservedlen);
	key_cert_free(k->cert);
	if (k->blob != k->plain)
		free(k->blob);
	free(k->plain);
	freezero(k, sizeof(*k));
}

int
key_put_bn_param(const EVP_PKEY *pk, const char *param, struct buf *b)
{
	BIGNUM *bn = NULL;
	u_char *tmp = NULL;
	size_t len = 0;
	int r = TOK_ERR_LIBCRYPTO;

	if (EVP_PKEY_get_bn_param(pk, param, &bn) != 1)
		goto out;
	len = (size_t)BN_num_bytes(bn);
	if ((tmp = malloc(len + 1)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (BN_bn2bin(bn, tmp) != (int)len)
		goto out;
	r = buf_put_bignum2_bytes(b, tmp, len);
 out:
	if (tmp != NULL)
		freezero(tmp, len + 1);
	BN_clear_free(bn);
	return r;
}

/* Append the public fields that follow the type name in a plain blob. */
static int
key_put_pub_fields(const struct key *k, struct buf *b)
{
	int r = TOK_ERR_INTERNAL;

	switch (k->kt->type) {
	case KEY_ED25519:
	case KEY_ED25519_SK:
		r = buf_put_string(b, k->pub, k->publen);
		break;
	case KEY_ECDSA:
	case KEY_ECDSA_SK:
		if ((r = buf_put_cstring(b, k->kt->curve)) == 0)
			r = buf_put_string(b, k->pub, k->publen);
		break;
	case KEY_RSA:
		if ((r = key_put_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E,
		    b)) == 0)
			r = key_put_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, b);
		break;
	case KEY_MLDSA44_ED25519:
		if (k->mldsa_pub == NULL)
			return TOK_ERR_INVALID_ARGUMENT;
		r = buf_put_string(b, k->mldsa_pub, KEY_MLDSA_PK_LEN);
		break;
	default:
		return TOK_ERR_KEY_TYPE_UNKNOWN;
	}
	if (r == 0 && (k->kt->type == KEY_ED25519_SK ||
	    k->kt->type == KEY_ECDSA_SK))
		r = buf_put_cstring(b, k->sk_application);
	return r;
}

int
key_finish(struct key *k)
{
	struct buf *b = NULL;
	int r = TOK_ERR_INTERNAL;

	if ((b = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_put_cstring(b, k->kt->name)) != 0 ||
	    (r = key_put_pub_fields(k, b)) != 0)
		goto out;
	free(k->plain);
	if ((k->plain = malloc(buf_len(b))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	memcpy(k->plain, buf_ptr(b), buf_len(b));
	k->plainlen = buf_len(b);
	if (k->cert == NULL) {
		k->blob = k->plain;
		k->bloblen = k->plainlen;
	}
	if (k->bits == 0)
		k->bits = k->kt->type == KEY_RSA ?
		    EVP_PKEY_get_bits(k->pkey) : k->kt->bits;
	r = 0;
 out:
	buf_free(b);
	return r;
}

int
key_check_pairwise(EVP_PKEY *pk)
{
	EVP_PKEY_CTX *ctx;
	int r = TOK_ERR_KEY_INVALID;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL)
		return TOK_ERR_LIBCRYPTO;
	if (EVP_PKEY_pairwise_check(ctx) == 1)
		r = 0;
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* OpenSSL 3.0 has no OSSL_PARAM_clear_free: wipe the values ourselves. */
static void
key_params_free(OSSL_PARAM *params)
{
	OSSL_PARAM *p;

	if (params == NULL)
		return;
	for (p = params; p->key != NULL; p++)
		if (p->data != NULL && p->data_size != 0)
			OPENSSL_cleanse(p->data, p->data_size);
	OSSL_PARAM_free(params);
}

int
key_ec_pkey(const struct key_kt *kt, const u_char *q, size_t qlen,
    const u_char *d, size_t dlen, EVP_PKEY **pkp)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *cctx = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *bn = NULL;
	int r = TOK_ERR_LIBCRYPTO;

	*pkp = NULL;
	/* Uncompressed points only: blobs must re-encode byte for byte. */
	if (qlen != 1 + 2 * kt->fieldlen || q[0] != 0x04)
		return TOK_ERR_KEY_INVALID;
	if (d != NULL && (dlen == 0 || dlen > kt->fieldlen))
		return TOK_ERR_KEY_INVALID;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    kt->group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    q, qlen))
		goto out;
	if (d != NULL) {
		if ((bn = BN_secure_new()) == NULL ||
		    BN_bin2bn(d, (int)dlen, bn) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn))
			goto out;
	}
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1)
		goto out;
	if (EVP_PKEY_fromdata(ctx, &pk, d != NULL ? EVP_PKEY_KEYPAIR :
	    EVP_PKEY_PUBLIC_KEY, params) != 1) {
		/* E.g. a point not on the curve. */
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	if ((cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL)
		goto out;
	/* On the curve and not infinity; the NIST curves have cofactor 1. */
	if (EVP_PKEY_public_check_quick(cctx) != 1) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	if (d != NULL && (r = key_check_pairwise(pk)) != 0)
		goto out;
	*pkp = pk;
	pk = NULL;
	r = 0;
 out:
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_CTX_free(cctx);
	key_params_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(bn);
	return r;
}

static int
key_bld_push_bin(OSSL_PARAM_BLD *bld, const char *name, const u_char *v,
    size_t len, BIGNUM **bnp)
{
	*bnp = NULL;
	if ((*bnp = BN_secure_new()) == NULL ||
	    BN_bin2bn(v, (int)len, *bnp) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, name, *bnp))
		return TOK_ERR_LIBCRYPTO;
	return 0;
}

int
key_rsa_pkey(const u_char *n, size_t nlen, const u_char *e, size_t elen,
    const u_char *d, size_t dlen, const u_char *iqmp, size_t iqmplen,
    const u_char *p, size_t plen, const u_char *q, size_t qlen,
    EVP_PKEY **pkp)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *bns[6] = { NULL, NULL, NULL, NULL, NULL, NULL };
	BIGNUM *bp = NULL, *bq = NULL, *bd = NULL, *dmp1 = NULL, *dmq1 = NULL;
	BIGNUM *tmp = NULL;
	BN_CTX *bnctx = NULL;
	size_t i, bits;
	int r = TOK_ERR_LIBCRYPTO;

	*pkp = NULL;
	/* n arrives with leading zeros stripped. */
	if (nlen == 0 || elen == 0 || (n[nlen - 1] & 1) == 0 ||
	    (e[elen - 1] & 1) == 0)
		return TOK_ERR_KEY_INVALID;
	for (bits = nlen * 8; bits > 0 && !(n[0] & (1 << ((bits - 1) % 8)));
	    bits--)
		;
	if (bits < KEY_RSA_MIN_BITS || bits > KEY_RSA_MAX_BITS)
		return TOK_ERR_KEY_INVALID;
	if (elen > nlen || (elen == 1 && e[0] == 1))
		return TOK_ERR_KEY_INVALID;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    (r = key_bld_push_bin(bld, OSSL_PKEY_PARAM_RSA_N, n, nlen,
	    &bns[0])) != 0 ||
	    (r = key_bld_push_bin(bld, OSSL_PKEY_PARAM_RSA_E, e, elen,
	    &bns[1])) != 0)
		goto out;
	r = TOK_ERR_LIBCRYPTO;
	if (d != NULL) {
		if (dlen == 0 || plen == 0 || qlen == 0 || iqmplen == 0 ||
		    dlen > nlen || plen > nlen || qlen > nlen ||
		    iqmplen > nlen) {
			r = TOK_ERR_KEY_INVALID;
			goto out;
		}
		if ((bnctx = BN_CTX_secure_new()) == NULL ||
		    (bp = BN_secure_new()) == NULL ||
		    (bq = BN_secure_new()) == NULL ||
		    (bd = BN_secure_new()) == NULL ||
		    (tmp = BN_secure_new()) == NULL ||
		    (dmp1 = BN_secure_new()) == NULL ||
		    (dmq1 = BN_secure_new()) == NULL ||
		    BN_bin2bn(p, (int)plen, bp) == NULL ||
		    BN_bin2bn(q, (int)qlen, bq) == NULL ||
		    BN_bin2bn(d, (int)dlen, bd) == NULL)
			goto out;
		/* The CRT exponents are not on the wire; derive them. */
		if (!BN_sub(tmp, bp, BN_value_one()) ||
		    !BN_mod(dmp1, bd, tmp, bnctx) ||
		    !BN_sub(tmp, bq, BN_value_one()) ||
		    !BN_mod(dmq1, bd, tmp, bnctx))
			goto out;
		if ((r = key_bld_push_bin(bld, OSSL_PKEY_PARAM_RSA_D, d, dlen,
		    &bns[2])) != 0 ||
		    (r = key_bld_push_bin(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p,
		    plen, &bns[3])) != 0 ||
		    (r = key_bld_push_bin(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q,
		    qlen, &bns[4])) != 0 ||
		    (r = key_bld_push_bin(bld,
		    OSSL_PKEY_PARAM_RSA_COEFFICIENT1, iqmp, iqmplen,
		    &bns[5])) != 0)
			goto out;
		r = TOK_ERR_LIBCRYPTO;
		if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1,
		    dmp1) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		    dmq1))
			goto out;
	}
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1)
		goto out;
	if (EVP_PKEY_fromdata(ctx, &pk, d != NULL ? EVP_PKEY_KEYPAIR :
	    EVP_PKEY_PUBLIC_KEY, params) != 1) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	if (d != NULL && (r = key_check_pairwise(pk)) != 0)
		goto out;
	*pkp = pk;
	pk = NULL;
	r = 0;
 out:
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	key_params_free(params);
	OSSL_PARAM_BLD_free(bld);
	for (i = 0; i < 6; i++)
		BN_clear_free(bns[i]);
	BN_clear_free(bp);
	BN_clear_free(bq);
	BN_clear_free(bd);
	BN_clear_free(tmp);
	BN_clear_free(dmp1);
	BN_clear_free(dmq1);
	BN_CTX_free(bnctx);
	return r;
}

int
key_parse_pub_fields(struct buf *b, struct key *k)
{
	const u_char *p, *e, *n;
	size_t plen, elen, nlen;
	char *curve = NULL, *app = NULL;
	int r = TOK_ERR_INTERNAL;

	switch (k->kt->type) {
	case KEY_ED25519:
	case KEY_ED25519_SK:
		if ((r = buf_get_string_direct(b, &p, &plen)) != 0)
			goto out;
		if (plen != KEY_ED25519_PK_LEN) {
			r = TOK_ERR_KEY_INVALID;
			goto out;
		}
		if ((k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
		    NULL, p, plen)) == NULL) {
			r = TOK_ERR_KEY_INVALID;
			goto out;
		}
		memcpy(k->pub, p, plen);
		k->publen = plen;
		break;
	case KEY_ECDSA:
	case KEY_ECDSA_SK:
		if ((r = buf_get_cstring(b, &curve, NULL)) != 0 ||
		    (r = buf_get_string_direct(b, &p, &plen)) != 0)
			goto out;
		if (strcmp(curve, k->kt->curve) != 0) {
			r = TOK_ERR_KEY_TYPE_MISMATCH;
			goto out;
		}
		if (plen > sizeof(k->pub)) {
			r = TOK_ERR_KEY_INVALID;
			goto out;
		}
		if ((r = key_ec_pkey(k->kt, p, plen, NULL, 0, &k->pkey)) != 0)
			goto out;
		memcpy(k->pub, p, plen);
		k->publen = plen;
		break;
	case KEY_RSA:
		if ((r = buf_get_bignum2_bytes_direct(b, &e, &elen)) != 0 ||
		    (r = buf_get_bignum2_bytes_direct(b, &n, &nlen)) != 0 ||
		    (r = key_rsa_pkey(n, nlen, e, elen, NULL, 0, NULL, 0,
		    NULL, 0, NULL, 0, &k->pkey)) != 0)
			goto out;
		break;
	case KEY_MLDSA44_ED25519:
		if ((r = buf_get_string_direct(b, &p, &plen)) != 0 ||
		    (r = key_mldsa_set_public(k, p, plen)) != 0)
			goto out;
		break;
	default:
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if (k->kt->type == KEY_ED25519_SK || k->kt->type == KEY_ECDSA_SK) {
		if ((r = buf_get_cstring(b, &app, NULL)) != 0)
			goto out;
		k->sk_application = app;
		app = NULL;
	}
	r = 0;
 out:
	free(curve);
	free(app);
	return r;
}

/* Check that s holds well-formed (name, data) pairs. */
static int
key_cert_options_valid(const u_char *s, size_t len)
{
	struct buf *b;
	const u_char *name;
	size_t namelen;
	int r = TOK_ERR_CERT_INVALID;

	if ((b = buf_from(s, len)) == NULL)
		return TOK_ERR_ALLOC;
	while (buf_len(b) > 0) {
		if (buf_get_string_direct(b, &name, &namelen) != 0 ||
		    namelen == 0 || memchr(name, '\0', namelen) != NULL ||
		    buf_get_string_direct(b, NULL, NULL) != 0)
			goto out;
	}
	r = 0;
 out:
	buf_free(b);
	return r;
}

static int
key_dupmem(const u_char *p, size_t len, u_char **outp)
{
	*outp = NULL;
	if ((*outp = malloc(len == 0 ? 1 : len)) == NULL)
		return TOK_ERR_ALLOC;
	if (len != 0)
		memcpy(*outp, p, len);
	return 0;
}

static int
key_parse_cert(struct buf *b, size_t total, struct key *k)
{
	struct key_cert *c;
	struct buf *pb = NULL;
	const u_char *crit, *ext, *cab, *sig;
	size_t critlen, extlen, cablen, siglen, n;
	uint32_t nlen;
	char *s = NULL, *caname = NULL, **tmp;
	int is_cert, r = TOK_ERR_INTERNAL;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return TOK_ERR_ALLOC;
	k->cert = c;
	if ((r = buf_get_string_direct(b, NULL, &n)) != 0)	/* nonce */
		goto out;
	if (n > KEY_NONCE_MAX) {
		r = TOK_ERR_CERT_INVALID;
		goto out;
	}
	if ((r = key_parse_pub_fields(b, k)) != 0 ||
	    (r = buf_get_u64(b, &c->serial)) != 0 ||
	    (r = buf_get_u32(b, &c->type)) != 0 ||
	    (r = buf_get_cstring(b, &c->key_id, NULL)) != 0 ||
	    (r = buf_froms(b, &pb)) != 0 ||
	    (r = buf_get_u64(b, &c->valid_after)) != 0 ||
	    (r = buf_get_u64(b, &c->valid_before)) != 0 ||
	    (r = buf_get_string_direct(b, &crit, &critlen)) != 0 ||
	    (r = buf_get_string_direct(b, &ext, &extlen)) != 0 ||
	    (r = buf_get_string_direct(b, NULL, NULL)) != 0 ||	/* reserved */
	    (r = buf_get_string_direct(b, &cab, &cablen)) != 0)
		goto out;
	c->signed_len = total - buf_len(b);
	if ((r = buf_get_string_direct(b, &sig, &siglen)) != 0)
		goto out;
	c->sig_len = siglen;
	c->sig_off = total - buf_len(b) - siglen;
	if ((r = buf_expect_empty(b)) != 0)
		goto out;
	if (c->type != KEY_CERT_TYPE_USER && c->type != KEY_CERT_TYPE_HOST) {
		r = TOK_ERR_CERT_INVALID;
		goto out;
	}
	while (buf_len(pb) > 0) {
		if (c->nprincipals >= KEY_CERT_MAX_PRINCIPALS) {
			r = TOK_ERR_CERT_INVALID;
			goto out;
		}
		if ((r = buf_get_cstring(pb, &s, NULL)) != 0)
			goto out;
		if ((tmp = reallocarray(c->principals, c->nprincipals + 1,
		    sizeof(*c->principals))) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		c->principals = tmp;
		c->principals[c->nprincipals++] = s;
		s = NULL;
	}
	if ((r = key_cert_options_valid(crit, critlen)) != 0 ||
	    (r = key_cert_options_valid(ext, extlen)) != 0 ||
	    (r = key_dupmem(crit, critlen, &c->critical)) != 0 ||
	    (r = key_dupmem(ext, extlen, &c->extensions)) != 0)
		goto out;
	c->critlen = critlen;
	c->extlen = extlen;
	/* A CA key must be plain: look before recursing into it. */
	if (cablen < 4) {
		r = TOK_ERR_CERT_INVALID;
		goto out;
	}
	nlen = (uint32_t)cab[0] << 24 | (uint32_t)cab[1] << 16 |
	    (uint32_t)cab[2] << 8 | cab[3];
	if (nlen > cablen - 4 || (caname = malloc((size_t)nlen + 1)) == NULL) {
		r = nlen > cablen - 4 ? TOK_ERR_CERT_INVALID : TOK_ERR_ALLOC;
		goto out;
	}
	memcpy(caname, cab + 4, nlen);
	caname[nlen] = '\0';
	if (key_kt_by_name(caname, &is_cert) == NULL || is_cert) {
		r = TOK_ERR_CERT_INVALID;
		goto out;
	}
	if ((r = key_from_blob(cab, cablen, &c->signature_key)) != 0)
		goto out;
	r = 0;
 out:
	free(s);
	free(caname);
	buf_free(pb);
	return r;
}

int
key_from_blob(const u_char *blob, size_t len, struct key **keyp)
{
	struct buf *b = NULL;
	struct key *k = NULL;
	const struct key_kt *kt;
	char *name = NULL;
	int is_cert, r = TOK_ERR_INTERNAL;

	*keyp = NULL;
	if (blob == NULL || len == 0)
		return TOK_ERR_INVALID_FORMAT;
	if ((b = buf_from(blob, len)) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_get_cstring(b, &name, NULL)) != 0)
		goto out;
	if ((kt = key_kt_by_name(name, &is_cert)) == NULL) {
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if ((k = key_new(kt)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (is_cert) {
		if ((r = key_parse_cert(b, len, k)) != 0)
			goto out;
		if ((r = key_dupmem(blob, len, &k->blob)) != 0)
			goto out;
		k->bloblen = len;
	} else {
		if ((r = key_parse_pub_fields(b, k)) != 0 ||
		    (r = buf_expect_empty(b)) != 0)
			goto out;
	}
	if ((r = key_finish(k)) != 0)
		goto out;
	/* Plain blobs must re-encode exactly (e.g. no padded mpints). */
	if (!is_cert && (k->plainlen != len ||
	    memcmp(k->plain, blob, len) != 0)) {
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	*keyp = k;
	k = NULL;
	r = 0;
 out:
	free(name);
	key_free(k);
	buf_free(b);
	return r;
}

int
key_froms(struct buf *b, struct key **keyp)
{
	const u_char *p;
	size_t len;
	struct buf *v;
	int r;

	*keyp = NULL;
	if ((v = buf_fromb(b)) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_get_string_direct(v, &p, &len)) == 0 &&
	    (r = key_from_blob(p, len, keyp)) == 0)
		r = buf_consume(b, buf_len(b) - buf_len(v));
	if (r != 0) {
		key_free(*keyp);
		*keyp = NULL;
	}
	buf_free(v);
	return r;
}

int
key_to_blob(const struct key *k, struct buf *out)
{
	if (k == NULL || k->blob == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	return buf_put(out, k->blob, k->bloblen);
}

int
key_puts(const struct key *k, struct buf *out)
{
	if (k == NULL || k->blob == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	return buf_put_string(out, k->blob, k->bloblen);
}

int
key_to_blob_plain(const struct key *k, struct buf *out)
{
	if (k == NULL || k->plain == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	return buf_put(out, k->plain, k->plainlen);
}

const u_char *
key_blob(const struct key *k, size_t *lenp)
{
	*lenp = k->bloblen;
	return k->blob;
}

enum key_type
key_type(const struct key *k)
{
	return k == NULL ? KEY_UNSPEC : k->kt->type;
}

int
key_is_cert(const struct key *k)
{
	return k != NULL && k->cert != NULL;
}

int
key_is_sk(const struct key *k)
{
	return k != NULL && (k->kt->type == KEY_ECDSA_SK ||
	    k->kt->type == KEY_ED25519_SK);
}

int
key_has_private(const struct key *k)
{
	return k != NULL && k->has_private;
}

const char *
key_type_name(const struct key *k)
{
	if (k == NULL)
		return "unknown";
	return k->cert != NULL ? k->kt->certname : k->kt->name;
}

const char *
key_type_name_plain(const struct key *k)
{
	return k == NULL ? "unknown" : k->kt->name;
}

const char *
key_ecdsa_curve(const struct key *k)
{
	return k == NULL ? NULL : k->kt->curve;
}

int
key_bits(const struct key *k)
{
	return k == NULL ? 0 : k->bits;
}

int
key_equal_public(const struct key *a, const struct key *b)
{
	if (a == NULL || b == NULL)
		return 0;
	return a->plainlen == b->plainlen &&
	    memcmp(a->plain, b->plain, a->plainlen) == 0;
}

int
key_equal(const struct key *a, const struct key *b)
{
	if (a == NULL || b == NULL)
		return 0;
	return a->bloblen == b->bloblen &&
	    memcmp(a->blob, b->blob, a->bloblen) == 0;
}

int
key_fingerprint(const struct key *k, char **fpp)
{
	u_char md[32];
	char b64[64], *s = NULL;
	unsigned int mdlen = sizeof(md);
	int n;

	*fpp = NULL;
	if (k == NULL || k->plain == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	if (EVP_Digest(k->plain, k->plainlen, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != sizeof(md))
		return TOK_ERR_LIBCRYPTO;
	if ((n = EVP_EncodeBlock((u_char *)b64, md, (int)mdlen)) <= 0)
		return TOK_ERR_LIBCRYPTO;
	while (n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	if (asprintf(&s, "SHA256:%s", b64) < 0)
		return TOK_ERR_ALLOC;
	*fpp = s;
	return 0;
}

EVP_PKEY *
key_evp(const struct key *k)
{
	return k == NULL ? NULL : k->pkey;
}

int
key_dup_public(const struct key *k, struct key **dupp)
{
	struct key *d = NULL;
	int r = TOK_ERR_INTERNAL;

	*dupp = NULL;
	if (k == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((r = key_from_blob(k->blob, k->bloblen, &d)) != 0)
		return r;
	/* An sk key handle is no secret: it is what the agent keeps. */
	if (k->sk_has_handle) {
		if ((r = key_dupmem(k->sk_key_handle, k->sk_khlen,
		    &d->sk_key_handle)) != 0)
			goto out;
		d->sk_khlen = k->sk_khlen;
		if ((r = key_dupmem(k->sk_reserved, k->sk_reservedlen,
		    &d->sk_reserved)) != 0)
			goto out;
		d->sk_reservedlen = k->sk_reservedlen;
		d->sk_flags = k->sk_flags;
		d->sk_has_handle = 1;
	}
	*dupp = d;
	d = NULL;
	r = 0;
 out:
	key_free(d);
	return r;
}

int
key_dup_plain(const struct key *k, struct key **plainp)
{
	*plainp = NULL;
	if (k == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	return key_from_blob(k->plain, k->plainlen, plainp);
}

const char *
key_sk_application(const struct key *k)
{
	return key_is_sk(k) ? k->sk_application : NULL;
}

uint8_t
key_sk_flags(const struct key *k)
{
	return key_is_sk(k) ? k->sk_flags : 0;
}

int
key_sk_key_handle(const struct key *k, const u_char **khp, size_t *lenp)
{
	*khp = NULL;
	*lenp = 0;
	if (!key_is_sk(k))
		return TOK_ERR_KEY_TYPE_MISMATCH;
	if (!k->sk_has_handle)
		return TOK_ERR_KEY_NOT_FOUND;
	*khp = k->sk_key_handle;
	*lenp = k->sk_khlen;
	return 0;
}

int
key_sk_from_parts(enum key_type type, const u_char *pub, size_t publen,
    const char *application, uint8_t flags, const u_char *key_handle,
    size_t khlen, struct key **keyp)
{
	struct key *k = NULL;
	const struct key_kt *kt;
	int r = TOK_ERR_INTERNAL;

	*keyp = NULL;
	if ((type != KEY_ECDSA_SK && type != KEY_ED25519_SK) ||
	    pub == NULL || application == NULL ||
	    (key_handle == NULL && khlen != 0) ||
	    khlen > KEY_SK_KEYHANDLE_MAX || publen > KEY_EC_POINT_MAX)
		return TOK_ERR_INVALID_ARGUMENT;
	kt = key_kt_by_type(type, NULL);
	if ((k = key_new(kt)) == NULL)
		return TOK_ERR_ALLOC;
	if (type == KEY_ED25519_SK) {
		if (publen != KEY_ED25519_PK_LEN) {
			r = TOK_ERR_KEY_INVALID;
			goto out;
		}
		if ((k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
		    NULL, pub, publen)) == NULL) {
			r = TOK_ERR_KEY_INVALID;
			goto out;
		}
	} else if ((r = key_ec_pkey(kt, pub, publen, NULL, 0,
	    &k->pkey)) != 0)
		goto out;
	memcpy(k->pub, pub, publen);
	k->publen = publen;
	if ((k->sk_application = strdup(application)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	k->sk_flags = flags;
	if (key_handle != NULL) {
		if ((r = key_dupmem(key_handle, khlen, &k->sk_key_handle)) != 0)
			goto out;
		k->sk_khlen = khlen;
		k->sk_has_handle = 1;
	}
	if ((r = key_finish(k)) != 0)
		goto out;
	*keyp = k;
	k = NULL;
	r = 0;
 out:
	key_free(k);
	return r;
}

/* ---- Certificates ---------------------------------------------------- */

uint64_t
key_cert_serial(const struct key *k)
{
	return key_is_cert(k) ? k->cert->serial : 0;
}

uint32_t
key_cert_type(const struct key *k)
{
	return key_is_cert(k) ? k->cert->type : 0;
}

const char *
key_cert_key_id(const struct key *k)
{
	return key_is_cert(k) ? k->cert->key_id : NULL;
}

size_t
key_cert_nprincipals(const struct key *k)
{
	return key_is_cert(k) ? k->cert->nprincipals : 0;
}

const char *
key_cert_principal(const struct key *k, size_t i)
{
	if (!key_is_cert(k) || i >= k->cert->nprincipals)
		return NULL;
	return k->cert->principals[i];
}

uint64_t
key_cert_valid_after(const struct key *k)
{
	return key_is_cert(k) ? k->cert->valid_after : 0;
}

uint64_t
key_cert_valid_before(const struct key *k)
{
	return key_is_cert(k) ? k->cert->valid_before : 0;
}

const u_char *
key_cert_critical_options(const struct key *k, size_t *lenp)
{
	*lenp = 0;
	if (!key_is_cert(k))
		return NULL;
	*lenp = k->cert->critlen;
	return k->cert->critical;
}

const u_char *
key_cert_extensions(const struct key *k, size_t *lenp)
{
	*lenp = 0;
	if (!key_is_cert(k))
		return NULL;
	*lenp = k->cert->extlen;
	return k->cert->extensions;
}

static int
key_cert_find_option(const u_char *s, size_t len, const char *want,
    const u_char **datap, size_t *lenp)
{
	struct buf *b;
	const u_char *name, *data;
	size_t namelen, datalen;
	int found = 0;

	if (datap != NULL)
		*datap = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if (s == NULL || want == NULL || (b = buf_from(s, len)) == NULL)
		return 0;
	while (buf_len(b) > 0) {
		if (buf_get_string_direct(b, &name, &namelen) != 0 ||
		    buf_get_string_direct(b, &data, &datalen) != 0)
			break;
		if (namelen == strlen(want) &&
		    memcmp(name, want, namelen) == 0) {
			if (datap != NULL)
				*datap = data;
			if (lenp != NULL)
				*lenp = datalen;
			found = 1;
			break;
		}
	}
	buf_free(b);
	return found;
}

int
key_cert_has_extension(const struct key *k, const char *name)
{
	if (!key_is_cert(k))
		return 0;
	return key_cert_find_option(k->cert->extensions, k->cert->extlen,
	    name, NULL, NULL);
}

int
key_cert_critical_option(const struct key *k, const char *name,
    const u_char **datap, size_t *lenp)
{
	if (datap != NULL)
		*datap = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if (!key_is_cert(k))
		return 0;
	return key_cert_find_option(k->cert->critical, k->cert->critlen,
	    name, datap, lenp);
}

const struct key *
key_cert_signature_key(const struct key *k)
{
	return key_is_cert(k) ? k->cert->signature_key : NULL;
}

/* ---- Lines ------------------------------------------------------------ */

int
key_from_authorized_line(const char *line, struct key **keyp,
    char **commentp)
{
	const char *p, *t, *b64;
	size_t tlen, blen, clen;
	struct buf *blob = NULL;
	struct key *k = NULL;
	char *comment = NULL;
	int r = TOK_ERR_INVALID_FORMAT;

	*keyp = NULL;
	if (commentp != NULL)
		*commentp = NULL;
	if (line == NULL || strnlen(line, KEY_LINE_MAX + 1) > KEY_LINE_MAX)
		return TOK_ERR_INVALID_FORMAT;
	for (p = line; *p == ' ' || *p == '\t'; p++)
		;
	t = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	tlen = (size_t)(p - t);
	while (*p == ' ' || *p == '\t')
		p++;
	b64 = p;
	while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' &&
	    *p != '\n')
		p++;
	blen = (size_t)(p - b64);
	while (*p == ' ' || *p == '\t')
		p++;
	clen = strcspn(p, "\r\n");
	while (clen > 0 && (p[clen - 1] == ' ' || p[clen - 1] == '\t'))
		clen--;
	if (tlen == 0 || blen == 0)
		goto out;
	if ((blob = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_b64tod(b64, blen, blob)) != 0 ||
	    (r = key_from_blob(buf_ptr(blob), buf_len(blob), &k)) != 0)
		goto out;
	if (strlen(key_type_name(k)) != tlen ||
	    memcmp(key_type_name(k), t, tlen) != 0) {
		r = TOK_ERR_KEY_TYPE_MISMATCH;
		goto out;
	}
	if (commentp != NULL) {
		if ((comment = strndup(p, clen)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		*commentp = comment;
	}
	*keyp = k;
	k = NULL;
	r = 0;
 out:
	buf_free(blob);
	key_free(k);
	return r;
}

int
key_to_line(const struct key *k, const char *comment, char **linep)
{
	struct buf *b = NULL, *blob = NULL;
	char *s = NULL;
	int r = TOK_ERR_INTERNAL;

	*linep = NULL;
	if (k == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((b = buf_new()) == NULL || (blob = buf_from(k->blob,
	    k->bloblen)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_putf(b, "%s ", key_type_name(k))) != 0 ||
	    (r = buf_dtob64(blob, b)) != 0)
		goto out;
	if (comment != NULL && *comment != '\0' &&
	    (r = buf_putf(b, " %s", comment)) != 0)
		goto out;
	if ((s = buf_dup_string(b)) == NULL) {
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	*linep = s;
	r = 0;
 out:
	buf_free(b);
	buf_free(blob);
	return r;
}

/* ---- From OpenSSL keys ------------------------------------------------- */

static int
key_ec_group_kt(EVP_PKEY *pk, const struct key_kt **ktp)
{
	char group[64];
	size_t i, glen = 0;

	*ktp = NULL;
	if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &glen) != 1)
		return TOK_ERR_KEY_TYPE_UNKNOWN;
	for (i = 0; i < KEY_NKTS; i++) {
		if (key_kts[i].type == KEY_ECDSA &&
		    strcmp(key_kts[i].group, group) == 0) {
			*ktp = &key_kts[i];
			return 0;
		}
	}
	return TOK_ERR_KEY_TYPE_UNKNOWN;
}

/* The uncompressed public point of an EC key, whatever its format setting. */
static int
key_ec_point(EVP_PKEY *pk, const struct key_kt *kt, u_char *q, size_t *qlenp)
{
	BIGNUM *x = NULL, *y = NULL;
	int r = TOK_ERR_LIBCRYPTO;

	*qlenp = 0;
	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1)
		goto out;
	q[0] = 0x04;
	if (BN_bn2binpad(x, q + 1, (int)kt->fieldlen) < 0 ||
	    BN_bn2binpad(y, q + 1 + kt->fieldlen, (int)kt->fieldlen) < 0)
		goto out;
	*qlenp = 1 + 2 * kt->fieldlen;
	r = 0;
 out:
	BN_free(x);
	BN_free(y);
	return r;
}

int
key_from_evp(EVP_PKEY *pk, int with_private, struct key **keyp)
{
	struct key *k = NULL;
	const struct key_kt *kt = NULL;
	struct buf *b = NULL;
	const u_char *e, *n;
	size_t elen, nlen, len;
	int r = TOK_ERR_INTERNAL;

	*keyp = NULL;
	if (pk == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_ED25519:
		kt = key_kt_by_type(KEY_ED25519, NULL);
		break;
	case EVP_PKEY_EC:
		if ((r = key_ec_group_kt(pk, &kt)) != 0)
			return r;
		break;
	case EVP_PKEY_RSA:
		kt = key_kt_by_type(KEY_RSA, NULL);
		break;
	default:
		return TOK_ERR_KEY_TYPE_UNKNOWN;
	}
	if ((k = key_new(kt)) == NULL)
		return TOK_ERR_ALLOC;
	if (with_private) {
		if (EVP_PKEY_up_ref(pk) != 1) {
			r = TOK_ERR_LIBCRYPTO;
			goto out;
		}
		k->pkey = pk;
		k->has_private = 1;
	}
	switch (kt->type) {
	case KEY_ED25519:
		len = sizeof(k->pub);
		if (EVP_PKEY_get_raw_public_key(pk, k->pub, &len) != 1 ||
		    len != KEY_ED25519_PK_LEN) {
			r = TOK_ERR_LIBCRYPTO;
			goto out;
		}
		k->publen = len;
		if (!with_private && (k->pkey = EVP_PKEY_new_raw_public_key(
		    EVP_PKEY_ED25519, NULL, k->pub, len)) == NULL) {
			r = TOK_ERR_LIBCRYPTO;
			goto out;
		}
		break;
	case KEY_ECDSA:
		if ((r = key_ec_point(pk, kt, k->pub, &k->publen)) != 0)
			goto out;
		if (!with_private && (r = key_ec_pkey(kt, k->pub, k->publen,
		    NULL, 0, &k->pkey)) != 0)
			goto out;
		break;
	case KEY_RSA:
		if ((b = buf_new()) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		if ((r = key_put_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, b)) != 0 ||
		    (r = key_put_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, b)) != 0 ||
		    (r = buf_get_bignum2_bytes_direct(b, &e, &elen)) != 0 ||
		    (r = buf_get_bignum2_bytes_direct(b, &n, &nlen)) != 0)
			goto out;
		if (with_private) {
			/* Same limits as for parsed keys. */
			if (EVP_PKEY_get_bits(pk) < KEY_RSA_MIN_BITS ||
			    EVP_PKEY_get_bits(pk) > KEY_RSA_MAX_BITS) {
				r = TOK_ERR_KEY_INVALID;
				goto out;
			}
		} else if ((r = key_rsa_pkey(n, nlen, e, elen, NULL, 0, NULL,
		    0, NULL, 0, NULL, 0, &k->pkey)) != 0)
			goto out;
		break;
	default:
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if ((r = key_finish(k)) != 0)
		goto out;
	*keyp = k;
	k = NULL;
	r = 0;
 out:
	buf_free(b);
	key_free(k);
	return r;
}

int
key_from_evp_public(EVP_PKEY *pk, struct key **keyp)
{
	return key_from_evp(pk, 0, keyp);
}

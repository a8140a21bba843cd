/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Private keys: the ADD_IDENTITY encodings and key generation (see key.h).
 * Used by token helpers only; the agent never holds private keys.
 */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "common/key_impl.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Ed25519 "sk" (seed || pk) for k's public key; replaces k->pkey. */
static int
key_priv_ed25519(struct buf *b, struct key *k)
{
	const u_char *sk;
	u_char pub[KEY_ED25519_PK_LEN];
	size_t sklen, publen = sizeof(pub);
	EVP_PKEY *pk = NULL;
	int r = TOK_ERR_INTERNAL;

	if ((r = buf_get_string_direct(b, &sk, &sklen)) != 0)
		return r;
	if (sklen != KEY_ED25519_SK_LEN ||
	    CRYPTO_memcmp(sk + 32, k->pub, KEY_ED25519_PK_LEN) != 0)
		return TOK_ERR_KEY_INVALID;
	if ((pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk,
	    32)) == NULL)
		return TOK_ERR_KEY_INVALID;
	if (EVP_PKEY_get_raw_public_key(pk, pub, &publen) != 1 ||
	    publen != sizeof(pub)) {
		r = TOK_ERR_LIBCRYPTO;
		goto out;
	}
	if (CRYPTO_memcmp(pub, k->pub, sizeof(pub)) != 0) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	EVP_PKEY_free(k->pkey);
	k->pkey = pk;
	pk = NULL;
	k->has_private = 1;
	r = 0;
 out:
	EVP_PKEY_free(pk);
	return r;
}

static int
key_priv_rsa(struct buf *b, struct key *k, const u_char *n, size_t nlen,
    const u_char *e, size_t elen)
{
	const u_char *d, *iqmp, *p, *q;
	size_t dlen, iqmplen, plen, qlen;
	EVP_PKEY *pk = NULL;
	int r;

	if ((r = buf_get_bignum2_bytes_direct(b, &d, &dlen)) != 0 ||
	    (r = buf_get_bignum2_bytes_direct(b, &iqmp, &iqmplen)) != 0 ||
	    (r = buf_get_bignum2_bytes_direct(b, &p, &plen)) != 0 ||
	    (r = buf_get_bignum2_bytes_direct(b, &q, &qlen)) != 0)
		return r;
	if ((r = key_rsa_pkey(n, nlen, e, elen, d, dlen, iqmp, iqmplen,
	    p, plen, q, qlen, &pk)) != 0)
		return r;
	EVP_PKEY_free(k->pkey);
	k->pkey = pk;
	k->has_private = 1;
	return 0;
}

static int
key_priv_sk(struct buf *b, struct key *k, int is_cert)
{
	char *app = NULL;
	const u_char *kh, *res, *pk;
	size_t khlen, reslen, pklen;
	int r = TOK_ERR_INTERNAL;

	if (is_cert) {
		/* OpenSSH repeats the Ed25519 pk here, but not an EC point. */
		if (k->kt->type == KEY_ED25519_SK) {
			if ((r = buf_get_string_direct(b, &pk, &pklen)) != 0)
				goto out;
			if (pklen != k->publen ||
			    memcmp(pk, k->pub, pklen) != 0) {
				r = TOK_ERR_KEY_CERT_MISMATCH;
				goto out;
			}
		}
		if ((r = buf_get_cstring(b, &app, NULL)) != 0)
			goto out;
		if (strcmp(app, k->sk_application) != 0) {
			r = TOK_ERR_KEY_CERT_MISMATCH;
			goto out;
		}
	}
	if ((r = buf_get_u8(b, &k->sk_flags)) != 0 ||
	    (r = buf_get_string_direct(b, &kh, &khlen)) != 0 ||
	    (r = buf_get_string_direct(b, &res, &reslen)) != 0)
		goto out;
	if (khlen > KEY_SK_KEYHANDLE_MAX || reslen > KEY_SK_RESERVED_MAX) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	if ((k->sk_key_handle = malloc(khlen + 1)) == NULL ||
	    (k->sk_reserved = malloc(reslen + 1)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (khlen != 0)
		memcpy(k->sk_key_handle, kh, khlen);
	if (reslen != 0)
		memcpy(k->sk_reserved, res, reslen);
	k->sk_khlen = khlen;
	k->sk_reservedlen = reslen;
	k->sk_has_handle = 1;
	r = 0;
 out:
	free(app);
	return r;
}

/* The private fields (after any public ones) for k. */
static int
key_priv_fields(struct buf *b, struct key *k, int is_cert)
{
	struct buf *ne = NULL;
	const u_char *p, *n, *e;
	size_t plen, nlen, elen;
	EVP_PKEY *pk = NULL;
	int r = TOK_ERR_INTERNAL;

	switch (k->kt->type) {
	case KEY_ED25519:
		if (is_cert) {
			if ((r = buf_get_string_direct(b, &p, &plen)) != 0)
				goto out;
			if (plen != KEY_ED25519_PK_LEN ||
			    memcmp(p, k->pub, plen) != 0) {
				r = TOK_ERR_KEY_CERT_MISMATCH;
				goto out;
			}
		}
		r = key_priv_ed25519(b, k);
		break;
	case KEY_ECDSA:
		if ((r = buf_get_bignum2_bytes_direct(b, &p, &plen)) != 0 ||
		    (r = key_ec_pkey(k->kt, k->pub, k->publen, p, plen,
		    &pk)) != 0)
			goto out;
		EVP_PKEY_free(k->pkey);
		k->pkey = pk;
		k->has_private = 1;
		break;
	case KEY_RSA:
		/* Certificates carry n and e in the certificate only. */
		if ((ne = buf_new()) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		if ((r = key_put_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N,
		    ne)) != 0 ||
		    (r = key_put_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E,
		    ne)) != 0 ||
		    (r = buf_get_bignum2_bytes_direct(ne, &n, &nlen)) != 0 ||
		    (r = buf_get_bignum2_bytes_direct(ne, &e, &elen)) != 0)
			goto out;
		r = key_priv_rsa(b, k, n, nlen, e, elen);
		break;
	case KEY_ECDSA_SK:
	case KEY_ED25519_SK:
		r = key_priv_sk(b, k, is_cert);
		break;
	case KEY_MLDSA44_ED25519:
		/* Both halves' seeds; certificates repeat no public key. */
		if ((r = buf_get_string_direct(b, &p, &plen)) != 0)
			goto out;
		r = key_mldsa_set_private(k, p, plen);
		break;
	default:
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		break;
	}
 out:
	buf_free(ne);
	return r;
}

int
key_private_from_agent(struct buf *msg, struct key **keyp, char **commentp)
{
	struct buf *v = NULL;
	struct key *k = NULL;
	const struct key_kt *kt;
	const u_char *blob, *n, *e;
	size_t bloblen, nlen, elen;
	char *name = NULL, *comment = NULL;
	int is_cert, r = TOK_ERR_INTERNAL;

	*keyp = NULL;
	if (commentp != NULL)
		*commentp = NULL;
	if (msg == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((v = buf_fromb(msg)) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_get_cstring(v, &name, NULL)) != 0)
		goto out;
	if ((kt = key_kt_by_name(name, &is_cert)) == NULL) {
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if (is_cert) {
		if ((r = buf_get_string_direct(v, &blob, &bloblen)) != 0 ||
		    (r = key_from_blob(blob, bloblen, &k)) != 0)
			goto out;
		if (k->kt != kt || !key_is_cert(k)) {
			r = TOK_ERR_KEY_TYPE_MISMATCH;
			goto out;
		}
		if ((r = key_priv_fields(v, k, 1)) != 0)
			goto out;
	} else {
		if ((k = key_new(kt)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		if (kt->type == KEY_RSA) {
			/* Private RSA is n, e (public blobs have e, n). */
			if ((r = buf_get_bignum2_bytes_direct(v, &n,
			    &nlen)) != 0 ||
			    (r = buf_get_bignum2_bytes_direct(v, &e,
			    &elen)) != 0 ||
			    (r = key_priv_rsa(v, k, n, nlen, e, elen)) != 0)
				goto out;
		} else if ((r = key_parse_pub_fields(v, k)) != 0 ||
		    (r = key_priv_fields(v, k, 0)) != 0)
			goto out;
		if ((r = key_finish(k)) != 0)
			goto out;
	}
	if ((r = buf_get_cstring(v, &comment, NULL)) != 0)
		goto out;
	if ((r = buf_consume(msg, buf_len(msg) - buf_len(v))) != 0)
		goto out;
	*keyp = k;
	k = NULL;
	if (commentp != NULL) {
		*commentp = comment;
		comment = NULL;
	}
	r = 0;
 out:
	free(name);
	free(comment);
	key_free(k);
	buf_free(v);
	return r;
}

/* Append the public fields of k's plain blob (everything after the name). */
static int
key_put_plain_fields(const struct key *k, struct buf *out)
{
	struct buf *v;
	int r;

	if ((v = buf_from(k->plain, k->plainlen)) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_get_string_direct(v, NULL, NULL)) == 0)
		r = buf_putb(out, v);
	buf_free(v);
	return r;
}

int
key_private_to_agent(const struct key *k, const char *comment,
    struct buf *out)
{
	/* The agent protocol's order: n, e, d, iqmp, p, q. */
	static const char *const rsa_params[] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E,
		OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
	};
	u_char sk[KEY_ED25519_SK_LEN];
	size_t i, len = 32;
	int is_cert, r = TOK_ERR_INTERNAL;

	if (k == NULL || out == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	if (key_is_sk(k) ? !k->sk_has_handle : !k->has_private)
		return TOK_ERR_KEY_NOT_FOUND;
	is_cert = key_is_cert(k);
	if ((r = buf_put_cstring(out, key_type_name(k))) != 0)
		goto out;
	if (is_cert && (r = buf_put_string(out, k->blob, k->bloblen)) != 0)
		goto out;
	switch (k->kt->type) {
	case KEY_ED25519:
		if (EVP_PKEY_get_raw_private_key(k->pkey, sk, &len) != 1 ||
		    len != 32) {
			r = TOK_ERR_LIBCRYPTO;
			goto out;
		}
		memcpy(sk + 32, k->pub, KEY_ED25519_PK_LEN);
		if ((r = buf_put_string(out, k->pub, k->publen)) != 0 ||
		    (r = buf_put_string(out, sk, sizeof(sk))) != 0)
			goto out;
		break;
	case KEY_ECDSA:
		if ((!is_cert && (r = key_put_plain_fields(k, out)) != 0) ||
		    (r = key_put_bn_param(k->pkey, OSSL_PKEY_PARAM_PRIV_KEY,
		    out)) != 0)
			goto out;
		break;
	case KEY_RSA:
		/* n and e only for plain keys; certificates carry them. */
		for (i = is_cert ? 2 : 0; i < nitems(rsa_params); i++)
			if ((r = key_put_bn_param(k->pkey, rsa_params[i],
			    out)) != 0)
				goto out;
		break;
	case KEY_MLDSA44_ED25519:
		if ((!is_cert && (r = buf_put_string(out, k->mldsa_pub,
		    KEY_MLDSA_PK_LEN)) != 0) ||
		    (r = buf_put_string(out, k->mldsa_seed,
		    KEY_MLDSA_SEED_LEN)) != 0)
			goto out;
		break;
	case KEY_ECDSA_SK:
	case KEY_ED25519_SK:
		if (is_cert) {
			if (k->kt->type == KEY_ED25519_SK &&
			    (r = buf_put_string(out, k->pub, k->publen)) != 0)
				goto out;
			if ((r = buf_put_cstring(out, k->sk_application)) != 0)
				goto out;
		} else if ((r = key_put_plain_fields(k, out)) != 0)
			goto out;
		if ((r = buf_put_u8(out, k->sk_flags)) != 0 ||
		    (r = buf_put_string(out, k->sk_key_handle,
		    k->sk_khlen)) != 0 ||
		    (r = buf_put_string(out, k->sk_reserved,
		    k->sk_reservedlen)) != 0)
			goto out;
		break;
	default:
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	r = buf_put_cstring(out, comment == NULL ? "" : comment);
 out:
	explicit_bzero(sk, sizeof(sk));
	return r;
}

int
key_generate(enum key_type type, u_int bits, struct key **keyp)
{
	const struct key_kt *kt = NULL;
	EVP_PKEY *pk = NULL;
	size_t i;
	int r;

	*keyp = NULL;
	switch (type) {
	case KEY_ED25519:
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case KEY_MLDSA44_ED25519:
		return key_mldsa_generate(keyp);
	case KEY_ECDSA:
		for (i = 0; kt == NULL && i < 3; i++) {
			static const char *curves[] = {
				"nistp256", "nistp384", "nistp521"
			};
			kt = key_kt_by_type(KEY_ECDSA, curves[i]);
			if (kt->bits != (int)bits)
				kt = NULL;
		}
		if (kt == NULL)
			return TOK_ERR_INVALID_ARGUMENT;
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", kt->group);
		break;
	case KEY_RSA:
		if (bits < KEY_RSA_MIN_BITS || bits > KEY_RSA_MAX_BITS)
			return TOK_ERR_INVALID_ARGUMENT;
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
		break;
	default:
		return TOK_ERR_INVALID_ARGUMENT;
	}
	if (pk == NULL)
		return TOK_ERR_LIBCRYPTO;
	r = key_from_evp(pk, 1, keyp);
	EVP_PKEY_free(pk);
	return r;
}

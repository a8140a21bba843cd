/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Credential keys, COSE encoding, signing and key wrapping. */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "tests/vfido/vkey.h"

#define WRAP_VERSION	1
#define WRAP_IV_LEN	12
#define WRAP_TAG_LEN	16
#define WRAP_PT_MAX	(VFIDO_CREDID_MAX - 1 - WRAP_IV_LEN - WRAP_TAG_LEN)

int
vfido_key_generate(int alg, EVP_PKEY **pkp)
{
	*pkp = NULL;
	if (alg == VFIDO_COSE_ES256)
		*pkp = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (alg == VFIDO_COSE_EDDSA)
		*pkp = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		return TOK_ERR_KEY_TYPE_UNKNOWN;
	return *pkp == NULL ? TOK_ERR_LIBCRYPTO : 0;
}

static int
vfido_map_add(cbor_item_t *map, cbor_item_t *k, cbor_item_t *v)
{
	struct cbor_pair pair;
	int ok;

	if (k == NULL || v == NULL) {
		if (k != NULL)
			cbor_decref(&k);
		if (v != NULL)
			cbor_decref(&v);
		return TOK_ERR_ALLOC;
	}
	pair.key = k;
	pair.value = v;
	ok = cbor_map_add(map, pair);
	cbor_decref(&k);
	cbor_decref(&v);
	return ok ? 0 : TOK_ERR_ALLOC;
}

cbor_item_t *
vfido_cbor_int(int64_t v)
{
	uint64_t u = v >= 0 ? (uint64_t)v : (uint64_t)(-1 - v);
	cbor_item_t *it;

	/* smallest encoding: CTAP2 canonical CBOR, and libfido2 insists */
	if (u <= UINT8_MAX)
		it = v >= 0 ? cbor_build_uint8((uint8_t)u) :
		    cbor_build_negint8((uint8_t)u);
	else if (u <= UINT16_MAX)
		it = v >= 0 ? cbor_build_uint16((uint16_t)u) :
		    cbor_build_negint16((uint16_t)u);
	else if (u <= UINT32_MAX)
		it = v >= 0 ? cbor_build_uint32((uint32_t)u) :
		    cbor_build_negint32((uint32_t)u);
	else
		it = v >= 0 ? cbor_build_uint64(u) : cbor_build_negint64(u);
	return it;
}

int
vfido_key_cose(EVP_PKEY *pk, int alg, cbor_item_t **itemp)
{
	cbor_item_t *map = NULL;
	u_char pt[65];
	size_t len = 0;
	int r = TOK_ERR_INTERNAL;

	*itemp = NULL;
	if (alg == VFIDO_COSE_ES256) {
		if (EVP_PKEY_get_octet_string_param(pk,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len) != 1 ||
		    len != 65 || pt[0] != 4)
			return TOK_ERR_LIBCRYPTO;
		if ((map = cbor_new_definite_map(5)) == NULL)
			return TOK_ERR_ALLOC;
		if ((r = vfido_map_add(map, vfido_cbor_int(1), vfido_cbor_int(2))) ||
		    (r = vfido_map_add(map, vfido_cbor_int(3), vfido_cbor_int(alg))) ||
		    (r = vfido_map_add(map, vfido_cbor_int(-1), vfido_cbor_int(1))) ||
		    (r = vfido_map_add(map, vfido_cbor_int(-2),
		    cbor_build_bytestring(pt + 1, 32))) ||
		    (r = vfido_map_add(map, vfido_cbor_int(-3),
		    cbor_build_bytestring(pt + 33, 32))))
			goto out;
	} else if (alg == VFIDO_COSE_EDDSA) {
		len = 32;
		if (EVP_PKEY_get_raw_public_key(pk, pt, &len) != 1 ||
		    len != 32)
			return TOK_ERR_LIBCRYPTO;
		if ((map = cbor_new_definite_map(4)) == NULL)
			return TOK_ERR_ALLOC;
		if ((r = vfido_map_add(map, vfido_cbor_int(1), vfido_cbor_int(1))) ||
		    (r = vfido_map_add(map, vfido_cbor_int(3), vfido_cbor_int(alg))) ||
		    (r = vfido_map_add(map, vfido_cbor_int(-1), vfido_cbor_int(6))) ||
		    (r = vfido_map_add(map, vfido_cbor_int(-2),
		    cbor_build_bytestring(pt, 32))))
			goto out;
	} else
		return TOK_ERR_KEY_TYPE_UNKNOWN;
	*itemp = map;
	map = NULL;
	r = 0;
 out:
	if (map != NULL)
		cbor_decref(&map);
	return r;
}

int
vfido_key_sign(EVP_PKEY *pk, int alg, const u_char *msg, size_t msglen,
    u_char **sigp, size_t *siglenp)
{
	EVP_MD_CTX *ctx = NULL;
	u_char *sig = NULL;
	size_t len = 0;
	int r = TOK_ERR_LIBCRYPTO;

	*sigp = NULL;
	*siglenp = 0;
	if (alg != VFIDO_COSE_ES256 && alg != VFIDO_COSE_EDDSA)
		return TOK_ERR_KEY_TYPE_UNKNOWN;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL,
	    alg == VFIDO_COSE_ES256 ? EVP_sha256() : NULL, NULL, pk) != 1 ||
	    EVP_DigestSign(ctx, NULL, &len, msg, msglen) != 1)
		goto out;
	if ((sig = malloc(len)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (EVP_DigestSign(ctx, sig, &len, msg, msglen) != 1)
		goto out;
	*sigp = sig;
	*siglenp = len;
	sig = NULL;
	r = 0;
 out:
	free(sig);
	EVP_MD_CTX_free(ctx);
	return r;
}

static int
vfido_alg_code(int alg)
{
	return alg == VFIDO_COSE_ES256 ? 1 : alg == VFIDO_COSE_EDDSA ? 2 : 0;
}

static int
vfido_gcm(int enc, const u_char key[32], const u_char *iv, const u_char *aad,
    size_t aadlen, const u_char *in, size_t len, u_char *out, u_char *tag)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n = 0, fin = 0, r = TOK_ERR_LIBCRYPTO;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv,
	    enc) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
	    WRAP_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + n, &fin) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
	    WRAP_TAG_LEN, tag) != 1)
		goto out;
	r = 0;
 out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int
vfido_key_wrap(const u_char master[32], const u_char rpid_hash[32],
    int alg, uint8_t flags, EVP_PKEY *pk, u_char **idp, size_t *idlenp)
{
	u_char pt[WRAP_PT_MAX], aad[33], *p, *id = NULL;
	size_t ptlen, idlen;
	int derlen, r = TOK_ERR_INTERNAL;

	*idp = NULL;
	*idlenp = 0;
	if (vfido_alg_code(alg) == 0)
		return TOK_ERR_KEY_TYPE_UNKNOWN;
	if ((derlen = i2d_PrivateKey(pk, NULL)) <= 0 ||
	    (size_t)derlen > sizeof(pt) - 2)
		return TOK_ERR_LIBCRYPTO;
	pt[0] = (u_char)vfido_alg_code(alg);
	pt[1] = flags;
	p = pt + 2;
	if (i2d_PrivateKey(pk, &p) != derlen) {
		r = TOK_ERR_LIBCRYPTO;
		goto out;
	}
	ptlen = 2 + (size_t)derlen;
	idlen = 1 + WRAP_IV_LEN + ptlen + WRAP_TAG_LEN;
	if ((id = malloc(idlen)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	id[0] = WRAP_VERSION;
	if (RAND_bytes(id + 1, WRAP_IV_LEN) != 1) {
		r = TOK_ERR_LIBCRYPTO;
		goto out;
	}
	aad[0] = WRAP_VERSION;
	memcpy(aad + 1, rpid_hash, 32);
	if ((r = vfido_gcm(1, master, id + 1, aad, sizeof(aad), pt, ptlen,
	    id + 1 + WRAP_IV_LEN, id + 1 + WRAP_IV_LEN + ptlen)) != 0)
		goto out;
	*idp = id;
	*idlenp = idlen;
	id = NULL;
	r = 0;
 out:
	explicit_bzero(pt, sizeof(pt));
	free(id);
	return r;
}

/*
 * Credentials opened lately.  Decoding a private key through OpenSSL 3's
 * decoder framework costs far more than a real token's key unwrap, and
 * would make vfido, not the agent under test, what a benchmark measures.
 */
#define UNWRAP_CACHE	8

static struct unwrapped {
	u_char master[32], rpid_hash[32], id[VFIDO_CREDID_MAX];
	size_t idlen;
	int alg;
	uint8_t flags;
	EVP_PKEY *pk;
} unwrap_cache[UNWRAP_CACHE];
static size_t unwrap_next;

static int
unwrap_cached(const u_char master[32], const u_char rpid_hash[32],
    const u_char *id, size_t idlen, int *algp, uint8_t *flagsp,
    EVP_PKEY **pkp)
{
	struct unwrapped *u;
	size_t i;

	for (i = 0; i < UNWRAP_CACHE; i++) {
		u = &unwrap_cache[i];
		if (u->pk == NULL || u->idlen != idlen ||
		    memcmp(u->id, id, idlen) != 0 ||
		    memcmp(u->rpid_hash, rpid_hash, 32) != 0 ||
		    memcmp(u->master, master, 32) != 0)
			continue;
		if (EVP_PKEY_up_ref(u->pk) != 1)
			return -1;
		*algp = u->alg;
		*flagsp = u->flags;
		*pkp = u->pk;
		return 0;
	}
	return -1;
}

static void
unwrap_remember(const u_char master[32], const u_char rpid_hash[32],
    const u_char *id, size_t idlen, int alg, uint8_t flags, EVP_PKEY *pk)
{
	struct unwrapped *u = &unwrap_cache[unwrap_next];

	if (EVP_PKEY_up_ref(pk) != 1)
		return;
	EVP_PKEY_free(u->pk);
	memcpy(u->master, master, 32);
	memcpy(u->rpid_hash, rpid_hash, 32);
	memcpy(u->id, id, idlen);
	u->idlen = idlen;
	u->alg = alg;
	u->flags = flags;
	u->pk = pk;
	unwrap_next = (unwrap_next + 1) % UNWRAP_CACHE;
}

void
vfido_key_forget(void)
{
	size_t i;

	for (i = 0; i < UNWRAP_CACHE; i++) {
		EVP_PKEY_free(unwrap_cache[i].pk);
		explicit_bzero(&unwrap_cache[i], sizeof(unwrap_cache[i]));
	}
}

int
vfido_key_unwrap(const u_char master[32], const u_char rpid_hash[32],
    const u_char *id, size_t idlen, int *algp, uint8_t *flagsp,
    EVP_PKEY **pkp)
{
	u_char pt[WRAP_PT_MAX], aad[33], tag[WRAP_TAG_LEN];
	const u_char *p;
	EVP_PKEY *pk = NULL;
	size_t ptlen;
	int alg, r = TOK_ERR_KEY_NOT_FOUND;

	*algp = 0;
	*flagsp = 0;
	*pkp = NULL;
	if (idlen < 1 + WRAP_IV_LEN + 3 + WRAP_TAG_LEN ||
	    idlen > VFIDO_CREDID_MAX || id[0] != WRAP_VERSION)
		return TOK_ERR_KEY_NOT_FOUND;
	if (unwrap_cached(master, rpid_hash, id, idlen, algp, flagsp,
	    pkp) == 0)
		return 0;
	ptlen = idlen - 1 - WRAP_IV_LEN - WRAP_TAG_LEN;
	memcpy(tag, id + idlen - WRAP_TAG_LEN, WRAP_TAG_LEN);
	aad[0] = WRAP_VERSION;
	memcpy(aad + 1, rpid_hash, 32);
	if (vfido_gcm(0, master, id + 1, aad, sizeof(aad),
	    id + 1 + WRAP_IV_LEN, ptlen, pt, tag) != 0)
		goto out;
	switch (pt[0]) {
	case 1:
		alg = VFIDO_COSE_ES256;
		break;
	case 2:
		alg = VFIDO_COSE_EDDSA;
		break;
	default:
		goto out;
	}
	p = pt + 2;
	if ((pk = d2i_AutoPrivateKey(NULL, &p, (long)(ptlen - 2))) == NULL ||
	    p != pt + ptlen)
		goto out;
	unwrap_remember(master, rpid_hash, id, idlen, alg, pt[1], pk);
	*algp = alg;
	*flagsp = pt[1];
	*pkp = pk;
	pk = NULL;
	r = 0;
 out:
	EVP_PKEY_free(pk);
	explicit_bzero(pt, sizeof(pt));
	return r;
}

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* CTAP2 PIN/UV auth protocols one and two, on OpenSSL. */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "common/err.h"
#include "tests/vfido/pinproto.h"

int
vfido_pin_ecdh_new(EVP_PKEY **pkp)
{
	*pkp = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return *pkp == NULL ? TOK_ERR_LIBCRYPTO : 0;
}

int
vfido_pin_ecdh_pub(EVP_PKEY *pk, u_char x[32], u_char y[32])
{
	u_char pt[65];
	size_t len = 0;

	if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY,
	    pt, sizeof(pt), &len) != 1 || len != sizeof(pt) || pt[0] != 4)
		return TOK_ERR_LIBCRYPTO;
	memcpy(x, pt + 1, 32);
	memcpy(y, pt + 33, 32);
	return 0;
}

static int
vfido_pin_peer(const u_char x[32], const u_char y[32], EVP_PKEY **pkp)
{
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM params[3];
	u_char pt[65];
	char group[] = "P-256";
	int r = TOK_ERR_KEY_INVALID;

	*pkp = NULL;
	pt[0] = 4;
	memcpy(pt + 1, x, 32);
	memcpy(pt + 33, y, 32);
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt));
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, pkp, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	r = 0;
 out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

int
vfido_pin_ecdh(EVP_PKEY *ours, const u_char x[32], const u_char y[32],
    u_char z[32])
{
	EVP_PKEY *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = 32;
	int r;

	if ((r = vfido_pin_peer(x, y, &peer)) != 0)
		goto out;
	r = TOK_ERR_KEY_INVALID;
	if ((ctx = EVP_PKEY_CTX_new(ours, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer_ex(ctx, peer, 1) != 1 ||
	    EVP_PKEY_derive(ctx, z, &len) != 1 || len != 32)
		goto out;
	r = 0;
 out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return r;
}

static int
vfido_pin_hkdf(const u_char z[32], const char *info, u_char out[32])
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[5];
	u_char salt[32];
	char md[] = "SHA256";
	int r = TOK_ERR_LIBCRYPTO;

	memset(salt, 0, sizeof(salt));
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    md, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)z, 32);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    salt, sizeof(salt));
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)info, strlen(info));
	params[4] = OSSL_PARAM_construct_end();
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL ||
	    EVP_KDF_derive(ctx, out, 32, params) != 1)
		goto out;
	r = 0;
 out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return r;
}

int
vfido_pin_kdf(int proto, const u_char z[32],
    u_char shared[VFIDO_PIN_SHARED_MAX], size_t *sharedlenp)
{
	int r = TOK_ERR_INTERNAL;

	*sharedlenp = 0;
	switch (proto) {
	case 1:
		if (SHA256(z, 32, shared) == NULL)
			return TOK_ERR_LIBCRYPTO;
		*sharedlenp = 32;
		return 0;
	case 2:
		if ((r = vfido_pin_hkdf(z, "CTAP2 HMAC key", shared)) != 0 ||
		    (r = vfido_pin_hkdf(z, "CTAP2 AES key", shared + 32)) != 0) {
			explicit_bzero(shared, VFIDO_PIN_SHARED_MAX);
			return r;
		}
		*sharedlenp = 64;
		return 0;
	default:
		return TOK_ERR_INVALID_ARGUMENT;
	}
}

/* The AES key of a shared secret. */
static int
vfido_pin_aeskey(int proto, const u_char *shared, size_t sharedlen,
    const u_char **keyp)
{
	*keyp = NULL;
	if (proto == 1 && sharedlen == 32)
		*keyp = shared;
	else if (proto == 2 && sharedlen == 64)
		*keyp = shared + 32;
	else
		return TOK_ERR_INVALID_ARGUMENT;
	return 0;
}

static int
vfido_pin_cbc(int enc, const u_char *key, const u_char *iv,
    const u_char *in, size_t len, u_char *out)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n = 0, fin = 0, r = TOK_ERR_LIBCRYPTO;

	if (len > INT32_MAX)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv,
	    enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + n, &fin) != 1 ||
	    (size_t)n + (size_t)fin != len)
		goto out;
	r = 0;
 out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int
vfido_pin_encrypt(int proto, const u_char *shared, size_t sharedlen,
    const u_char *in, size_t inlen, u_char **outp, size_t *outlenp)
{
	const u_char *key;
	u_char iv[VFIDO_PIN_IV_LEN], *out = NULL;
	size_t ivlen = proto == 2 ? VFIDO_PIN_IV_LEN : 0;
	int r;

	*outp = NULL;
	*outlenp = 0;
	if ((r = vfido_pin_aeskey(proto, shared, sharedlen, &key)) != 0)
		return r;
	if (inlen == 0 || inlen % 16 != 0 || inlen > 4096)
		return TOK_ERR_INVALID_ARGUMENT;
	memset(iv, 0, sizeof(iv));
	if (ivlen != 0 && RAND_bytes(iv, sizeof(iv)) != 1)
		return TOK_ERR_LIBCRYPTO;
	if ((out = malloc(ivlen + inlen)) == NULL)
		return TOK_ERR_ALLOC;
	memcpy(out, iv, ivlen);
	if ((r = vfido_pin_cbc(1, key, iv, in, inlen, out + ivlen)) != 0) {
		freezero(out, ivlen + inlen);
		return r;
	}
	*outp = out;
	*outlenp = ivlen + inlen;
	return 0;
}

int
vfido_pin_decrypt(int proto, const u_char *shared, size_t sharedlen,
    const u_char *in, size_t inlen, u_char **outp, size_t *outlenp)
{
	const u_char *key;
	u_char iv[VFIDO_PIN_IV_LEN], *out = NULL;
	size_t ivlen = proto == 2 ? VFIDO_PIN_IV_LEN : 0;
	int r;

	*outp = NULL;
	*outlenp = 0;
	if ((r = vfido_pin_aeskey(proto, shared, sharedlen, &key)) != 0)
		return r;
	if (inlen < ivlen + 16 || (inlen - ivlen) % 16 != 0 || inlen > 4096)
		return TOK_ERR_INVALID_FORMAT;
	memset(iv, 0, sizeof(iv));
	memcpy(iv, in, ivlen);
	if ((out = malloc(inlen - ivlen)) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = vfido_pin_cbc(0, key, iv, in + ivlen, inlen - ivlen,
	    out)) != 0) {
		freezero(out, inlen - ivlen);
		return r;
	}
	*outp = out;
	*outlenp = inlen - ivlen;
	return 0;
}

int
vfido_pin_authenticate(int proto, const u_char *key, size_t keylen,
    const u_char *msg, size_t msglen, u_char out[VFIDO_PIN_AUTH_MAX],
    size_t *outlenp)
{
	u_char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	*outlenp = 0;
	if ((proto != 1 && proto != 2) || keylen == 0)
		return TOK_ERR_INVALID_ARGUMENT;
	if (proto == 2 && keylen > 32)
		keylen = 32;
	if (HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, mac,
	    &maclen) == NULL || maclen != 32)
		return TOK_ERR_LIBCRYPTO;
	*outlenp = proto == 1 ? 16 : 32;
	memcpy(out, mac, *outlenp);
	explicit_bzero(mac, sizeof(mac));
	return 0;
}

int
vfido_pin_verify(int proto, const u_char *key, size_t keylen,
    const u_char *msg, size_t msglen, const u_char *sig, size_t siglen)
{
	u_char mac[VFIDO_PIN_AUTH_MAX];
	size_t maclen;
	int r;

	if ((r = vfido_pin_authenticate(proto, key, keylen, msg, msglen,
	    mac, &maclen)) != 0)
		return r;
	r = (siglen == maclen && CRYPTO_memcmp(mac, sig, maclen) == 0) ?
	    0 : TOK_ERR_SIGNATURE_INVALID;
	explicit_bzero(mac, sizeof(mac));
	return r;
}

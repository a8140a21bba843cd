/* vcard: keys, certificates, signatures and management-key ciphers (see crypto.h). */
#include "config.h"

#include <sys/types.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

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
	case VC_ALG_RSA2048:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
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
		if (EVP_PKEY_get_bits(pkey) == 2048)
			return VC_ALG_RSA2048;
		if (EVP_PKEY_get_bits(pkey) == 1024)
			return VC_ALG_RSA1024;
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

int
vc_crypto_selfsign(EVP_PKEY *pkey, const char *cn, u_char **derp,
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
vc_crypto_pubkey_template(EVP_PKEY *pkey, struct buf *out)
{
	struct buf *t = NULL;
	u_char pt[256];
	size_t ptlen = 0;
	int r = TOK_ERR_LIBCRYPTO;

	if ((t = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
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
	if ((r = vc_tlv_putb(out, 0x7f49, t)) != 0)
		goto out;
	r = 0;
 out:
	buf_free(t);
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

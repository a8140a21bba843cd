/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Unit tests for the p11 helper's parsers of module output: CKR mapping,
 * public keys from attributes (pkcs/p11-pubkey.c) and the ELF export check
 * (pkcs/p11-elf.c).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "pkcs/p11-elf.h"
#include "pkcs/p11-err.h"
#include "pkcs/p11-pubkey.h"

static const u_char oid_p256[] = {
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07
};
static const u_char oid_p384[] = {
	0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22
};
static const u_char oid_p521[] = {
	0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23
};
static const u_char oid_ed25519[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
static const u_char name_ed25519[] = {
	0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9'
};
static const u_char oid_secp256k1[] = {
	0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a
};

/* The blob of an OpenSSL key, through key_from_evp_public. */
static struct buf *
evp_blob(EVP_PKEY *pk)
{
	struct key *k = NULL;
	struct buf *b;

	assert_int_equal(key_from_evp_public(pk, &k), 0);
	assert_non_null(b = buf_new());
	assert_int_equal(key_to_blob(k, b), 0);
	key_free(k);
	return b;
}

static void
assert_key_blob(const struct key *k, const struct buf *want)
{
	struct buf *b;

	assert_non_null(b = buf_new());
	assert_int_equal(key_to_blob(k, b), 0);
	assert_true(buf_equal(b, want));
	buf_free(b);
}

static void
test_ckr_map(void **state)
{
	assert_int_equal(p11_err_from_ckr(CKR_OK), 0);
	assert_int_equal(p11_err_from_ckr(CKR_PIN_INCORRECT),
	    TOK_ERR_PIN_INVALID);
	assert_int_equal(p11_err_from_ckr(CKR_PIN_LOCKED), TOK_ERR_PIN_BLOCKED);
	assert_int_equal(p11_err_from_ckr(CKR_TOKEN_NOT_PRESENT),
	    TOK_ERR_DEVICE_NOT_PRESENT);
	assert_int_equal(p11_err_from_ckr(CKR_DEVICE_REMOVED),
	    TOK_ERR_DEVICE_NOT_PRESENT);
	assert_int_equal(p11_err_from_ckr(CKR_SESSION_HANDLE_INVALID),
	    TOK_ERR_DEVICE_NOT_PRESENT);
	assert_int_equal(p11_err_from_ckr(CKR_USER_NOT_LOGGED_IN),
	    TOK_ERR_PIN_REQUIRED);
	assert_int_equal(p11_err_from_ckr(CKR_FUNCTION_NOT_SUPPORTED),
	    TOK_ERR_FEATURE_UNSUPPORTED);
	assert_int_equal(p11_err_from_ckr(0x80001234UL), TOK_ERR_DEVICE);
	assert_string_equal(p11_ckr_name(CKR_PIN_INCORRECT),
	    "CKR_PIN_INCORRECT");
	assert_string_equal(p11_ckr_name(0x80001234UL), "CKR_0x80001234");
	assert_true(p11_ckr_session_lost(CKR_DEVICE_REMOVED));
	assert_false(p11_ckr_session_lost(CKR_PIN_INCORRECT));
}

/* ec_point: the uncompressed point of a new key on group, and its blob. */
static void
ec_point(const char *group, u_char *pt, size_t *ptlen, struct buf **blobp)
{
	EVP_PKEY *pk;
	size_t len = 0;

	assert_non_null(pk = EVP_EC_gen(group));
	assert_int_equal(EVP_PKEY_get_octet_string_param(pk,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, 200, &len), 1);
	*ptlen = len;
	*blobp = evp_blob(pk);
	EVP_PKEY_free(pk);
}

/* der_wrap: pt as a DER OCTET STRING into out; its length. */
static size_t
der_wrap(const u_char *pt, size_t len, u_char *out)
{
	size_t hdr;

	out[0] = 0x04;
	if (len < 0x80) {
		out[1] = (u_char)len;
		hdr = 2;
	} else {
		out[1] = 0x81;
		out[2] = (u_char)len;
		hdr = 3;
	}
	memcpy(out + hdr, pt, len);
	return hdr + len;
}

static void
check_curve(const char *group, const u_char *oid, size_t oidlen)
{
	u_char pt[200], wrapped[210];
	size_t ptlen, wlen, i;
	struct buf *blob;
	struct key *k = NULL;

	ec_point(group, pt, &ptlen, &blob);
	wlen = der_wrap(pt, ptlen, wrapped);
	/* Raw and wrapped points give the same key. */
	assert_int_equal(p11_pubkey_ec(oid, oidlen, pt, ptlen, &k), 0);
	assert_key_blob(k, blob);
	key_free(k);
	k = NULL;
	assert_int_equal(p11_pubkey_ec(oid, oidlen, wrapped, wlen, &k), 0);
	assert_key_blob(k, blob);
	key_free(k);
	k = NULL;
	/* Every truncation and a trailing byte fail. */
	for (i = 0; i < wlen; i++) {
		assert_int_not_equal(p11_pubkey_ec(oid, oidlen, wrapped, i,
		    &k), 0);
		assert_null(k);
	}
	wrapped[wlen] = 0;
	assert_int_not_equal(p11_pubkey_ec(oid, oidlen, wrapped, wlen + 1,
	    &k), 0);
	/* Off the curve. */
	pt[ptlen - 1] ^= 0x01;
	assert_int_not_equal(p11_pubkey_ec(oid, oidlen, pt, ptlen, &k), 0);
	pt[ptlen - 1] ^= 0x01;
	/* Not uncompressed. */
	pt[0] = 0x02;
	assert_int_not_equal(p11_pubkey_ec(oid, oidlen, pt, ptlen, &k), 0);
	pt[0] = 0x04;
	/* Wrapper length that lies. */
	wlen = der_wrap(pt, ptlen, wrapped);
	wrapped[wlen - ptlen - 1]++;
	assert_int_not_equal(p11_pubkey_ec(oid, oidlen, wrapped, wlen, &k), 0);
	assert_null(k);
	buf_free(blob);
}

static void
test_ec_curves(void **state)
{
	check_curve("P-256", oid_p256, sizeof(oid_p256));
	check_curve("P-384", oid_p384, sizeof(oid_p384));
	check_curve("P-521", oid_p521, sizeof(oid_p521));
}

static void
test_ec_unknown_curve(void **state)
{
	u_char pt[200];
	size_t ptlen;
	struct buf *blob;
	struct key *k = NULL;

	ec_point("P-256", pt, &ptlen, &blob);
	assert_int_equal(p11_pubkey_ec(oid_secp256k1, sizeof(oid_secp256k1),
	    pt, ptlen, &k), TOK_ERR_KEY_TYPE_UNKNOWN);
	/* Parameters with a trailing byte are another curve: refused. */
	{
		u_char p[sizeof(oid_p256) + 1];

		memcpy(p, oid_p256, sizeof(oid_p256));
		p[sizeof(oid_p256)] = 0;
		assert_int_equal(p11_pubkey_ec(p, sizeof(p), pt, ptlen, &k),
		    TOK_ERR_KEY_TYPE_UNKNOWN);
	}
	assert_int_equal(p11_pubkey_ec(oid_p256, 0, pt, ptlen, &k),
	    TOK_ERR_KEY_TYPE_UNKNOWN);
	assert_null(k);
	buf_free(blob);
}

static void
test_ed25519(void **state)
{
	EVP_PKEY *pk;
	u_char pt[32], wrapped[40];
	size_t ptlen = sizeof(pt), wlen;
	struct buf *blob;
	struct key *k = NULL;

	assert_non_null(pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	assert_int_equal(EVP_PKEY_get_raw_public_key(pk, pt, &ptlen), 1);
	blob = evp_blob(pk);
	EVP_PKEY_free(pk);
	wlen = der_wrap(pt, ptlen, wrapped);
	assert_int_equal(p11_pubkey_ec(oid_ed25519, sizeof(oid_ed25519),
	    pt, ptlen, &k), 0);
	assert_int_equal(key_type(k), KEY_ED25519);
	assert_key_blob(k, blob);
	key_free(k);
	k = NULL;
	assert_int_equal(p11_pubkey_ec(name_ed25519, sizeof(name_ed25519),
	    wrapped, wlen, &k), 0);
	assert_key_blob(k, blob);
	key_free(k);
	k = NULL;
	assert_int_not_equal(p11_pubkey_ec(name_ed25519, sizeof(name_ed25519),
	    wrapped, wlen - 1, &k), 0);
	assert_int_not_equal(p11_pubkey_ec(oid_ed25519, sizeof(oid_ed25519),
	    pt, 31, &k), 0);
	assert_null(k);
	buf_free(blob);
}

static void
test_rsa(void **state)
{
	EVP_PKEY *pk;
	BIGNUM *n = NULL, *e = NULL;
	u_char nb[512], eb[8], even[1] = { 4 }, one[1] = { 1 };
	int nlen, elen;
	struct buf *blob;
	struct key *k = NULL;

	assert_non_null(pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)2048));
	assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n),
	    1);
	assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e),
	    1);
	nlen = BN_bn2bin(n, nb);
	elen = BN_bn2bin(e, eb);
	blob = evp_blob(pk);
	assert_int_equal(p11_pubkey_rsa(nb, (size_t)nlen, eb, (size_t)elen,
	    &k), 0);
	assert_int_equal(key_type(k), KEY_RSA);
	assert_int_equal(key_bits(k), 2048);
	assert_key_blob(k, blob);
	key_free(k);
	k = NULL;
	assert_int_not_equal(p11_pubkey_rsa(nb, (size_t)nlen, even, 1, &k), 0);
	assert_int_not_equal(p11_pubkey_rsa(nb, (size_t)nlen, one, 1, &k), 0);
	assert_int_not_equal(p11_pubkey_rsa(nb, 0, eb, (size_t)elen, &k), 0);
	assert_int_not_equal(p11_pubkey_rsa(nb, (size_t)nlen, eb, 0, &k), 0);
	/* 512-bit modulus: below KEY_RSA_MIN_BITS. */
	assert_int_not_equal(p11_pubkey_rsa(nb, 64, eb, (size_t)elen, &k), 0);
	assert_null(k);
	buf_free(blob);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pk);
}

static void
test_x509(void **state)
{
	EVP_PKEY *pk;
	X509 *x;
	u_char *der = NULL, *big;
	int len;
	size_t i;
	struct buf *blob;
	struct key *k = NULL;

	assert_non_null(pk = EVP_EC_gen("P-256"));
	assert_non_null(x = X509_new());
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x),
	    "CN", MBSTRING_ASC, (const u_char *)"p11 test", -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(x)), 1);
	assert_int_equal(X509_set_pubkey(x, pk), 1);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	assert_true((len = i2d_X509(x, &der)) > 0);
	blob = evp_blob(pk);
	assert_int_equal(p11_pubkey_x509(der, (size_t)len, &k), 0);
	assert_key_blob(k, blob);
	key_free(k);
	k = NULL;
	for (i = 0; i < (size_t)len; i += 7)
		assert_int_not_equal(p11_pubkey_x509(der, i, &k), 0);
	assert_non_null(big = malloc((size_t)len + 1));
	memcpy(big, der, (size_t)len);
	big[len] = 0;
	assert_int_equal(p11_pubkey_x509(big, (size_t)len + 1, &k),
	    TOK_ERR_TRAILING_DATA);
	assert_null(k);
	free(big);
	OPENSSL_free(der);
	buf_free(blob);
	X509_free(x);
	EVP_PKEY_free(pk);
}

/* map_file: a private, writable copy-on-write mapping of a whole file. */
static u_char *
map_file(const char *path, size_t *lenp)
{
	struct stat sb;
	void *p;
	int fd;

	assert_true((fd = open(path, O_RDONLY)) != -1);
	assert_int_equal(fstat(fd, &sb), 0);
	p = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE, fd, 0);
	assert_true(p != MAP_FAILED);
	close(fd);
	*lenp = (size_t)sb.st_size;
	return p;
}

static void
test_elf(void **state)
{
	Dl_info dli;
	u_char *img;
	size_t len, i, n;
	int fd;

	/* libcrypto exports EVP_sha256 and no C_GetFunctionList. */
	assert_true(dladdr((void *)EVP_sha256, &dli) != 0);
	assert_non_null(dli.dli_fname);
	img = map_file(dli.dli_fname, &len);
	assert_int_equal(p11_elf_has_symbol(img, len, "EVP_sha256"), 0);
	assert_int_equal(p11_elf_has_symbol(img, len, "C_GetFunctionList"),
	    TOK_ERR_PROVIDER_REFUSED);
	/* A prefix of a name is not the name. */
	assert_int_equal(p11_elf_has_symbol(img, len, "EVP_sha25"),
	    TOK_ERR_PROVIDER_REFUSED);
	/* Truncations and header corruption fail cleanly, never crash. */
	for (i = 0; i < len; i += 1 + len / 512)
		assert_true(p11_elf_has_symbol(img, i, "EVP_sha256") <= 0);
	for (i = 0; i < 64; i++) {
		n = img[i];
		img[i] = 0xff;
		assert_true(p11_elf_has_symbol(img, len, "EVP_sha256") <= 0);
		img[i] = (u_char)n;
	}
	assert_int_equal(p11_elf_has_symbol((const u_char *)"\177ELF", 4,
	    "x"), TOK_ERR_INVALID_FORMAT);
	munmap(img, len);
	/* Through a descriptor. */
	assert_true((fd = open(dli.dli_fname, O_RDONLY)) != -1);
	assert_int_equal(p11_elf_fd_has_symbol(fd, "EVP_sha256"), 0);
	close(fd);
	assert_true((fd = open("/", O_RDONLY)) != -1);
	assert_int_equal(p11_elf_fd_has_symbol(fd, "EVP_sha256"),
	    TOK_ERR_PROVIDER_REFUSED);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ckr_map),
		cmocka_unit_test(test_ec_curves),
		cmocka_unit_test(test_ec_unknown_curve),
		cmocka_unit_test(test_ed25519),
		cmocka_unit_test(test_rsa),
		cmocka_unit_test(test_x509),
		cmocka_unit_test(test_elf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

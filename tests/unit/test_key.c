/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Unit tests for common/key*: blobs, certificates, signatures, the agent
 * private key encodings.  Vectors in tests/unit/vectors/ were captured from
 * OpenSSH's ssh-add and ssh-agent (see gen_key_vectors.py there).
 */
#include "config.h"

#include <sys/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"

static const char *software[] = {
	"ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa2048", "rsa1024",
};
static const char *sk[] = { "sked25519", "skecdsa" };

static char *
vpath(const char *name, const char *ext)
{
	const char *top = getenv("top_srcdir");
	char *p = NULL;

	if (top == NULL)
		top = ".";
	assert_true(asprintf(&p, "%s/tests/unit/vectors/%s%s", top, name,
	    ext) > 0);
	return p;
}

static u_char *
read_all(const char *name, const char *ext, size_t *lenp)
{
	char *path = vpath(name, ext);
	FILE *f;
	u_char *d = NULL;
	size_t n = 0, cap = 0;
	int c;

	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s", path);
	while ((c = fgetc(f)) != EOF) {
		if (n + 1 >= cap) {
			cap = cap ? cap * 2 : 256;
			assert_non_null(d = realloc(d, cap));
		}
		d[n++] = (u_char)c;
	}
	fclose(f);
	if (d == NULL)
		assert_non_null(d = malloc(1));
	d[n] = '\0';
	free(path);
	*lenp = n;
	return d;
}

/* Contents of a vector file as a NUL-terminated string, newline stripped. */
static char *
read_line(const char *name, const char *ext)
{
	size_t len;
	char *s = (char *)read_all(name, ext, &len);

	s[strcspn(s, "\r\n")] = '\0';
	return s;
}

static u_char *
read_hex(const char *name, const char *ext, size_t *lenp)
{
	char *s = read_line(name, ext);
	size_t i, n = strlen(s) / 2;
	u_char *d;
	unsigned int v;

	assert_non_null(d = malloc(n + 1));
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		d[i] = (u_char)v;
	}
	free(s);
	*lenp = n;
	return d;
}

static struct key *
load_pub(const char *name)
{
	char *line = read_line(name, ".pub");
	struct key *k = NULL;

	assert_int_equal(key_from_authorized_line(line, &k, NULL), 0);
	free(line);
	return k;
}

/* Every strict prefix of blob fails; blob + 1 byte fails as trailing. */
static void
check_blob_prefixes(const u_char *blob, size_t len)
{
	struct key *k = NULL;
	u_char *ext;
	size_t i;

	for (i = 0; i < len; i++) {
		assert_int_not_equal(key_from_blob(blob, i, &k), 0);
		assert_null(k);
	}
	assert_non_null(ext = malloc(len + 1));
	memcpy(ext, blob, len);
	ext[len] = 0;
	assert_int_equal(key_from_blob(ext, len + 1, &k),
	    TOK_ERR_TRAILING_DATA);
	assert_null(k);
	free(ext);
}

static void
sign_verify_all(const struct key *k)
{
	static const uint32_t flags[] = { 0, KEY_AGENT_RSA_SHA2_256,
	    KEY_AGENT_RSA_SHA2_512, KEY_AGENT_RSA_SHA2_256 |
	    KEY_AGENT_RSA_SHA2_512 };
	const u_char data[] = "data to be signed";
	struct buf *sig;
	u_char *bad;
	size_t i, n = key_type(k) == KEY_RSA ? 4 : 1;

	for (i = 0; i < n; i++) {
		assert_non_null(sig = buf_new());
		assert_int_equal(key_sign(k, data, sizeof(data), flags[i],
		    sig), 0);
		assert_int_equal(key_verify(k, buf_ptr(sig), buf_len(sig),
		    data, sizeof(data), NULL), 0);
		assert_int_equal(key_verify(k, buf_ptr(sig), buf_len(sig),
		    data, sizeof(data), key_sig_alg(k, flags[i])), 0);
		assert_int_equal(key_sig_check_format(k, buf_ptr(sig),
		    buf_len(sig), flags[i]), 0);
		assert_int_equal(key_verify(k, buf_ptr(sig), buf_len(sig),
		    data, sizeof(data) - 1, NULL), TOK_ERR_SIGNATURE_INVALID);
		/* Flip a bit of the last signature byte. */
		assert_non_null(bad = malloc(buf_len(sig)));
		memcpy(bad, buf_ptr(sig), buf_len(sig));
		bad[buf_len(sig) - 1] ^= 1;
		assert_int_not_equal(key_verify(k, bad, buf_len(sig), data,
		    sizeof(data), NULL), 0);
		assert_int_not_equal(key_sig_check_format(k, buf_ptr(sig),
		    buf_len(sig) - 1, flags[i]), 0);
		free(bad);
		if (key_type(k) == KEY_RSA) {
			assert_int_equal(key_sig_check_format(k, buf_ptr(sig),
			    buf_len(sig), flags[i] == 0 ?
			    KEY_AGENT_RSA_SHA2_256 : 0),
			    TOK_ERR_KEY_TYPE_MISMATCH);
			assert_int_equal(key_verify(k, buf_ptr(sig),
			    buf_len(sig), data, sizeof(data),
			    flags[i] == 0 ? "rsa-sha2-256" : "ssh-rsa"),
			    TOK_ERR_KEY_TYPE_MISMATCH);
		}
		buf_free(sig);
	}
}

static void
check_add_vector(const char *name, int is_cert)
{
	char label[64], *comment = NULL, *fp = NULL, *wantfp, expect[64];
	u_char *body;
	size_t len, i;
	struct buf *msg, *re;
	struct key *k = NULL, *pub, *tmp = NULL;
	const u_char *kh;
	size_t khlen;
	const char *reason;

	snprintf(label, sizeof(label), "%s%s", name, is_cert ? "-cert" : "");
	body = read_hex(label, ".add", &len);
	assert_true(len > 1);
	assert_true(body[0] == 17 || body[0] == 25);
	assert_non_null(msg = buf_from(body + 1, len - 1));
	assert_int_equal(key_private_from_agent(msg, &k, &comment), 0);
	/* Constraints (sk-provider for sk keys) are left in place. */
	if (body[0] == 17)
		assert_int_equal(buf_len(msg), 0);
	else
		assert_true(buf_len(msg) > 0);
	if (!is_cert) {
		snprintf(expect, sizeof(expect), "test-%s", name);
		assert_string_equal(comment, expect);
	}
	assert_int_equal(key_is_cert(k), is_cert);
	pub = load_pub(label);
	assert_true(key_equal(k, pub));
	assert_true(key_equal_public(k, pub));
	assert_string_equal(key_type_name(k), key_type_name(pub));
	assert_int_equal(key_fingerprint(k, &fp), 0);
	wantfp = read_line(label, ".fp");
	assert_string_equal(fp, wantfp);
	/* Re-encoding gives back exactly what ssh-add sent. */
	assert_non_null(re = buf_new());
	assert_int_equal(key_private_to_agent(k, comment, re), 0);
	assert_int_equal(buf_len(re), len - 1 - buf_len(msg));
	assert_memory_equal(buf_ptr(re), body + 1, buf_len(re));
	/* Every prefix of the key part fails and consumes nothing. */
	for (i = 0; i < buf_len(re); i++) {
		struct buf *p = buf_from(buf_ptr(re), i);

		assert_non_null(p);
		assert_int_not_equal(key_private_from_agent(p, &tmp, NULL), 0);
		assert_null(tmp);
		assert_int_equal(buf_len(p), i);
		buf_free(p);
	}
	if (key_is_sk(k)) {
		assert_false(key_has_private(k));
		assert_string_equal(key_sk_application(k), "ssh:");
		assert_int_equal(key_sk_flags(k), KEY_SK_USER_PRESENCE_REQD);
		assert_int_equal(key_sk_key_handle(k, &kh, &khlen), 0);
		assert_int_equal(khlen, 48);
		assert_int_equal(key_sk_key_handle(pub, &kh, &khlen),
		    TOK_ERR_KEY_NOT_FOUND);
		assert_int_equal(key_dup_public(k, &tmp), 0);
		assert_int_equal(key_sk_key_handle(tmp, &kh, &khlen), 0);
		assert_int_equal(khlen, 48);
		assert_int_equal(key_sk_flags(tmp), KEY_SK_USER_PRESENCE_REQD);
		key_free(tmp);
		tmp = NULL;
		assert_int_equal(key_sign(k, (const u_char *)"x", 1, 0, re),
		    TOK_ERR_KEY_TYPE_MISMATCH);
	} else {
		assert_true(key_has_private(k));
		assert_false(key_has_private(pub));
		sign_verify_all(k);
	}
	if (is_cert) {
		assert_int_equal(key_cert_verify_signature(k), 0);
		assert_int_equal(key_cert_serial(k), 42);
		assert_int_equal(key_cert_type(k), KEY_CERT_TYPE_USER);
		snprintf(expect, sizeof(expect), "id-%s", name);
		assert_string_equal(key_cert_key_id(k), expect);
		assert_int_equal(key_cert_nprincipals(k), 2);
		assert_string_equal(key_cert_principal(k, 0), "alice");
		assert_string_equal(key_cert_principal(k, 1), "bob");
		assert_null(key_cert_principal(k, 2));
		assert_true(key_cert_has_extension(k, "permit-pty"));
		assert_false(key_cert_has_extension(k, "permit-nothing"));
		assert_int_equal(key_cert_check_authority(k, 0, "alice",
		    (uint64_t)time(NULL), &reason), 0);
		assert_int_equal(key_cert_check_authority(k, 0, NULL,
		    (uint64_t)time(NULL), &reason), 0);
		assert_int_not_equal(key_cert_check_authority(k, 0, "carol",
		    (uint64_t)time(NULL), &reason), 0);
		assert_non_null(reason);
		assert_int_not_equal(key_cert_check_authority(k, 1, "alice",
		    (uint64_t)time(NULL), &reason), 0);
		/* 2041 is after valid_before; 2019 before valid_after. */
		assert_int_not_equal(key_cert_check_authority(k, 0, "alice",
		    2240000000ULL, &reason), 0);
		assert_int_not_equal(key_cert_check_authority(k, 0, "alice",
		    1550000000ULL, &reason), 0);
		assert_non_null(key_cert_signature_key(k));
		assert_int_equal(key_dup_plain(k, &tmp), 0);
		assert_false(key_is_cert(tmp));
		assert_true(key_equal_public(tmp, k));
		assert_false(key_equal(tmp, k));
		key_free(tmp);
		tmp = NULL;
	}
	kh = key_blob(pub, &len);
	check_blob_prefixes(kh, len);
	buf_free(re);
	buf_free(msg);
	free(body);
	free(comment);
	free(fp);
	free(wantfp);
	key_free(k);
	key_free(pub);
}

static void
test_vectors_add(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(software) / sizeof(software[0]); i++) {
		check_add_vector(software[i], 0);
		check_add_vector(software[i], 1);
	}
	for (i = 0; i < sizeof(sk) / sizeof(sk[0]); i++) {
		check_add_vector(sk[i], 0);
		check_add_vector(sk[i], 1);
	}
}

/* Signatures made by OpenSSH's ssh-agent verify here. */
static void
test_vectors_openssh_sigs(void **state)
{
	static const uint32_t flags[] = { 0, 2, 4 };
	u_char *msg, *sig;
	size_t msglen, siglen, i, j;
	struct key *k;
	char ext[16];

	(void)state;
	msg = read_all("message", ".bin", &msglen);
	for (i = 0; i < sizeof(software) / sizeof(software[0]); i++) {
		k = load_pub(software[i]);
		for (j = 0; j < (key_type(k) == KEY_RSA ? 3 : 1); j++) {
			snprintf(ext, sizeof(ext), ".sig%u", flags[j]);
			sig = read_hex(software[i], ext, &siglen);
			assert_int_equal(key_verify(k, sig, siglen, msg,
			    msglen, NULL), 0);
			assert_int_equal(key_sig_check_format(k, sig, siglen,
			    flags[j]), 0);
			assert_int_equal(key_verify(k, sig, siglen, msg,
			    msglen - 1, NULL), TOK_ERR_SIGNATURE_INVALID);
			free(sig);
		}
		key_free(k);
	}
	free(msg);
}

static void
test_host_cert(void **state)
{
	struct key *k = load_pub("hostcert");
	uint64_t now = (uint64_t)time(NULL);
	const char *reason;

	(void)state;
	assert_int_equal(key_cert_type(k), KEY_CERT_TYPE_HOST);
	assert_int_equal(key_cert_check_authority(k, 1, "a.example.com", now,
	    &reason), 0);
	assert_int_not_equal(key_cert_check_authority(k, 1, "example.com",
	    now, &reason), 0);
	assert_int_not_equal(key_cert_check_authority(k, 0, "a.example.com",
	    now, &reason), 0);
	key_free(k);
}

static void
test_bad_points(void **state)
{
	struct key *k = load_pub("ecdsa256"), *k2 = NULL;
	size_t len;
	const u_char *blob = key_blob(k, &len);
	u_char *b;

	(void)state;
	assert_non_null(b = malloc(len));
	/* Off the curve: change y. */
	memcpy(b, blob, len);
	b[len - 1] ^= 1;
	assert_int_equal(key_from_blob(b, len, &k2), TOK_ERR_KEY_INVALID);
	assert_null(k2);
	/* Compressed marker. */
	memcpy(b, blob, len);
	b[len - 65] = 0x02;
	assert_int_equal(key_from_blob(b, len, &k2), TOK_ERR_KEY_INVALID);
	/* Point at infinity (all zero coordinates). */
	memcpy(b, blob, len);
	memset(b + len - 64, 0, 64);
	assert_int_equal(key_from_blob(b, len, &k2), TOK_ERR_KEY_INVALID);
	free(b);
	key_free(k);
}

static void
make_rsa_blob(struct buf *b, size_t nbytes, int topbit)
{
	u_char *n;

	assert_non_null(n = malloc(nbytes));
	memset(n, 0xa5, nbytes);
	n[0] = topbit ? 0x80 : 0x40;
	n[nbytes - 1] |= 1;
	assert_int_equal(buf_put_cstring(b, "ssh-rsa"), 0);
	assert_int_equal(buf_put_bignum2_bytes(b, "\x01\x00\x01", 3), 0);
	assert_int_equal(buf_put_bignum2_bytes(b, n, nbytes), 0);
	free(n);
}

static void
test_rsa_limits(void **state)
{
	struct buf *b;
	struct key *k = NULL;

	(void)state;
	/* 1023 bits: too small. */
	assert_non_null(b = buf_new());
	make_rsa_blob(b, 128, 0);
	assert_int_equal(key_from_blob(buf_ptr(b), buf_len(b), &k),
	    TOK_ERR_KEY_INVALID);
	buf_reset(b);
	/* 1024 bits: fine (structurally). */
	make_rsa_blob(b, 128, 1);
	assert_int_equal(key_from_blob(buf_ptr(b), buf_len(b), &k), 0);
	assert_int_equal(key_bits(k), 1024);
	key_free(k);
	k = NULL;
	buf_reset(b);
	/* 16384 + 8 bits: too big. */
	make_rsa_blob(b, 16384 / 8 + 1, 1);
	assert_int_not_equal(key_from_blob(buf_ptr(b), buf_len(b), &k), 0);
	assert_null(k);
	assert_int_equal(key_generate(KEY_RSA, 512, &k),
	    TOK_ERR_INVALID_ARGUMENT);
	buf_free(b);
}

static void
test_generate_roundtrip(void **state)
{
	struct {
		enum key_type type;
		u_int bits;
	} t[] = {
		{ KEY_ED25519, 0 }, { KEY_ECDSA, 256 }, { KEY_ECDSA, 384 },
		{ KEY_ECDSA, 521 }, { KEY_RSA, 1024 },
	};
	struct key *k, *k2, *pub;
	struct buf *b, *sig;
	char *comment, *line, *c2;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(key_generate(t[i].type, t[i].bits, &k), 0);
		if (t[i].bits != 0)
			assert_int_equal(key_bits(k), t[i].bits);
		sign_verify_all(k);
		assert_non_null(b = buf_new());
		assert_int_equal(key_private_to_agent(k, "c", b), 0);
		assert_int_equal(key_private_from_agent(b, &k2, &comment), 0);
		assert_int_equal(buf_len(b), 0);
		assert_string_equal(comment, "c");
		assert_true(key_equal(k, k2));
		assert_non_null(sig = buf_new());
		assert_int_equal(key_sign(k2, (const u_char *)"m", 1, 0, sig),
		    0);
		assert_int_equal(key_verify(k, buf_ptr(sig), buf_len(sig),
		    (const u_char *)"m", 1, NULL), 0);
		/* Public-only copies cannot sign but verify. */
		assert_int_equal(key_dup_public(k, &pub), 0);
		assert_false(key_has_private(pub));
		assert_int_equal(key_verify(pub, buf_ptr(sig), buf_len(sig),
		    (const u_char *)"m", 1, NULL), 0);
		buf_reset(sig);
		assert_int_equal(key_sign(pub, (const u_char *)"m", 1, 0, sig),
		    TOK_ERR_KEY_NOT_FOUND);
		assert_int_equal(key_to_line(k, "a comment", &line), 0);
		key_free(pub);
		assert_int_equal(key_from_authorized_line(line, &pub, &c2), 0);
		assert_string_equal(c2, "a comment");
		assert_true(key_equal(pub, k));
		free(line);
		free(c2);
		key_free(pub);
		/* From an OpenSSL key: same public key. */
		assert_int_equal(key_from_evp_public(key_evp(k), &pub), 0);
		assert_true(key_equal(pub, k));
		assert_false(key_has_private(pub));
		key_free(pub);
		free(comment);
		buf_free(b);
		buf_free(sig);
		key_free(k);
		key_free(k2);
	}
}

static void
test_private_mismatch(void **state)
{
	struct key *a, *b2, *k = NULL;
	struct buf *ba, *bb, *mix;
	const u_char *p;
	size_t len;

	(void)state;
	/* An Ed25519 private key whose pk half belongs to another key. */
	assert_int_equal(key_generate(KEY_ED25519, 0, &a), 0);
	assert_int_equal(key_generate(KEY_ED25519, 0, &b2), 0);
	assert_non_null(ba = buf_new());
	assert_non_null(bb = buf_new());
	assert_non_null(mix = buf_new());
	assert_int_equal(key_private_to_agent(a, NULL, ba), 0);
	assert_int_equal(key_private_to_agent(b2, NULL, bb), 0);
	/* name, pk(a), sk(b) */
	p = buf_ptr(ba);
	len = 4 + 11 + 4 + 32;
	assert_int_equal(buf_put(mix, p, len), 0);
	assert_int_equal(buf_put(mix, buf_ptr(bb) + len,
	    buf_len(bb) - len), 0);
	assert_int_equal(key_private_from_agent(mix, &k, NULL),
	    TOK_ERR_KEY_INVALID);
	assert_null(k);
	buf_free(ba);
	buf_free(bb);
	buf_free(mix);
	key_free(a);
	key_free(b2);
}

static void
test_cert_make(void **state)
{
	struct key *ca, *rsaca, *k, *cert, *c2 = NULL, *cc = NULL;
	const char *princ[] = { "*.example.org", "host.example.net" };
	uint64_t now = (uint64_t)time(NULL);
	const char *reason;
	const u_char *blob;
	u_char *bad;
	size_t len;
	struct buf *b;

	(void)state;
	assert_int_equal(key_generate(KEY_ECDSA, 384, &ca), 0);
	assert_int_equal(key_generate(KEY_RSA, 1024, &rsaca), 0);
	assert_int_equal(key_generate(KEY_ED25519, 0, &k), 0);
	assert_int_equal(key_cert_make(k, ca, KEY_CERT_TYPE_HOST, 7, "h",
	    princ, 2, now - 10, now + 10, NULL, 0, NULL, 0, 0, &cert), 0);
	assert_true(key_has_private(cert));
	assert_int_equal(key_cert_check_authority(cert, 1, "a.example.org",
	    now, &reason), 0);
	assert_int_equal(key_cert_check_authority(cert, 1, "host.example.net",
	    now, &reason), 0);
	assert_int_not_equal(key_cert_check_authority(cert, 1, "example.org",
	    now, &reason), 0);
	assert_int_not_equal(key_cert_check_authority(cert, 1,
	    "a.example.org", now + 10, &reason), 0);
	assert_true(key_equal_public(cert, k));
	sign_verify_all(cert);
	/* Private round trip of a certificate made here. */
	assert_non_null(b = buf_new());
	assert_int_equal(key_private_to_agent(cert, "x", b), 0);
	assert_int_equal(key_private_from_agent(b, &c2, NULL), 0);
	assert_true(key_equal(c2, cert));
	key_free(c2);
	/* Any change to the signed part breaks the CA signature. */
	blob = key_blob(cert, &len);
	assert_non_null(bad = malloc(len));
	memcpy(bad, blob, len);
	bad[len / 3] ^= 0x10;
	if (key_from_blob(bad, len, &c2) == 0) {
		assert_int_not_equal(key_cert_verify_signature(c2), 0);
		key_free(c2);
	}
	free(bad);
	/* SHA-1 RSA CA signatures are refused, SHA-2 ones accepted. */
	assert_int_equal(key_cert_make(k, rsaca, KEY_CERT_TYPE_USER, 1, "u",
	    NULL, 0, 0, UINT64_MAX, NULL, 0, NULL, 0, 0, &c2), 0);
	assert_int_equal(key_cert_verify_signature(c2), TOK_ERR_CERT_INVALID);
	key_free(c2);
	assert_int_equal(key_cert_make(k, rsaca, KEY_CERT_TYPE_USER, 1, "u",
	    NULL, 0, 0, UINT64_MAX, NULL, 0, NULL, 0, KEY_AGENT_RSA_SHA2_512,
	    &c2), 0);
	assert_int_equal(key_cert_check_authority(c2, 0, NULL, now,
	    &reason), 0);
	/* Empty principal list with a required principal fails. */
	assert_int_not_equal(key_cert_check_authority(c2, 0, "u", now,
	    &reason), 0);
	/* A certificate cannot be a CA. */
	assert_int_equal(key_cert_make(k, cert, KEY_CERT_TYPE_USER, 1, "u",
	    NULL, 0, 0, UINT64_MAX, NULL, 0, NULL, 0, 0, &cc),
	    TOK_ERR_INVALID_ARGUMENT);
	key_free(c2);
	buf_free(b);
	key_free(cert);
	key_free(k);
	key_free(ca);
	key_free(rsaca);
}

/* Sign like an authenticator would, with a software key. */
static void
fake_sk_sign(EVP_PKEY *pk, int ecdsa, const char *app, uint8_t flags,
    uint32_t counter, const u_char *data, size_t datalen, u_char *sig,
    size_t *siglenp)
{
	u_char m[32 + 1 + 4 + 32];
	unsigned int mdlen = 32;
	EVP_MD_CTX *ctx;

	assert_int_equal(EVP_Digest(app, strlen(app), m, &mdlen, EVP_sha256(),
	    NULL), 1);
	m[32] = flags;
	m[33] = counter >> 24;
	m[34] = counter >> 16;
	m[35] = counter >> 8;
	m[36] = counter;
	assert_int_equal(EVP_Digest(data, datalen, m + 37, &mdlen,
	    EVP_sha256(), NULL), 1);
	assert_non_null(ctx = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, ecdsa ? EVP_sha256() :
	    NULL, NULL, pk), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, siglenp, m, sizeof(m)), 1);
	EVP_MD_CTX_free(ctx);
}

static void
test_sk_signatures(void **state)
{
	const u_char data[] = "sk data";
	struct key *soft, *k;
	struct buf *sig;
	u_char raw[256], pub[133];
	size_t rawlen, publen;
	uint8_t fl;
	uint32_t ctr;
	int ecdsa;

	(void)state;
	for (ecdsa = 0; ecdsa < 2; ecdsa++) {
		assert_int_equal(key_generate(ecdsa ? KEY_ECDSA : KEY_ED25519,
		    256, &soft), 0);
		/* The public key from the plain blob's last string. */
		{
			struct buf *b = buf_new();
			const u_char *p;

			assert_int_equal(key_to_blob(soft, b), 0);
			assert_int_equal(buf_get_string_direct(b, NULL, NULL),
			    0);
			if (ecdsa)
				assert_int_equal(buf_get_string_direct(b, NULL,
				    NULL), 0);
			assert_int_equal(buf_get_string_direct(b, &p, &publen),
			    0);
			memcpy(pub, p, publen);
			buf_free(b);
		}
		assert_int_equal(key_sk_from_parts(ecdsa ? KEY_ECDSA_SK :
		    KEY_ED25519_SK, pub, publen, "ssh:test", 0x05,
		    (const u_char *)"kh", 2, &k), 0);
		rawlen = sizeof(raw);
		fake_sk_sign(key_evp(soft), ecdsa, "ssh:test", 0x05, 1234,
		    data, sizeof(data), raw, &rawlen);
		assert_non_null(sig = buf_new());
		assert_int_equal(key_sk_sig_wrap(k, raw, rawlen, 0x05, 1234,
		    sig), 0);
		assert_int_equal(key_verify(k, buf_ptr(sig), buf_len(sig),
		    data, sizeof(data), NULL), 0);
		assert_int_equal(key_sig_check_format(k, buf_ptr(sig),
		    buf_len(sig), 0), 0);
		assert_int_equal(key_sk_sig_parse(k, buf_ptr(sig),
		    buf_len(sig), &fl, &ctr), 0);
		assert_int_equal(fl, 0x05);
		assert_int_equal(ctr, 1234);
		assert_int_equal(key_verify(k, buf_ptr(sig), buf_len(sig),
		    data, sizeof(data) - 1, NULL), TOK_ERR_SIGNATURE_INVALID);
		/* From r and s as the sk core returns them: the same blob. */
		{
			struct buf *sig2 = buf_new();
			u_char rb[66], sb[66 + 1];
			int rl = (int)rawlen, sl = 0;

			assert_non_null(sig2);
			if (ecdsa) {
				const u_char *dp = raw;
				ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &dp,
				    (long)rawlen);
				const BIGNUM *br, *bs;

				assert_non_null(es);
				ECDSA_SIG_get0(es, &br, &bs);
				rl = BN_bn2bin(br, rb);
				/* A leading zero is accepted too. */
				sb[0] = 0;
				sl = BN_bn2bin(bs, sb + 1) + 1;
				ECDSA_SIG_free(es);
			} else
				memcpy(rb, raw, rawlen);
			assert_int_equal(key_sk_sig_from_parts(k, rb,
			    (size_t)rl, ecdsa ? sb : NULL, (size_t)sl, 0x05,
			    1234, sig2), 0);
			assert_int_equal(buf_len(sig2), buf_len(sig));
			assert_memory_equal(buf_ptr(sig2), buf_ptr(sig),
			    buf_len(sig));
			buf_free(sig2);
		}
		/* Counter is covered by the signature. */
		buf_reset(sig);
		assert_int_equal(key_sk_sig_wrap(k, raw, rawlen, 0x05, 1235,
		    sig), 0);
		assert_int_equal(key_verify(k, buf_ptr(sig), buf_len(sig),
		    data, sizeof(data), NULL), TOK_ERR_SIGNATURE_INVALID);
		/* A plain key's signature name is refused for an sk key. */
		buf_reset(sig);
		assert_int_equal(key_sign(soft, data, sizeof(data), 0, sig), 0);
		assert_int_equal(key_verify(k, buf_ptr(sig), buf_len(sig),
		    data, sizeof(data), NULL), TOK_ERR_KEY_TYPE_MISMATCH);
		buf_free(sig);
		key_free(k);
		key_free(soft);
	}
}

/* Write an armored SSHSIG over msg signed with sigblob by pub. */
static void
write_sshsig(const char *path, const struct key *pub, const struct buf *sig)
{
	struct buf *b, *b64;
	FILE *f;
	char *s;
	size_t i, n;

	assert_non_null(b = buf_new());
	assert_non_null(b64 = buf_new());
	assert_int_equal(buf_put(b, "SSHSIG", 6), 0);
	assert_int_equal(buf_put_u32(b, 1), 0);
	assert_int_equal(key_puts(pub, b), 0);
	assert_int_equal(buf_put_cstring(b, "test"), 0);
	assert_int_equal(buf_put_cstring(b, ""), 0);
	assert_int_equal(buf_put_cstring(b, "sha512"), 0);
	assert_int_equal(buf_put_stringb(b, sig), 0);
	assert_int_equal(buf_dtob64(b, b64), 0);
	assert_non_null(s = buf_dup_string(b64));
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "-----BEGIN SSH SIGNATURE-----\n");
	for (i = 0, n = strlen(s); i < n; i += 70)
		fprintf(f, "%.70s\n", s + i);
	fprintf(f, "-----END SSH SIGNATURE-----\n");
	fclose(f);
	free(s);
	buf_free(b);
	buf_free(b64);
}

/* OpenSSH's ssh-keygen -Y accepts what key_sign / key_sk_sig_wrap make. */
static void
test_openssh_verifies(void **state)
{
	static const char msg[] = "cross-check message\n";
	struct {
		enum key_type type;
		u_int bits;
		uint32_t flags;
		int sk;
	} t[] = {
		{ KEY_ED25519, 0, 0, 0 }, { KEY_ECDSA, 256, 0, 0 },
		{ KEY_ECDSA, 384, 0, 0 }, { KEY_ECDSA, 521, 0, 0 },
		{ KEY_RSA, 2048, KEY_AGENT_RSA_SHA2_256, 0 },
		{ KEY_RSA, 2048, KEY_AGENT_RSA_SHA2_512, 0 },
		{ KEY_ED25519, 0, 0, 1 }, { KEY_ECDSA, 256, 0, 1 },
	};
	char dir[] = "/tmp/test_key.XXXXXX", path[256], cmd[1024];
	u_char h[64], raw[256], pub[133];
	unsigned int hlen = sizeof(h);
	struct buf *signed_data, *sig, *pb;
	struct key *k, *skk, *signer;
	const u_char *p;
	size_t i, rawlen, publen;
	FILE *f;

	(void)state;
	if (system("ssh-keygen -? >/dev/null 2>&1; command -v ssh-keygen "
	    ">/dev/null") != 0) {
		if (getenv("CI") != NULL)
			fail_msg("ssh-keygen missing under CI");
		skip();
	}
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/msg", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(msg, f);
	fclose(f);
	assert_int_equal(EVP_Digest(msg, strlen(msg), h, &hlen, EVP_sha512(),
	    NULL), 1);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(key_generate(t[i].type, t[i].bits, &k), 0);
		assert_non_null(signed_data = buf_new());
		assert_non_null(sig = buf_new());
		assert_int_equal(buf_put(signed_data, "SSHSIG", 6), 0);
		assert_int_equal(buf_put_cstring(signed_data, "test"), 0);
		assert_int_equal(buf_put_cstring(signed_data, ""), 0);
		assert_int_equal(buf_put_cstring(signed_data, "sha512"), 0);
		assert_int_equal(buf_put_string(signed_data, h, hlen), 0);
		skk = NULL;
		if (t[i].sk) {
			assert_non_null(pb = buf_new());
			assert_int_equal(key_to_blob(k, pb), 0);
			assert_int_equal(buf_get_string_direct(pb, NULL, NULL),
			    0);
			if (t[i].type == KEY_ECDSA)
				assert_int_equal(buf_get_string_direct(pb,
				    NULL, NULL), 0);
			assert_int_equal(buf_get_string_direct(pb, &p,
			    &publen), 0);
			memcpy(pub, p, publen);
			buf_free(pb);
			assert_int_equal(key_sk_from_parts(t[i].type ==
			    KEY_ECDSA ? KEY_ECDSA_SK : KEY_ED25519_SK, pub,
			    publen, "ssh:", KEY_SK_USER_PRESENCE_REQD, NULL, 0,
			    &skk), 0);
			rawlen = sizeof(raw);
			fake_sk_sign(key_evp(k), t[i].type == KEY_ECDSA, "ssh:",
			    KEY_SK_USER_PRESENCE_REQD, 77,
			    buf_ptr(signed_data), buf_len(signed_data), raw,
			    &rawlen);
			assert_int_equal(key_sk_sig_wrap(skk, raw, rawlen,
			    KEY_SK_USER_PRESENCE_REQD, 77, sig), 0);
			signer = skk;
		} else {
			assert_int_equal(key_sign(k, buf_ptr(signed_data),
			    buf_len(signed_data), t[i].flags, sig), 0);
			signer = k;
		}
		assert_int_equal(key_verify(signer, buf_ptr(sig), buf_len(sig),
		    buf_ptr(signed_data), buf_len(signed_data), NULL), 0);
		snprintf(path, sizeof(path), "%s/sig", dir);
		write_sshsig(path, signer, sig);
		snprintf(cmd, sizeof(cmd), "ssh-keygen -q -Y check-novalidate "
		    "-n test -s %s/sig < %s/msg >/dev/null 2>&1", dir, dir);
		if (system(cmd) != 0)
			fail_msg("ssh-keygen rejected %s signature",
			    key_type_name(signer));
		key_free(skk);
		key_free(k);
		buf_free(sig);
		buf_free(signed_data);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_pkcs11_glue(void **state)
{
	static const uint32_t flags[] = { 0, 2, 4 };
	const u_char data[] = "p11 data";
	struct key *k;
	struct buf *sig, *di;
	EVP_PKEY_CTX *ctx;
	ECDSA_SIG *es;
	const BIGNUM *r, *s;
	const u_char *p;
	u_char der[256], rs[132], md[EVP_MAX_MD_SIZE], raw[512];
	size_t derlen, mdlen, rawlen, i;
	int bits[] = { 256, 384, 521 }, j;

	(void)state;
	for (j = 0; j < 3; j++) {
		size_t f = (bits[j] + 7) / 8;

		assert_int_equal(key_generate(KEY_ECDSA, bits[j], &k), 0);
		assert_int_equal(key_ecdsa_digest(k, data, sizeof(data), md,
		    &mdlen), 0);
		assert_non_null(ctx = EVP_PKEY_CTX_new(key_evp(k), NULL));
		assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
		derlen = sizeof(der);
		assert_int_equal(EVP_PKEY_sign(ctx, der, &derlen, md, mdlen),
		    1);
		EVP_PKEY_CTX_free(ctx);
		p = der;
		assert_non_null(es = d2i_ECDSA_SIG(NULL, &p, (long)derlen));
		ECDSA_SIG_get0(es, &r, &s);
		assert_int_equal(BN_bn2binpad(r, rs, (int)f), (int)f);
		assert_int_equal(BN_bn2binpad(s, rs + f, (int)f), (int)f);
		ECDSA_SIG_free(es);
		assert_non_null(sig = buf_new());
		assert_int_equal(key_ecdsa_sig_from_raw(k, rs, 2 * f, sig), 0);
		assert_int_equal(key_verify(k, buf_ptr(sig), buf_len(sig),
		    data, sizeof(data), NULL), 0);
		assert_int_equal(key_sig_check_format(k, buf_ptr(sig),
		    buf_len(sig), 0), 0);
		assert_int_not_equal(key_ecdsa_sig_from_raw(k, rs, 2 * f - 1,
		    sig), 0);
		buf_free(sig);
		key_free(k);
	}
	assert_int_equal(key_generate(KEY_RSA, 1024, &k), 0);
	for (i = 0; i < 3; i++) {
		assert_non_null(di = buf_new());
		assert_int_equal(key_rsa_digestinfo(flags[i], data,
		    sizeof(data), di), 0);
		assert_non_null(ctx = EVP_PKEY_CTX_new(key_evp(k), NULL));
		assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx,
		    RSA_PKCS1_PADDING), 1);
		rawlen = sizeof(raw);
		assert_int_equal(EVP_PKEY_sign(ctx, raw, &rawlen,
		    buf_ptr(di), buf_len(di)), 1);
		EVP_PKEY_CTX_free(ctx);
		assert_non_null(sig = buf_new());
		assert_int_equal(key_rsa_sig_wrap(k, flags[i], raw, rawlen,
		    sig), 0);
		assert_int_equal(key_verify(k, buf_ptr(sig), buf_len(sig),
		    data, sizeof(data), key_sig_alg(k, flags[i])), 0);
		assert_int_equal(key_sig_check_format(k, buf_ptr(sig),
		    buf_len(sig), flags[i]), 0);
		buf_free(sig);
		buf_free(di);
	}
	key_free(k);
}

static void
test_lines(void **state)
{
	struct key *k = NULL;
	char *line, *c;

	(void)state;
	assert_int_not_equal(key_from_authorized_line("", &k, NULL), 0);
	assert_int_not_equal(key_from_authorized_line("ssh-ed25519", &k,
	    NULL), 0);
	assert_int_not_equal(key_from_authorized_line("ssh-ed25519 AAAA!",
	    &k, NULL), 0);
	line = read_line("ed25519", ".pub");
	/* Type must agree with the blob. */
	memcpy(line, "ssh-ed25518", 11);
	assert_int_not_equal(key_from_authorized_line(line, &k, NULL), 0);
	free(line);
	line = read_line("rsa2048", ".pub");
	assert_int_equal(key_from_authorized_line(line, &k, &c), 0);
	assert_string_equal(c, "test-rsa2048");
	assert_int_equal(key_bits(k), 2048);
	free(c);
	free(line);
	assert_int_equal(key_to_line(k, NULL, &line), 0);
	key_free(k);
	assert_int_equal(key_from_authorized_line(line, &k, &c), 0);
	assert_string_equal(c, "");
	free(c);
	free(line);
	key_free(k);
}

/* Random garbage never crashes the parsers (a mini fuzz). */
static void
test_garbage(void **state)
{
	u_char b[512];
	struct key *k = NULL;
	struct buf *m;
	size_t i, j;

	(void)state;
	srandom(1);
	for (i = 0; i < 2000; i++) {
		for (j = 0; j < sizeof(b); j++)
			b[j] = (u_char)random();
		/* Plausible headers make the parsers go deeper. */
		memcpy(b, "\0\0\0\x0bssh-ed25519", 15);
		if (i % 2)
			memcpy(b, "\0\0\0\x13" "ecdsa-sha2-nistp256"
			    "\0\0\0\x08nistp256", 35);
		assert_int_not_equal(key_from_blob(b, 1 + i % sizeof(b), &k),
		    0);
		assert_non_null(m = buf_from(b, 1 + i % sizeof(b)));
		if (key_private_from_agent(m, &k, NULL) == 0)
			key_free(k);
		buf_free(m);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_add),
		cmocka_unit_test(test_vectors_openssh_sigs),
		cmocka_unit_test(test_host_cert),
		cmocka_unit_test(test_bad_points),
		cmocka_unit_test(test_rsa_limits),
		cmocka_unit_test(test_generate_roundtrip),
		cmocka_unit_test(test_private_mismatch),
		cmocka_unit_test(test_cert_make),
		cmocka_unit_test(test_sk_signatures),
		cmocka_unit_test(test_openssh_verifies),
		cmocka_unit_test(test_pkcs11_glue),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

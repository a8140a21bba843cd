/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Unit tests for ML-DSA-44 (common/mldsa44.c) and the OpenSSH 10 hybrid
 * key type ssh-mldsa44-ed25519@openssh.com (common/key_mldsa.c).
 *
 * The internal arithmetic is checked against naive definitions from FIPS
 * 204; the key type against real data made by OpenSSH 10.5
 * (tests/data/openssh-10.5: a private key, its public key and
 * certificate, and two SSHSIG signatures of a message).
 *
 * The ML-DSA source is included so that its static helpers can be tested;
 * the key code links from libcommon as usual.
 */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
/* Values the algorithm publishes may decide branches (mldsa44.c). */
#define ML_PUBLIC(p, len)	VALGRIND_MAKE_MEM_DEFINED((p), (len))
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND	0
#endif
#ifndef VALGRIND_MAKE_MEM_UNDEFINED
#define VALGRIND_MAKE_MEM_UNDEFINED(p, len)	do { } while (0)
#define VALGRIND_MAKE_MEM_DEFINED(p, len)	do { } while (0)
#endif

#include "common/mldsa44.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/key.h"

#define DATADIR		"tests/data/openssh-10.5"
#define MLDSA_NAME	"ssh-mldsa44-ed25519@openssh.com"
#define KEY_MLDSA_PK_LEN	1344
#define KEY_MLDSA_SEED_LEN	64
#define KEY_MLDSA_SIG_LEN	2484

/* ---- Helpers ----------------------------------------------------------- */

static char *
data_path(const char *name)
{
	const char *top = getenv("top_srcdir");
	char *p = NULL;

	assert_true(asprintf(&p, "%s/" DATADIR "/%s", top ? top : ".",
	    name) > 0);
	return p;
}

static char *
read_text(const char *name, size_t *lenp)
{
	char *path = data_path(name), *d = NULL;
	FILE *f;
	size_t n = 0, cap = 0;
	int c;

	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s", path);
	while ((c = fgetc(f)) != EOF) {
		if (n + 2 >= cap) {
			cap = cap ? cap * 2 : 4096;
			assert_non_null(d = realloc(d, cap));
		}
		d[n++] = (char)c;
	}
	fclose(f);
	free(path);
	assert_non_null(d);
	d[n] = '\0';
	if (lenp != NULL)
		*lenp = n;
	return d;
}

/* Base64 between the armour lines of a PEM-like file. */
static struct buf *
read_armoured(const char *name)
{
	char *t = read_text(name, NULL), *s, *line, *save = NULL;
	struct buf *b;
	u_char *out;
	size_t n = 0;
	int len, pad = 0;

	assert_non_null(s = calloc(1, strlen(t) + 1));
	for (line = strtok_r(t, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "-----", 5) == 0)
			continue;
		memcpy(s + n, line, strlen(line));
		n += strlen(line);
	}
	while (n > 0 && s[n - 1 - pad] == '=')
		pad++;
	assert_true(n % 4 == 0);
	assert_non_null(out = malloc(n));
	len = EVP_DecodeBlock(out, (u_char *)s, (int)n);
	assert_true(len > pad);
	len -= pad;
	assert_non_null(b = buf_new());
	assert_int_equal(buf_put(b, out, (size_t)len), 0);
	free(out);
	free(s);
	free(t);
	return b;
}

/* The public key (or certificate) from a .pub file. */
static struct key *
read_pub(const char *name)
{
	char *t = read_text(name, NULL);
	struct key *k = NULL;

	t[strcspn(t, "\r\n")] = '\0';
	assert_int_equal(key_from_authorized_line(t, &k, NULL), 0);
	free(t);
	return k;
}

/*
 * The private section of an unencrypted openssh-key-v1 file, from the
 * key type on: exactly the key encoding of ADD_IDENTITY.
 */
static struct buf *
read_private_section(void)
{
	struct buf *f = read_armoured("id_mldsa44_ed25519"), *priv;
	u_char magic[15];
	uint32_t nkeys, c1, c2;
	const u_char *p;
	size_t len;

	assert_int_equal(buf_get(f, magic, sizeof(magic)), 0);
	assert_memory_equal(magic, "openssh-key-v1", sizeof(magic));
	assert_int_equal(buf_get_string_direct(f, &p, &len), 0);
	assert_int_equal(len, 4);	/* "none" cipher */
	assert_int_equal(buf_get_string_direct(f, NULL, NULL), 0);
	assert_int_equal(buf_get_string_direct(f, NULL, NULL), 0);
	assert_int_equal(buf_get_u32(f, &nkeys), 0);
	assert_int_equal(nkeys, 1);
	assert_int_equal(buf_get_string_direct(f, NULL, NULL), 0);
	assert_int_equal(buf_get_string_direct(f, &p, &len), 0);
	assert_non_null(priv = buf_new());
	assert_int_equal(buf_put(priv, p, len), 0);
	buf_free(f);
	assert_int_equal(buf_get_u32(priv, &c1), 0);
	assert_int_equal(buf_get_u32(priv, &c2), 0);
	assert_int_equal(c1, c2);
	return priv;
}

static struct key *
load_private(char **commentp)
{
	struct buf *priv = read_private_section();
	struct key *k = NULL;

	assert_int_equal(key_private_from_agent(priv, &k, commentp), 0);
	buf_free(priv);
	return k;
}

/* SSHSIG (PROTOCOL.sshsig) pieces of an armoured signature file. */
struct sshsig {
	struct buf *all;
	const u_char *pub, *sig;
	size_t publen, siglen;
	char *ns, *hashalg;
};

static void
sshsig_parse(struct buf *b, struct sshsig *s)
{
	u_char magic[6];
	uint32_t ver;

	memset(s, 0, sizeof(*s));
	s->all = b;
	assert_int_equal(buf_get(b, magic, sizeof(magic)), 0);
	assert_memory_equal(magic, "SSHSIG", 6);
	assert_int_equal(buf_get_u32(b, &ver), 0);
	assert_int_equal(ver, 1);
	assert_int_equal(buf_get_string_direct(b, &s->pub, &s->publen), 0);
	assert_int_equal(buf_get_cstring(b, &s->ns, NULL), 0);
	assert_int_equal(buf_get_string_direct(b, NULL, NULL), 0);
	assert_int_equal(buf_get_cstring(b, &s->hashalg, NULL), 0);
	assert_int_equal(buf_get_string_direct(b, &s->sig, &s->siglen), 0);
	assert_int_equal(buf_expect_empty(b), 0);
}

static void
sshsig_free(struct sshsig *s)
{
	buf_free(s->all);
	free(s->ns);
	free(s->hashalg);
}

/* The blob an SSHSIG signature covers, for message msg. */
static struct buf *
sshsig_signed_data(const char *ns, const char *hashalg, const u_char *msg,
    size_t msglen)
{
	struct buf *b;
	u_char md[64];
	unsigned int mdlen = sizeof(md);

	assert_string_equal(hashalg, "sha512");
	assert_int_equal(EVP_Digest(msg, msglen, md, &mdlen, EVP_sha512(),
	    NULL), 1);
	assert_non_null(b = buf_new());
	assert_int_equal(buf_put(b, "SSHSIG", 6), 0);
	assert_int_equal(buf_put_cstring(b, ns), 0);
	assert_int_equal(buf_put_string(b, NULL, 0), 0);
	assert_int_equal(buf_put_cstring(b, hashalg), 0);
	assert_int_equal(buf_put_string(b, md, mdlen), 0);
	return b;
}

/* ---- FIPS 204 internals -------------------------------------------------- */

static void
test_decompose_exhaustive(void **state)
{
	int32_t r, r1, r0, e1, e0, p1, p0;

	(void)state;
	for (r = 0; r < ML_Q; r++) {
		/* Decompose, straight from FIPS 204 alg. 36. */
		e0 = r % (2 * ML_GAMMA2);
		if (e0 > ML_GAMMA2)
			e0 -= 2 * ML_GAMMA2;
		if (r - e0 == ML_Q - 1) {
			e1 = 0;
			e0 -= 1;
		} else
			e1 = (r - e0) / (2 * ML_GAMMA2);
		ml_decompose(r, &r1, &r0);
		if (r1 != e1 || r0 != e0)
			fail_msg("decompose(%d): (%d,%d) want (%d,%d)", r, r1,
			    r0, e1, e0);
		/* Power2Round, alg. 35. */
		e0 = r % (1 << ML_D);
		if (e0 > (1 << (ML_D - 1)))
			e0 -= 1 << ML_D;
		ml_power2round(r, &p1, &p0);
		if (p0 != e0 || p1 != (r - e0) >> ML_D)
			fail_msg("power2round(%d)", r);
	}
}

static void
test_reductions(void **state)
{
	int64_t a;
	int32_t v;
	uint32_t x;
	int i;

	(void)state;
	for (i = 0; i < 1000000; i++) {
		x = (uint32_t)rand() ^ ((uint32_t)rand() << 16);
		v = (int32_t)(x & 0x7fffffff) - (1 << 30);
		assert_int_equal(ml_freeze(v), ((v % ML_Q) + ML_Q) % ML_Q);
		assert_true(ml_centre(v) >= -(ML_Q - 1) / 2 &&
		    ml_centre(v) <= (ML_Q - 1) / 2);
		assert_int_equal(((ml_centre(v) - v) % ML_Q), 0);
		a = (int64_t)v * (int64_t)((x >> 7) % ML_Q);
		/* ml_mont(a) * 2^32 == a (mod q) */
		assert_int_equal(((int64_t)ml_mont(a) * ((int64_t)1 << 32) - a) %
		    ML_Q, 0);
	}
}

/* NTT-based multiplication equals schoolbook multiplication mod X^256 + 1. */
static void
test_ntt_multiply(void **state)
{
	struct ml_poly a, b, ah, bh, c;
	int64_t want[ML_N];
	int i, j, t;

	(void)state;
	for (t = 0; t < 5; t++) {
		for (i = 0; i < ML_N; i++) {
			a.c[i] = rand() % ML_Q;
			b.c[i] = (rand() % 5) - 2;	/* like s1: small */
		}
		memset(want, 0, sizeof(want));
		for (i = 0; i < ML_N; i++)
			for (j = 0; j < ML_N; j++) {
				int64_t p = (int64_t)a.c[i] * b.c[j];

				if (i + j < ML_N)
					want[i + j] += p;
				else
					want[i + j - ML_N] -= p;
			}
		ah = a;
		bh = b;
		ml_ntt(&ah);
		ml_ntt(&bh);
		ml_pointwise(&c, &ah, &bh);
		ml_invntt(&c);
		for (i = 0; i < ML_N; i++)
			assert_int_equal(ml_freeze(c.c[i]),
			    ((want[i] % ML_Q) + ML_Q) % ML_Q);
	}
}

static void
test_pack_roundtrip(void **state)
{
	uint32_t v[ML_N], w[ML_N];
	u_char out[ML_N * 18 / 8];
	unsigned int bits;
	int i;

	(void)state;
	for (bits = 3; bits <= 18; bits++) {
		for (i = 0; i < ML_N; i++)
			v[i] = (uint32_t)rand() & ((1U << bits) - 1);
		ml_pack(out, v, ML_N, bits);
		ml_unpack(w, out, ML_N, bits);
		assert_memory_equal(v, w, sizeof(v));
	}
}

/* Sign, verify, encode and re-expand with our own code. */
static void
test_internal_consistency(void **state)
{
	struct mldsa44_key *k = NULL, *k2 = NULL;
	u_char seed[MLDSA44_SEED_LEN], rnd[MLDSA44_RND_LEN] = { 0 };
	u_char sig[MLDSA44_SIG_LEN], sig2[MLDSA44_SIG_LEN];
	u_char sk[MLDSA44_SK_LEN], msg[100], ctx[MLDSA44_CTX_MAX + 1];
	size_t i;
	int t;

	(void)state;
	memset(ctx, 'c', sizeof(ctx));
	for (t = 0; t < 8; t++) {
		assert_int_equal(RAND_bytes(seed, sizeof(seed)), 1);
		assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
		assert_int_equal(mldsa44_key_from_seed(seed, &k), 0);
		/* Deterministic variant: the same signature twice. */
		assert_int_equal(mldsa44_sign_rnd(k, msg, sizeof(msg), ctx, 7,
		    rnd, sig), 0);
		assert_int_equal(mldsa44_sign_rnd(k, msg, sizeof(msg), ctx, 7,
		    rnd, sig2), 0);
		assert_memory_equal(sig, sig2, sizeof(sig));
		assert_int_equal(mldsa44_verify_own(mldsa44_key_public(k),
		    MLDSA44_PK_LEN, msg, sizeof(msg), ctx, 7, sig,
		    sizeof(sig)), 0);
		/* Hedged: different signatures, both valid. */
		assert_int_equal(mldsa44_sign(k, msg, sizeof(msg), NULL, 0,
		    sig), 0);
		assert_int_equal(mldsa44_sign(k, msg, sizeof(msg), NULL, 0,
		    sig2), 0);
		assert_memory_not_equal(sig, sig2, sizeof(sig));
		assert_int_equal(mldsa44_verify(mldsa44_key_public(k),
		    MLDSA44_PK_LEN, msg, sizeof(msg), NULL, 0, sig,
		    sizeof(sig)), 0);
		assert_int_equal(mldsa44_verify_own(mldsa44_key_public(k),
		    MLDSA44_PK_LEN, msg, sizeof(msg), NULL, 0, sig2,
		    sizeof(sig2)), 0);
		/* Wrong context, message, length: refused. */
		assert_int_equal(mldsa44_verify_own(mldsa44_key_public(k),
		    MLDSA44_PK_LEN, msg, sizeof(msg), ctx, 1, sig,
		    sizeof(sig)), TOK_ERR_SIGNATURE_INVALID);
		msg[3] ^= 0x10;
		assert_int_equal(mldsa44_verify_own(mldsa44_key_public(k),
		    MLDSA44_PK_LEN, msg, sizeof(msg), NULL, 0, sig,
		    sizeof(sig)), TOK_ERR_SIGNATURE_INVALID);
		assert_int_equal(mldsa44_verify_own(mldsa44_key_public(k),
		    MLDSA44_PK_LEN, msg, sizeof(msg), NULL, 0, sig,
		    sizeof(sig) - 1), TOK_ERR_SIGNATURE_INVALID);
		assert_int_equal(mldsa44_sign(k, msg, 1, ctx, sizeof(ctx),
		    sig), TOK_ERR_INVALID_ARGUMENT);
		/* The 2560-byte encoding expands to the same key. */
		mldsa44_key_encode(k, sk);
		assert_int_equal(mldsa44_key_from_sk(sk, sizeof(sk), &k2), 0);
		assert_memory_equal(mldsa44_key_public(k2),
		    mldsa44_key_public(k), MLDSA44_PK_LEN);
		assert_int_equal(mldsa44_sign_rnd(k2, msg, sizeof(msg), ctx,
		    7, rnd, sig2), 0);
		assert_int_equal(mldsa44_sign_rnd(k, msg, sizeof(msg), ctx, 7,
		    rnd, sig), 0);
		assert_memory_equal(sig, sig2, sizeof(sig));
		mldsa44_key_free(k2);
		k2 = NULL;
		/* Inconsistent encodings are refused: rho, s1 range, t0, tr. */
		for (i = 0; i < 4; i++) {
			static const size_t off[] = { 5, 70, 130, 1000 };
			u_char bad[MLDSA44_SK_LEN];

			memcpy(bad, sk, sizeof(bad));
			bad[off[i]] ^= 0x04;
			assert_int_equal(mldsa44_key_from_sk(bad, sizeof(bad),
			    &k2), TOK_ERR_KEY_INVALID);
			assert_null(k2);
		}
		assert_int_equal(mldsa44_key_from_sk(sk, sizeof(sk) - 1, &k2),
		    TOK_ERR_KEY_INVALID);
		mldsa44_key_free(k);
		k = NULL;
	}
}

/* A malformed hint (FIPS 204 alg. 21) makes a signature invalid. */
static void
test_hint_malformed(void **state)
{
	struct mldsa44_key *k = NULL;
	u_char seed[MLDSA44_SEED_LEN] = { 7 }, sig[MLDSA44_SIG_LEN];
	u_char bad[MLDSA44_SIG_LEN], *h;
	const size_t hoff = ML_CTILDE_LEN + ML_L * ML_Z_BYTES;
	struct ml_poly hp[ML_K];

	(void)state;
	assert_int_equal(mldsa44_key_from_seed(seed, &k), 0);
	assert_int_equal(mldsa44_sign(k, (const u_char *)"m", 1, NULL, 0,
	    sig), 0);
	h = sig + hoff;
	assert_int_equal(ml_hint_unpack(h, hp), 0);
	/* A count beyond omega. */
	memcpy(bad, sig, sizeof(bad));
	bad[hoff + ML_OMEGA + ML_K - 1] = ML_OMEGA + 1;
	assert_int_not_equal(ml_hint_unpack(bad + hoff, hp), 0);
	/* Decreasing counts. */
	memcpy(bad, sig, sizeof(bad));
	bad[hoff + ML_OMEGA] = bad[hoff + ML_OMEGA + 1] + 1;
	if (bad[hoff + ML_OMEGA] <= ML_OMEGA)
		assert_int_not_equal(ml_hint_unpack(bad + hoff, hp), 0);
	/* Junk after the last index. */
	memcpy(bad, sig, sizeof(bad));
	if (bad[hoff + ML_OMEGA + ML_K - 1] < ML_OMEGA) {
		bad[hoff + ML_OMEGA - 1] = 1;
		assert_int_not_equal(ml_hint_unpack(bad + hoff, hp), 0);
		assert_int_equal(mldsa44_verify_own(mldsa44_key_public(k),
		    MLDSA44_PK_LEN, (const u_char *)"m", 1, NULL, 0, bad,
		    sizeof(bad)), TOK_ERR_SIGNATURE_INVALID);
	}
	mldsa44_key_free(k);
}

/*
 * Constant time, checked by valgrind (the CI's valgrind pass runs this
 * test): the secret parts of the key (K, s1, s2, t0) and the signing
 * randomness are marked undefined, so memcheck reports any branch or memory
 * address that depends on them, except through the values that mldsa44.c
 * declares public with ML_PUBLIC.  Run natively, it only signs and checks.
 */
static void
test_constant_time(void **state)
{
	struct mldsa44_key *k = NULL;
	u_char seed[MLDSA44_SEED_LEN], rnd[MLDSA44_RND_LEN];
	u_char msg[64], sig[MLDSA44_SIG_LEN];
	int i, r;

	(void)state;
	assert_int_equal(RAND_bytes(seed, sizeof(seed)), 1);
	assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
	assert_int_equal(mldsa44_key_from_seed(seed, &k), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(RAND_bytes(rnd, sizeof(rnd)), 1);
		msg[0] = (u_char)i;
		VALGRIND_MAKE_MEM_UNDEFINED(k->key, sizeof(k->key));
		VALGRIND_MAKE_MEM_UNDEFINED(k->s1, sizeof(k->s1));
		VALGRIND_MAKE_MEM_UNDEFINED(k->s2, sizeof(k->s2));
		VALGRIND_MAKE_MEM_UNDEFINED(k->t0, sizeof(k->t0));
		VALGRIND_MAKE_MEM_UNDEFINED(rnd, sizeof(rnd));
		r = mldsa44_sign_rnd(k, msg, sizeof(msg), NULL, 0, rnd, sig);
		/* The signature is public; so, again, is the key's state. */
		VALGRIND_MAKE_MEM_DEFINED(sig, sizeof(sig));
		VALGRIND_MAKE_MEM_DEFINED(k->key, sizeof(k->key));
		VALGRIND_MAKE_MEM_DEFINED(k->s1, sizeof(k->s1));
		VALGRIND_MAKE_MEM_DEFINED(k->s2, sizeof(k->s2));
		VALGRIND_MAKE_MEM_DEFINED(k->t0, sizeof(k->t0));
		assert_int_equal(r, 0);
		assert_int_equal(mldsa44_verify_own(mldsa44_key_public(k),
		    MLDSA44_PK_LEN, msg, sizeof(msg), NULL, 0, sig,
		    sizeof(sig)), 0);
	}
	mldsa44_key_free(k);
}

/* ---- The OpenSSH key type, against OpenSSH 10.5's data ----------------- */

static void
test_load_openssh_private(void **state)
{
	struct key *k, *pub, *cert;
	char *comment = NULL;

	(void)state;
	k = load_private(&comment);
	pub = read_pub("id_mldsa44_ed25519.pub");
	assert_string_equal(comment, "mldsa-test");
	assert_int_equal(key_type(k), KEY_MLDSA44_ED25519);
	assert_string_equal(key_type_name(k), MLDSA_NAME);
	assert_true(key_has_private(k));
	assert_int_equal(key_bits(k), 256);
	/* Expanding the seeds gave exactly OpenSSH's public key. */
	assert_true(key_equal(k, pub));
	cert = read_pub("id_mldsa44_ed25519-cert.pub");
	assert_true(key_is_cert(cert));
	assert_int_equal(key_type(cert), KEY_MLDSA44_ED25519);
	assert_string_equal(key_type_name(cert),
	    "ssh-mldsa44-ed25519-cert-v01@openssh.com");
	assert_true(key_equal_public(cert, pub));
	assert_int_equal(key_cert_check_authority(cert, 0, "tester",
	    key_cert_valid_after(cert), NULL), 0);
	key_free(cert);
	key_free(pub);
	key_free(k);
	free(comment);
}

static void
test_verify_openssh_signatures(void **state)
{
	static const char *files[] = { "message.txt.sig1", "message.txt.sig2" };
	struct key *pub = read_pub("id_mldsa44_ed25519.pub"), *sigkey = NULL;
	struct sshsig s;
	struct buf *sd;
	u_char *sig;
	char *msg;
	size_t msglen, i, bit, step;

	(void)state;
	/*
	 * Natively every bit is flipped (40,000 verifications); under
	 * valgrind, which checks memory and not the maths, every 7th.
	 */
	step = RUNNING_ON_VALGRIND ? 7 : 1;
	msg = read_text("message.txt", &msglen);
	for (i = 0; i < 2; i++) {
		sshsig_parse(read_armoured(files[i]), &s);
		assert_string_equal(s.ns, "file");
		assert_int_equal(key_from_blob(s.pub, s.publen, &sigkey), 0);
		assert_true(key_equal(sigkey, pub));
		key_free(sigkey);
		sd = sshsig_signed_data(s.ns, s.hashalg, (u_char *)msg,
		    msglen);
		assert_int_equal(key_verify(pub, s.sig, s.siglen,
		    buf_ptr(sd), buf_len(sd), NULL), 0);
		assert_int_equal(key_verify(pub, s.sig, s.siglen,
		    buf_ptr(sd), buf_len(sd), MLDSA_NAME), 0);
		assert_int_equal(key_sig_check_format(pub, s.sig, s.siglen, 0),
		    0);
		/* Every single-bit change of the signature blob fails. */
		assert_non_null(sig = malloc(s.siglen));
		memcpy(sig, s.sig, s.siglen);
		for (bit = 0; bit < s.siglen * 8; bit += step) {
			sig[bit / 8] ^= (u_char)(1 << (bit % 8));
			if (key_verify(pub, sig, s.siglen, buf_ptr(sd),
			    buf_len(sd), NULL) == 0)
				fail_msg("%s: bit %zu flipped still verifies",
				    files[i], bit);
			sig[bit / 8] ^= (u_char)(1 << (bit % 8));
		}
		/* The signed data changed by one bit: refused too. */
		buf_mutable_ptr(sd)[buf_len(sd) - 1] ^= 1;
		assert_int_equal(key_verify(pub, sig, s.siglen, buf_ptr(sd),
		    buf_len(sd), NULL), TOK_ERR_SIGNATURE_INVALID);
		free(sig);
		buf_free(sd);
		sshsig_free(&s);
	}
	free(msg);
	key_free(pub);
}

/* Our signatures verify with our code and round-trip through SSHSIG. */
static void
test_sign_sshsig_roundtrip(void **state)
{
	struct key *k = load_private(NULL), *pub, *cert = NULL, *sigkey = NULL;
	struct buf *sd, *sig, *wrapped, *b64, *wb;
	struct sshsig s;
	const char *msg = "a message signed by tokagent\n";
	u_char *raw;
	int len;

	(void)state;
	pub = read_pub("id_mldsa44_ed25519.pub");
	assert_non_null(sig = buf_new());
	sd = sshsig_signed_data("file", "sha512", (const u_char *)msg,
	    strlen(msg));
	assert_int_equal(key_sign(k, buf_ptr(sd), buf_len(sd), 0, sig), 0);
	assert_int_equal(key_sig_check_format(pub, buf_ptr(sig), buf_len(sig),
	    0), 0);
	/* Wrap as ssh-keygen -Y sign does, base64 and back, and verify. */
	assert_non_null(wrapped = buf_new());
	assert_int_equal(buf_put(wrapped, "SSHSIG", 6), 0);
	assert_int_equal(buf_put_u32(wrapped, 1), 0);
	assert_int_equal(key_puts(pub, wrapped), 0);
	assert_int_equal(buf_put_cstring(wrapped, "file"), 0);
	assert_int_equal(buf_put_string(wrapped, NULL, 0), 0);
	assert_int_equal(buf_put_cstring(wrapped, "sha512"), 0);
	assert_int_equal(buf_put_stringb(wrapped, sig), 0);
	assert_non_null(b64 = buf_new());
	assert_int_equal(buf_dtob64(wrapped, b64), 0);
	assert_non_null(raw = malloc(buf_len(b64)));
	len = EVP_DecodeBlock(raw, buf_ptr(b64), (int)buf_len(b64));
	assert_true(len >= (int)buf_len(wrapped));
	assert_non_null(wb = buf_new());
	assert_int_equal(buf_put(wb, raw, buf_len(wrapped)), 0);
	sshsig_parse(wb, &s);
	assert_int_equal(key_from_blob(s.pub, s.publen, &sigkey), 0);
	assert_true(key_equal(sigkey, pub));
	assert_int_equal(key_verify(sigkey, s.sig, s.siglen, buf_ptr(sd),
	    buf_len(sd), NULL), 0);
	/* The certificate signs the same way as its key. */
	cert = read_pub("id_mldsa44_ed25519-cert.pub");
	buf_reset(sig);
	assert_int_equal(key_sign(k, (const u_char *)"x", 1, 0, sig), 0);
	assert_int_equal(key_verify(cert, buf_ptr(sig), buf_len(sig),
	    (const u_char *)"x", 1, NULL), 0);
	assert_int_equal(key_verify(cert, buf_ptr(sig), buf_len(sig),
	    (const u_char *)"y", 1, NULL), TOK_ERR_SIGNATURE_INVALID);
	sshsig_free(&s);
	free(raw);
	key_free(sigkey);
	key_free(cert);
	buf_free(b64);
	buf_free(wrapped);
	buf_free(sd);
	buf_free(sig);
	key_free(pub);
	key_free(k);
}

/* ADD_IDENTITY encodings: round trip, certificate, generated keys. */
static void
test_agent_encoding(void **state)
{
	struct key *k = load_private(NULL), *k2 = NULL, *cert, *ck = NULL;
	struct key *g = NULL;
	struct buf *b, *cb, *sig;
	char *comment = NULL;
	const u_char *p;
	size_t len;

	(void)state;
	assert_non_null(b = buf_new());
	assert_int_equal(key_private_to_agent(k, "round", b), 0);
	assert_int_equal(buf_put_u8(b, 1), 0);	/* a constraint follows */
	assert_int_equal(key_private_from_agent(b, &k2, &comment), 0);
	assert_int_equal(buf_len(b), 1);
	assert_string_equal(comment, "round");
	assert_true(key_equal(k, k2));
	free(comment);
	key_free(k2);

	/* Certificate + seeds, as ssh-add sends it (no repeated pk). */
	cert = read_pub("id_mldsa44_ed25519-cert.pub");
	assert_non_null(cb = buf_new());
	assert_int_equal(buf_put_cstring(cb, key_type_name(cert)), 0);
	assert_int_equal(key_puts(cert, cb), 0);
	buf_reset(b);
	assert_int_equal(key_private_to_agent(k, NULL, b), 0);
	assert_int_equal(buf_get_string_direct(b, NULL, NULL), 0);
	assert_int_equal(buf_get_string_direct(b, NULL, NULL), 0);
	assert_int_equal(buf_get_string_direct(b, &p, &len), 0);
	assert_int_equal(len, 64);
	assert_int_equal(buf_put_string(cb, p, len), 0);
	assert_int_equal(buf_put_cstring(cb, "cert"), 0);
	assert_int_equal(key_private_from_agent(cb, &ck, NULL), 0);
	assert_true(key_is_cert(ck) && key_has_private(ck));
	assert_non_null(sig = buf_new());
	assert_int_equal(key_sign(ck, (const u_char *)"d", 1, 0, sig), 0);
	assert_int_equal(key_verify(cert, buf_ptr(sig), buf_len(sig),
	    (const u_char *)"d", 1, NULL), 0);
	/* ... and back out the same. */
	buf_reset(b);
	assert_int_equal(key_private_to_agent(ck, "cert", b), 0);
	buf_reset(cb);
	assert_int_equal(key_private_from_agent(b, &k2, NULL), 0);
	assert_true(key_equal(k2, ck));
	key_free(k2);

	/* A generated key signs, and its certificate by an Ed25519 CA too. */
	assert_int_equal(key_generate(KEY_MLDSA44_ED25519, 0, &g), 0);
	assert_int_equal(key_generate(KEY_ED25519, 0, &k2), 0);
	buf_reset(sig);
	assert_int_equal(key_sign(g, (const u_char *)"g", 1, 0, sig), 0);
	assert_int_equal(key_verify(g, buf_ptr(sig), buf_len(sig),
	    (const u_char *)"g", 1, NULL), 0);
	assert_int_equal(key_verify(k, buf_ptr(sig), buf_len(sig),
	    (const u_char *)"g", 1, NULL), TOK_ERR_SIGNATURE_INVALID);
	{
		static const char *const princ[] = { "u" };
		struct key *gc = NULL;

		assert_int_equal(key_cert_make(g, k2, KEY_CERT_TYPE_USER, 1,
		    "id", princ, 1, 0, ~0ULL, NULL, 0, NULL, 0, 0, &gc), 0);
		assert_true(key_has_private(gc));
		buf_reset(sig);
		assert_int_equal(key_sign(gc, (const u_char *)"g", 1, 0,
		    sig), 0);
		assert_int_equal(key_verify(g, buf_ptr(sig), buf_len(sig),
		    (const u_char *)"g", 1, NULL), 0);
		assert_int_equal(key_cert_verify_signature(gc), 0);
		key_free(gc);
	}
	key_free(k2);
	key_free(g);
	buf_free(sig);
	key_free(ck);
	buf_free(cb);
	key_free(cert);
	buf_free(b);
	key_free(k);
}

/* Refuse the ADD_IDENTITY body b (after modification), whatever the code. */
static void
expect_refused(struct buf *b, const char *what)
{
	struct key *k = NULL;
	size_t before = buf_len(b);

	if (key_private_from_agent(b, &k, NULL) == 0)
		fail_msg("accepted: %s", what);
	assert_null(k);
	assert_int_equal(buf_len(b), before);
}

static void
test_malformed_private(void **state)
{
	struct key *k = load_private(NULL);
	struct buf *good, *b;
	u_char *m;
	size_t len, i, pkoff, seedoff;

	(void)state;
	assert_non_null(good = buf_new());
	assert_int_equal(key_private_to_agent(k, "x", good), 0);
	len = buf_len(good);
	/* name string, pk string, seed string, comment */
	pkoff = 4 + strlen(MLDSA_NAME) + 4;
	seedoff = pkoff + KEY_MLDSA_PK_LEN + 4;
	/* Truncated anywhere. */
	for (i = 0; i < len; i++) {
		assert_non_null(b = buf_new());
		assert_int_equal(buf_put(b, buf_ptr(good), i), 0);
		expect_refused(b, "truncated");
		buf_free(b);
	}
	/* The ML-DSA half of the public key not the seed's. */
	assert_non_null(b = buf_dup(good));
	m = buf_mutable_ptr(b);
	m[pkoff + 100] ^= 1;
	expect_refused(b, "ML-DSA public key not matching the seed");
	buf_free(b);
	/* The Ed25519 half not the seed's. */
	assert_non_null(b = buf_dup(good));
	m = buf_mutable_ptr(b);
	m[pkoff + KEY_MLDSA_PK_LEN - 5] ^= 1;
	expect_refused(b, "Ed25519 half not matching");
	buf_free(b);
	/* Either seed changed. */
	for (i = 0; i < 2; i++) {
		assert_non_null(b = buf_dup(good));
		m = buf_mutable_ptr(b);
		m[seedoff + 3 + 32 * i] ^= 0x80;
		expect_refused(b, "seed changed");
		buf_free(b);
	}
	/* Wrong lengths: a public key one byte short / long, seed 63 / 65. */
	for (i = 0; i < 4; i++) {
		static const int delta[] = { -1, 1, -1, 1 };
		size_t off = i < 2 ? pkoff - 4 : seedoff - 4;
		size_t flen = i < 2 ? KEY_MLDSA_PK_LEN : KEY_MLDSA_SEED_LEN;
		const u_char *g = buf_ptr(good);

		assert_non_null(b = buf_new());
		assert_int_equal(buf_put(b, g, off), 0);
		assert_int_equal(buf_put_u32(b, (uint32_t)(flen + delta[i])),
		    0);
		if (delta[i] < 0)
			assert_int_equal(buf_put(b, g + off + 4, flen - 1), 0);
		else {
			assert_int_equal(buf_put(b, g + off + 4, flen), 0);
			assert_int_equal(buf_put_u8(b, 0), 0);
		}
		assert_int_equal(buf_put(b, g + off + 4 + flen,
		    len - off - 4 - flen), 0);
		expect_refused(b, "wrong length");
		buf_free(b);
	}
	/* An oversized length field. */
	assert_non_null(b = buf_dup(good));
	m = buf_mutable_ptr(b);
	m[pkoff - 4] = 0x7f;
	expect_refused(b, "oversized");
	buf_free(b);
	/* A certificate with another key's seeds. */
	{
		struct key *other = NULL, *cert;
		struct buf *cb;

		cert = read_pub("id_mldsa44_ed25519-cert.pub");
		assert_int_equal(key_generate(KEY_MLDSA44_ED25519, 0, &other),
		    0);
		assert_non_null(b = buf_new());
		assert_int_equal(key_private_to_agent(other, NULL, b), 0);
		assert_int_equal(buf_get_string_direct(b, NULL, NULL), 0);
		assert_int_equal(buf_get_string_direct(b, NULL, NULL), 0);
		assert_non_null(cb = buf_new());
		assert_int_equal(buf_put_cstring(cb, key_type_name(cert)), 0);
		assert_int_equal(key_puts(cert, cb), 0);
		assert_int_equal(buf_putb(cb, b), 0);
		expect_refused(cb, "certificate with another key's seed");
		buf_free(cb);
		buf_free(b);
		key_free(other);
		key_free(cert);
	}
	buf_free(good);
	key_free(k);
}

static void
test_malformed_blobs(void **state)
{
	struct key *pub = read_pub("id_mldsa44_ed25519.pub"), *k = NULL;
	struct key *cert = read_pub("id_mldsa44_ed25519-cert.pub");
	struct buf *b;
	const u_char *blob;
	u_char sig[KEY_MLDSA_SIG_LEN + 64];
	size_t len, i;

	(void)state;
	/* Public blobs and certificates truncated or extended. */
	blob = key_blob(pub, &len);
	for (i = 0; i < len; i++)
		assert_int_not_equal(key_from_blob(blob, i, &k), 0);
	assert_non_null(b = buf_new());
	assert_int_equal(buf_put(b, blob, len), 0);
	assert_int_equal(buf_put_u8(b, 0), 0);
	assert_int_not_equal(key_from_blob(buf_ptr(b), buf_len(b), &k), 0);
	for (i = 0; i < 2; i++) {
		buf_reset(b);
		assert_int_equal(buf_put_cstring(b, MLDSA_NAME), 0);
		assert_int_equal(buf_put_u32(b, (uint32_t)(KEY_MLDSA_PK_LEN -
		    1 + 2 * i)), 0);
		assert_int_equal(buf_put(b, blob + len - KEY_MLDSA_PK_LEN,
		    KEY_MLDSA_PK_LEN - 1 + i), 0);
		if (i == 1)
			assert_int_equal(buf_put_u8(b, 0), 0);
		assert_int_not_equal(key_from_blob(buf_ptr(b), buf_len(b),
		    &k), 0);
	}
	blob = key_blob(cert, &len);
	for (i = 0; i < len; i += 7)
		assert_int_not_equal(key_from_blob(blob, i, &k), 0);
	assert_null(k);
	/* Signature blobs with wrong lengths or names. */
	memset(sig, 0, sizeof(sig));
	for (i = 0; i < 4; i++) {
		static const size_t slen[] = { 0, 2420, KEY_MLDSA_SIG_LEN - 1,
		    KEY_MLDSA_SIG_LEN + 1 };

		buf_reset(b);
		assert_int_equal(buf_put_cstring(b, MLDSA_NAME), 0);
		assert_int_equal(buf_put_string(b, sig, slen[i]), 0);
		assert_int_equal(key_sig_check_format(pub, buf_ptr(b),
		    buf_len(b), 0), TOK_ERR_INVALID_FORMAT);
		assert_int_not_equal(key_verify(pub, buf_ptr(b), buf_len(b),
		    (const u_char *)"m", 1, NULL), 0);
	}
	buf_reset(b);
	assert_int_equal(buf_put_cstring(b, "ssh-ed25519"), 0);
	assert_int_equal(buf_put_string(b, sig, KEY_MLDSA_SIG_LEN), 0);
	assert_int_equal(key_verify(pub, buf_ptr(b), buf_len(b),
	    (const u_char *)"m", 1, NULL), TOK_ERR_KEY_TYPE_MISMATCH);
	/* All zero, right length: invalid, no crash. */
	buf_reset(b);
	assert_int_equal(buf_put_cstring(b, MLDSA_NAME), 0);
	assert_int_equal(buf_put_string(b, sig, KEY_MLDSA_SIG_LEN), 0);
	assert_int_equal(key_verify(pub, buf_ptr(b), buf_len(b),
	    (const u_char *)"m", 1, NULL), TOK_ERR_SIGNATURE_INVALID);
	buf_free(b);
	key_free(cert);
	key_free(pub);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decompose_exhaustive),
		cmocka_unit_test(test_reductions),
		cmocka_unit_test(test_ntt_multiply),
		cmocka_unit_test(test_pack_roundtrip),
		cmocka_unit_test(test_internal_consistency),
		cmocka_unit_test(test_hint_malformed),
		cmocka_unit_test(test_constant_time),
		cmocka_unit_test(test_load_openssh_private),
		cmocka_unit_test(test_verify_openssh_signatures),
		cmocka_unit_test(test_sign_sshsig_roundtrip),
		cmocka_unit_test(test_agent_encoding),
		cmocka_unit_test(test_malformed_private),
		cmocka_unit_test(test_malformed_blobs),
	};

	srand(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

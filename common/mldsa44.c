/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * ML-DSA-44 after FIPS 204 (August 2024); see mldsa44.h.
 *
 * Arithmetic: coefficients are int32 modulo q.  Products are reduced with
 * Montgomery reduction (R = 2^32); the NTT twiddle factors are kept times R
 * so that the forward NTT yields plain values, pointwise products carry a
 * factor R^-1 and the inverse NTT multiplies by R^2/256 to cancel it.
 * Every function that touches secret coefficients uses only arithmetic
 * masks, never a secret-dependent branch or index.
 *
 * OpenSSL 3.0 cannot squeeze an XOF twice, so the rejection samplers ask
 * for a generous output at once and, in the (astronomically rare) case it
 * is used up, recompute a longer output: SHAKE's output of length n is a
 * prefix of every longer one, so the result is the same.
 */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#ifdef HAVE_OPENSSL_MLDSA
#include <openssl/core_names.h>
#include <openssl/params.h>
#endif

#include "common/err.h"
#include "common/mldsa44.h"
#include "common/secmem.h"

#define ML_N		256
#define ML_Q		8380417
#define ML_QINV		58728449	/* q^-1 mod 2^32 */
#define ML_F		41978		/* 2^64 / 256 mod q */
#define ML_D		13
#define ML_K		4
#define ML_L		4
#define ML_ETA		2
#define ML_TAU		39
#define ML_BETA		78		/* tau * eta */
#define ML_GAMMA1	(1 << 17)
#define ML_GAMMA2	((ML_Q - 1) / 88)
#define ML_OMEGA	80
#define ML_CTILDE_LEN	32		/* lambda / 4 */
#define ML_TR_LEN	64
#define ML_MU_LEN	64
#define ML_W1_BYTES	(ML_N * 6 / 8)
#define ML_T1_BYTES	(ML_N * 10 / 8)
#define ML_Z_BYTES	(ML_N * 18 / 8)
#define ML_MAX_ITER	1000		/* P(reaching it) is below 2^-200 */

/*
 * ML_PUBLIC marks bytes derived from secrets that the algorithm makes
 * public (c-tilde, the rejection decisions, the hint of the signature):
 * only those may decide a branch.  A test defines it to tell valgrind, which
 * then checks that no other secret-derived value does (test_mldsa.c).
 */
#ifndef ML_PUBLIC
#define ML_PUBLIC(p, len)	do { } while (0)
#endif

struct ml_poly {
	int32_t c[ML_N];
};

struct mldsa44_key {
	u_char pk[MLDSA44_PK_LEN];
	u_char sk[MLDSA44_SK_LEN];
	u_char rho[32];
	u_char key[32];
	u_char tr[ML_TR_LEN];
	struct ml_poly a[ML_K][ML_L];	/* A-hat, NTT domain */
	struct ml_poly s1[ML_L];	/* NTT domain */
	struct ml_poly s2[ML_K];	/* NTT domain */
	struct ml_poly t0[ML_K];	/* NTT domain */
#ifdef HAVE_OPENSSL_MLDSA
	EVP_PKEY *pkey;			/* NULL: our own code signs */
#endif
};

/* zeta^brv8(i) * 2^32 mod q, centred, zeta = 1753 (index 0 unused). */
static const int32_t ml_zetas[ML_N] = {
	-4186625, 25847, -2608894, -518909, 237124, -777960, -876248, 466468,
	1826347, 2353451, -359251, -2091905, 3119733, -2884855, 3111497, 2680103,
	2725464, 1024112, -1079900, 3585928, -549488, -1119584, 2619752, -2108549,
	-2118186, -3859737, -1399561, -3277672, 1757237, -19422, 4010497, 280005,
	2706023, 95776, 3077325, 3530437, -1661693, -3592148, -2537516, 3915439,
	-3861115, -3043716, 3574422, -2867647, 3539968, -300467, 2348700, -539299,
	-1699267, -1643818, 3505694, -3821735, 3507263, -2140649, -1600420, 3699596,
	811944, 531354, 954230, 3881043, 3900724, -2556880, 2071892, -2797779,
	-3930395, -1528703, -3677745, -3041255, -1452451, 3475950, 2176455, -1585221,
	-1257611, 1939314, -4083598, -1000202, -3190144, -3157330, -3632928, 126922,
	3412210, -983419, 2147896, 2715295, -2967645, -3693493, -411027, -2477047,
	-671102, -1228525, -22981, -1308169, -381987, 1349076, 1852771, -1430430,
	-3343383, 264944, 508951, 3097992, 44288, -1100098, 904516, 3958618,
	-3724342, -8578, 1653064, -3249728, 2389356, -210977, 759969, -1316856,
	189548, -3553272, 3159746, -1851402, -2409325, -177440, 1315589, 1341330,
	1285669, -1584928, -812732, -1439742, -3019102, -3881060, -3628969, 3839961,
	2091667, 3407706, 2316500, 3817976, -3342478, 2244091, -2446433, -3562462,
	266997, 2434439, -1235728, 3513181, -3520352, -3759364, -1197226, -3193378,
	900702, 1859098, 909542, 819034, 495491, -1613174, -43260, -522500,
	-655327, -3122442, 2031748, 3207046, -3556995, -525098, -768622, -3595838,
	342297, 286988, -2437823, 4108315, 3437287, -3342277, 1735879, 203044,
	2842341, 2691481, -2590150, 1265009, 4055324, 1247620, 2486353, 1595974,
	-3767016, 1250494, 2635921, -3548272, -2994039, 1869119, 1903435, -1050970,
	-1333058, 1237275, -3318210, -1430225, -451100, 1312455, 3306115, -1962642,
	-1279661, 1917081, -2546312, -1374803, 1500165, 777191, 2235880, 3406031,
	-542412, -2831860, -1671176, -1846953, -2584293, -3724270, 594136, -3776993,
	-2013608, 2432395, 2454455, -164721, 1957272, 3369112, 185531, -1207385,
	-3183426, 162844, 1616392, 3014001, 810149, 1652634, -3694233, -1799107,
	-3038916, 3523897, 3866901, 269760, 2213111, -975884, 1717735, 472078,
	-426683, 1723600, -1803090, 1910376, -1667432, -1104333, -260646, -3833893,
	-2939036, -2235985, -420899, -2286327, 183443, -976891, 1612842, -3545687,
	-554416, 3919660, -48306, -1362209, 3937738, 1400424, -846154, 1976782,
};

/* ---- Modular arithmetic ---------------------------------------------- */

/* a * 2^-32 mod q, for |a| < 2^31 q; result in (-q, q). */
static int32_t
ml_mont(int64_t a)
{
	int32_t t;

	t = (int32_t)(uint32_t)((uint64_t)a * (uint64_t)ML_QINV);
	return (int32_t)((a - (int64_t)t * ML_Q) >> 32);
}

/* A representative of a mod q in [-6283009, 6283008]. */
static int32_t
ml_reduce32(int32_t a)
{
	int32_t t;

	t = (a + (1 << 22)) >> 23;
	return a - t * ML_Q;
}

/* a + q when a is negative. */
static int32_t
ml_caddq(int32_t a)
{
	return a + ((a >> 31) & ML_Q);
}

/* The representative of a mod q in [0, q). */
static int32_t
ml_freeze(int32_t a)
{
	return ml_caddq(ml_reduce32(a));
}

/* The representative of a mod q in [-(q-1)/2, (q-1)/2]. */
static int32_t
ml_centre(int32_t a)
{
	a = ml_freeze(a);
	return a - ((((ML_Q - 1) / 2) - a) >> 31 & ML_Q);
}

/* |a| without a branch. */
static int32_t
ml_abs(int32_t a)
{
	int32_t m = a >> 31;

	return (a ^ m) - m;
}

/*
 * Decompose (FIPS 204 alg. 36) of r in [0, q): r = r1 * 2 gamma2 + r0.
 * floor(x / (2 gamma2)) = floor(floor(x / 2^11) / 93), and y / 93 is
 * (y * 11276) >> 20 exactly for y < 2^13.
 */
static void
ml_decompose(int32_t r, int32_t *r1p, int32_t *r0p)
{
	int32_t r1, r0, m;

	r1 = (int32_t)(((((uint32_t)r + ML_GAMMA2 - 1) >> 11) * 11276) >> 20);
	r0 = r - r1 * 2 * ML_GAMMA2;
	m = (43 - r1) >> 31;	/* all ones when r1 == 44 */
	r1 &= ~m;
	r0 += m;
	*r1p = r1;
	*r0p = r0;
}

static int32_t
ml_highbits(int32_t r)
{
	int32_t r1, r0;

	ml_decompose(r, &r1, &r0);
	return r1;
}

/* Power2Round (FIPS 204 alg. 35) of r in [0, q). */
static void
ml_power2round(int32_t r, int32_t *r1p, int32_t *r0p)
{
	int32_t r1;

	r1 = (r + (1 << (ML_D - 1)) - 1) >> ML_D;
	*r1p = r1;
	*r0p = r - (r1 << ML_D);
}

/* UseHint (FIPS 204 alg. 40); public values only. */
static int32_t
ml_usehint(int32_t h, int32_t r)
{
	int32_t r1, r0;

	ml_decompose(r, &r1, &r0);
	if (h == 0)
		return r1;
	if (r0 > 0)
		return r1 == 43 ? 0 : r1 + 1;
	return r1 == 0 ? 43 : r1 - 1;
}

/* ---- NTT --------------------------------------------------------------- */

static void
ml_ntt(struct ml_poly *p)
{
	int32_t *w = p->c, z, t;
	size_t len, start, j, m = 0;

	for (j = 0; j < ML_N; j++)
		w[j] = ml_reduce32(w[j]);
	for (len = 128; len >= 1; len >>= 1) {
		for (start = 0; start < ML_N; start += 2 * len) {
			z = ml_zetas[++m];
			for (j = start; j < start + len; j++) {
				t = ml_mont((int64_t)z * w[j + len]);
				w[j + len] = w[j] - t;
				w[j] = w[j] + t;
			}
		}
	}
}

/* Inverse NTT, also multiplying by 2^32 (undoing one ml_mont). */
static void
ml_invntt(struct ml_poly *p)
{
	int32_t *w = p->c, z, t;
	size_t len, start, j, m = ML_N;

	for (j = 0; j < ML_N; j++)
		w[j] = ml_reduce32(w[j]);
	for (len = 1; len < ML_N; len <<= 1) {
		for (start = 0; start < ML_N; start += 2 * len) {
			z = -ml_zetas[--m];
			for (j = start; j < start + len; j++) {
				t = w[j];
				w[j] = t + w[j + len];
				w[j + len] = ml_mont((int64_t)z *
				    (t - w[j + len]));
			}
		}
	}
	for (j = 0; j < ML_N; j++)
		w[j] = ml_mont((int64_t)ML_F * w[j]);
}

/* c = a * b * 2^-32 (NTT domain). */
static void
ml_pointwise(struct ml_poly *c, const struct ml_poly *a,
    const struct ml_poly *b)
{
	size_t i;

	for (i = 0; i < ML_N; i++)
		c->c[i] = ml_mont((int64_t)a->c[i] * b->c[i]);
}

/* c += a * b * 2^-32 (NTT domain). */
static void
ml_pointwise_acc(struct ml_poly *c, const struct ml_poly *a,
    const struct ml_poly *b)
{
	size_t i;

	for (i = 0; i < ML_N; i++)
		c->c[i] += ml_mont((int64_t)a->c[i] * b->c[i]);
}

/* w = A v (v and A in the NTT domain, w in the normal domain, (-q, q)). */
static void
ml_matvec(struct ml_poly w[ML_K], const struct ml_poly a[ML_K][ML_L],
    const struct ml_poly v[ML_L])
{
	size_t i, j;

	for (i = 0; i < ML_K; i++) {
		ml_pointwise(&w[i], &a[i][0], &v[0]);
		for (j = 1; j < ML_L; j++)
			ml_pointwise_acc(&w[i], &a[i][j], &v[j]);
		ml_invntt(&w[i]);
	}
}

/* ---- Bit packing (FIPS 204 algs. 16-19), constant time ---------------- */

static void
ml_pack(u_char *out, const uint32_t *v, size_t n, unsigned int bits)
{
	uint64_t acc = 0;
	unsigned int nb = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		acc |= (uint64_t)v[i] << nb;
		nb += bits;
		while (nb >= 8) {
			out[o++] = (u_char)acc;
			acc >>= 8;
			nb -= 8;
		}
	}
}

static void
ml_unpack(uint32_t *v, const u_char *in, size_t n, unsigned int bits)
{
	uint64_t acc = 0;
	unsigned int nb = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		while (nb < bits) {
			acc |= (uint64_t)in[o++] << nb;
			nb += 8;
		}
		v[i] = (uint32_t)(acc & ((1U << bits) - 1));
		acc >>= bits;
		nb -= bits;
	}
}

/* Pack b - c[i] in bits bits (BitPack with a = bound b - (2^bits - 1)). */
static void
ml_pack_offset(u_char *out, const struct ml_poly *p, int32_t b,
    unsigned int bits)
{
	uint32_t v[ML_N];
	size_t i;

	for (i = 0; i < ML_N; i++)
		v[i] = (uint32_t)(b - p->c[i]);
	ml_pack(out, v, ML_N, bits);
	explicit_bzero(v, sizeof(v));
}

/*
 * Unpack c[i] = b - v[i]; returns all ones when some v[i] > max (else 0),
 * without a branch.
 */
static uint32_t
ml_unpack_offset(struct ml_poly *p, const u_char *in, int32_t b,
    unsigned int bits, uint32_t max)
{
	uint32_t v[ML_N], bad = 0;
	size_t i;

	ml_unpack(v, in, ML_N, bits);
	for (i = 0; i < ML_N; i++) {
		bad |= (max - v[i]) >> 31;
		p->c[i] = b - (int32_t)v[i];
	}
	explicit_bzero(v, sizeof(v));
	return 0U - bad;
}

/* ---- Hashing -------------------------------------------------------- */

struct ml_hash {
	EVP_MD_CTX *ctx;
	EVP_MD *shake128;
	EVP_MD *shake256;
};

struct ml_in {
	const u_char *p;
	size_t len;
};

static void
ml_hash_free(struct ml_hash *h)
{
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->shake128);
	EVP_MD_free(h->shake256);
	memset(h, 0, sizeof(*h));
}

static int
ml_hash_init(struct ml_hash *h)
{
	memset(h, 0, sizeof(*h));
	if ((h->ctx = EVP_MD_CTX_new()) == NULL ||
	    (h->shake128 = EVP_MD_fetch(NULL, "SHAKE-128", NULL)) == NULL ||
	    (h->shake256 = EVP_MD_fetch(NULL, "SHAKE-256", NULL)) == NULL) {
		ml_hash_free(h);
		return TOK_ERR_LIBCRYPTO;
	}
	return 0;
}

/* out = XOF(in[0] || ... || in[n-1], outlen). */
static int
ml_xof(struct ml_hash *h, const EVP_MD *md, const struct ml_in *in, size_t n,
    u_char *out, size_t outlen)
{
	size_t i;

	if (EVP_DigestInit_ex(h->ctx, md, NULL) != 1)
		return TOK_ERR_LIBCRYPTO;
	for (i = 0; i < n; i++)
		if (in[i].len != 0 &&
		    EVP_DigestUpdate(h->ctx, in[i].p, in[i].len) != 1)
			return TOK_ERR_LIBCRYPTO;
	if (EVP_DigestFinalXOF(h->ctx, out, outlen) != 1)
		return TOK_ERR_LIBCRYPTO;
	return 0;
}

static int
ml_shake256(struct ml_hash *h, const struct ml_in *in, size_t n, u_char *out,
    size_t outlen)
{
	return ml_xof(h, h->shake256, in, n, out, outlen);
}

/* ---- Sampling (FIPS 204 algs. 29-34) ----------------------------------- */

/* RejNTTPoly: a uniform polynomial (NTT domain) from rho || s || r. */
static int
ml_rej_ntt(struct ml_hash *h, const u_char rho[32], uint8_t s, uint8_t r,
    struct ml_poly *p)
{
	u_char seed[34], buf[8 * 840];
	struct ml_in in = { seed, sizeof(seed) };
	size_t want, i, j;
	uint32_t z;
	int ret;

	memcpy(seed, rho, 32);
	seed[32] = s;
	seed[33] = r;
	for (want = 840; want <= sizeof(buf); want *= 2) {
		if ((ret = ml_xof(h, h->shake128, &in, 1, buf, want)) != 0)
			return ret;
		for (i = 0, j = 0; j < ML_N && i + 3 <= want; i += 3) {
			z = (uint32_t)buf[i] | (uint32_t)buf[i + 1] << 8 |
			    (uint32_t)(buf[i + 2] & 0x7f) << 16;
			if (z < ML_Q)
				p->c[j++] = (int32_t)z;
		}
		if (j == ML_N)
			return 0;
	}
	return TOK_ERR_INTERNAL;
}

/* ExpandA (alg. 32). */
static int
ml_expand_a(struct ml_hash *h, const u_char rho[32],
    struct ml_poly a[ML_K][ML_L])
{
	size_t i, j;
	int r;

	for (i = 0; i < ML_K; i++)
		for (j = 0; j < ML_L; j++)
			if ((r = ml_rej_ntt(h, rho, (uint8_t)j, (uint8_t)i,
			    &a[i][j])) != 0)
				return r;
	return 0;
}

/*
 * RejBoundedPoly (alg. 31) for eta = 2 from rho' || le16(nonce).  The
 * coefficients are secret: each half-byte below 15 maps to 2 - (b mod 5)
 * without a branch on its value; only the count of accepted half-bytes
 * (independent of the values kept) decides where they go.
 */
static int
ml_rej_bounded(struct ml_hash *h, const u_char rhop[64], uint16_t nonce,
    struct ml_poly *p)
{
	u_char seed[66], buf[4 * 272];
	struct ml_in in = { seed, sizeof(seed) };
	size_t want, i, j;
	uint32_t nib[2], k, ok, mod5;
	int r = TOK_ERR_INTERNAL;

	memcpy(seed, rhop, 64);
	seed[64] = (u_char)nonce;
	seed[65] = (u_char)(nonce >> 8);
	for (want = 272; want <= sizeof(buf); want *= 2) {
		if ((r = ml_xof(h, h->shake256, &in, 1, buf, want)) != 0)
			goto out;
		for (i = 0, j = 0; j < ML_N && i < want; i++) {
			nib[0] = buf[i] & 0x0f;
			nib[1] = buf[i] >> 4;
			for (k = 0; k < 2 && j < ML_N; k++) {
				/* b mod 5 for b < 16: b - 5 * floor(b/5) */
				mod5 = nib[k] - 5 * ((nib[k] * 205) >> 10);
				ok = (nib[k] - 15) >> 31;	/* b < 15 */
				p->c[j] = 2 - (int32_t)mod5;
				j += ok;
			}
		}
		if (j == ML_N) {
			r = 0;
			goto out;
		}
	}
	r = TOK_ERR_INTERNAL;
 out:
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(nib, sizeof(nib));
	return r;
}

/* SampleInBall (alg. 29) from c-tilde; c is public once published. */
static int
ml_sample_in_ball(struct ml_hash *h, const u_char ctilde[ML_CTILDE_LEN],
    struct ml_poly *c)
{
	u_char buf[8 * 136];
	struct ml_in in = { ctilde, ML_CTILDE_LEN };
	size_t want, pos, i, j;
	uint64_t signs;
	int r;

	for (want = 136; want <= sizeof(buf); want *= 2) {
		if ((r = ml_xof(h, h->shake256, &in, 1, buf, want)) != 0)
			return r;
		memset(c, 0, sizeof(*c));
		for (signs = 0, i = 0; i < 8; i++)
			signs |= (uint64_t)buf[i] << (8 * i);
		pos = 8;
		for (i = ML_N - ML_TAU; i < ML_N; i++) {
			for (j = ML_N; pos < want; ) {
				j = buf[pos++];
				if (j <= i)
					break;
			}
			if (j > i)
				break;	/* output used up: squeeze more */
			c->c[i] = c->c[j];
			c->c[j] = 1 - 2 * (int32_t)(signs & 1);
			signs >>= 1;
		}
		if (i == ML_N)
			return 0;
	}
	return TOK_ERR_INTERNAL;
}

/* ExpandMask (alg. 34): y with coefficients in (-gamma1, gamma1]. */
static int
ml_expand_mask(struct ml_hash *h, const u_char rhopp[64], uint16_t kappa,
    struct ml_poly y[ML_L])
{
	u_char seed[66], buf[ML_Z_BYTES];
	struct ml_in in = { seed, sizeof(seed) };
	size_t i;
	uint16_t n;
	int r = 0;

	memcpy(seed, rhopp, 64);
	for (i = 0; i < ML_L; i++) {
		n = (uint16_t)(kappa + i);
		seed[64] = (u_char)n;
		seed[65] = (u_char)(n >> 8);
		if ((r = ml_xof(h, h->shake256, &in, 1, buf, sizeof(buf))) != 0)
			break;
		(void)ml_unpack_offset(&y[i], buf, ML_GAMMA1, 18,
		    (1U << 18) - 1);
	}
	explicit_bzero(seed, sizeof(seed));
	explicit_bzero(buf, sizeof(buf));
	return r;
}

/* ---- Encodings --------------------------------------------------------- */

static void
ml_pk_encode(u_char pk[MLDSA44_PK_LEN], const u_char rho[32],
    const struct ml_poly t1[ML_K])
{
	uint32_t v[ML_N];
	size_t i, j;

	memcpy(pk, rho, 32);
	for (i = 0; i < ML_K; i++) {
		for (j = 0; j < ML_N; j++)
			v[j] = (uint32_t)t1[i].c[j];
		ml_pack(pk + 32 + i * ML_T1_BYTES, v, ML_N, 10);
	}
}

static void
ml_pk_decode(const u_char pk[MLDSA44_PK_LEN], struct ml_poly t1[ML_K])
{
	uint32_t v[ML_N];
	size_t i, j;

	for (i = 0; i < ML_K; i++) {
		ml_unpack(v, pk + 32 + i * ML_T1_BYTES, ML_N, 10);
		for (j = 0; j < ML_N; j++)
			t1[i].c[j] = (int32_t)v[j];
	}
}

#define ML_S_BYTES	(ML_N * 3 / 8)
#define ML_T0_BYTES	(ML_N * 13 / 8)

/* skEncode (alg. 24) of s1, s2, t0 in the normal, centred domain. */
static void
ml_sk_encode(u_char sk[MLDSA44_SK_LEN], const u_char rho[32],
    const u_char key[32], const u_char tr[ML_TR_LEN],
    const struct ml_poly s1[ML_L], const struct ml_poly s2[ML_K],
    const struct ml_poly t0[ML_K])
{
	u_char *p = sk;
	size_t i;

	memcpy(p, rho, 32);
	memcpy(p + 32, key, 32);
	memcpy(p + 64, tr, ML_TR_LEN);
	p += 128;
	for (i = 0; i < ML_L; i++, p += ML_S_BYTES)
		ml_pack_offset(p, &s1[i], ML_ETA, 3);
	for (i = 0; i < ML_K; i++, p += ML_S_BYTES)
		ml_pack_offset(p, &s2[i], ML_ETA, 3);
	for (i = 0; i < ML_K; i++, p += ML_T0_BYTES)
		ml_pack_offset(p, &t0[i], 1 << (ML_D - 1), 13);
}

/* ---- Keys ------------------------------------------------------------- */

void
mldsa44_key_free(struct mldsa44_key *key)
{
	if (key == NULL)
		return;
#ifdef HAVE_OPENSSL_MLDSA
	EVP_PKEY_free(key->pkey);
#endif
	secmem_free(key);
}

const u_char *
mldsa44_key_public(const struct mldsa44_key *key)
{
	return key->pk;
}

void
mldsa44_key_encode(const struct mldsa44_key *key, u_char sk[MLDSA44_SK_LEN])
{
	memcpy(sk, key->sk, MLDSA44_SK_LEN);
}

/*
 * From rho, K, s1 and s2 (normal domain) in key: A-hat, t = A s1 + s2,
 * (t1, t0), pk, tr and the NTT forms.  t0 gets the centred t0 (normal
 * domain) for the caller; s1, s2 are left in the NTT domain in key.
 */
static int
ml_key_expand(struct ml_hash *h, struct mldsa44_key *key,
    struct ml_poly t0[ML_K])
{
	struct ml_poly t[ML_K], t1[ML_K];
	struct ml_in in = { NULL, MLDSA44_PK_LEN };
	size_t i, j;
	int32_t v;
	int r = TOK_ERR_INTERNAL;

	if ((r = ml_expand_a(h, key->rho, key->a)) != 0)
		goto out;
	for (i = 0; i < ML_L; i++)
		ml_ntt(&key->s1[i]);
	ml_matvec(t, (const struct ml_poly (*)[ML_L])key->a, key->s1);
	for (i = 0; i < ML_K; i++) {
		for (j = 0; j < ML_N; j++) {
			v = ml_freeze(t[i].c[j] + key->s2[i].c[j]);
			ml_power2round(v, &t1[i].c[j], &t0[i].c[j]);
		}
		key->t0[i] = t0[i];
		ml_ntt(&key->t0[i]);
		ml_ntt(&key->s2[i]);
	}
	ml_pk_encode(key->pk, key->rho, t1);
	in.p = key->pk;
	if ((r = ml_shake256(h, &in, 1, key->tr, sizeof(key->tr))) != 0)
		goto out;
	r = 0;
 out:
	explicit_bzero(t, sizeof(t));
	return r;
}

#ifdef HAVE_OPENSSL_MLDSA
/* Give key an OpenSSL ML-DSA-44 key made from the seed, if OpenSSL can. */
static void
ml_openssl_key(struct mldsa44_key *key, const u_char seed[MLDSA44_SEED_LEN])
{
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	EVP_PKEY *pk = NULL;
	u_char pub[MLDSA44_PK_LEN];
	size_t publen = 0;

	params[0] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_ML_DSA_SEED, (void *)seed, MLDSA44_SEED_LEN);
	params[1] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "ML-DSA-44",
	    NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, params) != 1)
		goto out;
	/* Use OpenSSL's key only when it agrees with ours. */
	if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY,
	    pub, sizeof(pub), &publen) != 1 || publen != sizeof(pub) ||
	    memcmp(pub, key->pk, sizeof(pub)) != 0)
		goto out;
	key->pkey = pk;
	pk = NULL;
 out:
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
}
#endif

int
mldsa44_key_from_seed(const u_char seed[MLDSA44_SEED_LEN],
    struct mldsa44_key **keyp)
{
	struct mldsa44_key *key = NULL;
	struct ml_hash h;
	struct ml_poly t0[ML_K], s1[ML_L], s2[ML_K];
	u_char in0[MLDSA44_SEED_LEN + 2], exp[128];
	struct ml_in in = { in0, sizeof(in0) };
	size_t i;
	int r = TOK_ERR_INTERNAL;

	*keyp = NULL;
	if ((r = ml_hash_init(&h)) != 0)
		return r;
	if ((key = secmem_alloc(sizeof(*key))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	memcpy(in0, seed, MLDSA44_SEED_LEN);
	in0[MLDSA44_SEED_LEN] = ML_K;
	in0[MLDSA44_SEED_LEN + 1] = ML_L;
	if ((r = ml_shake256(&h, &in, 1, exp, sizeof(exp))) != 0)
		goto out;
	memcpy(key->rho, exp, 32);
	memcpy(key->key, exp + 96, 32);
	for (i = 0; i < ML_L; i++)
		if ((r = ml_rej_bounded(&h, exp + 32, (uint16_t)i,
		    &key->s1[i])) != 0)
			goto out;
	for (i = 0; i < ML_K; i++)
		if ((r = ml_rej_bounded(&h, exp + 32, (uint16_t)(ML_L + i),
		    &key->s2[i])) != 0)
			goto out;
	memcpy(s1, key->s1, sizeof(s1));
	memcpy(s2, key->s2, sizeof(s2));
	if ((r = ml_key_expand(&h, key, t0)) != 0)
		goto out;
	ml_sk_encode(key->sk, key->rho, key->key, key->tr, s1, s2, t0);
#ifdef HAVE_OPENSSL_MLDSA
	ml_openssl_key(key, seed);
#endif
	*keyp = key;
	key = NULL;
	r = 0;
 out:
	explicit_bzero(in0, sizeof(in0));
	explicit_bzero(exp, sizeof(exp));
	explicit_bzero(t0, sizeof(t0));
	explicit_bzero(s1, sizeof(s1));
	explicit_bzero(s2, sizeof(s2));
	ml_hash_free(&h);
	mldsa44_key_free(key);
	return r;
}

int
mldsa44_key_from_sk(const u_char *sk, size_t sklen, struct mldsa44_key **keyp)
{
	struct mldsa44_key *key = NULL;
	struct ml_hash h;
	struct ml_poly t0[ML_K], t0in[ML_K];
	const u_char *p;
	uint32_t bad = 0;
	size_t i, j;
	int r = TOK_ERR_INTERNAL;

	*keyp = NULL;
	if (sk == NULL || sklen != MLDSA44_SK_LEN)
		return TOK_ERR_KEY_INVALID;
	if ((r = ml_hash_init(&h)) != 0)
		return r;
	if ((key = secmem_alloc(sizeof(*key))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	memcpy(key->rho, sk, 32);
	memcpy(key->key, sk + 32, 32);
	p = sk + 128;
	for (i = 0; i < ML_L; i++, p += ML_S_BYTES)
		bad |= ml_unpack_offset(&key->s1[i], p, ML_ETA, 3,
		    2 * ML_ETA);
	for (i = 0; i < ML_K; i++, p += ML_S_BYTES)
		bad |= ml_unpack_offset(&key->s2[i], p, ML_ETA, 3,
		    2 * ML_ETA);
	for (i = 0; i < ML_K; i++, p += ML_T0_BYTES)
		(void)ml_unpack_offset(&t0in[i], p, 1 << (ML_D - 1), 13,
		    (1U << 13) - 1);
	if ((r = ml_key_expand(&h, key, t0)) != 0)
		goto out;
	/* The stored t0 and tr must be the ones rho, s1, s2 give. */
	for (i = 0; i < ML_K; i++)
		for (j = 0; j < ML_N; j++)
			bad |= (uint32_t)(t0[i].c[j] ^ t0in[i].c[j]);
	bad |= (uint32_t)CRYPTO_memcmp(key->tr, sk + 64, ML_TR_LEN);
	if (bad != 0) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	memcpy(key->sk, sk, MLDSA44_SK_LEN);
	*keyp = key;
	key = NULL;
	r = 0;
 out:
	explicit_bzero(t0, sizeof(t0));
	explicit_bzero(t0in, sizeof(t0in));
	ml_hash_free(&h);
	mldsa44_key_free(key);
	return r;
}

/* ---- Signing ------------------------------------------------------------ */

/* The 2-byte prefix of M' for pure ML-DSA (alg. 2 / 3). */
static void
ml_mprime_hdr(u_char hdr[2], size_t ctxlen)
{
	hdr[0] = 0;
	hdr[1] = (u_char)ctxlen;
}

static void
ml_w1_encode(u_char out[ML_K * ML_W1_BYTES], const struct ml_poly w1[ML_K])
{
	uint32_t v[ML_N];
	size_t i, j;

	for (i = 0; i < ML_K; i++) {
		for (j = 0; j < ML_N; j++)
			v[j] = (uint32_t)w1[i].c[j];
		ml_pack(out + i * ML_W1_BYTES, v, ML_N, 6);
	}
}

/* 0 when every |centred coefficient| < bound, else all ones. */
static uint32_t
ml_check_norm(const struct ml_poly *p, size_t n, int32_t bound)
{
	uint32_t bad = 0;
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < ML_N; j++)
			bad |= (uint32_t)((bound - 1 - ml_abs(p[i].c[j])) >> 31);
	return bad;
}

/*
 * The signing state, kept together so it can be wiped at once.  It lives
 * on the stack (about 34 KiB): secure memory would cost an mmap and an
 * mlock per signature.
 */
struct ml_sign_state {
	struct ml_poly y[ML_L], yhat[ML_L], w[ML_K], w1[ML_K];
	struct ml_poly c, chat, z[ML_L], cs2[ML_K], ct0[ML_K], h[ML_K];
	u_char rhopp[64];
	u_char w1enc[ML_K * ML_W1_BYTES];
};

static int
ml_sign_internal(struct ml_hash *hs, const struct mldsa44_key *key,
    const u_char mu[ML_MU_LEN], const u_char rnd[MLDSA44_RND_LEN],
    u_char sig[MLDSA44_SIG_LEN])
{
	struct ml_sign_state state, *st = &state;
	struct ml_in in[3];
	u_char ctilde[ML_CTILDE_LEN], *p;
	uint32_t reject, hv, nh;
	size_t i, j, n, iter;
	int32_t a1, a0, b1;
	uint16_t kappa = 0;
	int r = TOK_ERR_INTERNAL;

	in[0].p = key->key;
	in[0].len = 32;
	in[1].p = rnd;
	in[1].len = MLDSA44_RND_LEN;
	in[2].p = mu;
	in[2].len = ML_MU_LEN;
	if ((r = ml_shake256(hs, in, 3, st->rhopp, sizeof(st->rhopp))) != 0)
		goto out;
	for (iter = 0; iter < ML_MAX_ITER; iter++, kappa += ML_L) {
		if ((r = ml_expand_mask(hs, st->rhopp, kappa, st->y)) != 0)
			goto out;
		for (i = 0; i < ML_L; i++) {
			st->yhat[i] = st->y[i];
			ml_ntt(&st->yhat[i]);
		}
		ml_matvec(st->w, (const struct ml_poly (*)[ML_L])key->a,
		    st->yhat);
		for (i = 0; i < ML_K; i++)
			for (j = 0; j < ML_N; j++) {
				st->w[i].c[j] = ml_freeze(st->w[i].c[j]);
				st->w1[i].c[j] = ml_highbits(st->w[i].c[j]);
			}
		ml_w1_encode(st->w1enc, st->w1);
		in[0].p = mu;
		in[0].len = ML_MU_LEN;
		in[1].p = st->w1enc;
		in[1].len = sizeof(st->w1enc);
		if ((r = ml_shake256(hs, in, 2, ctilde, sizeof(ctilde))) != 0)
			goto out;
		ML_PUBLIC(ctilde, sizeof(ctilde));
		if ((r = ml_sample_in_ball(hs, ctilde, &st->c)) != 0)
			goto out;
		st->chat = st->c;
		ml_ntt(&st->chat);

		/*
		 * The checks in FIPS 204's order, each ending the iteration
		 * at once: whether one fails is independent of the key (its
		 * probability does not depend on s1, s2 or t0), and nothing
		 * of a rejected iteration is kept.
		 */
		for (i = 0; i < ML_L; i++) {
			ml_pointwise(&st->z[i], &st->chat, &key->s1[i]);
			ml_invntt(&st->z[i]);
			for (j = 0; j < ML_N; j++)
				st->z[i].c[j] = ml_centre(st->z[i].c[j] +
				    st->y[i].c[j]);
		}
		reject = ml_check_norm(st->z, ML_L, ML_GAMMA1 - ML_BETA);
		ML_PUBLIC(&reject, sizeof(reject));
		if (reject != 0)
			continue;

		reject = 0;
		for (i = 0; i < ML_K; i++) {
			ml_pointwise(&st->cs2[i], &st->chat, &key->s2[i]);
			ml_invntt(&st->cs2[i]);
			for (j = 0; j < ML_N; j++) {
				/* w - cs2, and its low bits' norm */
				st->cs2[i].c[j] = ml_freeze(st->w[i].c[j] -
				    st->cs2[i].c[j]);
				ml_decompose(st->cs2[i].c[j], &a1, &a0);
				reject |= (uint32_t)((ML_GAMMA2 - ML_BETA - 1 -
				    ml_abs(a0)) >> 31);
			}
		}
		ML_PUBLIC(&reject, sizeof(reject));
		if (reject != 0)
			continue;

		nh = 0;
		for (i = 0; i < ML_K; i++) {
			ml_pointwise(&st->ct0[i], &st->chat, &key->t0[i]);
			ml_invntt(&st->ct0[i]);
			for (j = 0; j < ML_N; j++) {
				st->ct0[i].c[j] = ml_centre(st->ct0[i].c[j]);
				/* MakeHint(-ct0, w - cs2 + ct0) */
				a1 = ml_highbits(st->cs2[i].c[j]);
				b1 = ml_highbits(ml_freeze(st->cs2[i].c[j] +
				    st->ct0[i].c[j]));
				hv = (uint32_t)(a1 ^ b1);
				hv = (hv | (0U - hv)) >> 31;
				st->h[i].c[j] = (int32_t)hv;
				nh += hv;
			}
		}
		reject |= ml_check_norm(st->ct0, ML_K, ML_GAMMA2);
		reject |= (uint32_t)((ML_OMEGA - (int32_t)nh) >> 31);
		ML_PUBLIC(&reject, sizeof(reject));
		if (reject != 0)
			continue;

		/* Accepted: everything below is the public signature. */
		ML_PUBLIC(st->h, sizeof(st->h));
		p = sig;
		memcpy(p, ctilde, ML_CTILDE_LEN);
		p += ML_CTILDE_LEN;
		for (i = 0; i < ML_L; i++, p += ML_Z_BYTES)
			ml_pack_offset(p, &st->z[i], ML_GAMMA1, 18);
		memset(p, 0, ML_OMEGA + ML_K);
		for (n = 0, i = 0; i < ML_K; i++) {
			for (j = 0; j < ML_N; j++)
				if (st->h[i].c[j] != 0)
					p[n++] = (u_char)j;
			p[ML_OMEGA + i] = (u_char)n;
		}
		r = 0;
		goto out;
	}
	r = TOK_ERR_INTERNAL;
 out:
	explicit_bzero(ctilde, sizeof(ctilde));
	explicit_bzero(st, sizeof(*st));
	return r;
}

/* mu = H(tr || 0 || ctxlen || ctx || msg, 64). */
static int
ml_mu(struct ml_hash *h, const u_char tr[ML_TR_LEN], const u_char *msg,
    size_t msglen, const u_char *ctx, size_t ctxlen, u_char mu[ML_MU_LEN])
{
	u_char hdr[2];
	struct ml_in in[4];

	ml_mprime_hdr(hdr, ctxlen);
	in[0].p = tr;
	in[0].len = ML_TR_LEN;
	in[1].p = hdr;
	in[1].len = sizeof(hdr);
	in[2].p = ctx;
	in[2].len = ctxlen;
	in[3].p = msg;
	in[3].len = msglen;
	return ml_shake256(h, in, 4, mu, ML_MU_LEN);
}

int
mldsa44_sign_rnd(const struct mldsa44_key *key, const u_char *msg,
    size_t msglen, const u_char *ctx, size_t ctxlen,
    const u_char rnd[MLDSA44_RND_LEN], u_char sig[MLDSA44_SIG_LEN])
{
	struct ml_hash h;
	u_char mu[ML_MU_LEN];
	int r;

	if (key == NULL || sig == NULL || rnd == NULL ||
	    (msg == NULL && msglen != 0) || (ctx == NULL && ctxlen != 0) ||
	    ctxlen > MLDSA44_CTX_MAX)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((r = ml_hash_init(&h)) != 0)
		return r;
	if ((r = ml_mu(&h, key->tr, msg, msglen, ctx, ctxlen, mu)) == 0)
		r = ml_sign_internal(&h, key, mu, rnd, sig);
	explicit_bzero(mu, sizeof(mu));
	ml_hash_free(&h);
	return r;
}

#ifdef HAVE_OPENSSL_MLDSA
static int
ml_openssl_sign(EVP_PKEY *pkey, const u_char *msg, size_t msglen,
    const u_char *ctx, size_t ctxlen, u_char sig[MLDSA44_SIG_LEN])
{
	EVP_PKEY_CTX *pctx = NULL;
	EVP_SIGNATURE *alg = NULL;
	OSSL_PARAM params[2];
	size_t siglen = MLDSA44_SIG_LEN;
	int r = TOK_ERR_LIBCRYPTO;

	/* No parameter at all for the empty context (ctx may be NULL). */
	params[0] = params[1] = OSSL_PARAM_construct_end();
	if (ctxlen != 0)
		params[0] = OSSL_PARAM_construct_octet_string(
		    OSSL_SIGNATURE_PARAM_CONTEXT_STRING, (void *)ctx, ctxlen);
	if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    (alg = EVP_SIGNATURE_fetch(NULL, "ML-DSA-44", NULL)) == NULL ||
	    EVP_PKEY_sign_message_init(pctx, alg, params) != 1 ||
	    EVP_PKEY_sign(pctx, sig, &siglen, msg, msglen) != 1 ||
	    siglen != MLDSA44_SIG_LEN)
		goto out;
	r = 0;
 out:
	EVP_SIGNATURE_free(alg);
	EVP_PKEY_CTX_free(pctx);
	return r;
}

static int
ml_openssl_verify(const u_char *pk, const u_char *msg, size_t msglen,
    const u_char *ctx, size_t ctxlen, const u_char *sig)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_SIGNATURE *alg = NULL;
	OSSL_PARAM params[2];
	int r = TOK_ERR_LIBCRYPTO;

	/* No parameter at all for the empty context (ctx may be NULL). */
	params[0] = params[1] = OSSL_PARAM_construct_end();
	if (ctxlen != 0)
		params[0] = OSSL_PARAM_construct_octet_string(
		    OSSL_SIGNATURE_PARAM_CONTEXT_STRING, (void *)ctx, ctxlen);
	if ((pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ML-DSA-44", NULL,
	    pk, MLDSA44_PK_LEN)) == NULL ||
	    (pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    (alg = EVP_SIGNATURE_fetch(NULL, "ML-DSA-44", NULL)) == NULL ||
	    EVP_PKEY_verify_message_init(pctx, alg, params) != 1)
		goto out;
	r = EVP_PKEY_verify(pctx, sig, MLDSA44_SIG_LEN, msg, msglen) == 1 ?
	    0 : TOK_ERR_SIGNATURE_INVALID;
 out:
	EVP_SIGNATURE_free(alg);
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(pkey);
	return r;
}
#endif /* HAVE_OPENSSL_MLDSA */

int
mldsa44_sign(const struct mldsa44_key *key, const u_char *msg, size_t msglen,
    const u_char *ctx, size_t ctxlen, u_char sig[MLDSA44_SIG_LEN])
{
	u_char rnd[MLDSA44_RND_LEN];
	int r;

	if (key == NULL || sig == NULL || (msg == NULL && msglen != 0) ||
	    (ctx == NULL && ctxlen != 0) || ctxlen > MLDSA44_CTX_MAX)
		return TOK_ERR_INVALID_ARGUMENT;
#ifdef HAVE_OPENSSL_MLDSA
	if (key->pkey != NULL)
		return ml_openssl_sign(key->pkey, msg, msglen, ctx, ctxlen,
		    sig);
#endif
	if (RAND_priv_bytes(rnd, sizeof(rnd)) != 1)
		return TOK_ERR_LIBCRYPTO;
	r = mldsa44_sign_rnd(key, msg, msglen, ctx, ctxlen, rnd, sig);
	explicit_bzero(rnd, sizeof(rnd));
	return r;
}

/* ---- Verification ------------------------------------------------------ */

/* HintBitUnpack (alg. 21); -1 when malformed. */
static int
ml_hint_unpack(const u_char *y, struct ml_poly h[ML_K])
{
	size_t i, idx = 0, first;

	memset(h, 0, sizeof(*h) * ML_K);
	for (i = 0; i < ML_K; i++) {
		if (y[ML_OMEGA + i] < idx || y[ML_OMEGA + i] > ML_OMEGA)
			return -1;
		first = idx;
		while (idx < y[ML_OMEGA + i]) {
			if (idx > first && y[idx - 1] >= y[idx])
				return -1;
			h[i].c[y[idx]] = 1;
			idx++;
		}
	}
	for (; idx < ML_OMEGA; idx++)
		if (y[idx] != 0)
			return -1;
	return 0;
}

int
mldsa44_verify_own(const u_char *pk, size_t pklen, const u_char *msg,
    size_t msglen, const u_char *ctx, size_t ctxlen, const u_char *sig,
    size_t siglen)
{
	struct {
		struct ml_poly a[ML_K][ML_L], t1[ML_K], z[ML_L], h[ML_K];
		struct ml_poly c, w[ML_K];
		u_char w1enc[ML_K * ML_W1_BYTES];
	} *v = NULL;
	struct ml_hash hs;
	struct ml_in in[2];
	u_char tr[ML_TR_LEN], mu[ML_MU_LEN], ctilde[ML_CTILDE_LEN];
	size_t i, j;
	int r = TOK_ERR_INTERNAL;

	if (pk == NULL || pklen != MLDSA44_PK_LEN)
		return TOK_ERR_KEY_INVALID;
	if ((msg == NULL && msglen != 0) || (ctx == NULL && ctxlen != 0) ||
	    ctxlen > MLDSA44_CTX_MAX)
		return TOK_ERR_INVALID_ARGUMENT;
	if (sig == NULL || siglen != MLDSA44_SIG_LEN)
		return TOK_ERR_SIGNATURE_INVALID;
	if ((r = ml_hash_init(&hs)) != 0)
		return r;
	if ((v = calloc(1, sizeof(*v))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	r = TOK_ERR_SIGNATURE_INVALID;
	for (i = 0; i < ML_L; i++)
		(void)ml_unpack_offset(&v->z[i], sig + ML_CTILDE_LEN +
		    i * ML_Z_BYTES, ML_GAMMA1, 18, (1U << 18) - 1);
	if (ml_hint_unpack(sig + ML_CTILDE_LEN + ML_L * ML_Z_BYTES,
	    v->h) != 0 || ml_check_norm(v->z, ML_L,
	    ML_GAMMA1 - ML_BETA) != 0)
		goto out;
	ml_pk_decode(pk, v->t1);
	in[0].p = pk;
	in[0].len = MLDSA44_PK_LEN;
	if ((r = ml_expand_a(&hs, pk, v->a)) != 0 ||
	    (r = ml_shake256(&hs, in, 1, tr, sizeof(tr))) != 0 ||
	    (r = ml_mu(&hs, tr, msg, msglen, ctx, ctxlen, mu)) != 0 ||
	    (r = ml_sample_in_ball(&hs, sig, &v->c)) != 0)
		goto out;
	ml_ntt(&v->c);
	for (i = 0; i < ML_L; i++)
		ml_ntt(&v->z[i]);
	for (i = 0; i < ML_K; i++) {
		for (j = 0; j < ML_N; j++)
			v->t1[i].c[j] <<= ML_D;
		ml_ntt(&v->t1[i]);
	}
	/* w' = A z - c t1 2^d */
	for (i = 0; i < ML_K; i++) {
		ml_pointwise(&v->w[i], &v->c, &v->t1[i]);
		for (j = 0; j < ML_N; j++)
			v->w[i].c[j] = -v->w[i].c[j];
		for (j = 0; j < ML_L; j++)
			ml_pointwise_acc(&v->w[i], &v->a[i][j], &v->z[j]);
		ml_invntt(&v->w[i]);
		for (j = 0; j < ML_N; j++)
			v->w[i].c[j] = ml_usehint(v->h[i].c[j],
			    ml_freeze(v->w[i].c[j]));
	}
	ml_w1_encode(v->w1enc, v->w);
	in[0].p = mu;
	in[0].len = sizeof(mu);
	in[1].p = v->w1enc;
	in[1].len = sizeof(v->w1enc);
	if ((r = ml_shake256(&hs, in, 2, ctilde, sizeof(ctilde))) != 0)
		goto out;
	r = CRYPTO_memcmp(ctilde, sig, ML_CTILDE_LEN) == 0 ?
	    0 : TOK_ERR_SIGNATURE_INVALID;
 out:
	free(v);
	ml_hash_free(&hs);
	return r;
}

int
mldsa44_verify(const u_char *pk, size_t pklen, const u_char *msg,
    size_t msglen, const u_char *ctx, size_t ctxlen, const u_char *sig,
    size_t siglen)
{
#ifdef HAVE_OPENSSL_MLDSA
	int r;

	if (pk == NULL || pklen != MLDSA44_PK_LEN)
		return TOK_ERR_KEY_INVALID;
	if ((msg == NULL && msglen != 0) || (ctx == NULL && ctxlen != 0) ||
	    ctxlen > MLDSA44_CTX_MAX)
		return TOK_ERR_INVALID_ARGUMENT;
	if (sig == NULL || siglen != MLDSA44_SIG_LEN)
		return TOK_ERR_SIGNATURE_INVALID;
	r = ml_openssl_verify(pk, msg, msglen, ctx, ctxlen, sig);
	if (r != TOK_ERR_LIBCRYPTO)
		return r;
	/* OpenSSL built without the algorithm: fall through to ours. */
#endif
	return mldsa44_verify_own(pk, pklen, msg, msglen, ctx, ctxlen, sig,
	    siglen);
}

const char *
mldsa44_backend(void)
{
#ifdef HAVE_OPENSSL_MLDSA
	EVP_SIGNATURE *alg;

	if ((alg = EVP_SIGNATURE_fetch(NULL, "ML-DSA-44", NULL)) != NULL) {
		EVP_SIGNATURE_free(alg);
		return "openssl";
	}
#endif
	return "tokagent";
}

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * ML-DSA-44 (FIPS 204): key expansion from a 32-byte seed or an encoded
 * private key, hedged signing and verification of the "pure" ML-DSA
 * variant with a context string.
 *
 * When the OpenSSL in use offers ML-DSA (configure probes for it), its
 * implementation does the work; otherwise our own does, with SHAKE-128/256
 * from OpenSSL's EVP.  Our own code signs in constant time with respect to
 * the private parts (K, s1, s2, t0) and the mask y: no branch or memory
 * address depends on them, only on values the algorithm publishes
 * (c-tilde, the hint) and on its rejection decisions, whose probability
 * does not depend on the key (tests/unit/test_mldsa.c has valgrind check
 * this).  Key expansion samples s1 and s2 by rejection: its running time
 * shows how many half-bytes were rejected, not the values kept.
 *
 * Functions returning int return 0 or a negative TOK_ERR_* (common/err.h).
 * Outputs are set only on success.
 */
#ifndef COMMON_MLDSA44_H
#define COMMON_MLDSA44_H

#include <sys/types.h>
#include <stddef.h>

#define MLDSA44_SEED_LEN	32	/* xi, as OpenSSH stores it */
#define MLDSA44_PK_LEN		1312
#define MLDSA44_SK_LEN		2560	/* skEncode, FIPS 204 alg. 24 */
#define MLDSA44_SIG_LEN		2420
#define MLDSA44_RND_LEN		32
#define MLDSA44_CTX_MAX		255

#define MLDSA44_WUR __attribute__((warn_unused_result))

/* An expanded private key; kept in secure memory. */
struct mldsa44_key;

/*
 * mldsa44_key_from_seed: ML-DSA.KeyGen_internal(seed) (FIPS 204 alg. 6).
 * *keyp is owned by the caller (mldsa44_key_free).
 */
int mldsa44_key_from_seed(const u_char seed[MLDSA44_SEED_LEN],
    struct mldsa44_key **keyp) MLDSA44_WUR;
/*
 * mldsa44_key_from_sk: a key from its 2560-byte encoding.  The encoding is
 * checked for consistency (coefficient ranges, t0 and tr recomputed from
 * rho, s1 and s2): TOK_ERR_KEY_INVALID when it does not hold.
 */
int mldsa44_key_from_sk(const u_char *sk, size_t sklen,
    struct mldsa44_key **keyp) MLDSA44_WUR;
/* mldsa44_key_public: the key's 1312-byte public key, valid while key is. */
const u_char *mldsa44_key_public(const struct mldsa44_key *key);
/* mldsa44_key_encode: the key's 2560-byte private encoding into sk. */
void mldsa44_key_encode(const struct mldsa44_key *key,
    u_char sk[MLDSA44_SK_LEN]);
/* mldsa44_key_free: zero and free key; NULL is accepted. */
void mldsa44_key_free(struct mldsa44_key *key);

/*
 * mldsa44_sign: ML-DSA.Sign (FIPS 204 alg. 2, hedged: fresh randomness
 * from OpenSSL's private DRBG) of msg with context ctx (at most
 * MLDSA44_CTX_MAX bytes) into sig (MLDSA44_SIG_LEN bytes).
 */
int mldsa44_sign(const struct mldsa44_key *key, const u_char *msg,
    size_t msglen, const u_char *ctx, size_t ctxlen,
    u_char sig[MLDSA44_SIG_LEN]) MLDSA44_WUR;
/*
 * mldsa44_sign_rnd: as mldsa44_sign, but with the caller's 32 bytes of
 * randomness (all zero = the deterministic variant); always our own code.
 * For tests.
 */
int mldsa44_sign_rnd(const struct mldsa44_key *key, const u_char *msg,
    size_t msglen, const u_char *ctx, size_t ctxlen,
    const u_char rnd[MLDSA44_RND_LEN], u_char sig[MLDSA44_SIG_LEN])
    MLDSA44_WUR;
/*
 * mldsa44_verify: ML-DSA.Verify (FIPS 204 alg. 3).  0 when sig (siglen
 * bytes) is a valid signature of msg with context ctx under the public key
 * pk (pklen bytes); TOK_ERR_SIGNATURE_INVALID when not (also for wrong
 * lengths or a malformed hint); TOK_ERR_KEY_INVALID for a pk of the wrong
 * length.
 */
int mldsa44_verify(const u_char *pk, size_t pklen, const u_char *msg,
    size_t msglen, const u_char *ctx, size_t ctxlen, const u_char *sig,
    size_t siglen) MLDSA44_WUR;
/*
 * mldsa44_verify_own: as mldsa44_verify but always with our own code (for
 * tests comparing it with OpenSSL's where that exists).
 */
int mldsa44_verify_own(const u_char *pk, size_t pklen, const u_char *msg,
    size_t msglen, const u_char *ctx, size_t ctxlen, const u_char *sig,
    size_t siglen) MLDSA44_WUR;
/* mldsa44_backend: "openssl" or "tokagent": who signs and verifies. */
const char *mldsa44_backend(void);

#endif /* COMMON_MLDSA44_H */

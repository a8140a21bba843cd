/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * ssh-mldsa44-ed25519@openssh.com keys and signatures (see key.h), as
 * OpenSSH 10 implements draft-miller-sshm-mldsa44-ed25519-composite-sigs
 * on top of the LAMPS composite signatures (COMPSIG-MLDSA44-Ed25519-SHA512):
 *
 *   public key  = ML-DSA-44 pk (1312) || Ed25519 pk (32)
 *   private key = ML-DSA-44 seed (32) || Ed25519 seed (32)
 *   M'          = "CompositeAlgorithmSignatures2025" || label ||
 *                 byte len(ctx) || ctx || SHA-512(message), ctx empty
 *   signature   = ML-DSA-44.Sign(M', context = label) (2420) ||
 *                 Ed25519.Sign(M') (64)
 */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "common/key_impl.h"
#include "common/mldsa44.h"
#include "common/secmem.h"

#define KEY_MLDSA_PREFIX	"CompositeAlgorithmSignatures2025"
#define KEY_MLDSA_LABEL		"COMPSIG-MLDSA44-Ed25519-SHA512"
#define KEY_MLDSA_MPRIME_LEN	(sizeof(KEY_MLDSA_PREFIX) - 1 + \
				    sizeof(KEY_MLDSA_LABEL) - 1 + 1 + 64)

/*
 * Expand seed into *mlp (ML-DSA) and *edp (Ed25519, private) and write the
 * composite public key they give to pub.
 */
static int
key_mldsa_expand(const u_char *seed, struct mldsa44_key **mlp,
    EVP_PKEY **edp, u_char pub[KEY_MLDSA_PK_LEN])
{
	struct mldsa44_key *ml = NULL;
	EVP_PKEY *ed = NULL;
	size_t len = KEY_ED25519_PK_LEN;
	int r;

	*mlp = NULL;
	*edp = NULL;
	if ((r = mldsa44_key_from_seed(seed, &ml)) != 0)
		return r;
	if ((ed = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    seed + MLDSA44_SEED_LEN, 32)) == NULL ||
	    EVP_PKEY_get_raw_public_key(ed, pub + MLDSA44_PK_LEN,
	    &len) != 1 || len != KEY_ED25519_PK_LEN) {
		mldsa44_key_free(ml);
		EVP_PKEY_free(ed);
		return TOK_ERR_LIBCRYPTO;
	}
	memcpy(pub, mldsa44_key_public(ml), MLDSA44_PK_LEN);
	*mlp = ml;
	*edp = ed;
	return 0;
}

int
key_mldsa_set_private(struct key *k, const u_char *seed, size_t len)
{
	struct mldsa44_key *ml = NULL;
	EVP_PKEY *ed = NULL;
	u_char pub[KEY_MLDSA_PK_LEN], *s = NULL;
	int r;

	if (len != KEY_MLDSA_SEED_LEN || k->mldsa_pub == NULL)
		return TOK_ERR_KEY_INVALID;
	if ((r = key_mldsa_expand(seed, &ml, &ed, pub)) != 0)
		return r;
	/* Both halves must be the public key's (public data: memcmp). */
	if (memcmp(pub, k->mldsa_pub, sizeof(pub)) != 0) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	if ((s = secmem_alloc(KEY_MLDSA_SEED_LEN)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	memcpy(s, seed, KEY_MLDSA_SEED_LEN);
	secmem_free(k->mldsa_seed);
	mldsa44_key_free(k->mldsa);
	EVP_PKEY_free(k->pkey);
	k->mldsa_seed = s;
	k->mldsa = ml;
	k->pkey = ed;
	s = NULL;
	ml = NULL;
	ed = NULL;
	k->has_private = 1;
	r = 0;
 out:
	secmem_free(s);
	mldsa44_key_free(ml);
	EVP_PKEY_free(ed);
	return r;
}

int
key_mldsa_copy_private(const struct key *from, struct key *to)
{
	if (from->mldsa_seed == NULL)
		return TOK_ERR_KEY_NOT_FOUND;
	return key_mldsa_set_private(to, from->mldsa_seed, KEY_MLDSA_SEED_LEN);
}

int
key_mldsa_generate(struct key **keyp)
{
	const struct key_kt *kt;
	struct mldsa44_key *ml = NULL;
	EVP_PKEY *ed = NULL;
	struct key *k = NULL;
	u_char seed[KEY_MLDSA_SEED_LEN], pub[KEY_MLDSA_PK_LEN];
	int r = TOK_ERR_INTERNAL;

	*keyp = NULL;
	if ((kt = key_kt_by_type(KEY_MLDSA44_ED25519, NULL)) == NULL)
		return TOK_ERR_INTERNAL;
	if (RAND_priv_bytes(seed, sizeof(seed)) != 1)
		return TOK_ERR_LIBCRYPTO;
	if ((r = key_mldsa_expand(seed, &ml, &ed, pub)) != 0)
		goto out;
	if ((k = key_new(kt)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = key_mldsa_set_public(k, pub, sizeof(pub))) != 0 ||
	    (r = key_mldsa_set_private(k, seed, sizeof(seed))) != 0 ||
	    (r = key_finish(k)) != 0)
		goto out;
	*keyp = k;
	k = NULL;
	r = 0;
 out:
	explicit_bzero(seed, sizeof(seed));
	mldsa44_key_free(ml);
	EVP_PKEY_free(ed);
	key_free(k);
	return r;
}

/* M' for an empty context. */
static int
key_mldsa_mprime(const u_char *data, size_t datalen,
    u_char mp[KEY_MLDSA_MPRIME_LEN])
{
	unsigned int mdlen = 64;
	size_t off = 0;

	memcpy(mp, KEY_MLDSA_PREFIX, sizeof(KEY_MLDSA_PREFIX) - 1);
	off += sizeof(KEY_MLDSA_PREFIX) - 1;
	memcpy(mp + off, KEY_MLDSA_LABEL, sizeof(KEY_MLDSA_LABEL) - 1);
	off += sizeof(KEY_MLDSA_LABEL) - 1;
	mp[off++] = 0;
	if (EVP_Digest(data, datalen, mp + off, &mdlen, EVP_sha512(),
	    NULL) != 1 || mdlen != 64)
		return TOK_ERR_LIBCRYPTO;
	return 0;
}

int
key_mldsa_sign(const struct key *k, const u_char *data, size_t datalen,
    struct buf *sigout)
{
	EVP_MD_CTX *ctx = NULL;
	u_char mp[KEY_MLDSA_MPRIME_LEN], sig[KEY_MLDSA_SIG_LEN];
	size_t edlen = KEY_ED25519_SIG_LEN;
	int r = TOK_ERR_INTERNAL;

	if (k->mldsa == NULL || !k->has_private)
		return TOK_ERR_KEY_NOT_FOUND;
	if ((r = key_mldsa_mprime(data, datalen, mp)) != 0)
		return r;
	if ((r = mldsa44_sign(k->mldsa, mp, sizeof(mp),
	    (const u_char *)KEY_MLDSA_LABEL, sizeof(KEY_MLDSA_LABEL) - 1,
	    sig)) != 0)
		goto out;
	r = TOK_ERR_LIBCRYPTO;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) != 1 ||
	    EVP_DigestSign(ctx, sig + MLDSA44_SIG_LEN, &edlen, mp,
	    sizeof(mp)) != 1 || edlen != KEY_ED25519_SIG_LEN)
		goto out;
	if ((r = buf_put_cstring(sigout, k->kt->name)) != 0 ||
	    (r = buf_put_string(sigout, sig, sizeof(sig))) != 0)
		goto out;
	r = 0;
 out:
	EVP_MD_CTX_free(ctx);
	explicit_bzero(sig, sizeof(sig));
	return r;
}

int
key_mldsa_verify(const struct key *k, const u_char *sig, size_t siglen,
    const u_char *data, size_t datalen)
{
	EVP_MD_CTX *ctx = NULL;
	u_char mp[KEY_MLDSA_MPRIME_LEN];
	int r;

	if (k->mldsa_pub == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	if (siglen != KEY_MLDSA_SIG_LEN)
		return TOK_ERR_INVALID_FORMAT;
	if ((r = key_mldsa_mprime(data, datalen, mp)) != 0)
		return r;
	/* Both halves must verify. */
	if ((r = mldsa44_verify(k->mldsa_pub, MLDSA44_PK_LEN, mp, sizeof(mp),
	    (const u_char *)KEY_MLDSA_LABEL, sizeof(KEY_MLDSA_LABEL) - 1,
	    sig, MLDSA44_SIG_LEN)) != 0)
		return r == TOK_ERR_ALLOC || r == TOK_ERR_LIBCRYPTO ?
		    r : TOK_ERR_SIGNATURE_INVALID;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return TOK_ERR_ALLOC;
	r = TOK_ERR_LIBCRYPTO;
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) != 1)
		goto out;
	r = EVP_DigestVerify(ctx, sig + MLDSA44_SIG_LEN, KEY_ED25519_SIG_LEN,
	    mp, sizeof(mp)) == 1 ? 0 : TOK_ERR_SIGNATURE_INVALID;
 out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Internals shared by key.c, key_sig.c and key_priv.c.  Not part of the
 * key API: nothing outside common/key*.c includes this.
 */
#ifndef COMMON_KEY_IMPL_H
#define COMMON_KEY_IMPL_H

#include <openssl/evp.h>

#include "common/key.h"

struct mldsa44_key;

#define KEY_ED25519_PK_LEN	32
#define KEY_ED25519_SK_LEN	64	/* seed || pk, as OpenSSH keeps it */
#define KEY_ED25519_SIG_LEN	64
#define KEY_EC_POINT_MAX	(1 + 2 * 66)
#define KEY_SK_KEYHANDLE_MAX	2048
#define KEY_SK_RESERVED_MAX	1024
/* ssh-mldsa44-ed25519@openssh.com: ML-DSA-44 part, then the Ed25519 part. */
#define KEY_MLDSA_PK_LEN	(1312 + 32)
#define KEY_MLDSA_SEED_LEN	(32 + 32)	/* the private key OpenSSH keeps */
#define KEY_MLDSA_SIG_LEN	(2420 + 64)

/* One row per plain key type. */
struct key_kt {
	enum key_type type;
	const char *name;	/* plain blob / signature name */
	const char *certname;	/* *-cert-v01@openssh.com */
	const char *curve;	/* SSH curve name, ECDSA only */
	const char *group;	/* OpenSSL group name, ECDSA only */
	size_t fieldlen;	/* ECDSA field / order bytes */
	int bits;		/* curve size, ECDSA / Ed25519 */
	const char *mdname;	/* ECDSA hash */
};

struct key_cert {
	uint64_t serial;
	uint32_t type;
	char *key_id;
	char **principals;
	size_t nprincipals;
	uint64_t valid_after;
	uint64_t valid_before;
	u_char *critical;
	size_t critlen;
	u_char *extensions;
	size_t extlen;
	struct key *signature_key;
	size_t signed_len;	/* blob bytes the CA signature covers */
	size_t sig_off;		/* the signature's contents within the blob */
	size_t sig_len;
};

struct key {
	const struct key_kt *kt;
	EVP_PKEY *pkey;
	int has_private;
	int bits;
	u_char pub[KEY_EC_POINT_MAX];	/* Ed25519 pk or EC point (04 x y) */
	size_t publen;
	char *sk_application;
	uint8_t sk_flags;
	int sk_has_handle;
	u_char *sk_key_handle;
	size_t sk_khlen;
	u_char *sk_reserved;
	size_t sk_reservedlen;
	u_char *mldsa_pub;	/* KEY_MLDSA_PK_LEN bytes, ML-DSA hybrids */
	u_char *mldsa_seed;	/* KEY_MLDSA_SEED_LEN bytes, secure memory */
	struct mldsa44_key *mldsa;	/* expanded from mldsa_seed */
	struct key_cert *cert;
	u_char *blob;		/* exact public blob (cert blob for certs) */
	size_t bloblen;
	u_char *plain;		/* plain public blob; == blob unless a cert */
	size_t plainlen;
};

const struct key_kt *key_kt_by_type(enum key_type type, const char *curve);
const struct key_kt *key_kt_by_name(const char *name, int *is_certp);

struct key *key_new(const struct key_kt *kt);
/* key_finish: compute and cache the plain blob (and blob, if no cert). */
int key_finish(struct key *k);
/* key_parse_pub_fields: the public fields after the type name into k. */
int key_parse_pub_fields(struct buf *b, struct key *k);

/* EVP_PKEY construction from wire parts (private parts optional). */
int key_ec_pkey(const struct key_kt *kt, const u_char *q, size_t qlen,
    const u_char *d, size_t dlen, EVP_PKEY **pkp);
int key_rsa_pkey(const u_char *n, size_t nlen, const u_char *e, size_t elen,
    const u_char *d, size_t dlen, const u_char *iqmp, size_t iqmplen,
    const u_char *p, size_t plen, const u_char *q, size_t qlen,
    EVP_PKEY **pkp);
/* key_from_evp: a key for pk (public only unless with_private). */
int key_from_evp(EVP_PKEY *pk, int with_private, struct key **keyp);
/* key_put_bn_param: an EVP_PKEY BIGNUM parameter as an SSH mpint. */
int key_put_bn_param(const EVP_PKEY *pk, const char *param, struct buf *b);
/* key_check_pairwise: private half matches public half. */
int key_check_pairwise(EVP_PKEY *pk);

/* key_md_for_flags: the RSA hash and signature name for agent flags. */
const EVP_MD *key_rsa_md(uint32_t agent_flags, const char **algp);

/*
 * ssh-mldsa44-ed25519@openssh.com (common/key_mldsa.c; its public key is
 * set and freed with the key's other fields in common/key.c).  k->pkey
 * holds the Ed25519 half (with its private key when k has one).
 */
/* key_mldsa_set_public: take the 1344-byte composite public key. */
int key_mldsa_set_public(struct key *k, const u_char *pub, size_t len);
/*
 * key_mldsa_set_private: give k the private key from the 64-byte seed
 * OpenSSH stores; both halves must yield k's public key.
 */
int key_mldsa_set_private(struct key *k, const u_char *seed, size_t len);
/* key_mldsa_copy_private: give to a copy of the private key of from. */
int key_mldsa_copy_private(const struct key *from, struct key *to);
/* key_mldsa_generate: a new private key from fresh randomness. */
int key_mldsa_generate(struct key **keyp);
/* key_mldsa_sign: append the signature blob (name + composite). */
int key_mldsa_sign(const struct key *k, const u_char *data, size_t datalen,
    struct buf *sigout);
/* key_mldsa_verify: the composite signature (2484 bytes) over data. */
int key_mldsa_verify(const struct key *k, const u_char *sig, size_t siglen,
    const u_char *data, size_t datalen);

#endif /* COMMON_KEY_IMPL_H */

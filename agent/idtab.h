/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The identity table: every key the agent offers, as public key + handle
 * into the helper that holds the private half, with its constraints.
 * Lookup by public key blob is a hash, so 10,000 keys cost what 10 do;
 * listing keeps the order keys were added in.
 */
#ifndef AGENT_IDTAB_H
#define AGENT_IDTAB_H

#include "common/err.h"

#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct key;
struct helper;
struct dest_constraints;

struct identity {
	struct key *key;		/* public key or certificate */
	struct buf *blob;		/* its wire blob, as listed */
	char *comment;
	char *fingerprint;		/* SHA256:... of the plain key */
	struct helper *helper;		/* holds the private half */
	uint64_t handle;		/* the helper's name for it */
	char *provider;			/* PKCS#11 provider; NULL for others */
	char *token_serial;		/* the card's serial (PIV); NULL: unknown */
	char *sk_provider;		/* sk middleware (realpath); NULL: internal */
	struct buf *readd;		/* the key as added, to give back to a
					 * restarted helper that holds no secret */
	uint64_t expires_ms;		/* monotonic deadline; 0 = none */
	int confirm;			/* ask before every use */
	int present;			/* token plugged in (always 1 for software) */
	struct dest_constraints *dest;	/* NULL = usable anywhere */
	/* private to idtab */
	uint32_t hash;
	struct identity *hnext;
	TAILQ_ENTRY(identity) entry;
};

struct idtab;

/* idtab_new: an empty table, or NULL on no memory. */
struct idtab *idtab_new(void);
/* idtab_free: free the table and every identity in it. */
void idtab_free(struct idtab *tab);
size_t idtab_count(const struct idtab *tab);
/* idtab_first/idtab_next: walk in insertion order (removal of id during the walk is not allowed; fetch next first). */
struct identity *idtab_first(struct idtab *tab);
struct identity *idtab_next(struct identity *id);
/* idtab_lookup: the identity whose blob is exactly blob/len, or NULL. */
struct identity *idtab_lookup(struct idtab *tab, const u_char *blob,
    size_t len);
/*
 * idtab_insert: add id (owned by the table from now on; its blob must be
 * set and unique in the table).  Returns 0 or TOK_ERR_ALLOC.
 */
int idtab_insert(struct idtab *tab, struct identity *id)
    TOK_WUR;
/* idtab_unlink: take id out of the table without freeing it. */
void idtab_unlink(struct idtab *tab, struct identity *id);
/* identity_free: free an identity that is not in a table. NULL ok. */
void identity_free(struct identity *id);

#endif /* AGENT_IDTAB_H */

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The keys a helper holds, by handle: a slot array indexed by handle, so
 * lookups cost the same with 10 keys or 10,000.  Shared by the software
 * token and the sk helper.  Not thread-safe: the owner serialises.
 */
#ifndef TOKEN_KEYSTORE_H
#define TOKEN_KEYSTORE_H

#include "common/err.h"

#include <pthread.h>
#include <stdint.h>

struct buf;
struct key;
struct keystore;

enum keystore_kind {
	KEYSTORE_SOFTWARE,	/* private keys, no FIDO key */
	KEYSTORE_SK,		/* FIDO keys: key handles */
};

/* keystore_new: an empty store, or NULL on no memory. */
struct keystore *keystore_new(void);
/* keystore_free: free every key (zeroed) and the store.  NULL ok. */
void keystore_free(struct keystore *ks);
/* keystore_add: store k (owned from now on) and set *handlep (never 0). */
int keystore_add(struct keystore *ks, struct key *k, uint64_t *handlep)
    TOK_WUR;
/* keystore_get: the key for handle, owned by the store, or NULL. */
struct key *keystore_get(struct keystore *ks, uint64_t handle);
/* keystore_drop: free the key for handle; TOK_ERR_KEY_NOT_FOUND if none. */
int keystore_drop(struct keystore *ks, uint64_t handle);
/* keystore_drop_all: free every key. */
void keystore_drop_all(struct keystore *ks);

/*
 * keystore_add_from_agent: IPC_ADD_KEY (common/ipc.h): parse the
 * SSH_AGENTC_ADD_IDENTITY body in req, refuse keys not of kind, store the
 * key and append the IPC_KEY payload to reply.  lock (may be NULL) is held
 * around the store's changes.  Returns 0 or a TOK_ERR_* code.
 */
int keystore_add_from_agent(struct keystore *ks, pthread_mutex_t *lock,
    enum keystore_kind kind, struct buf *req, struct buf *reply)
    TOK_WUR;

#endif /* TOKEN_KEYSTORE_H */

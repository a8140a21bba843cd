/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Adding and removing identities (ssh-add, ssh-add -d/-D), and their
 * lifetimes.  The agent never parses private key material: an add is
 * forwarded whole to the helper that will hold the key (the software token,
 * or the sk helper for FIDO keys), which answers with the public key and a
 * handle; the agent then applies the constraints that follow the key.
 */
#ifndef AGENT_KEYS_H
#define AGENT_KEYS_H

#include "common/err.h"

#include <stdint.h>

struct buf;
struct conn;
struct constraints;
struct helper;
struct identity;
struct key;

/*
 * The helper that takes a new key: the sk helper for FIDO keys (is_sk),
 * else the software token; NULL when it cannot run.
 */
typedef struct helper *keys_helper_for(int is_sk);

/*
 * keys_add: SSH_AGENTC_ADD_IDENTITY / ADD_ID_CONSTRAINED (m after the type
 * byte), at the helper helper_for names.
 */
void keys_add(struct conn *c, struct buf *m, int constrained,
    keys_helper_for *helper_for);
/* keys_remove: SSH_AGENTC_REMOVE_IDENTITY. */
void keys_remove(struct conn *c, struct buf *m);
/*
 * keys_remove_all: SSH_AGENTC_REMOVE_ALL_IDENTITIES (and the legacy 9).
 * Returns 1 when every key was removed, 0 for a malformed request.
 */
int keys_remove_all(struct conn *c, struct buf *m);

/*
 * keys_drop_all: every identity dropped (why goes to the log and the
 * audit trail; c: the client that asked, NULL: the agent itself).  The
 * caller tells the token helpers (dispatch_remove_all).
 */
void keys_drop_all(const struct conn *c, const char *why);
/*
 * keys_expire_if_due: remove id when its lifetime is over.  Returns 1 when
 * it was removed (id is freed), else 0.
 */
int keys_expire_if_due(struct identity *id);
/*
 * keys_identity_new: a new identity (not yet in the table) for the public
 * key k (copied) that helper h holds under handle, named comment,
 * present, with only the agent's default constraints (-t).  0 or an
 * error.
 */
int keys_identity_new(const struct key *k, const char *comment,
    struct helper *h, uint64_t handle, struct identity **idp);
/*
 * keys_apply_constraints: give id the confirm, lifetime (or the agent's
 * default) and destination constraints of c; takes c's destination
 * constraints (c->dest becomes NULL).
 */
void keys_apply_constraints(struct identity *id, struct constraints *c);
/*
 * keys_insert: put a new identity in the table, replacing one with the same
 * blob (whose private half is dropped from its helper).  Takes id.
 * Returns 0 or an error (id is then freed).
 */
int keys_insert(struct identity *id) TOK_WUR;
/*
 * keys_helper_lost: a helper_restart_cb for helpers that hold the keys
 * added to them (software keys, FIDO key handles): the restarted helper
 * has none, so every identity it held is dropped (logged: add it again).
 */
void keys_helper_lost(struct helper *h, void *arg);
/*
 * keys_helper_drop: tell helper h to forget the key with handle (fire and
 * forget; failures are logged).  h NULL: nothing.
 */
void keys_helper_drop(struct helper *h, uint64_t handle);
/*
 * keys_drop: take id out of the table, tell its helper, free it; the audit
 * record names why and the client c that asked (NULL: the agent itself).
 */
void keys_drop(struct identity *id, const struct conn *c, const char *why);

#endif /* AGENT_KEYS_H */

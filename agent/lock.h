/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Locking the agent with a passphrase (ssh-add -x / -X).  Only a salted
 * hash of the passphrase is kept.  Unlock attempts are tried one at a time
 * for the whole agent: after each wrong passphrase the next attempt, from
 * any connection, waits a growing delay (a timer, so other clients are
 * never stalled), and the wrong one is answered when that delay is over.
 * Attempts beyond a bounded queue are refused untried.
 */
#ifndef AGENT_LOCK_H
#define AGENT_LOCK_H

struct buf;
struct conn;

/* lock_is_locked: 1 while the agent is locked. */
int lock_is_locked(void);
/*
 * lock_session: lock (1) or unlock (0) the agent with the user's screen
 * (policy on-screen-lock lock).  Independent of the passphrase lock: only
 * the screen's unlock ends it.
 */
void lock_session(int locked);
/* lock_lock: SSH_AGENTC_LOCK (m after the type byte). */
void lock_lock(struct conn *c, struct buf *m);
/* lock_unlock: SSH_AGENTC_UNLOCK (m after the type byte). */
void lock_unlock(struct conn *c, struct buf *m);

#endif /* AGENT_LOCK_H */

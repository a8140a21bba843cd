/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Signing (SSH_AGENTC_SIGN_REQUEST).  A request passes, in this order:
 * lock -> lifetime -> destination -> policy -> confirm, and only then
 * reaches the helper holding the key.  A refused request never touches a
 * token.  The helper's signature is checked before it is returned.
 */
#ifndef AGENT_SIGN_H
#define AGENT_SIGN_H

struct buf;
struct conn;

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

/*
 * sign_request: handle a sign request (m after the type byte).  The lock
 * was checked by the caller; touch and PIN notes of the key's helper come
 * back to this request through helper_request_notes (agent/helper.h).
 */
void sign_request(struct conn *c, struct buf *m);

/* A sign request in progress, as tokagent status shows it. */
struct sign_pending {
	const struct conn *c;		/* who asks */
	const u_char *blob;		/* the key asked for */
	size_t bloblen;
	const char *state;		/* confirm, pin, touch, token, queued */
	const char *token;		/* the token asking for PIN or touch */
	const char *what;		/* sanitised description, or NULL */
	uint64_t since_ms;		/* loop_now_ms() when it arrived */
};
/*
 * sign_foreach_pending: call cb for every sign request in progress; the
 * pointers live during the call only.
 */
void sign_foreach_pending(void (*cb)(const struct sign_pending *, void *),
    void *arg);

#endif /* AGENT_SIGN_H */

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The agent-side ops table of a helper kind.  The agent core (keys, sign,
 * PIN prompts) asks a helper's kind what it needs through this table and
 * never compares helpers to tell kinds apart.  Each kind is one module
 * with one table: agent/helper-soft.c, agent/helper-sk.c,
 * agent/helper-p11.c.  helper_backend() (agent/helper.h) gives a helper's.
 */
#ifndef AGENT_BACKEND_H
#define AGENT_BACKEND_H

#include <stdint.h>

#include "agent/helper.h"

struct conn;
struct constraints;
struct identity;

struct backend {
	const char *kind;		/* "soft", "sk", "p11" */
	/*
	 * The helper holds no secret (FIDO key handles): the agent keeps a
	 * key as it was added (identity readd) and gives it back to a
	 * restarted helper.  Never for private keys (design invariant 1).
	 */
	int keys_given_back;
	/*
	 * How PIN prompts name the thing that wants a PIN ("security key",
	 * "token"); NULL when the kind has no PIN.
	 */
	const char *token_noun;
	/* A helper note names the token that wants the PIN (login's device). */
	int pin_per_device;
	/*
	 * The helper keeps PINs by its own rules (a PIV slot's PIN policy,
	 * not --pin-cache) and reports what it keeps (agent/tokstate.h).
	 */
	int pin_cache_reported;
	/* Sign requests are described for people (touch and PIN notices). */
	int describe_signs;
	/*
	 * login: hand the PIN the user typed to helper h (for device, NULL
	 * unless pin_per_device) as a request answered through cb(arg);
	 * *idp gets its id.  NULL when token_noun is.
	 */
	int (*login)(struct helper *h, const char *device, const char *pin,
	    helper_reply_cb *cb, void *arg, uint32_t *idp);
	/*
	 * key_constraints: optional: apply the constraints only this kind
	 * understands (the sk-provider) to the new identity id added by c.
	 * 0 or an error (logged) that makes the add fail.
	 */
	int (*key_constraints)(struct identity *id, struct conn *c,
	    struct constraints *cons);
	/* key_removed: optional: the user removed id (ssh-add -d). */
	void (*key_removed)(const struct identity *id);
};

#endif /* AGENT_BACKEND_H */

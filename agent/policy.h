/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Per-key policy: what OpenSSH's constraints cannot say.  A policy file
 * (tokagent-policy(5)) holds a few settings and a list of rules; each rule
 * names keys (fingerprint, comment, type, token kind, token serial) and
 * says what they may do: sign SSH logins or not, which SSHSIG namespaces,
 * which destinations (from the verified session binding), through
 * forwarding or not, for which requesting programs, when to confirm, and
 * how often.  The first rule that names a key decides for it; keys no rule
 * names get the file's default.
 *
 * Policy is one stage of the signing pipeline: after lock, lifetime and
 * destination, before confirm and before any helper or token is touched.
 *
 * The language (policy_parse, policy_decide) is pure logic with no I/O so
 * that it can be unit-tested and fuzzed; policy_load reads a file.
 * Functions returning int return 0 or a negative TOK_ERR_* code.
 */
#ifndef AGENT_POLICY_H
#define AGENT_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define POLICY_MAX_FILE		(1024 * 1024)	/* bytes in a policy file */
#define POLICY_MAX_LINE		4096		/* bytes in one line */
#define POLICY_MAX_RULES	65536
#define POLICY_MAX_RATE		10000		/* signatures per window */
#define POLICY_MAX_WHERE	256		/* "file:line" */

/* Where a key lives, for rules that name a kind of token. */
enum policy_token {
	POLICY_TOKEN_SOFTWARE = 0,
	POLICY_TOKEN_FIDO,
	POLICY_TOKEN_PKCS11,
	POLICY_TOKEN_PIV,
};

/* What a signature is for, as read from the data to sign. */
enum policy_use {
	POLICY_USE_OTHER = 0,	/* neither of the below */
	POLICY_USE_LOGIN,	/* an SSH userauth request */
	POLICY_USE_SSHSIG,	/* ssh-keygen -Y sign, with a namespace */
};

/* What to do when the screen locks or the machine suspends. */
enum policy_on_lock {
	POLICY_ON_LOCK_FORGET = 0,	/* drop PIN caches, pending prompts */
	POLICY_ON_LOCK_LOCK,		/* and lock the agent until unlock */
	POLICY_ON_LOCK_REMOVE,		/* and remove keys marked remove-on-lock */
	POLICY_ON_LOCK_NOTHING,
};

/* The facts about one sign request that rules look at. */
struct policy_query {
	const char *fingerprint;	/* SHA256:... of the key */
	const char *comment;
	const char *key_type;		/* e.g. "ssh-ed25519" */
	enum policy_token token;
	const char *token_serial;	/* NULL when unknown */
	enum policy_use use;
	const char *sshsig_namespace;	/* for POLICY_USE_SSHSIG */
	int bound;		/* the connection has a verified session binding */
	int forwarded;		/* it came through agent forwarding */
	/* Names of the destination host (NULL-terminated; NULL when unbound). */
	const char *const *dest_hosts;
	/* Executables: the requester, then its ancestors (NULL-terminated). */
	const char *const *programs;
	uint64_t now_ms;	/* monotonic clock */
};

/* What policy says about a request. */
struct policy_verdict {
	int allow;		/* 0: refuse */
	int confirm;		/* ask the user before signing */
	char where[POLICY_MAX_WHERE];	/* deciding rule, "file:line", or "" */
	const char *reason;	/* static text when refused, else NULL */
};

struct policy;

/*
 * policy_parse: read a policy from len bytes at text, named name (a file
 * name) in messages.  On success *polp is a new policy (policy_free).  On a
 * syntax error returns TOK_ERR_INVALID_FORMAT and *errp (may be NULL) gets a
 * new string "name:line: what is wrong"; nothing is half-applied.  Other
 * errors: TOK_ERR_STRING_TOO_LARGE (file or line too long), TOK_ERR_ALLOC.
 */
int policy_parse(const char *name, const char *text, size_t len,
    struct policy **polp, char **errp) __attribute__((warn_unused_result));

/*
 * policy_load: policy_parse the file at path.  A missing file is
 * TOK_ERR_KEY_NOT_FOUND (no policy: the caller decides); an unreadable one
 * TOK_ERR_SYSTEM with *errp set.
 */
int policy_load(const char *path, struct policy **polp, char **errp)
    __attribute__((warn_unused_result));

/* policy_free: release pol.  NULL is accepted. */
void policy_free(struct policy *pol);

/* policy_rule_count: the number of rules in pol (0 for NULL). */
size_t policy_rule_count(const struct policy *pol);

/*
 * policy_decide: apply pol (NULL: allow everything) to q.  *v is filled
 * whatever the outcome.  An allowed request counts towards its rule's rate
 * limits (min-interval, max-rate), kept in pol per key.
 */
void policy_decide(struct policy *pol, const struct policy_query *q,
    struct policy_verdict *v);

/* policy_on_lock / policy_on_suspend: the file's choice (default forget). */
enum policy_on_lock policy_on_lock(const struct policy *pol);
enum policy_on_lock policy_on_suspend(const struct policy *pol);

/*
 * policy_remove_on_lock: 1 when the rule that names the key of q (only
 * fingerprint, comment, key_type, token and token_serial are looked at)
 * marks it remove-on-lock.
 */
int policy_remove_on_lock(const struct policy *pol,
    const struct policy_query *q);

/* policy_audit_log: the audit-log path set in the file, or NULL. */
const char *policy_audit_log(const struct policy *pol);
/* policy_audit_max_size: audit-log-size in bytes (0: the default). */
uint64_t policy_audit_max_size(const struct policy *pol);

/* policy_token_name: "software", "fido", "pkcs11" or "piv". */
const char *policy_token_name(enum policy_token t);

#endif /* AGENT_POLICY_H */

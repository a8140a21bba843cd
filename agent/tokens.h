/*
 * Hardware tokens from the agent side: PKCS#11 providers (ssh-add -s/-e),
 * each served by its own long-lived p11 helper, and the FIDO sk helper.
 * Keeps the identity table in step with what the helpers report as tokens
 * come and go, and asks the user for a PIN when a token needs a new login.
 */
#ifndef AGENT_TOKENS_H
#define AGENT_TOKENS_H

#include <stdint.h>

struct buf;
struct conn;
struct constraints;
struct helper;
struct identity;
struct prompt_req;

#define TOKENS_MAX_KEYS		4096		/* keys one helper may report */
#define TOKENS_PIN_TIMEOUT_MS	(120 * 1000)	/* the user types a PIN */

/* tokens_add_provider: SSH_AGENTC_ADD_SMARTCARD_KEY(_CONSTRAINED). */
void tokens_add_provider(struct conn *c, struct buf *m, int constrained);
/* tokens_remove_provider: SSH_AGENTC_REMOVE_SMARTCARD_KEY. */
void tokens_remove_provider(struct conn *c, struct buf *m);
/*
 * tokens_sk_helper: the FIDO sk helper, started on first use; NULL when it
 * can not run (logged).
 */
struct helper *tokens_sk_helper(void);
/*
 * tokens_sk_apply: apply the constraints only token keys understand
 * (sk-provider, associated certs) to the new identity id added by c.
 * Returns 0 or an error (logged) that makes the add fail.
 */
int tokens_sk_apply(struct identity *id, struct conn *c,
    struct constraints *cons) __attribute__((warn_unused_result));
/*
 * tokens_key_removed: the user removed the token key id (ssh-add -d): it
 * stays away when its token comes back, until its provider is added again.
 */
void tokens_key_removed(const struct identity *id);
/*
 * tokens_keys_removed_all: ssh-add -D removed every key: providers offer
 * nothing on token events until they are added again (ssh-add -s).
 */
void tokens_keys_removed_all(void);
/*
 * tokens_foreach_helper: call cb for each token helper running: kind
 * "fido" (the sk helper), "pcsc" (the watcher) or "pkcs11" (name: the
 * module path).  For tokagent status.
 */
void tokens_foreach_helper(void (*cb)(const char *kind, const char *name,
    struct helper *h, void *arg), void *arg);
/* tokens_forget_secrets: drop cached PINs (on lock and ssh-add -D). */
void tokens_forget_secrets(void);
/*
 * tokens_login: ask the user for the PIN of the token holding id (through
 * askpass, naming the token, the key and what for (why, may be NULL: the
 * words of agent/prompt.h); retry says the last PIN
 * was wrong) and give it to the helper: a PKCS#11 login, or the PIN for
 * the sk helper's next operation.  done(r, arg) is called once, from the
 * event loop.  Returns a handle for tokens_login_cancel, or NULL when no
 * login could be started (then done is not called).
 */
void *tokens_login(struct identity *id, const struct prompt_req *why,
    int retry,
    void (*done)(int r, void *arg), void *arg);
/*
 * tokens_sk_login: as tokens_login for a key of the sk helper whose token
 * at device (name for people; retries: PIN attempts left, or
 * SK_IPC_RETRIES_UNKNOWN) wants its PIN: the prompt names the token and
 * the tries left, and the PIN is given to the helper for that token only.
 */
void *tokens_sk_login(struct identity *id, const char *device,
    const char *name, uint32_t retries, const struct prompt_req *why,
    int retry,
    void (*done)(int r, void *arg), void *arg);
/* tokens_login_cancel: abandon a login started by tokens_login.  NULL ok. */
void tokens_login_cancel(void *login);
/* tokens_provider_allowed: 0 when path may be loaded (-P allowlist), else an error. */
int tokens_provider_allowed(const char *path, char **realp)
    __attribute__((warn_unused_result));
/* tokens_shutdown: stop every token helper (at exit). */
void tokens_shutdown(void);

#endif /* AGENT_TOKENS_H */

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Asynchronous askpass children (SSH_ASKPASS): confirmations, PIN and
 * passphrase prompts, and touch notifications.  The agent never waits on
 * them: the answer arrives through a callback from the event loop.
 */
#ifndef AGENT_ASKPASS_H
#define AGENT_ASKPASS_H

#include <sys/types.h>
#include <stdint.h>

struct askpass;

enum askpass_kind {
	ASKPASS_CONFIRM,	/* SSH_ASKPASS_PROMPT=confirm: yes/no */
	ASKPASS_SECRET,		/* a PIN or passphrase is read from its stdout */
	ASKPASS_NOTIFY,		/* SSH_ASKPASS_PROMPT=none: shown until cancelled */
};

/*
 * r: 0 when the user agreed (CONFIRM) or answered (SECRET), else
 * TOK_ERR_CONFIRM_DENIED, TOK_ERR_TIMEOUT or TOK_ERR_SYSTEM (no askpass).
 * A notice (NOTIFY) that ends by itself: 0 when it exited 0 (the user
 * took it down), TOK_ERR_CANCELLED when it exited 1..125 (the user chose
 * Cancel: the askpass dialogs' "no"), TOK_ERR_SYSTEM when it could not
 * run (126, 127) or died of a signal.
 * secret: for ASKPASS_SECRET on success, the answer without its newline in
 * secure memory; the callee owns it (secmem_free).  Otherwise NULL.
 */
typedef void askpass_cb(int r, char *secret, void *arg);

/*
 * askpass_start: run the askpass program with prompt.  timeout_ms (0: none)
 * bounds how long the user has.  cb is called exactly once unless
 * askpass_cancel is called first; it is never called from inside
 * askpass_start.  Returns NULL (and calls nothing) when it can not start.
 * For ASKPASS_NOTIFY cb may be NULL.
 */
struct askpass *askpass_start(enum askpass_kind kind, const char *prompt,
    uint64_t timeout_ms, askpass_cb *cb, void *arg);
/*
 * askpass_start_for: as askpass_start, for a request of the client process
 * pid (0: unknown).  PIN and confirm prompts go through a pinentry program
 * instead when --prompt says so, or by default when no display is set (on
 * that client's terminal) or no askpass program is installed; see
 * pinentry.h.  Notices always go to askpass.
 */
struct askpass *askpass_start_for(enum askpass_kind kind, const char *prompt,
    pid_t pid, uint64_t timeout_ms, askpass_cb *cb, void *arg);
/*
 * askpass_start_notifier: run the program prog (a path) with argv (argv[0]
 * first, NULL-terminated; copied by exec, the caller keeps ownership) as an
 * ASKPASS_NOTIFY child: a notice shown until askpass_cancel, which sends it
 * SIGTERM.  cb (may be NULL) is called once if the program exits by itself,
 * with r as for any notice (askpass_cb).  Never blocks; returns NULL when
 * it can not start.
 */
struct askpass *askpass_start_notifier(const char *prog, char *const argv[],
    askpass_cb *cb, void *arg);
/* askpass_cancel: kill the prompt; its callback will not be called.  NULL ok. */
void askpass_cancel(struct askpass *ap);
/*
 * askpass_dismiss_all: end every confirm and secret prompt now, as if the
 * user had refused (their callbacks get TOK_ERR_CANCELLED): on screen lock
 * and suspend.  Returns how many were dismissed.
 */
int askpass_dismiss_all(void);
/* askpass_program: the program used ($SSH_ASKPASS or the default). */
const char *askpass_program(void);

#endif /* AGENT_ASKPASS_H */

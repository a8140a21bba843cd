/*
 * PIN prompts for tokens: one builder for the words ("Wrong PIN, 2 tries
 * left.") and one login path: ask the user through askpass, naming the
 * token and the key, then hand the PIN to the key's helper through its
 * kind's login (agent/backend.h).
 */
#ifndef AGENT_PIN_H
#define AGENT_PIN_H

#include <stdint.h>

struct identity;

#define PIN_TIMEOUT_MS	(120 * 1000)	/* the user types a PIN */

/*
 * pin_wrong_text: what a PIN prompt starts with: "" (not wrong), "Wrong
 * PIN. " or "Wrong PIN, N tries left. " (retries not
 * HELPER_RETRIES_UNKNOWN).  A new string, or NULL on no memory.
 */
char *pin_wrong_text(int wrong, uint32_t retries);
/*
 * pin_login: ask the user for the PIN of the token holding id (device and
 * name: the token a helper note named, or NULL; retries: tries left or
 * HELPER_RETRIES_UNKNOWN; why: what for; retry: the last PIN was wrong)
 * and give it to id's helper.  done(r, arg) is called once, from the event
 * loop.  Returns a handle for pin_login_cancel, or NULL when no login
 * could be started (then done is not called): the kind has no PIN, or
 * needs a device and none was named.
 */
void *pin_login(struct identity *id, const char *device, const char *name,
    uint32_t retries, const char *why, int retry,
    void (*done)(int r, void *arg), void *arg);
/* pin_login_cancel: abandon a login started by pin_login.  NULL ok. */
void pin_login_cancel(void *login);

#endif /* AGENT_PIN_H */

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Token logins: one path to ask the user for a token's PIN (the words are
 * agent/prompt.h's prompt_pin), naming the token and the key, then hand
 * the PIN to the key's helper through its kind's login (agent/backend.h).
 */
#ifndef AGENT_PIN_H
#define AGENT_PIN_H

#include <stdint.h>

struct identity;
struct prompt_req;

#define PIN_TIMEOUT_MS	(120 * 1000)	/* the user types a PIN */

/*
 * pin_login: ask the user for the PIN of the token holding id (device and
 * name: the token a helper note named, or NULL; retries: tries left or
 * HELPER_RETRIES_UNKNOWN; why: what for, NULL for the key alone (the
 * words are agent/prompt.h's prompt_pin); retry: the last PIN was wrong)
 * and give it to id's helper.  done(r, arg) is called once, from the event
 * loop.  Returns a handle for pin_login_cancel, or NULL when no login
 * could be started (then done is not called): the kind has no PIN, or
 * needs a device and none was named.
 */
void *pin_login(struct identity *id, const char *device, const char *name,
    uint32_t retries, const struct prompt_req *why, int retry,
    void (*done)(int r, void *arg), void *arg);
/* pin_login_cancel: abandon a login started by pin_login.  NULL ok. */
void pin_login_cancel(void *login);

#endif /* AGENT_PIN_H */

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The FIDO sk helper from the agent side (sk/sk-helper.c does the work):
 * started on first use, its events routed (touch and PIN notes to the
 * request they are about, token plug and pull to the device handler), the
 * PIN login and the sk-provider constraint of its kind, and after a
 * restart the key handles it held given back.
 */
#ifndef AGENT_HELPER_SK_H
#define AGENT_HELPER_SK_H

struct helper;

/* Called when a token is plugged in (present 1) or pulled (0). */
typedef void helper_sk_device_cb(const char *device, const char *name,
    int present);

/*
 * helper_sk_get: the sk helper, started on first use; NULL when it can not
 * run (logged).
 */
struct helper *helper_sk_get(void);
/* helper_sk_running: the sk helper if it was started, else NULL. */
struct helper *helper_sk_running(void);
/* helper_sk_set_device_handler: who hears of tokens plugged and pulled. */
void helper_sk_set_device_handler(helper_sk_device_cb *cb);
/* helper_sk_forget_pins: drop the PINs the helper keeps (lock, ssh-add -D). */
void helper_sk_forget_pins(void);
/* helper_sk_shutdown: stop the helper (at exit). */
void helper_sk_shutdown(void);

#endif /* AGENT_HELPER_SK_H */

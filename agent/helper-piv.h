/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The native PIV helper (token/piv-helper.c) from the agent side: started
 * with the agent unless --no-piv, its cards' slot keys are offered without
 * ssh-add and follow the cards; PIN prompts and touch notices go through
 * the same machinery as for FIDO keys (agent/sign.c, agent/pin.c).
 */
#ifndef AGENT_HELPER_PIV_H
#define AGENT_HELPER_PIV_H

struct buf;
struct conn;

/* helper_piv_start: spawn the PIV helper (errors logged, not fatal). */
void helper_piv_start(void);
/* helper_piv_running: the PIV helper if it was started, else NULL. */
struct helper *helper_piv_running(void);
/* helper_piv_forget_pins: lock, ssh-add -D: drop every cached card PIN. */
void helper_piv_forget_pins(void);
/*
 * helper_piv_keys_removed_all: ssh-add -D removed the PIV keys too: they
 * stay removed until their card is pulled and plugged in again.
 */
void helper_piv_keys_removed_all(void);
/*
 * helper_piv_resync: offer again the PIV keys that another way of reaching
 * them (a PKCS#11 module, now removed) had taken over.
 */
void helper_piv_resync(void);
/*
 * PIV_REREAD_EXT: a client (tokagent piv-setup, after changing a card)
 * asks the agent to read every PIV card again; answered SSH_AGENT_SUCCESS
 * once the keys listed are the cards' keys now.
 */
#define PIV_REREAD_EXT	"piv-reread@tokagent"
/* helper_piv_reread: the PIV_REREAD_EXT extension from c (m after it). */
void helper_piv_reread(struct conn *c, struct buf *m);
/* helper_piv_shutdown: stop the helper (at exit). */
void helper_piv_shutdown(void);

#endif /* AGENT_HELPER_PIV_H */

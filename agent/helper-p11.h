/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * PKCS#11 providers from the agent side (ssh-add -s / -e), each served by
 * its own long-lived p11 helper (pkcs/p11-helper.c), and the PC/SC
 * watcher (token/pcsc-watcher.c) that tells them of cards coming and
 * going.  Keeps the identity table in step with what the helpers report;
 * a token that needs a new login asks the user (agent/pin.h).
 */
#ifndef AGENT_HELPER_P11_H
#define AGENT_HELPER_P11_H

struct buf;
struct conn;


/* helper_p11_add_provider: SSH_AGENTC_ADD_SMARTCARD_KEY(_CONSTRAINED). */
void helper_p11_add_provider(struct conn *c, struct buf *m, int constrained);
/* helper_p11_remove_provider: SSH_AGENTC_REMOVE_SMARTCARD_KEY. */
void helper_p11_remove_provider(struct conn *c, struct buf *m);
/*
 * helper_p11_keys_removed_all: ssh-add -D removed every key: providers
 * offer nothing on token events until they are added again (ssh-add -s).
 */
void helper_p11_keys_removed_all(void);
/*
 * helper_p11_foreach: call cb for the PC/SC watcher (kind "pcsc") and each
 * provider's helper (kind "pkcs11", name: the module path), for tokagent
 * status.
 */
struct helper;
void helper_p11_foreach(void (*cb)(const char *kind, const char *name,
    struct helper *h, void *arg), void *arg);
/* helper_p11_shutdown: stop every p11 helper and the watcher (at exit). */
void helper_p11_shutdown(void);

#endif /* AGENT_HELPER_P11_H */

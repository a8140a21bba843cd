/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * One PKCS#11 provider (module) as the p11 helper sees it: the loaded
 * module, its tokens (one session each), logins, the keys found on them
 * and signing with them.
 *
 * Key handles are derived from the token's identity (manufacturer, model,
 * serial), the key's CKA_ID and its public key blob, so a key keeps its
 * handle when its token is removed and reinserted, in any slot.
 *
 * The PIN is never kept beyond its use: p11_provider_login uses it and the
 * caller frees it; p11_provider_set_context_pin keeps one copy for the
 * next signature only (keys that need the PIN for every signature).  A
 * token that lost its login (replugged) makes signing fail with
 * TOK_ERR_PIN_REQUIRED until p11_provider_login is called again.
 *
 * Functions returning int return 0 or a negative TOK_ERR_* code.  Where a
 * function takes char **detailp, it may set it (on failure) to a new
 * string for the agent's log / prompt saying which token failed; the
 * caller frees it.
 */
#ifndef PKCS_P11_PROVIDER_H
#define PKCS_P11_PROVIDER_H

#include "common/err.h"

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "pkcs/pkcs11.h"


struct buf;
struct p11_provider;

/*
 * p11_provider_open: load the module at path and initialise it.  The file
 * must be a shared object exporting C_GetFunctionList: that is checked on
 * the file itself before anything is loaded, and the file checked is the
 * file loaded (through the same descriptor).  C_Initialize is asked for
 * OS locking (so the slot-event thread may run), falling back to no
 * arguments.  TOK_ERR_PROVIDER_REFUSED for files that are not a provider.
 * *pp is the caller's (p11_provider_close).
 */
int p11_provider_open(const char *path, struct p11_provider **pp) TOK_WUR;
/*
 * p11_provider_open_functions: as p11_provider_open for an already
 * resolved function list (tests put a fake module here).  f must outlive
 * the provider.
 */
int p11_provider_open_functions(CK_FUNCTION_LIST *f,
    struct p11_provider **pp) TOK_WUR;
/*
 * p11_provider_close: log out, close sessions, C_Finalize, and wait up to
 * 2 s for the slot-event thread to leave the module.  The module stays
 * mapped until the process exits (modules may keep threads or atexit
 * handlers).  NULL is accepted.
 */
void p11_provider_close(struct p11_provider *p);

/*
 * p11_provider_login: log in (CKU_USER) to every present token that needs
 * a login and is not logged in.  Tokens with a protected authentication
 * path log in with no PIN whatever pin is; with an empty pin other tokens
 * are left logged out.  pin is only read during the call.
 * TOK_ERR_PIN_INVALID / TOK_ERR_PIN_BLOCKED / ... from the first token that
 * refuses (*detailp names it and any "final try" / "few tries left").
 */
int p11_provider_login(struct p11_provider *p, const char *pin,
    char **detailp) TOK_WUR;
/*
 * p11_provider_scan: refresh tokens and keys.  *changedp (may be NULL) is
 * set to 1 when the set of keys differs from before the call.
 */
int p11_provider_scan(struct p11_provider *p, int *changedp) TOK_WUR;
/* p11_provider_nkeys: how many keys the last scan found. */
size_t p11_provider_nkeys(const struct p11_provider *p);
/*
 * p11_provider_put_keys: append the key list as the IPC_KEYS payload:
 * uint32 n, n * (uint64 handle, string public key blob, string label
 * "token label/key label").
 */
int p11_provider_put_keys(const struct p11_provider *p, struct buf *out)
    TOK_WUR;
/*
 * p11_provider_sign: sign data with the key handle and append the SSH
 * signature blob to sigout.  RSA: CKM_RSA_PKCS over the DigestInfo for
 * flags (SHA-512 0x04, SHA-256 0x02, else SHA-1); ECDSA: CKM_ECDSA over
 * SHA-256/384/512 by curve; Ed25519: CKM_EDDSA over data.  A session lost
 * to a replug is reopened once.  TOK_ERR_KEY_NOT_FOUND (unknown handle),
 * TOK_ERR_DEVICE_NOT_PRESENT (token gone), TOK_ERR_PIN_REQUIRED (token
 * logged out: call p11_provider_login then retry), others from the token.
 */
int p11_provider_sign(struct p11_provider *p, uint64_t handle,
    const u_char *data, size_t datalen, uint32_t flags, struct buf *sigout,
    char **detailp) TOK_WUR;
/*
 * p11_provider_set_context_pin: keep a copy of pin (secure memory) for the
 * next p11_provider_sign only, which frees it whether it used it or not.
 * Keys with CKA_ALWAYS_AUTHENTICATE need it (a context-specific login per
 * signature); without it their signing fails with TOK_ERR_PIN_REQUIRED.
 * An empty or NULL pin just drops a kept one.
 */
int p11_provider_set_context_pin(struct p11_provider *p, const char *pin)
    TOK_WUR;
/*
 * p11_provider_watch: start a thread blocking in C_WaitForSlotEvent when
 * the module supports it and was initialised with OS locking.  *fdp gets a
 * descriptor that becomes readable after a slot event (drain it with
 * p11_provider_watch_drain, then rescan), or -1 when events are not
 * supported (not an error).
 */
int p11_provider_watch(struct p11_provider *p, int *fdp) TOK_WUR;
/* p11_provider_watch_drain: consume pending event notifications. */
void p11_provider_watch_drain(struct p11_provider *p);

#endif /* PKCS_P11_PROVIDER_H */

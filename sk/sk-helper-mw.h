/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * External sk middlewares in the sk helper (ssh-add -S, the sk-provider
 * constraint): OpenSSH sk-api modules, dlopen()ed once per path and kept
 * until exit, and which key signs through which.  The module list and the
 * key map belong to the thread that serves requests; skmw_sign runs on
 * token workers, one call at a time per module (the sk-api has no cancel
 * and no touch hook).
 */
#ifndef SK_SK_HELPER_MW_H
#define SK_SK_HELPER_MW_H

#include "common/err.h"

#include <stdint.h>

struct sk_sig;
struct sk_sign_req;
struct skmw;

/*
 * skmw_load: the module at path, loaded and checked on first use (it must
 * export sk_api_version of our major version, and sk_sign).  Returns 0 or
 * TOK_ERR_PROVIDER_REFUSED (logged).
 */
int skmw_load(const char *path, struct skmw **mwp)
    TOK_WUR;
/* skmw_path: the module's path (also the name its PIN is kept under). */
const char *skmw_path(const struct skmw *mw);
/*
 * skmw_sign: sign req through mw; the result is a struct sk_sig like the
 * internal path's.  For keys that need presence touch(arg, path, 1) and
 * touch(arg, path, 0) bracket the whole call.  TOK_ERR_PIN_REQUIRED,
 * _PIN_INVALID (a PIN was given and the module still asked),
 * _DEVICE_NOT_PRESENT or _DEVICE.
 */
int skmw_sign(struct skmw *mw, const struct sk_sign_req *req,
    void (*touch)(void *arg, const char *device, int begin), void *arg,
    struct sk_sig **sigp) TOK_WUR;
/*
 * skmw_key_set: the key with handle signs through mw from now on; mw NULL:
 * the key refuses to sign.  Returns 0 or TOK_ERR_ALLOC.
 */
int skmw_key_set(uint64_t handle, struct skmw *mw)
    TOK_WUR;
/*
 * skmw_key: 1 when the key with handle was given a module (*mwp: it, or
 * NULL when it may not sign), 0 when it signs through libfido2.
 */
int skmw_key(uint64_t handle, struct skmw **mwp);
/* skmw_key_drop: the key with handle (dropped, replaced) forgets its module. */
void skmw_key_drop(uint64_t handle);
/* skmw_key_drop_all: every key forgets its module. */
void skmw_key_drop_all(void);

#endif /* SK_SK_HELPER_MW_H */

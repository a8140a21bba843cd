/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Which provider modules may be loaded (ssh-add -s PKCS#11 providers, the
 * sk-provider constraint's middlewares), decided here only.
 */
#ifndef AGENT_PROVIDER_H
#define AGENT_PROVIDER_H

#include "common/err.h"

struct conn;

/*
 * provider_check: may client c have the agent load the module at path?
 * Not from a forwarded connection (unless allowed), and only a module
 * that matches the -P allowlist after realpath.  what names the module
 * kind in logs ("PKCS#11 provider").  Returns 0 with *realp the resolved
 * path (caller frees), or TOK_ERR_PROVIDER_REFUSED / _ALLOC (logged).
 */
int provider_check(const struct conn *c, const char *path, const char *what,
    char **realp) TOK_WUR;
/* provider_allowed: the allowlist part of provider_check alone. */
int provider_allowed(const char *path, char **realp)
    TOK_WUR;

#endif /* AGENT_PROVIDER_H */

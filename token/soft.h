/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The software token: where software private keys added with ssh-add
 * live, in their own process, never in the agent.  A backend of the
 * helper runtime (token/runtime.h).
 */
#ifndef TOKEN_SOFT_H
#define TOKEN_SOFT_H

#include "token/runtime.h"

struct soft_token;

/* soft_token_new: an empty token, or NULL on no memory. */
struct soft_token *soft_token_new(void);
/* soft_token_free: drop every key (zeroed) and the token.  NULL ok. */
void soft_token_free(struct soft_token *st);
/* The ops table for token_helper_run; ctx is a struct soft_token. */
extern const struct token_ops soft_token_ops;

#endif /* TOKEN_SOFT_H */

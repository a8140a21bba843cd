/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Secure memory for secrets (PINs, passphrases, private keys): locked into
 * RAM, excluded from core dumps, zeroed when freed.  Failure to lock is
 * logged once and tolerated (RLIMIT_MEMLOCK may be small); exclusion from
 * dumps is always applied.
 */
#ifndef COMMON_SECMEM_H
#define COMMON_SECMEM_H

#include "common/err.h"

#include <stddef.h>

/* secmem_alloc: len zeroed bytes in secure memory, or NULL.  Free with secmem_free. */
void *secmem_alloc(size_t len) TOK_WUR;
/* secmem_strdup: a copy of s in secure memory, or NULL. */
char *secmem_strdup(const char *s) TOK_WUR;
/* secmem_free: zero and release p (from secmem_alloc/strdup).  NULL is accepted. */
void secmem_free(void *p);

#endif /* COMMON_SECMEM_H */

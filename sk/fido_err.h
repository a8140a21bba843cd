/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * sk_fido_err: translate a libfido2 FIDO_ERR_* code into TOK_ERR_*.  The
 * one place libfido2 error codes are interpreted (for sk/fido_ops.c and
 * sk/fido_unix.c).
 */
#ifndef SK_FIDO_ERR_H
#define SK_FIDO_ERR_H

int sk_fido_err(int fido_err);

#endif /* SK_FIDO_ERR_H */

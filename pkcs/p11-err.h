/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * PKCS#11 return values in tokagent's error space.  This is the one place
 * where CKR_* codes are translated (house style: foreign codes are mapped
 * once, by the module that calls the foreign library).
 */
#ifndef PKCS_P11_ERR_H
#define PKCS_P11_ERR_H

#include "pkcs/pkcs11.h"

/*
 * p11_err_from_ckr: the TOK_ERR_* value for rv; 0 for CKR_OK.  Codes with
 * no closer meaning map to TOK_ERR_DEVICE ("the token said no").
 */
int p11_err_from_ckr(CK_RV rv);
/*
 * p11_ckr_name: the CKR_* name of rv for logs ("CKR_0x..." if unknown).
 * Static storage; not thread-safe for unknown codes.
 */
const char *p11_ckr_name(CK_RV rv);
/*
 * p11_ckr_session_lost: 1 when rv means the session is gone (token removed,
 * session closed or invalid) and reopening it on a present token may help.
 */
int p11_ckr_session_lost(CK_RV rv);

#endif /* PKCS_P11_ERR_H */

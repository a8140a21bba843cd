/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Helper-protocol messages specific to the p11 helper (pkcs/), numbered in
 * the 60-79 range common/ipc.h reserves for it.  Framing and the shared
 * types are in common/ipc.h.
 *
 *   IPC_P11_LOGIN   -> string pin
 *                   <- IPC_OK once every present token that needs a login
 *                      is logged in; IPC_FAILURE TOK_ERR_PIN_INVALID
 *                      (detail names the token and says "final try" or
 *                      "few tries left" when the token reports it),
 *                      TOK_ERR_PIN_BLOCKED, ...
 *                      Sent by the agent after a request failed with
 *                      TOK_ERR_PIN_REQUIRED (e.g. a token was replugged and
 *                      lost its login, or the key wants the PIN for every
 *                      signature -- CKA_ALWAYS_AUTHENTICATE): the helper
 *                      keeps the PIN only until the next IPC_SIGN, which
 *                      uses it for such a key and then forgets it.
 *   IPC_P11_RESCAN  -> (empty)
 *                   <- IPC_KEYS, as for IPC_ADD_PROVIDER: the keys of the
 *                      tokens present now (e.g. after the PC/SC watcher saw
 *                      a card come or go, or to a restarted helper: the
 *                      provider is loaded if it was not; tokens that need
 *                      a login list the keys of their public objects and
 *                      signing answers TOK_ERR_PIN_REQUIRED).
 *
 * Both load the provider the helper was started for when no
 * IPC_ADD_PROVIDER came before them.
 */
#ifndef PKCS_P11_IPC_H
#define PKCS_P11_IPC_H

enum p11_ipc_type {
	IPC_P11_LOGIN = 60,
	IPC_P11_RESCAN = 61,
};

#endif /* PKCS_P11_IPC_H */

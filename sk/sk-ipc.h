/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Helper-protocol messages specific to the sk helper (sk/), in the 40-59
 * range common/ipc.h reserves for it.  The shared ones (IPC_ADD_KEY,
 * IPC_SIGN, IPC_DROP, IPC_DROP_ALL, IPC_CANCEL) work as for every helper.
 *
 * Tokens are named by their device path ("/dev/hidraw3", "unix:/run/x")
 * and described for people by a token name: the product string where the
 * platform gives one (e.g. "Yubico YubiKey OTP+FIDO+CCID"), else the path.
 *
 * Requests for different tokens run at the same time; requests for one
 * token run one after another, in order.
 *
 *   IPC_SIGN        fails with TOK_ERR_PIN_REQUIRED when a key needs a PIN
 *                   the helper does not have for the token holding it, and
 *                   with TOK_ERR_PIN_INVALID / TOK_ERR_PIN_BLOCKED when
 *                   the token refused it; IPC_SK_PIN_WANTED comes first.
 *   IPC_SK_PIN      -> string device, string pin, uint32 cache seconds
 *                      (0: for the next operation on that token only)
 *                   <- IPC_OK.  The PIN is kept in locked memory for that
 *                      token only; a PIN the token rejects is forgotten at
 *                      once, and so is every PIN of a token that is
 *                      removed.
 *   IPC_SK_FORGET   -> (empty)  <- IPC_OK.  Drop every cached PIN.
 *   IPC_SK_LOAD_RESIDENT -> string pin, string device ("" : every token)
 *                   <- IPC_SK_RESIDENT_KEYS: uint32 n, n * (uint64 handle,
 *                      string public key blob, string label, string
 *                      add_body): the resident "ssh:" keys of that token
 *                      (or of every token present), now held by the
 *                      helper, each labelled "APPLICATION on TOKEN".
 *                      add_body is the key as an SSH_AGENTC_ADD_IDENTITY
 *                      body carries it (its key handle: no secret), for
 *                      the agent to give back to a restarted helper with
 *                      IPC_ADD_KEY.
 *   IPC_SK_TOUCH    <- (id 0) uint32 request id, string device, string
 *                      token name, byte begin: the token is waiting for a
 *                      touch for that request (begin 1), or no longer (0);
 *                      begin 2: every token waits for a touch, so that the
 *                      user shows which one holds the key (device and
 *                      name "*").
 *   IPC_SK_PIN_WANTED <- (id 0) uint32 request id, string device, string
 *                      token name, uint32 retries left (0xffffffff:
 *                      unknown): sent just before a request fails with
 *                      TOK_ERR_PIN_REQUIRED / _INVALID / _BLOCKED, so the
 *                      agent can ask for that token's PIN and retry.
 *   IPC_SK_DEVICE   <- (id 0) string device, string token name, byte
 *                      present: a token was plugged in (1) or pulled (0).
 *                      The helper watches for tokens from its start; the
 *                      tokens present then are announced as plugged in.
 *   IPC_SK_PROVIDER -> uint64 handle, string provider path
 *                   <- IPC_OK.  From now on the key with that handle signs
 *                      through that OpenSSH sk-api middleware (dlopen()ed
 *                      once per path) instead of the helper's libfido2
 *                      code.  TOK_ERR_PROVIDER_REFUSED when the module
 *                      cannot be loaded, lacks sk_api_version or sk_sign,
 *                      or implements another major ABI version; the key
 *                      then refuses to sign.  The agent checks the path
 *                      against its allowlist before sending this.
 */
#ifndef SK_SK_IPC_H
#define SK_SK_IPC_H

enum sk_ipc_type {
	IPC_SK_PIN = 40,
	IPC_SK_FORGET = 41,
	IPC_SK_TOUCH = 42,
	IPC_SK_LOAD_RESIDENT = 43,
	IPC_SK_PROVIDER = 44,
	IPC_SK_PIN_WANTED = 45,
	IPC_SK_DEVICE = 46,
	IPC_SK_RESIDENT_KEYS = 47,
};

#define SK_IPC_RETRIES_UNKNOWN	0xffffffffU

#endif /* SK_SK_IPC_H */

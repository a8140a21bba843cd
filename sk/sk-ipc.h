/*
 * Helper-protocol messages specific to the sk helper (sk/), in the 40-59
 * range common/ipc.h reserves for it.  The shared ones (IPC_ADD_KEY,
 * IPC_SIGN, IPC_DROP, IPC_DROP_ALL, IPC_CANCEL) work as for every helper;
 * IPC_SIGN fails with TOK_ERR_PIN_REQUIRED when a key needs a PIN the
 * helper does not have.
 *
 *   IPC_SK_PIN      -> string pin, uint32 cache seconds (0: next use only)
 *                   <- IPC_OK.  The PIN is kept in locked memory for the
 *                      next operation that needs one, or for the given
 *                      time; a PIN the token rejects is forgotten at once.
 *   IPC_SK_FORGET   -> (empty)  <- IPC_OK.  Drop any cached PIN.
 *   IPC_SK_LOAD_RESIDENT -> string pin
 *                   <- IPC_KEYS (common/ipc.h): the resident "ssh:" keys of
 *                      every token present, now held by the helper, each
 *                      labelled "APPLICATION on DEVICE".
 *   IPC_SK_TOUCH    <- (id 0) uint32 request id, string device, byte begin:
 *                      the token is waiting for a touch for that request
 *                      (begin 1), or no longer (begin 0).
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
};

#endif /* SK_SK_IPC_H */

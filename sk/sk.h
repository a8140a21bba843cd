/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * tokagent's FIDO2 core: device discovery, key handle -> device selection,
 * enroll, sign, resident-key enumeration and PIN/UV handling.
 *
 * The OpenSSH middleware (sk/middleware.c) and the agent's sk helper are
 * thin adapters over this API.  The hardware sits behind struct sk_devops:
 * sk_devops_fido (sk/fido_ops.c) drives libfido2; tests and fuzzers may
 * pass their own table.
 *
 * All int-returning functions return 0 or a negative TOK_ERR_* code.
 * Outputs are cleared on entry and set only on success.
 */
#ifndef SK_SK_H
#define SK_SK_H

#include "common/err.h"

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>


/* Algorithms (same values as the OpenSSH sk-api). */
#define SK_ALG_ECDSA		0	/* ECDSA P-256, SHA-256 (ES256) */
#define SK_ALG_ED25519		1	/* Ed25519 (COSE EdDSA) */

/* Key flags (same values as the OpenSSH sk-api and key format). */
#define SK_FLAG_UP		0x01	/* touch required */
#define SK_FLAG_UV		0x04	/* PIN (uv) required */
#define SK_FLAG_FORCE		0x10	/* overwrite resident key */
#define SK_FLAG_RESIDENT	0x20	/* discoverable credential */

/* Authenticator data flags returned by a token. */
#define SK_AUTHDATA_UP		0x01
#define SK_AUTHDATA_UV		0x04

#define SK_CDH_LEN		32	/* client data hash (SHA-256) */
#define SK_ECDSA_PUB_LEN	65	/* uncompressed P-256 point */
#define SK_ED25519_PUB_LEN	32
#define SK_ED25519_SIG_LEN	64
#define SK_KEY_HANDLE_MAX	1024	/* longest credential id */
#define SK_USER_ID_MAX		64
#define SK_DEVICES_MAX		64	/* devices per operation */

/* ------------------------------------------------------------------ */
/* The device operations table. */

/* What a token says about itself (authenticatorGetInfo, simplified). */
struct sk_devinfo {
	int has_pin;		/* a PIN is set */
	int has_uv;		/* built-in user verification (biometrics) */
	int supports_credprot;	/* credProtect extension */
	int supports_credman;	/* credential management */
};

/* A makeCredential request, in the token's terms. */
struct sk_devcred_req {
	int alg;			/* SK_ALG_* */
	const char *rp_id;		/* the application */
	const u_char *cdh;		/* SK_CDH_LEN bytes */
	const u_char *user_id;
	size_t user_id_len;
	int resident;
	int cred_prot;			/* credProtect 1..3; 0: none */
};

/*
 * A credential as the token returned it (raw, untrusted).  pubkey is the
 * raw COSE coordinates: x||y (64 bytes) for ES256, 32 bytes for EdDSA.
 * authdata is the CBOR-wrapped authenticator data.  Every pointer is owned
 * by the struct; release with sk_devcred_clear().
 */
struct sk_devcred {
	int alg;			/* SK_ALG_* (-1: unknown type) */
	u_char *pubkey;
	size_t pubkey_len;
	u_char *id;			/* credential id = key handle */
	size_t id_len;
	u_char *sig;			/* attestation signature */
	size_t sig_len;
	u_char *x5c;			/* attestation certificate */
	size_t x5c_len;
	u_char *authdata;
	size_t authdata_len;
	u_char *user_id;
	size_t user_id_len;
	char *rp_id;			/* resident enumeration only */
	int cred_prot;
};

/* A getAssertion request for one credential, in the token's terms. */
struct sk_devassert_req {
	const char *rp_id;
	const u_char *cdh;		/* SK_CDH_LEN bytes */
	const u_char *key_handle;
	size_t key_handle_len;
	int up;				/* ask for user presence */
	int uv;				/* built-in uv (no PIN) */
};

/* An assertion as the token returned it (raw, untrusted). */
struct sk_devassert {
	uint8_t flags;			/* authenticator data flags */
	uint32_t counter;
	u_char *sig;			/* DER ECDSA or raw Ed25519 */
	size_t sig_len;
};

/*
 * The hardware boundary.  dev is the opaque handle returned by open.  The
 * pin argument may be NULL.  Functions return 0 or TOK_ERR_*; outputs are
 * owned by the caller.  cancel() may be called from another thread while
 * an operation is running on dev.
 */
struct sk_devops {
	/*
	 * discover: the paths of attached devices (may be none) and, in
	 * *namesp (may be left NULL, entries may be NULL), a name for each
	 * for people: manufacturer and product.  Both arrays have *npathsp
	 * new strings.
	 */
	int (*discover)(char ***pathsp, char ***namesp, size_t *npathsp);
	/* open: timeout_ms bounds each later operation (-1: none). */
	int (*open)(const char *path, int timeout_ms, void **devp);
	void (*close)(void *dev);
	int (*info)(void *dev, struct sk_devinfo *infop);
	int (*make_cred)(void *dev, const struct sk_devcred_req *req,
	    const char *pin, struct sk_devcred *credp);
	int (*get_assert)(void *dev, const struct sk_devassert_req *req,
	    const char *pin, struct sk_devassert *assertp);
	/* resident: all resident credentials of rp ids starting with prefix. */
	int (*resident)(void *dev, const char *prefix, const char *pin,
	    struct sk_devcred **credsp, size_t *ncredsp);
	int (*cancel)(void *dev);
	/*
	 * Choosing a token by touch (each may be NULL: no choosing).
	 * select_begin: make the token wait for a touch (it blinks), without
	 * waiting.  select_status: *touchedp 1 once touched; waits up to ms;
	 * an error when the token gave up.  select_cancel: stop the wait
	 * (CTAPHID_CANCEL) and leave the handle fit for the next operation.
	 */
	int (*select_begin)(void *dev);
	int (*select_status)(void *dev, int ms, int *touchedp);
	void (*select_cancel)(void *dev);
	/* pin_retries: PIN attempts left before lockout (may be NULL). */
	int (*pin_retries)(void *dev, int *retriesp);
	/*
	 * present: 1 when the configured device path is there (for a
	 * "unix:" device: the socket accepts a connection), else 0.  May
	 * be NULL: configured devices are then always present.
	 */
	int (*present)(const char *path);
};

/* The libfido2 implementation (sk/fido_ops.c). */
extern const struct sk_devops sk_devops_fido;

/* sk_devcred_clear: free and zero what c owns.  NULL is accepted. */
void sk_devcred_clear(struct sk_devcred *c);
/* sk_devassert_clear: free and zero what a owns.  NULL is accepted. */
void sk_devassert_clear(struct sk_devassert *a);

/* ------------------------------------------------------------------ */
/* Results handed to callers. */

/* An enrolled or resident key, validated. */
struct sk_key {
	int alg;			/* SK_ALG_* */
	uint8_t flags;			/* SK_FLAG_* of the key */
	char *application;
	u_char *pubkey;			/* P-256 point or Ed25519 key */
	size_t pubkey_len;
	u_char *key_handle;
	size_t key_handle_len;
	u_char *att_sig;		/* attestation (enroll; may be NULL) */
	size_t att_sig_len;
	u_char *att_cert;
	size_t att_cert_len;
	u_char *authdata;
	size_t authdata_len;
	u_char *user_id;
	size_t user_id_len;
	char *device;			/* path of the token holding it */
};

/*
 * A signature.  ECDSA: sig_r and sig_s are the unsigned big-endian r and s.
 * Ed25519: sig_r is the 64-byte signature, sig_s is NULL.
 */
struct sk_sig {
	int alg;
	uint8_t flags;			/* authenticator data flags */
	uint32_t counter;
	u_char *sig_r;
	size_t sig_r_len;
	u_char *sig_s;
	size_t sig_s_len;
	char *device;			/* path of the token that signed */
};

/* sk_key_free / sk_sig_free: zero and free.  NULL is accepted. */
void sk_key_free(struct sk_key *k);
void sk_sig_free(struct sk_sig *s);

/* ------------------------------------------------------------------ */
/* The context. */

struct sk_ctx;

struct sk_devpool;

/*
 * Hooks for a caller that shows prompts and keeps PINs; each may be NULL,
 * each is called on the operating thread.
 *
 * touch(arg, device, 1) is called just before an operation that needs a
 * touch is sent to device, and touch(arg, device, 0) when it finished.
 * device NULL: several tokens wait for a touch, so that the user shows
 * which one holds the key ("touch the security key that holds it").
 *
 * pin(arg, device, &pin) is asked for the PIN of device when an operation
 * there needs one and the request carries none: *pin is a new string from
 * secmem_strdup (common/secmem.h; the core frees it) or NULL for none.
 * The PIN of one token is never sent to another.
 *
 * pin_failed(arg, device, r, retries) is called just before an operation
 * fails with r = TOK_ERR_PIN_REQUIRED, _INVALID or _BLOCKED because of
 * device; retries: PIN attempts left there (-1: unknown).
 *
 * failed(arg, device, r) is called just before a signature fails for a
 * reason the user can act on: r = TOK_ERR_DEVICE_NOT_PRESENT,
 * _DEVICE_TIMEOUT (touch timed out), _TOUCH_DENIED, _PIN_BLOCKED or
 * _KEY_NOT_FOUND (no token holds it, or the one touched does not);
 * device: the token concerned, NULL when none in particular.
 */
struct sk_hooks {
	void (*touch)(void *arg, const char *device, int begin);
	int (*pin)(void *arg, const char *device, char **pinp);
	void (*pin_failed)(void *arg, const char *device, int r, int retries);
	void (*failed)(void *arg, const char *device, int r);
	void *arg;
};

/*
 * sk_ctx_new: a context using ops (not copied: must outlive the context).
 * No devices are configured yet: see sk_ctx_set_devices().
 */
int sk_ctx_new(const struct sk_devops *ops, struct sk_ctx **ctxp) TOK_WUR;
/* sk_ctx_free: release ctx.  NULL is accepted.  No operation may run. */
void sk_ctx_free(struct sk_ctx *ctx);
/*
 * sk_ctx_set_devices: the devices to consider.  list is a comma-separated
 * list of paths (e.g. "unix:/run/x.sock,/dev/hidraw3"; NULL or "" for
 * none); when discover is set, the devices found by ops->discover are
 * added at each operation.  Replaces any previous setting.
 */
int sk_ctx_set_devices(struct sk_ctx *ctx, const char *list,
    int discover) TOK_WUR;
/*
 * sk_ctx_set_pool: take devices from pool (shared; not owned: must outlive
 * the context) instead of a pool of the context's own.  Devices then stay
 * open between operations, and several contexts may run operations at the
 * same time on different devices.  sk_ctx_set_devices and
 * sk_ctx_set_timeout then configure nothing: configure the pool.
 */
void sk_ctx_set_pool(struct sk_ctx *ctx, struct sk_devpool *pool);
/*
 * sk_ctx_set_timeout: bound every device operation to ms milliseconds
 * (-1, the default: no bound; a token then times out by itself).  An
 * operation that runs out is cancelled and fails with
 * TOK_ERR_DEVICE_TIMEOUT.
 */
void sk_ctx_set_timeout(struct sk_ctx *ctx, int ms);
/* sk_ctx_set_hooks: copy hooks (NULL: none). */
void sk_ctx_set_hooks(struct sk_ctx *ctx, const struct sk_hooks *hooks);
/*
 * sk_ctx_cancel: ask the device of the operation in flight (if any) to
 * cancel; that operation then fails with TOK_ERR_CANCELLED or the
 * device's error.  An operation waiting for a busy device stops waiting,
 * and the context starts no new device operation.  Safe to call from
 * another thread.
 */
void sk_ctx_cancel(struct sk_ctx *ctx);

/* A signing request. */
struct sk_sign_req {
	int alg;			/* SK_ALG_* */
	const u_char *data;		/* its SHA-256: client data hash */
	size_t data_len;
	const char *application;
	const u_char *key_handle;
	size_t key_handle_len;
	uint8_t flags;			/* SK_FLAG_* of the key */
	const char *pin;		/* may be NULL */
	const char *device;		/* only this device (NULL: choose) */
};

/*
 * sk_ctx_sign: sign with the token holding req->key_handle.  With one
 * device it is used directly; with several, the one the key last worked
 * on (signed, enrolled, imported) comes first; else each is asked
 * silently (no touch) whether it holds the key handle: first the idle
 * ones, then those busy with other operations, each in its turn; when
 * none admits to a verify-required key (credProtect 3 hides it), the user
 * is asked to touch the one that holds it (touch hook with device NULL).  A PIN or a signature request goes
 * only to the token so chosen.  Without req->pin, a verify-required key
 * gets the PIN of the token chosen from the pin hook.  Returns
 * TOK_ERR_KEY_NOT_FOUND
 * when no device holds it, TOK_ERR_DEVICE_NOT_PRESENT when there is no
 * device, TOK_ERR_PIN_REQUIRED when the key needs a PIN and none was
 * given, TOK_ERR_PIN_INVALID, TOK_ERR_PIN_BLOCKED, TOK_ERR_TOUCH_DENIED,
 * TOK_ERR_DEVICE_TIMEOUT, TOK_ERR_CANCELLED...  On success *sigp is a new
 * signature (free with sk_sig_free).
 */
int sk_ctx_sign(struct sk_ctx *ctx, const struct sk_sign_req *req,
    struct sk_sig **sigp) TOK_WUR;

/* An enrollment request. */
struct sk_enroll_req {
	int alg;
	const u_char *challenge;	/* client data; hashed with SHA-256 */
	size_t challenge_len;
	const char *application;
	uint8_t flags;			/* SK_FLAG_* wanted */
	const u_char *user_id;		/* NULL: 32 zero bytes */
	size_t user_id_len;
	const char *pin;		/* may be NULL */
	const char *device;		/* only this device (NULL: choose) */
};

/*
 * sk_ctx_enroll: create a credential.  Uses req->device, else the only
 * device, else the first one.  Returns TOK_ERR_PIN_REQUIRED when a PIN is
 * needed and none was given, TOK_ERR_FEATURE_UNSUPPORTED when the token
 * can not protect a resident or verify-required key, and the errors of
 * sk_ctx_sign.  On success *keyp is a new key (free with sk_key_free).
 */
int sk_ctx_enroll(struct sk_ctx *ctx, const struct sk_enroll_req *req,
    struct sk_key **keyp) TOK_WUR;

/*
 * sk_ctx_load_resident: every resident key with an "ssh:" application on
 * every device (or only on device when not NULL).  pin (may be NULL) is
 * used on every device; without it each device asks the pin hook.  A device that fails is
 * skipped if another one succeeded; else its error is returned.  On
 * success *keysp is a new array of *nkeysp new keys (free with
 * sk_keys_free); it may be empty.
 */
int sk_ctx_load_resident(struct sk_ctx *ctx, const char *pin,
    const char *device, struct sk_key ***keysp, size_t *nkeysp) TOK_WUR;
/* sk_keys_free: free n keys and the array.  NULL is accepted. */
void sk_keys_free(struct sk_key **keys, size_t n);

/*
 * sk_sig_from_assert: build a validated signature from a token's raw
 * assertion for alg: DER ECDSA is split into r and s (trailing bytes
 * rejected), Ed25519 must be 64 bytes.  Exposed for tests.
 */
int sk_sig_from_assert(int alg, const struct sk_devassert *a,
    struct sk_sig **sigp) TOK_WUR;
/*
 * sk_key_from_cred: build a validated key from a token's raw credential:
 * an ES256 key must be a point on P-256 (returned uncompressed), an EdDSA
 * key 32 bytes.  Exposed for tests.
 */
int sk_key_from_cred(const struct sk_devcred *c, const char *application,
    uint8_t flags, struct sk_key **keyp) TOK_WUR;

#endif /* SK_SK_H */

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * tokagent-sk.so: the OpenSSH SecurityKeyProvider middleware (sk-api
 * 0x000a0000), a thin adapter over the sk core.  Devices: libfido2's
 * discovery plus the comma-separated $TOKAGENT_FIDO_DEVICES (e.g.
 * "unix:/tmp/vfido.sock"), or only the "device" option when given.
 *
 * Environment:
 *	TOKAGENT_FIDO_DEVICES	extra devices (see above)
 *	TOKAGENT_FIDO_NO_DISCOVERY	set: skip libfido2's HID discovery
 *	TOKAGENT_FIDO_TIMEOUT_MS	bound each token operation
 *	TOKAGENT_SK_DEBUG	set: debug log on stderr
 *	TOKAGENT_FIDO_DEBUG	set: libfido2's own debug output
 */
#include "config.h"

#include <sys/types.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "sk/fido_unix.h"
#include "sk/sk-api.h"
#include "sk/sk.h"

#define MW_USER_ID_LEN		32	/* zero-padded, as OpenSSH */

/* Options OpenSSH passes. */
struct mw_opts {
	const char *device;
	u_char user_id[MW_USER_ID_LEN];
	int have_user;
};

static void
mw_log_init(void)
{
	log_init("tokagent-sk", getenv("TOKAGENT_SK_DEBUG") != NULL ?
	    LOG_LEVEL_DEBUG3 : LOG_LEVEL_ERROR, 1);
}

/* TOK_ERR_* to the sk-api's codes: what OpenSSH acts on. */
static int
mw_err(int r)
{
	switch (r) {
	case 0:
		return 0;
	case TOK_ERR_PIN_REQUIRED:
	case TOK_ERR_PIN_INVALID:
		/* OpenSSH prompts (again) for the PIN. */
		return SSH_SK_ERR_PIN_REQUIRED;
	case TOK_ERR_FEATURE_UNSUPPORTED:
	case TOK_ERR_KEY_TYPE_UNKNOWN:
		return SSH_SK_ERR_UNSUPPORTED;
	case TOK_ERR_DEVICE_NOT_PRESENT:
	case TOK_ERR_KEY_NOT_FOUND:
		return SSH_SK_ERR_DEVICE_NOT_FOUND;
	default:
		return SSH_SK_ERR_GENERAL;
	}
}

static int
mw_parse_options(struct sk_option **options, int enroll, struct mw_opts *o)
{
	size_t i;

	memset(o, 0, sizeof(*o));
	if (options == NULL)
		return 0;
	for (i = 0; options[i] != NULL; i++) {
		if (options[i]->name == NULL || options[i]->value == NULL)
			return TOK_ERR_INVALID_ARGUMENT;
		if (strcmp(options[i]->name, "device") == 0) {
			if (*options[i]->value == '\0')
				return TOK_ERR_INVALID_ARGUMENT;
			o->device = options[i]->value;
		} else if (enroll && strcmp(options[i]->name, "user") == 0) {
			if (strlcpy((char *)o->user_id, options[i]->value,
			    sizeof(o->user_id)) >= sizeof(o->user_id)) {
				error("user id \"%s\" too long",
				    options[i]->value);
				return TOK_ERR_INVALID_ARGUMENT;
			}
			o->have_user = 1;
		} else if (options[i]->required) {
			error("unsupported required option \"%s\"",
			    options[i]->name);
			return TOK_ERR_FEATURE_UNSUPPORTED;
		} else
			debug_f("ignoring option \"%s\"", options[i]->name);
	}
	return 0;
}

static int
mw_ctx(struct sk_ctx **ctxp)
{
	struct sk_ctx *ctx = NULL;
	const char *s;
	char *ep;
	long ms;
	int r = TOK_ERR_INTERNAL;

	*ctxp = NULL;
	if ((r = sk_ctx_new(&sk_devops_fido, &ctx)) != 0)
		goto out;
	if ((r = sk_ctx_set_devices(ctx, getenv(FIDO_UNIX_ENV),
	    getenv("TOKAGENT_FIDO_NO_DISCOVERY") == NULL)) != 0) {
		error("bad %s: %s", FIDO_UNIX_ENV, tok_strerror(r));
		goto out;
	}
	if ((s = getenv("TOKAGENT_FIDO_TIMEOUT_MS")) != NULL && *s != '\0') {
		ms = strtol(s, &ep, 10);
		if (*ep != '\0' || ms < 0 || ms > INT_MAX) {
			r = TOK_ERR_INVALID_ARGUMENT;
			error("bad TOKAGENT_FIDO_TIMEOUT_MS");
			goto out;
		}
		sk_ctx_set_timeout(ctx, (int)ms);
	}
	*ctxp = ctx;
	ctx = NULL;
	r = 0;
 out:
	sk_ctx_free(ctx);
	return r;
}

/* An empty PIN is no PIN. */
static const char *
mw_pin(const char *pin)
{
	return pin == NULL || *pin == '\0' ? NULL : pin;
}

static void
mw_report(const char *what, int r, const char *device)
{
	switch (r) {
	case TOK_ERR_PIN_REQUIRED:
	case TOK_ERR_PIN_INVALID:	/* the core logged tries left */
		debug_f("%s: %s", what, tok_strerror(r));
		break;
	default:
		error("%s%s%s failed: %s", what, device ? " on " : "",
		    device ? device : "", tok_strerror(r));
		break;
	}
}

uint32_t
sk_api_version(void)
{
	return SSH_SK_VERSION_MAJOR;
}

int
sk_enroll(uint32_t alg, const uint8_t *challenge, size_t challenge_len,
    const char *application, uint8_t flags, const char *pin,
    struct sk_option **options, struct sk_enroll_response **enroll_response)
{
	struct sk_enroll_response *resp = NULL;
	struct sk_enroll_req req;
	struct sk_ctx *ctx = NULL;
	struct sk_key *key = NULL;
	struct mw_opts o;
	int r = TOK_ERR_INTERNAL;

	mw_log_init();
	memset(&o, 0, sizeof(o));
	if (enroll_response == NULL) {
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	*enroll_response = NULL;
	if ((r = mw_parse_options(options, 1, &o)) != 0)
		goto out;
	if (alg != SSH_SK_ECDSA && alg != SSH_SK_ED25519) {
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if ((r = mw_ctx(&ctx)) != 0)
		goto out;
	memset(&req, 0, sizeof(req));
	req.alg = alg == SSH_SK_ECDSA ? SK_ALG_ECDSA : SK_ALG_ED25519;
	req.challenge = challenge;
	req.challenge_len = challenge_len;
	req.application = application;
	req.flags = flags;
	if (o.have_user) {
		req.user_id = o.user_id;
		req.user_id_len = sizeof(o.user_id);
	}
	req.pin = mw_pin(pin);
	req.device = o.device;
	if ((r = sk_ctx_enroll(ctx, &req, &key)) != 0)
		goto out;
	if ((resp = calloc(1, sizeof(*resp))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	/* Hand the key's buffers over to the response. */
	resp->flags = flags;
	resp->public_key = key->pubkey;
	resp->public_key_len = key->pubkey_len;
	key->pubkey = NULL;
	resp->key_handle = key->key_handle;
	resp->key_handle_len = key->key_handle_len;
	key->key_handle = NULL;
	resp->signature = key->att_sig;
	resp->signature_len = key->att_sig_len;
	key->att_sig = NULL;
	resp->attestation_cert = key->att_cert;
	resp->attestation_cert_len = key->att_cert_len;
	key->att_cert = NULL;
	resp->authdata = key->authdata;
	resp->authdata_len = key->authdata_len;
	key->authdata = NULL;
	debug_f("enrolled on %s", key->device);
	*enroll_response = resp;
	resp = NULL;
	r = 0;
 out:
	if (r != 0)
		mw_report("enroll", r, o.device);
	free(resp);
	sk_key_free(key);
	sk_ctx_free(ctx);
	return mw_err(r);
}

int
sk_sign(uint32_t alg, const uint8_t *data, size_t data_len,
    const char *application, const uint8_t *key_handle, size_t key_handle_len,
    uint8_t flags, const char *pin, struct sk_option **options,
    struct sk_sign_response **sign_response)
{
	struct sk_sign_response *resp = NULL;
	struct sk_sign_req req;
	struct sk_ctx *ctx = NULL;
	struct sk_sig *sig = NULL;
	struct mw_opts o;
	int r = TOK_ERR_INTERNAL;

	mw_log_init();
	memset(&o, 0, sizeof(o));
	if (sign_response == NULL) {
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	*sign_response = NULL;
	if ((r = mw_parse_options(options, 0, &o)) != 0)
		goto out;
	if (alg != SSH_SK_ECDSA && alg != SSH_SK_ED25519) {
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if ((r = mw_ctx(&ctx)) != 0)
		goto out;
	memset(&req, 0, sizeof(req));
	req.alg = alg == SSH_SK_ECDSA ? SK_ALG_ECDSA : SK_ALG_ED25519;
	req.data = data;
	req.data_len = data_len;
	req.application = application;
	req.key_handle = key_handle;
	req.key_handle_len = key_handle_len;
	req.flags = flags;
	req.pin = mw_pin(pin);
	req.device = o.device;
	if ((r = sk_ctx_sign(ctx, &req, &sig)) != 0)
		goto out;
	if ((resp = calloc(1, sizeof(*resp))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	resp->flags = sig->flags;
	resp->counter = sig->counter;
	resp->sig_r = sig->sig_r;
	resp->sig_r_len = sig->sig_r_len;
	sig->sig_r = NULL;
	resp->sig_s = sig->sig_s;
	resp->sig_s_len = sig->sig_s_len;
	sig->sig_s = NULL;
	debug_f("signed on %s", sig->device);
	*sign_response = resp;
	resp = NULL;
	r = 0;
 out:
	if (r != 0)
		mw_report("sign", r, o.device);
	free(resp);
	sk_sig_free(sig);
	sk_ctx_free(ctx);
	return mw_err(r);
}

static void
mw_rk_free(struct sk_resident_key *rk)
{
	if (rk == NULL)
		return;
	free(rk->application);
	free(rk->key.public_key);
	free(rk->key.key_handle);
	free(rk->key.signature);
	free(rk->key.attestation_cert);
	free(rk->key.authdata);
	free(rk->user_id);
	free(rk);
}

int
sk_load_resident_keys(const char *pin, struct sk_option **options,
    struct sk_resident_key ***rksp, size_t *nrksp)
{
	struct sk_resident_key **rks = NULL, *rk;
	struct sk_key **keys = NULL, *k;
	struct sk_ctx *ctx = NULL;
	size_t i, nkeys = 0, nrks = 0;
	struct mw_opts o;
	int r = TOK_ERR_INTERNAL;

	mw_log_init();
	memset(&o, 0, sizeof(o));
	if (rksp == NULL || nrksp == NULL) {
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	*rksp = NULL;
	*nrksp = 0;
	if ((r = mw_parse_options(options, 0, &o)) != 0)
		goto out;
	if ((r = mw_ctx(&ctx)) != 0)
		goto out;
	if ((r = sk_ctx_load_resident(ctx, mw_pin(pin), o.device, &keys,
	    &nkeys)) != 0)
		goto out;
	if (nkeys > 0 && (rks = calloc(nkeys, sizeof(*rks))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < nkeys; i++) {
		k = keys[i];
		if ((rk = calloc(1, sizeof(*rk))) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		rks[nrks++] = rk;
		rk->alg = k->alg == SK_ALG_ECDSA ?
		    SSH_SK_ECDSA : SSH_SK_ED25519;
		rk->slot = i;
		rk->flags = k->flags;
		rk->application = k->application;
		k->application = NULL;
		rk->key.flags = k->flags;
		rk->key.public_key = k->pubkey;
		rk->key.public_key_len = k->pubkey_len;
		k->pubkey = NULL;
		rk->key.key_handle = k->key_handle;
		rk->key.key_handle_len = k->key_handle_len;
		k->key_handle = NULL;
		rk->user_id = k->user_id;
		rk->user_id_len = k->user_id_len;
		k->user_id = NULL;
	}
	debug_f("%zu resident keys", nrks);
	*rksp = rks;
	*nrksp = nrks;
	rks = NULL;
	nrks = 0;
	r = 0;
 out:
	if (r != 0)
		mw_report("loading resident keys", r, o.device);
	for (i = 0; i < nrks; i++)
		mw_rk_free(rks[i]);
	free(rks);
	sk_keys_free(keys, nkeys);
	sk_ctx_free(ctx);
	return mw_err(r);
}

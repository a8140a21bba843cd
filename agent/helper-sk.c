/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* The FIDO sk helper from the agent side (see helper-sk.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/audit.h"
#include "agent/backend.h"
#include "agent/conn.h"
#include "agent/constraints.h"
#include "agent/helper-sk.h"
#include "agent/tokstate.h"
#include "agent/helper.h"
#include "agent/idtab.h"
#include "agent/keys.h"
#include "agent/provider.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/key.h"
#include "common/log.h"
#include "sk/sk-ipc.h"

#define SK_HELPER		"tokagent-sk-helper"

/* A key handle given back to a restarted helper, until it answers. */
struct helper_sk_readd {
	struct helper *h;
	struct buf *blob;		/* the identity, looked up again */
};

static struct helper *helper_sk;
static helper_sk_device_cb *helper_sk_device;

/*
 * The sk helper's events: a token waits for (or got) a touch for a
 * request, a request is about to fail for want of a token's PIN (both
 * notes for that request's requester), a token was plugged in or pulled.
 */
static void
helper_sk_event(struct helper *h, uint8_t type, struct buf *m, void *arg)
{
	char *device = NULL, *name = NULL;
	uint8_t flag;
	int r = TOK_ERR_INVALID_FORMAT;

	(void)arg;
	switch (type) {
	case IPC_SK_TOUCH:
		r = helper_get_note(h, HELPER_NOTE_TOUCH, HELPER_TOUCH_SELECT, m);
		break;
	case IPC_SK_PIN_WANTED:
		r = helper_get_note(h, HELPER_NOTE_PIN_WANTED, 0, m);
		break;
	case IPC_SK_DEVICE:
		if ((r = helper_get_device_flag(m, &device, &name,
		    &flag)) != 0)
			break;
		tokstate_device_event(device, name, flag);
		audit_token(flag ? "token-plug" : "token-pull", "fido", name,
		    device);
		if (helper_sk_device != NULL)
			helper_sk_device(device, name, flag);
		break;
	default:
		r = TOK_ERR_INVALID_FORMAT;
		break;
	}
	if (r != 0)
		error_fr(r, "bad event %u from the sk helper", type);
	free(device);
	free(name);
}

static void
helper_sk_provider_reply(int r, uint8_t type, struct buf *m,
    const char *detail, void *arg)
{
	(void)m;
	(void)arg;
	if (r == 0 && type != IPC_OK)
		r = TOK_ERR_PROTOCOL;
	if (r != 0)
		error("sk helper cannot use the middleware: %s%s%s; the key "
		    "will not sign", tok_strerror(r), detail ? ": " : "",
		    detail ? detail : "");
}

/* IPC_SK_PROVIDER: the key with handle signs through the module at path. */
static int
helper_sk_send_provider(struct helper *h, uint64_t handle, const char *path)
{
	struct buf *p;
	int r;

	if ((p = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_put_u64(p, handle)) == 0 &&
	    (r = buf_put_cstring(p, path)) == 0)
		r = helper_request(h, IPC_SK_PROVIDER, p,
		    helper_sk_provider_reply, NULL, NULL);
	buf_free(p);
	return r;
}

static void
helper_sk_readd_reply(int r, uint8_t type, struct buf *m, const char *detail,
    void *arg)
{
	struct helper_sk_readd *ra = arg;
	struct identity *id;
	const u_char *blob;
	size_t len;
	uint64_t handle;

	id = idtab_lookup(agent_idtab, buf_ptr(ra->blob), buf_len(ra->blob));
	if (id == NULL || id->helper != ra->h) {
		/* Dropped or replaced meanwhile: the helper may forget it. */
		debug_f("key gone before the helper had it again");
		if (r == 0 && type == IPC_KEY && buf_get_u64(m, &handle) == 0)
			keys_helper_drop(ra->h, handle);
		goto out;
	}
	if (r == 0 && type != IPC_KEY)
		r = TOK_ERR_PROTOCOL;
	/* The helper is untrusted: it must give back the same key. */
	if (r == 0 && (buf_get_u64(m, &handle) != 0 ||
	    buf_get_string_direct(m, &blob, &len) != 0 ||
	    len != buf_len(id->blob) ||
	    memcmp(blob, buf_ptr(id->blob), len) != 0))
		r = TOK_ERR_PROTOCOL;
	if (r != 0) {
		error("key %s (%s) was lost when helper %s died: add it "
		    "again (%s%s%s)", id->fingerprint, id->comment,
		    helper_name(ra->h), tok_strerror(r), detail ? ": " : "",
		    detail ? detail : "");
		id->helper = NULL;
		keys_drop(id, NULL, "helper restarted");
		goto out;
	}
	id->handle = handle;
	id->present = 1;
	if (id->sk_provider != NULL &&
	    helper_sk_send_provider(ra->h, handle, id->sk_provider) != 0)
		error("key %s: could not give its middleware back",
		    id->fingerprint);
	debug_f("key %s given back to the restarted sk helper",
	    id->fingerprint);
 out:
	buf_free(ra->blob);
	free(ra);
}

/*
 * The sk helper holds no secret, only key handles the agent knows too:
 * after a restart the agent gives them back (design invariant 5): keys
 * added with ssh-add and resident keys the helper imported alike.  A key
 * the new helper does not take back is lost, and said so.
 */
static void
helper_sk_restarted(struct helper *h, void *arg)
{
	struct helper_sk_readd *ra;
	struct identity *id, *next;
	struct buf *p = NULL;

	(void)arg;
	for (id = idtab_first(agent_idtab); id != NULL; id = next) {
		next = idtab_next(id);
		if (id->helper != h)
			continue;
		ra = NULL;
		if (id->readd == NULL ||
		    (ra = calloc(1, sizeof(*ra))) == NULL ||
		    (ra->h = h) == NULL ||
		    (ra->blob = buf_dup(id->blob)) == NULL ||
		    (p = buf_new()) == NULL ||
		    buf_put_stringb(p, id->readd) != 0 ||
		    helper_request(h, IPC_ADD_KEY, p, helper_sk_readd_reply,
		    ra, NULL) != 0) {
			if (ra != NULL)
				buf_free(ra->blob);
			free(ra);
			buf_free(p);
			p = NULL;
			error("key %s (%s) was lost when helper %s died: add "
			    "it again", id->fingerprint, id->comment,
			    helper_name(h));
			id->helper = NULL;	/* the new helper never had it */
			keys_drop(id, NULL, "helper restarted");
			continue;
		}
		buf_free(p);
		p = NULL;
		id->present = 0;	/* until the helper has it again */
	}
}

static int
helper_sk_login(struct helper *h, const char *device, const char *pin,
    helper_reply_cb *cb, void *arg, uint32_t *idp)
{
	struct buf *p;
	int r;

	/* Kept for that token only, for the retry (or the cache time). */
	if ((p = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_put_cstring(p, device)) == 0 &&
	    (r = buf_put_cstring(p, pin)) == 0 &&
	    (r = buf_put_u32(p, agent_opts.pin_cache_s)) == 0)
		r = helper_request(h, IPC_SK_PIN, p, cb, arg, idp);
	buf_free(p);
	return r;
}

/* The sk-provider constraint: an external middleware signs for the key. */
static int
helper_sk_key_constraints(struct identity *id, struct conn *c,
    struct constraints *cons)
{
	char *real = NULL;
	int r;

	if (cons->sk_provider == NULL ||
	    strcmp(cons->sk_provider, "internal") == 0)
		return 0;
	if ((r = provider_check(c, cons->sk_provider, "sk provider",
	    &real)) != 0)
		return r;
	/*
	 * The sk helper loads the middleware and answers in order, so the
	 * key signs through it before any signature is asked for.  If it
	 * cannot load it, the key refuses to sign (the reply is logged).
	 */
	if ((r = helper_sk_send_provider(id->helper, id->handle, real)) != 0) {
		error_fr(r, "sk provider %s", real);
		free(real);
		return r;
	}
	debug_f("key %s signs through %s", id->fingerprint, real);
	free(id->sk_provider);
	id->sk_provider = real;
	return 0;
}

static const struct backend helper_sk_backend = {
	.kind = "sk",
	.keys_given_back = 1,
	.token_noun = "security key",
	.pin_per_device = 1,
	.describe_signs = 1,
	.login = helper_sk_login,
	.key_constraints = helper_sk_key_constraints,
};

struct helper *
helper_sk_get(void)
{
	char *prog, *argv[2];

	if (helper_sk != NULL)
		return helper_sk;
	if ((prog = helper_find_program(SK_HELPER)) == NULL) {
		error("FIDO keys need %s, which was not found", SK_HELPER);
		return NULL;
	}
	argv[0] = prog;
	argv[1] = NULL;
	helper_sk = helper_spawn(&helper_sk_backend, "sk", prog, argv,
	    helper_sk_event, helper_sk_restarted, NULL);
	free(prog);
	return helper_sk;
}

void
helper_sk_set_device_handler(helper_sk_device_cb *cb)
{
	helper_sk_device = cb;
}

struct helper *
helper_sk_running(void)
{
	return helper_sk;
}

void
helper_sk_forget_pins(void)
{
	tokstate_pin_forget(NULL);
	if (helper_sk != NULL &&
	    helper_request(helper_sk, IPC_SK_FORGET, NULL, NULL, NULL,
	    NULL) != 0)
		error("could not clear the security key PIN cache");
}

void
helper_sk_shutdown(void)
{
	helper_stop(helper_sk);
	helper_sk = NULL;
}

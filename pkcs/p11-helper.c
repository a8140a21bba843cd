/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * tokagent-p11-helper: the agent's helper for one PKCS#11 provider.
 *
 * Usage: tokagent-p11-helper [-dv] PROVIDER
 *
 * Started by the agent, one per provider, with:
 *   fd 3	the IPC socket: a connected SOCK_STREAM socketpair end.  The
 *		helper protocol (common/ipc.h, pkcs/p11-ipc.h) runs over it in
 *		frames (common/frame.h), on the helper runtime
 *		(token/runtime.h).  EOF on it ends the helper.
 *   fd 2	logs (stderr).  fds 0 and 1 are not used.
 *   PROVIDER	the module path, already resolved and allowed by the agent;
 *		every IPC_ADD_PROVIDER / IPC_REMOVE_PROVIDER must name it.
 *
 * The module is loaded at the first IPC_ADD_PROVIDER, IPC_P11_RESCAN or
 * IPC_P11_LOGIN (so a bad module is an IPC_FAILURE, not a dead helper; a
 * restarted helper is sent a rescan first), only if the file exports
 * C_GetFunctionList.  The PIN lives in secure memory for the length of the
 * login and is then freed: after a replug, signing fails with
 * TOK_ERR_PIN_REQUIRED and the agent sends IPC_P11_LOGIN with a PIN it
 * asked the user for.
 *
 * Requests are served one at a time, on the runtime's worker thread, so
 * the runtime's loop answers the agent's heartbeat while a module is slow.
 * IPC_REMOVE_PROVIDER closes the module; the agent then closes the socket.
 * Token insertion and removal seen by
 * C_WaitForSlotEvent (in a thread, when the module supports it) trigger a
 * rescan and, when the keys changed, an unsolicited IPC_EVENT (id 0) with
 * the new key list.  IPC_P11_RESCAN asks for the same on demand.
 */
#include "config.h"

#include <sys/types.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/secmem.h"
#include "pkcs/p11-ipc.h"
#include "pkcs/p11-provider.h"
#include "token/runtime.h"

#define P11_PIN_MAX	256

struct p11_helper {
	const char *provider_path;
	struct p11_provider *p;
	int watching;		/* slot events asked for */
};

/*
 * Replies are sent from here, so each can carry its own detail text; the
 * request handler then tells the runtime TOKEN_REPLY_LATER.
 */
static int
p11_helper_failure(struct p11_helper *h, uint32_t id, int err,
    const char *detail)
{
	(void)h;
	token_send_failure(id, err, detail != NULL ? detail :
	    tok_strerror(err));
	return 0;
}

static int
p11_helper_reply(uint32_t id, uint8_t type, struct p11_provider *keysof)
{
	struct buf *m;
	int r;

	if ((m = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = ipc_msg_start(m, id, type)) == 0 &&
	    (keysof == NULL || (r = p11_provider_put_keys(keysof, m)) == 0))
		token_send(m);
	buf_free(m);
	return r;
}

static int
p11_helper_ok(struct p11_helper *h, uint32_t id)
{
	(void)h;
	return p11_helper_reply(id, IPC_OK, NULL);
}

static int
p11_helper_keys(struct p11_helper *h, uint32_t id)
{
	return p11_helper_reply(id, IPC_KEYS, h->p);
}

/*
 * p11_helper_get_pin: the next SSH string in m as a NUL-terminated PIN in
 * secure memory (*pinp, secmem_free).
 */
static int
p11_helper_get_pin(struct buf *m, char **pinp)
{
	const u_char *v;
	size_t len;
	int r;

	*pinp = NULL;
	if ((r = buf_get_string_direct(m, &v, &len)) != 0)
		return r;
	if (len > P11_PIN_MAX || memchr(v, '\0', len) != NULL)
		return TOK_ERR_INVALID_FORMAT;
	if ((*pinp = secmem_alloc(len + 1)) == NULL)
		return TOK_ERR_ALLOC;
	memcpy(*pinp, v, len);
	(*pinp)[len] = '\0';
	return 0;
}

static int
p11_helper_start_watch(struct p11_helper *h)
{
	int r, fd;

	if (h->watching)
		return 0;
	h->watching = 1;
	if ((r = p11_provider_watch(h->p, &fd)) != 0) {
		error_fr(r, "slot event thread");
		return 0;	/* rescans on request still work */
	}
	token_set_event_fd(fd);
	debug_f("slot events: %s", fd == -1 ? "not supported" : "watching");
	return 0;
}

/*
 * p11_helper_load: load the provider the helper was started for, if it is
 * not loaded yet.  A restarted helper gets IPC_P11_RESCAN / IPC_P11_LOGIN
 * before any IPC_ADD_PROVIDER: the path was checked by the agent already.
 */
static int
p11_helper_load(struct p11_helper *h)
{
	int r;

	if (h->p != NULL)
		return 0;
	if ((r = p11_provider_open(h->provider_path, &h->p)) != 0)
		return r;
	return p11_helper_start_watch(h);
}

static int
p11_helper_add_provider(struct p11_helper *h, uint32_t id, struct buf *m)
{
	char *provider = NULL, *pin = NULL, *detail = NULL;
	int r, err;

	if ((r = buf_get_cstring(m, &provider, NULL)) != 0 ||
	    (r = p11_helper_get_pin(m, &pin)) != 0 ||
	    (r = buf_expect_empty(m)) != 0) {
		error_fr(r, "bad IPC_ADD_PROVIDER");
		err = p11_helper_failure(h, id, r, "malformed request");
		goto out;
	}
	if (strcmp(provider, h->provider_path) != 0) {
		error_f("asked for provider \"%s\", started for \"%s\"",
		    provider, h->provider_path);
		err = p11_helper_failure(h, id, TOK_ERR_PROVIDER_REFUSED,
		    "not the provider this helper serves");
		goto out;
	}
	if ((r = p11_helper_load(h)) != 0) {
		err = p11_helper_failure(h, id, r, "cannot load provider");
		goto out;
	}
	if ((r = p11_provider_login(h->p, pin, &detail)) != 0) {
		err = p11_helper_failure(h, id, r, detail);
		goto out;
	}
	secmem_free(pin);
	pin = NULL;
	if ((r = p11_provider_scan(h->p, NULL)) != 0) {
		err = p11_helper_failure(h, id, r, "cannot list keys");
		goto out;
	}
	verbose_f("provider %s: %zu keys", h->provider_path,
	    p11_provider_nkeys(h->p));
	err = p11_helper_keys(h, id);
 out:
	secmem_free(pin);
	free(provider);
	free(detail);
	return err;
}

static int
p11_helper_login(struct p11_helper *h, uint32_t id, struct buf *m)
{
	char *pin = NULL, *detail = NULL;
	int r, err;

	if ((r = p11_helper_get_pin(m, &pin)) != 0 ||
	    (r = buf_expect_empty(m)) != 0) {
		error_fr(r, "bad IPC_P11_LOGIN");
		err = p11_helper_failure(h, id, r, "malformed request");
		goto out;
	}
	if ((r = p11_helper_load(h)) != 0) {
		err = p11_helper_failure(h, id, r, "cannot load provider");
		goto out;
	}
	/* Also good for one signature by a key that asks every time. */
	if ((r = p11_provider_login(h->p, pin, &detail)) == 0)
		r = p11_provider_set_context_pin(h->p, pin);
	secmem_free(pin);
	pin = NULL;
	if (r != 0) {
		err = p11_helper_failure(h, id, r, detail);
		goto out;
	}
	err = p11_helper_ok(h, id);
 out:
	secmem_free(pin);
	free(detail);
	return err;
}

static int
p11_helper_sign(struct p11_helper *h, uint32_t id, struct buf *m)
{
	struct buf *sig = NULL, *out = NULL;
	const u_char *data;
	size_t datalen;
	uint64_t handle;
	uint32_t flags;
	char *detail = NULL;
	int r, err;

	if ((r = ipc_get_sign(m, &handle, &data, &datalen, &flags)) != 0) {
		error_fr(r, "bad IPC_SIGN");
		err = p11_helper_failure(h, id, r, "malformed request");
		goto out;
	}
	if (h->p == NULL) {
		err = p11_helper_failure(h, id, TOK_ERR_KEY_NOT_FOUND,
		    "no provider added");
		goto out;
	}
	if ((sig = buf_new()) == NULL) {
		err = p11_helper_failure(h, id, TOK_ERR_ALLOC, NULL);
		goto out;
	}
	if ((r = p11_provider_sign(h->p, handle, data, datalen, flags, sig,
	    &detail)) != 0) {
		error_fr(r, "sign with key %016llx%s%s",
		    (unsigned long long)handle, detail != NULL ? ": " : "",
		    detail != NULL ? detail : "");
		err = p11_helper_failure(h, id, r, detail);
		goto out;
	}
	if ((out = buf_new()) == NULL) {
		err = TOK_ERR_ALLOC;
		goto out;
	}
	if ((err = ipc_msg_start(out, id, IPC_SIGNATURE)) != 0 ||
	    (err = buf_put_stringb(out, sig)) != 0)
		goto out;
	token_send(out);
 out:
	free(detail);
	buf_free(sig);
	buf_free(out);
	return err;
}

static int
p11_helper_remove_provider(struct p11_helper *h, uint32_t id, struct buf *m)
{
	char *provider = NULL;
	int r, err;

	if ((r = buf_get_cstring(m, &provider, NULL)) != 0 ||
	    (r = buf_expect_empty(m)) != 0) {
		error_fr(r, "bad IPC_REMOVE_PROVIDER");
		err = p11_helper_failure(h, id, r, "malformed request");
		goto out;
	}
	if (strcmp(provider, h->provider_path) != 0) {
		err = p11_helper_failure(h, id, TOK_ERR_PROVIDER_REFUSED,
		    "not the provider this helper serves");
		goto out;
	}
	p11_provider_close(h->p);
	h->p = NULL;
	token_set_event_fd(-1);
	h->watching = 0;
	err = p11_helper_ok(h, id);
 out:
	free(provider);
	return err;
}

/* p11_helper_handle: answer one request (token/runtime.h). */
static int
p11_helper_handle(void *ctx, uint32_t id, uint8_t type, struct buf *m,
    uint8_t *rtypep, struct buf *reply, char **detailp)
{
	struct p11_helper *h = ctx;
	uint64_t handle;
	int r;

	(void)rtypep;
	(void)reply;
	(void)detailp;
	debug_f("request %u type %u", id, type);
	switch (type) {
	case IPC_ADD_PROVIDER:
		r = p11_helper_add_provider(h, id, m);
		break;
	case IPC_REMOVE_PROVIDER:
		r = p11_helper_remove_provider(h, id, m);
		break;
	case IPC_SIGN:
		r = p11_helper_sign(h, id, m);
		break;
	case IPC_DROP:
		if ((r = buf_get_u64(m, &handle)) != 0 ||
		    (r = buf_expect_empty(m)) != 0)
			r = p11_helper_failure(h, id, r, "malformed request");
		else
			r = p11_helper_ok(h, id);
		break;
	case IPC_P11_LOGIN:
		r = p11_helper_login(h, id, m);
		break;
	case IPC_P11_RESCAN:
		if ((r = buf_expect_empty(m)) != 0)
			r = p11_helper_failure(h, id, r, "malformed request");
		else if ((r = p11_helper_load(h)) != 0)
			r = p11_helper_failure(h, id, r,
			    "cannot load provider");
		else if ((r = p11_provider_scan(h->p, NULL)) != 0)
			r = p11_helper_failure(h, id, r, NULL);
		else
			r = p11_helper_keys(h, id);
		break;
	default:
		error_f("unsupported request type %u", type);
		r = p11_helper_failure(h, id, TOK_ERR_FEATURE_UNSUPPORTED,
		    "unsupported request");
		break;
	}
	if (r != 0)
		fatal_fr(r, "cannot answer request %u", id);
	return TOKEN_REPLY_LATER;
}

/* The slot event fd is readable (token/runtime.h, worker thread). */
static void
p11_helper_event(void *ctx)
{
	struct p11_helper *h = ctx;
	struct buf *m;
	int r, changed = 0;

	if (h->p == NULL)
		return;
	p11_provider_watch_drain(h->p);
	if ((r = p11_provider_scan(h->p, &changed)) != 0) {
		error_fr(r, "rescan after slot event");
		return;
	}
	if (!changed)
		return;
	verbose_f("keys changed: %zu now", p11_provider_nkeys(h->p));
	if ((m = buf_new()) == NULL ||
	    (r = ipc_msg_start(m, 0, IPC_EVENT)) != 0 ||
	    (r = buf_put_cstring(m, "slot event")) != 0 ||
	    (r = p11_provider_put_keys(h->p, m)) != 0)
		fatal_f("out of memory");
	token_send(m);
	buf_free(m);
}

static const struct token_ops p11_helper_ops = {
	.name = "p11",
	.handle = p11_helper_handle,
	.event = p11_helper_event,
};

int
main(int argc, char **argv)
{
	struct p11_helper h;
	char **args;
	int r;

	token_helper_init(argc, argv, "tokagent-p11-helper", "provider", 1,
	    &args);
	memset(&h, 0, sizeof(h));
	h.provider_path = args[0];
	r = token_helper_run(&p11_helper_ops, &h);
	p11_provider_close(h.p);
	return r == 0 ? 0 : 1;
}

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* PKCS#11 providers from the agent side (see helper-p11.h). */
#include "config.h"

#include <sys/queue.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/audit.h"
#include "agent/backend.h"
#include "agent/conn.h"
#include "agent/constraints.h"
#include "agent/helper-p11.h"
#include "agent/helper.h"
#include "agent/idtab.h"
#include "agent/keys.h"
#include "agent/loop.h"
#include "agent/provider.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/key.h"
#include "common/log.h"
#include "pkcs/p11-ipc.h"

#define P11_HELPER		"tokagent-p11-helper"
#define PCSC_WATCHER		"tokagent-pcsc-watcher"
#define P11_MAX_PROVIDERS	32	/* provider helpers at once */

struct helper_p11_prov {
	char *path;			/* realpath of the module */
	struct helper *h;
	struct buf *constraints;	/* as given to ssh-add -s; applied to each key */
	int added;			/* an ssh-add -s of it has succeeded */
	int nadding;			/* ssh-add -s requests in flight */
	struct loop_timer *discard;	/* never added: its helper goes */
	struct buf **removed;		/* blobs the user removed (ssh-add -d) */
	size_t nremoved;
	LIST_ENTRY(helper_p11_prov) entry;
};

struct helper_p11_op {
	struct conn *c;
	struct helper_p11_prov *p;
	uint32_t reqid;
};

static LIST_HEAD(, helper_p11_prov) providers =
    LIST_HEAD_INITIALIZER(providers);
static size_t nproviders;
static struct helper *helper_p11_pcsc;	/* card events, while providers exist */

static struct helper_p11_prov *
helper_p11_find_provider(const char *path)
{
	struct helper_p11_prov *p;

	LIST_FOREACH(p, &providers, entry) {
		if (strcmp(p->path, path) == 0)
			return p;
	}
	return NULL;
}

static struct helper_p11_prov *
helper_p11_provider_of(const struct helper *h)
{
	struct helper_p11_prov *p;

	LIST_FOREACH(p, &providers, entry) {
		if (p->h == h)
			return p;
	}
	return NULL;
}

/* Did the user remove this key (or certificate) with ssh-add -d? */
static int
helper_p11_provider_removed(const struct helper_p11_prov *p, const u_char *blob,
    size_t len)
{
	size_t i;

	for (i = 0; i < p->nremoved; i++) {
		if (buf_len(p->removed[i]) == len &&
		    memcmp(buf_ptr(p->removed[i]), blob, len) == 0)
			return 1;
	}
	return 0;
}

static void
helper_p11_provider_unremove(struct helper_p11_prov *p)
{
	size_t i;

	for (i = 0; i < p->nremoved; i++)
		buf_free(p->removed[i]);
	free(p->removed);
	p->removed = NULL;
	p->nremoved = 0;
}

static void
helper_p11_key_removed(const struct identity *id)
{
	struct helper_p11_prov *p;
	struct buf **tmp;

	if (id->provider == NULL || (p = helper_p11_provider_of(id->helper)) == NULL)
		return;
	if (p->nremoved >= HELPER_MAX_KEYS ||
	    (tmp = recallocarray(p->removed, p->nremoved, p->nremoved + 1,
	    sizeof(*tmp))) == NULL) {
		error_f("cannot remember that %s was removed", id->fingerprint);
		return;
	}
	p->removed = tmp;
	if ((p->removed[p->nremoved] = buf_dup(id->blob)) != NULL)
		p->nremoved++;
}

void
helper_p11_keys_removed_all(void)
{
	struct helper_p11_prov *p;

	/* Until ssh-add -s again, token events bring nothing back. */
	LIST_FOREACH(p, &providers, entry)
		p->added = 0;
}

/* A new identity for a token key, with the provider's constraints. */
static int
helper_p11_new_identity(struct helper_p11_prov *p, uint64_t handle,
    struct key *k, const char *label)
{
	struct identity *id = NULL;
	struct constraints cons;
	struct buf *cb = NULL;
	int r;

	memset(&cons, 0, sizeof(cons));
	if ((id = calloc(1, sizeof(*id))) == NULL ||
	    (id->blob = buf_new()) == NULL ||
	    (cb = buf_fromb(p->constraints)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = key_dup_public(k, &id->key)) != 0 ||
	    (r = key_to_blob(k, id->blob)) != 0 ||
	    (r = key_fingerprint(k, &id->fingerprint)) != 0 ||
	    (r = constraints_parse(cb, &cons)) != 0)
		goto out;
	if ((id->comment = strdup(*label ? label : p->path)) == NULL ||
	    (id->provider = strdup(p->path)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	id->helper = p->h;
	id->handle = handle;
	id->present = 1;
	keys_apply_constraints(id, &cons);
	r = keys_insert(id);
	id = NULL;
 out:
	constraints_clear(&cons);
	buf_free(cb);
	identity_free(id);
	return r;
}

/* Add or refresh one key the helper reports, and its associated certs. */
static int
helper_p11_provider_key(struct helper_p11_prov *p, uint64_t handle,
    struct key *k, const char *label)
{
	struct constraints cons;
	struct identity *id;
	struct buf *cb;
	const u_char *blob;
	size_t len, i;
	int r;

	memset(&cons, 0, sizeof(cons));
	if ((cb = buf_fromb(p->constraints)) == NULL)
		return TOK_ERR_ALLOC;
	r = constraints_parse(cb, &cons);
	buf_free(cb);
	if (r != 0)
		return r;
	blob = key_blob(k, &len);
	if (!cons.certs_only && !helper_p11_provider_removed(p, blob, len)) {
		if ((id = idtab_lookup(agent_idtab, blob, len)) != NULL &&
		    id->helper == p->h) {
			id->present = 1;
			id->handle = handle;
		} else if ((r = helper_p11_new_identity(p, handle, k, label)) != 0)
			goto out;
	}
	for (i = 0; i < cons.ncerts; i++) {
		if (!key_equal_public(cons.certs[i], k))
			continue;
		blob = key_blob(cons.certs[i], &len);
		if (helper_p11_provider_removed(p, blob, len))
			continue;
		if ((id = idtab_lookup(agent_idtab, blob, len)) != NULL &&
		    id->helper == p->h) {
			id->present = 1;
			id->handle = handle;
		} else if ((r = helper_p11_new_identity(p, handle, cons.certs[i],
		    label)) != 0)
			goto out;
	}
	r = 0;
 out:
	constraints_clear(&cons);
	return r;
}

/*
 * IPC_KEYS or an IPC_EVENT key list: the provider's keys now.  adding: the
 * reply to an ssh-add -s, else an event or a rescan.
 */
static int
helper_p11_provider_sync(struct helper_p11_prov *p, struct buf *m, int adding)
{
	struct identity *id;
	struct key *k = NULL;
	uint64_t handle;
	uint32_t n, i;
	char *label = NULL;
	int r;

	/* A provider whose add failed (wrong PIN) offers no keys on events. */
	if (!adding && !p->added)
		return 0;
	if ((r = buf_get_u32(m, &n)) != 0)
		return r;
	if (n > HELPER_MAX_KEYS)
		return TOK_ERR_PROTOCOL;
	/* Absent until listed again: a pulled card's keys are not offered. */
	for (id = idtab_first(agent_idtab); id != NULL; id = idtab_next(id)) {
		if (id->helper == p->h)
			id->present = 0;
	}
	for (i = 0; i < n; i++) {
		if ((r = buf_get_u64(m, &handle)) != 0 ||
		    (r = key_froms(m, &k)) != 0 ||
		    (r = buf_get_cstring(m, &label, NULL)) != 0)
			goto out;
		if (key_has_private(k) || key_is_cert(k)) {
			r = TOK_ERR_PROTOCOL;
			goto out;
		}
		if ((r = helper_p11_provider_key(p, handle, k, label)) != 0)
			goto out;
		key_free(k);
		k = NULL;
		free(label);
		label = NULL;
	}
	r = buf_expect_empty(m);
 out:
	key_free(k);
	free(label);
	return r;
}

static void
helper_p11_provider_event(struct helper *h, uint8_t type, struct buf *m,
    void *arg)
{
	struct helper_p11_prov *p = helper_p11_provider_of(h);
	char *what = NULL;
	int r;

	(void)arg;
	if (p == NULL || type != IPC_EVENT ||
	    (r = buf_get_cstring(m, &what, NULL)) != 0 ||
	    (r = helper_p11_provider_sync(p, m, 0)) != 0) {
		error("bad event from %s", helper_name(h));
		free(what);
		return;
	}
	verbose("provider %s: %s", p->path, what);
	audit_token("token-change", "pkcs11", what, p->path);
	free(what);
}

static void
helper_p11_rescan_reply(int r, uint8_t type, struct buf *m, const char *detail,
    void *arg)
{
	struct helper_p11_prov *p = arg;

	if (r == 0 && type == IPC_KEYS)
		r = helper_p11_provider_sync(p, m, 0);
	if (r != 0)
		error("provider %s: rescan failed: %s%s%s", p->path,
		    tok_strerror(r), detail ? ": " : "", detail ? detail : "");
}

static void
helper_p11_provider_restarted(struct helper *h, void *arg)
{
	struct helper_p11_prov *p = arg;
	struct identity *id;

	/* The new helper has no login: keys come back as it finds them. */
	for (id = idtab_first(agent_idtab); id != NULL; id = idtab_next(id)) {
		if (id->helper == h)
			id->present = 0;
	}
	if (helper_request(h, IPC_P11_RESCAN, NULL,
	    helper_p11_rescan_reply, p, NULL) != 0)
		error("provider %s: could not rescan", p->path);
}

/*
 * Forget provider p and its keys.  retire: ssh-add -e, the helper is told
 * (IPC_REMOVE_PROVIDER) so it closes the module, then stopped; else (at
 * exit) it is just stopped.
 */
static void
helper_p11_provider_free(struct helper_p11_prov *p, int retire)
{
	struct identity *id, *next;
	struct buf *m = NULL;

	for (id = idtab_first(agent_idtab); id != NULL; id = next) {
		next = idtab_next(id);
		if (id->helper == p->h) {
			id->helper = NULL;	/* it is going away */
			keys_drop(id, NULL, "provider removed");
		}
	}
	LIST_REMOVE(p, entry);
	nproviders--;
	loop_cancel_timer(p->discard);
	if (retire && (m = buf_new()) != NULL &&
	    buf_put_cstring(m, p->path) == 0)
		helper_retire(p->h, IPC_REMOVE_PROVIDER, m);
	else
		helper_stop(p->h);
	buf_free(m);
	helper_p11_provider_unremove(p);
	free(p->path);
	buf_free(p->constraints);
	free(p);
}

static void
helper_p11_discard_now(void *arg)
{
	struct helper_p11_prov *p = arg;

	p->discard = NULL;
	if (p->added || p->nadding > 0)
		return;		/* added meanwhile, or being added again */
	debug_f("provider %s was not added: stopping its helper", p->path);
	helper_p11_provider_free(p, 0);
	if (LIST_EMPTY(&providers)) {
		helper_stop(helper_p11_pcsc);
		helper_p11_pcsc = NULL;
	}
}

/*
 * A provider never added keeps no helper: unless an ssh-add -s of it is in
 * flight, it goes, from a timer (a helper callback may be on the stack).
 */
static void
helper_p11_maybe_discard(struct helper_p11_prov *p)
{
	if (p->added || p->nadding > 0 || p->discard != NULL)
		return;
	if ((p->discard = loop_add_timer(0, helper_p11_discard_now,
	    p)) == NULL)
		error_f("provider %s: out of memory", p->path);
}

/* An ssh-add -s of p is over. */
static void
helper_p11_add_done(struct helper_p11_prov *p)
{
	if (p->nadding > 0)
		p->nadding--;
	helper_p11_maybe_discard(p);
}

static void
helper_p11_op_cancel(void *arg)
{
	struct helper_p11_op *op = arg;
	struct helper_p11_prov *p = op->p;

	helper_cancel(p->h, op->reqid);
	free(op);
	helper_p11_add_done(p);
}

static void
helper_p11_add_reply(int r, uint8_t type, struct buf *m, const char *detail,
    void *arg)
{
	struct helper_p11_op *op = arg;
	struct conn *c = op->c;
	struct helper_p11_prov *p = op->p;

	free(op);
	if (r == 0 && type != IPC_KEYS)
		r = TOK_ERR_PROTOCOL;
	if (r == 0)
		helper_p11_provider_unremove(p);	/* added again: all of it */
	if (r == 0 && (r = helper_p11_provider_sync(p, m, 1)) == 0)
		p->added = 1;
	if (r != 0)
		error("add provider %s failed: %s%s%s", p->path,
		    tok_strerror(r), detail ? ": " : "", detail ? detail : "");
	else
		logit("provider %s added by pid %ld", p->path, (long)c->pid);
	helper_p11_add_done(p);
	conn_reply_status(c, r == 0);
}

static int
helper_p11_login(struct helper *h, const char *device, const char *pin,
    helper_reply_cb *cb, void *arg, uint32_t *idp)
{
	struct buf *p;
	int r;

	(void)device;
	if ((p = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_put_cstring(p, pin)) == 0)
		r = helper_request(h, IPC_P11_LOGIN, p, cb, arg, idp);
	buf_free(p);
	return r;
}

static const struct backend helper_p11_backend = {
	.kind = "p11",
	.token_noun = "token",
	.describe_signs = 1,
	.login = helper_p11_login,
	.key_removed = helper_p11_key_removed,
};

/* A card or reader changed: every provider looks at its tokens again. */
static void
helper_p11_pcsc_event(struct helper *h, uint8_t type, struct buf *m, void *arg)
{
	struct helper_p11_prov *p;
	char *what = NULL;

	(void)h;
	(void)arg;
	if (type != IPC_EVENT || buf_get_cstring(m, &what, NULL) != 0) {
		error("bad event from the PC/SC watcher");
		return;
	}
	verbose("smartcard event: %s", what);
	free(what);
	LIST_FOREACH(p, &providers, entry) {
		if (helper_request(p->h, IPC_P11_RESCAN, NULL,
		    helper_p11_rescan_reply, p, NULL) != 0)
			error("provider %s: could not rescan", p->path);
	}
}

/* The PC/SC watcher holds no key and takes no PIN. */
static const struct backend helper_p11_pcsc_backend = {
	.kind = "pcsc",
};

static void
helper_p11_pcsc_start(void)
{
	char *prog, *argv[2];

	if (helper_p11_pcsc != NULL)
		return;
	if ((prog = helper_find_program(PCSC_WATCHER)) == NULL) {
		error("%s not found: card removal is noticed only on use",
		    PCSC_WATCHER);
		return;
	}
	argv[0] = prog;
	argv[1] = NULL;
	helper_p11_pcsc = helper_spawn(&helper_p11_pcsc_backend, "pcsc", prog, argv,
	    helper_p11_pcsc_event, NULL, NULL);
	free(prog);
}

void
helper_p11_add_provider(struct conn *c, struct buf *m, int constrained)
{
	struct helper_p11_op *op = NULL;
	struct helper_p11_prov *p = NULL;
	struct constraints cons;
	struct buf *payload = NULL;
	const u_char *pin;
	size_t pinlen;
	char *path = NULL, *real = NULL, *prog = NULL;
	char *argv[3];
	int r;

	memset(&cons, 0, sizeof(cons));
	if ((r = buf_get_cstring(m, &path, NULL)) != 0 ||
	    (r = buf_get_string_direct(m, &pin, &pinlen)) != 0)
		goto fail;
	if (!constrained && (r = buf_expect_empty(m)) != 0)
		goto fail;
	/* Check the constraints now; they are applied to each key found. */
	{
		struct buf *cb;

		if ((cb = buf_fromb(m)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto fail;
		}
		r = constraints_parse(cb, &cons);
		buf_free(cb);
		constraints_clear(&cons);
		if (r != 0)
			goto fail;
	}
	if ((r = provider_check(c, path, "PKCS#11 provider", &real)) != 0)
		goto fail;
	/*
	 * As OpenSSH's agent: a provider is added once.  A second add would
	 * not check its PIN (the token is logged in) yet could drop the
	 * keys' constraints (-c): remove it first (ssh-add -e).
	 */
	if ((p = helper_p11_find_provider(real)) != NULL && p->added) {
		error("provider %s is already added", real);
		r = TOK_ERR_PROVIDER_REFUSED;
		goto fail;
	}
	if (p == NULL && nproviders >= P11_MAX_PROVIDERS) {
		error("refusing provider %s: %d providers are loaded already; "
		    "remove one first (ssh-add -e)", real, P11_MAX_PROVIDERS);
		r = TOK_ERR_PROVIDER_REFUSED;
		goto fail;
	}
	if (p == NULL) {
		if ((prog = helper_find_program(P11_HELPER)) == NULL) {
			error("%s not found", P11_HELPER);
			r = TOK_ERR_FEATURE_UNSUPPORTED;
			goto fail;
		}
		if ((p = calloc(1, sizeof(*p))) == NULL ||
		    (p->path = strdup(real)) == NULL) {
			free(p);
			p = NULL;
			r = TOK_ERR_ALLOC;
			goto fail;
		}
		argv[0] = prog;
		argv[1] = p->path;
		argv[2] = NULL;
		if ((p->h = helper_spawn(&helper_p11_backend, "p11", prog, argv,
		    helper_p11_provider_event, helper_p11_provider_restarted,
		    p)) == NULL) {
			free(p->path);
			free(p);
			p = NULL;
			r = TOK_ERR_HELPER_DIED;
			goto fail;
		}
		LIST_INSERT_HEAD(&providers, p, entry);
		nproviders++;
		helper_p11_pcsc_start();
	}
	/* A provider whose add failed (wrong PIN) may be added again. */
	buf_free(p->constraints);
	if ((p->constraints = buf_dup(m)) == NULL ||
	    (payload = buf_new()) == NULL ||
	    (op = calloc(1, sizeof(*op))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto fail;
	}
	op->c = c;
	op->p = p;
	if ((r = buf_put_cstring(payload, p->path)) != 0 ||
	    (r = buf_put_string(payload, pin, pinlen)) != 0 ||
	    (r = helper_request(p->h, IPC_ADD_PROVIDER, payload,
	    helper_p11_add_reply, op, &op->reqid)) != 0)
		goto fail;
	p->nadding++;
	buf_free(payload);
	free(path);
	free(real);
	free(prog);
	conn_wait(c, op, helper_p11_op_cancel);
	return;
 fail:
	error("add provider %s from pid %ld: %s", path ? path : "?",
	    (long)c->pid, tok_strerror(r));
	if (p != NULL)
		helper_p11_maybe_discard(p);
	free(op);
	buf_free(payload);
	free(path);
	free(real);
	free(prog);
	conn_reply_status(c, 0);
}

void
helper_p11_remove_provider(struct conn *c, struct buf *m)
{
	struct helper_p11_prov *p;
	char *path = NULL, real[PATH_MAX];
	int r;

	if ((r = buf_get_cstring(m, &path, NULL)) != 0 ||
	    (r = buf_get_string_direct(m, NULL, NULL)) != 0 ||
	    (r = buf_expect_empty(m)) != 0) {
		error_fr(r, "remove provider");
		free(path);
		conn_reply_status(c, 0);
		return;
	}
	if (realpath(path, real) == NULL || (p = helper_p11_find_provider(real)) ==
	    NULL) {
		error("remove provider %s: not loaded", path);
		free(path);
		conn_reply_status(c, 0);
		return;
	}
	logit("provider %s removed by pid %ld", p->path, (long)c->pid);
	helper_p11_provider_free(p, 1);
	if (LIST_EMPTY(&providers)) {
		helper_stop(helper_p11_pcsc);
		helper_p11_pcsc = NULL;
	}
	free(path);
	conn_reply_status(c, 1);
}

void
helper_p11_shutdown(void)
{
	struct helper_p11_prov *p;

	while ((p = LIST_FIRST(&providers)) != NULL)
		helper_p11_provider_free(p, 0);
	helper_stop(helper_p11_pcsc);
	helper_p11_pcsc = NULL;
}

void
helper_p11_foreach(void (*cb)(const char *kind, const char *name,
    struct helper *h, void *arg), void *arg)
{
	struct helper_p11_prov *p;

	if (helper_p11_pcsc != NULL)
		cb("pcsc", "smartcard events (PC/SC watcher)", helper_p11_pcsc,
		    arg);
	LIST_FOREACH(p, &providers, entry)
		cb("pkcs11", p->path, p->h, arg);
}

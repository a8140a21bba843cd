/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Adding and removing identities (see keys.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/backend.h"
#include "agent/conn.h"
#include "agent/constraints.h"
#include "agent/dest.h"
#include "agent/helper.h"
#include "agent/idtab.h"
#include "agent/audit.h"
#include "agent/keys.h"
#include "agent/loop.h"
#include "agent/notice.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/key.h"
#include "common/log.h"

struct add_op {
	struct conn *c;
	struct helper *h;
	struct buf *body;	/* the client's add message: private key inside */
	int constrained;
	uint32_t reqid;
};

static struct loop_timer *keys_sweep_timer;
static uint64_t keys_sweep_at;

static void keys_schedule_sweep(uint64_t when);

static void
keys_sweep(void *arg)
{
	struct identity *id, *next;
	uint64_t now = loop_now_ms(), earliest = 0;

	(void)arg;
	keys_sweep_timer = NULL;
	keys_sweep_at = 0;
	for (id = idtab_first(agent_idtab); id != NULL; id = next) {
		next = idtab_next(id);
		if (id->expires_ms == 0)
			continue;
		if (id->expires_ms <= now)
			keys_drop(id, NULL, "lifetime expired");
		else if (earliest == 0 || id->expires_ms < earliest)
			earliest = id->expires_ms;
	}
	if (earliest != 0)
		keys_schedule_sweep(earliest);
}

static void
keys_schedule_sweep(uint64_t when)
{
	uint64_t now = loop_now_ms();

	if (keys_sweep_timer != NULL && keys_sweep_at <= when)
		return;
	loop_cancel_timer(keys_sweep_timer);
	keys_sweep_at = when;
	keys_sweep_timer = loop_add_timer(when > now ? when - now : 0,
	    keys_sweep, NULL);
}

int
keys_expire_if_due(struct identity *id)
{
	if (id->expires_ms == 0 || id->expires_ms > loop_now_ms())
		return 0;
	keys_drop(id, NULL, "lifetime expired");
	return 1;
}

void
keys_helper_drop(struct helper *h, uint64_t handle)
{
	struct buf *p;

	if (h == NULL || (p = buf_new()) == NULL)
		return;
	/* Fire and forget: the helper forgetting late is harmless. */
	if (buf_put_u64(p, handle) != 0 ||
	    helper_request(h, IPC_DROP, p, NULL, NULL, NULL) != 0)
		error_f("could not tell helper %s to drop a key",
		    helper_name(h));
	buf_free(p);
}

void
keys_drop(struct identity *id, const struct conn *c, const char *why)
{
	verbose("removing key %s %s (%s)", id->fingerprint,
	    id->comment, why);
	audit_event("remove", c, id, "ok", why);
	idtab_unlink(agent_idtab, id);
	keys_helper_drop(id->helper, id->handle);
	identity_free(id);
}

void
keys_helper_lost(struct helper *h, void *arg)
{
	struct identity *id, *next;
	char *text;
	u_int n = 0;

	(void)arg;
	for (id = idtab_first(agent_idtab); id != NULL; id = next) {
		next = idtab_next(id);
		if (id->helper != h)
			continue;
		error("key %s (%s) was lost when helper %s died: add it again",
		    id->fingerprint, id->comment, helper_name(h));
		id->helper = NULL;	/* the new helper never had it */
		keys_drop(id, NULL, "helper restarted");
		n++;
	}
	/* Not only in the log: the user finds out before the next login. */
	if (n > 0 && asprintf(&text, "Software keys lost\n"
	    "The process that held %u software key%s stopped, and the agent "
	    "keeps no copy of private keys: add %s again (ssh-add).", n,
	    n == 1 ? "" : "s", n == 1 ? "it" : "them") != -1) {
		notice_flash("Software keys lost", text);
		free(text);
	}
}

int
keys_identity_new(const struct key *k, const char *comment, struct helper *h,
    uint64_t handle, struct identity **idp)
{
	struct identity *id;
	struct constraints none;
	int r;

	*idp = NULL;
	if ((id = calloc(1, sizeof(*id))) == NULL ||
	    (id->blob = buf_new()) == NULL) {
		free(id);
		return TOK_ERR_ALLOC;
	}
	if ((r = key_dup_public(k, &id->key)) != 0 ||
	    (r = key_to_blob(k, id->blob)) != 0 ||
	    (r = key_fingerprint(k, &id->fingerprint)) != 0)
		goto fail;
	if ((id->comment = strdup(comment)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto fail;
	}
	id->helper = h;
	id->handle = handle;
	id->present = 1;
	memset(&none, 0, sizeof(none));
	keys_apply_constraints(id, &none);
	*idp = id;
	return 0;
 fail:
	identity_free(id);
	return r;
}

void
keys_apply_constraints(struct identity *id, struct constraints *c)
{
	uint32_t life = c->has_lifetime ? c->lifetime :
	    agent_opts.default_lifetime;

	id->confirm = c->confirm;
	id->expires_ms = life != 0 ? loop_now_ms() + (uint64_t)life * 1000 : 0;
	dest_constraints_free(id->dest);
	id->dest = c->dest;
	c->dest = NULL;
	if (id->expires_ms != 0)
		keys_schedule_sweep(id->expires_ms);
}

int
keys_insert(struct identity *id)
{
	struct identity *old;
	int r;

	if ((old = idtab_lookup(agent_idtab, buf_ptr(id->blob),
	    buf_len(id->blob))) != NULL) {
		/* Re-adding replaces the key's constraints (and its handle). */
		debug_f("replacing %s", old->fingerprint);
		keys_drop(old, NULL, "added again");
	}
	if ((r = idtab_insert(agent_idtab, id)) != 0) {
		keys_helper_drop(id->helper, id->handle);
		identity_free(id);
		return r;
	}
	return 0;
}

static void
add_op_free(struct add_op *op)
{
	if (op == NULL)
		return;
	buf_free(op->body);	/* zeroes the private key bytes */
	free(op);
}

static void
add_op_cancel(void *arg)
{
	struct add_op *op = arg;

	helper_cancel(op->h, op->reqid);
	add_op_free(op);
}

/* Parse IPC_KEY and build the identity; the constraints follow the key in body. */
static int
keys_added(struct add_op *op, struct buf *reply, struct identity **idp)
{
	const struct backend *be;
	struct identity *id = NULL;
	struct constraints cons;
	const u_char *blob;
	size_t bloblen;
	uint32_t consumed;
	int r;

	*idp = NULL;
	memset(&cons, 0, sizeof(cons));
	if ((id = calloc(1, sizeof(*id))) == NULL)
		return TOK_ERR_ALLOC;
	id->helper = op->h;
	id->present = 1;
	if ((r = buf_get_u64(reply, &id->handle)) != 0 ||
	    (r = buf_get_string_direct(reply, &blob, &bloblen)) != 0 ||
	    (r = buf_get_cstring(reply, &id->comment, NULL)) != 0 ||
	    (r = buf_get_u32(reply, &consumed)) != 0 ||
	    (r = buf_expect_empty(reply)) != 0) {
		error_fr(r, "malformed reply from helper %s",
		    helper_name(op->h));
		r = TOK_ERR_PROTOCOL;
		goto out;
	}
	if (consumed > buf_len(op->body)) {
		error_f("helper %s claims too much", helper_name(op->h));
		r = TOK_ERR_PROTOCOL;
		goto out;
	}
	be = helper_backend(op->h);
	/* Kept to give back to a restarted helper (never a private key). */
	if (be != NULL && be->keys_given_back &&
	    ((id->readd = buf_new()) == NULL ||
	    buf_put(id->readd, buf_ptr(op->body), consumed) != 0)) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = key_from_blob(blob, bloblen, &id->key)) != 0 ||
	    (id->blob = buf_new()) == NULL ||
	    (r = buf_put(id->blob, blob, bloblen)) != 0 ||
	    (r = key_fingerprint(id->key, &id->fingerprint)) != 0) {
		if (r == 0)
			r = TOK_ERR_ALLOC;
		error_fr(r, "key from helper %s", helper_name(op->h));
		goto out;
	}
	if ((r = buf_consume(op->body, consumed)) != 0)
		goto out;
	if (!op->constrained && buf_len(op->body) != 0) {
		error("ADD_IDENTITY with trailing data");
		r = TOK_ERR_TRAILING_DATA;
		goto out;
	}
	if ((r = constraints_parse(op->body, &cons)) != 0)
		goto out;
	if (cons.certs != NULL) {
		error("associated certificates are for PKCS#11 keys only");
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	if (cons.sk_provider != NULL &&
	    strcmp(cons.sk_provider, "internal") != 0 && !key_is_sk(id->key)) {
		error("sk-provider constraint on a non-FIDO key");
		r = TOK_ERR_INVALID_FORMAT;
		goto out;
	}
	if (be != NULL && be->key_constraints != NULL &&
	    (r = be->key_constraints(id, op->c, &cons)) != 0)
		goto out;
	keys_apply_constraints(id, &cons);
	*idp = id;
	id = NULL;
	r = 0;
 out:
	constraints_clear(&cons);
	if (id != NULL) {
		keys_helper_drop(id->helper, id->handle);
		identity_free(id);
	}
	return r;
}

static void
keys_add_reply(int r, uint8_t type, struct buf *reply, const char *detail,
    void *arg)
{
	struct add_op *op = arg;
	struct conn *c = op->c;
	struct identity *id = NULL;

	if (r == 0 && type != IPC_KEY)
		r = TOK_ERR_PROTOCOL;
	if (r == 0)
		r = keys_added(op, reply, &id);
	if (r == 0 && (r = keys_insert(id)) == 0) {
		verbose("added %s key %s %s%s%s", key_type_name(id->key),
		    id->fingerprint, id->comment, id->confirm ? " [confirm]" : "",
		    id->expires_ms ? " [lifetime]" : "");
		audit_event("add", c, id, "ok", NULL);
	} else {
		error("add key from pid %ld failed: %s%s%s", (long)c->pid,
		    tok_strerror(r), detail ? ": " : "", detail ? detail : "");
		audit_event("add", c, NULL, "failed", tok_strerror(r));
	}
	add_op_free(op);
	conn_reply_status(c, r == 0);
}

void
keys_add(struct conn *c, struct buf *m, int constrained,
    keys_helper_for *helper_for)
{
	struct add_op *op = NULL;
	struct buf *payload = NULL;
	uint32_t tlen;
	char typename[128];
	int r, is_sk;

	/* Only the key type is peeked at here: the private part is the helper's. */
	typename[0] = '\0';
	r = TOK_ERR_INVALID_FORMAT;
	if (buf_peek_u32(m, 0, &tlen) != 0 || tlen == 0 ||
	    tlen >= sizeof(typename) || tlen > buf_len(m) - 4)
		goto fail;
	memcpy(typename, buf_ptr(m) + 4, tlen);
	typename[tlen] = '\0';
	r = TOK_ERR_KEY_TYPE_UNKNOWN;
	switch (key_type_from_name(typename, NULL)) {
	case KEY_UNSPEC:
		goto fail;
	case KEY_ECDSA_SK:
	case KEY_ED25519_SK:
		is_sk = 1;
		break;
	default:
		is_sk = 0;
		break;
	}
	if ((op = calloc(1, sizeof(*op))) == NULL ||
	    (op->body = buf_dup(m)) == NULL || (payload = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto fail;
	}
	op->c = c;
	op->constrained = constrained;
	if (!is_sk && !agent_opts.software_keys) {
		r = TOK_ERR_SOFTWARE_KEYS_OFF;
		goto fail;
	}
	if ((op->h = helper_for(is_sk)) == NULL) {
		r = TOK_ERR_HELPER_DIED;
		goto fail;
	}
	if ((r = buf_put_stringb(payload, m)) != 0 ||
	    (r = helper_request(op->h, IPC_ADD_KEY, payload, keys_add_reply, op,
	    &op->reqid)) != 0)
		goto fail;
	buf_free(payload);
	conn_wait(c, op, add_op_cancel);
	return;
 fail:
	error("add key (%s) from pid %ld refused: %s", typename[0] ?
	    typename : "?", (long)c->pid, tok_strerror(r));
	buf_free(payload);
	add_op_free(op);
	conn_reply_status(c, 0);
}

void
keys_remove(struct conn *c, struct buf *m)
{
	const struct backend *be;
	struct identity *id;
	const u_char *blob;
	size_t len;
	int r;

	if ((r = buf_get_string_direct(m, &blob, &len)) != 0 ||
	    (r = buf_expect_empty(m)) != 0) {
		error_fr(r, "remove identity");
		conn_reply_status(c, 0);
		return;
	}
	if ((id = idtab_lookup(agent_idtab, blob, len)) == NULL) {
		debug_f("key not found");
		conn_reply_status(c, 0);
		return;
	}
	be = helper_backend(id->helper);
	if (be != NULL && be->key_removed != NULL)
		be->key_removed(id);
	keys_drop(id, c, "removed by client");
	conn_reply_status(c, 1);
}

int
keys_remove_all(struct conn *c, struct buf *m)
{
	if (buf_expect_empty(m) != 0) {
		conn_reply_status(c, 0);
		return 0;
	}
	keys_drop_all(c, "all keys removed");
	conn_reply_status(c, 1);
	return 1;
}

void
keys_drop_all(const struct conn *c, const char *why)
{
	struct identity *id;

	while ((id = idtab_first(agent_idtab)) != NULL)
		keys_drop(id, c, why);
}

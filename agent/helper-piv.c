/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* The native PIV helper from the agent side (see helper-piv.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/audit.h"
#include "agent/backend.h"
#include "agent/conn.h"
#include "agent/constraints.h"
#include "agent/dest.h"
#include "agent/helper-piv.h"
#include "agent/helper.h"
#include "agent/idtab.h"
#include "agent/keys.h"
#include "agent/tokstate.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/key.h"
#include "common/log.h"
#include "token/piv-ipc.h"

#define PIV_HELPER		"tokagent-piv-helper"

static struct helper *helper_piv;
/* The blobs of the keys the helper reported last, and those removed. */
static struct buf **reported, **removed;
static size_t nreported, nremoved;
/* The last key list the helper sent, to offer them again (helper_piv_resync). */
static struct buf *last_keys;

static void
helper_piv_blobs_free(struct buf ***v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		buf_free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

static int
helper_piv_blobs_has(struct buf **v, size_t n, const u_char *blob, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf_len(v[i]) == len && memcmp(buf_ptr(v[i]), blob,
		    len) == 0)
			return 1;
	}
	return 0;
}

static int
helper_piv_blobs_add(struct buf ***v, size_t *n, const u_char *blob,
    size_t len)
{
	struct buf **tmp;

	if (*n >= HELPER_MAX_KEYS ||
	    (tmp = recallocarray(*v, *n, *n + 1, sizeof(*tmp))) == NULL)
		return TOK_ERR_ALLOC;
	*v = tmp;
	if (((*v)[*n] = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if (buf_put(((*v)[*n]), blob, len) != 0) {
		buf_free((*v)[*n]);
		return TOK_ERR_ALLOC;
	}
	(*n)++;
	return 0;
}

/* The serial in a label "<card> #<serial> PIV <slot>", or NULL. */
static char *
helper_piv_serial(const char *label)
{
	const char *p, *e;

	if ((p = strrchr(label, '#')) == NULL)
		return NULL;
	p++;
	for (e = p; *e >= '0' && *e <= '9'; e++)
		;
	if (e == p || *e != ' ')
		return NULL;
	return strndup(p, e - p);
}

static int
helper_piv_new_identity(struct helper *h, uint64_t handle, struct key *k,
    const char *label)
{
	struct identity *id;
	int r;

	/* No constraints of its own: the agent's defaults (-t) apply. */
	if ((r = keys_identity_new(k, label, h, handle, &id)) != 0)
		return r;
	id->token_serial = helper_piv_serial(label);
	verbose("PIV key %s %s", id->fingerprint, id->comment);
	audit_event("add", NULL, id, "ok", "PIV card");
	return keys_insert(id);
}

/* IPC_EVENT: the keys of every card present now. */
static int
helper_piv_sync(struct helper *h, struct buf *m)
{
	struct identity *id, *next;
	struct buf **now = NULL, **keep = NULL;
	size_t nnow = 0, nkeep = 0, i, len;
	struct key *k = NULL;
	const u_char *blob;
	uint64_t handle;
	uint32_t n, j;
	char *label = NULL;
	int r;

	if ((r = buf_get_u32(m, &n)) != 0)
		return r;
	if (n > HELPER_MAX_KEYS)
		return TOK_ERR_PROTOCOL;
	for (j = 0; j < n; j++) {
		if ((r = buf_get_u64(m, &handle)) != 0 ||
		    (r = key_froms(m, &k)) != 0 ||
		    (r = helper_get_name(m, &label)) != 0)
			goto out;
		if (key_has_private(k) || key_is_cert(k)) {
			r = TOK_ERR_PROTOCOL;
			goto out;
		}
		blob = key_blob(k, &len);
		if ((r = helper_piv_blobs_add(&now, &nnow, blob, len)) != 0)
			goto out;
		if ((id = idtab_lookup(agent_idtab, blob, len)) != NULL) {
			/* Ours: the handle may have changed (replugged). */
			if (id->helper == h) {
				id->handle = handle;
				id->present = 1;
			}
			/* Else added through PKCS#11: listed once, there. */
		} else if (!helper_piv_blobs_has(removed, nremoved, blob,
		    len) && (r = helper_piv_new_identity(h, handle, k,
		    label)) != 0)
			goto out;
		key_free(k);
		k = NULL;
		free(label);
		label = NULL;
	}
	if ((r = buf_expect_empty(m)) != 0)
		goto out;
	/* The keys of pulled cards go. */
	for (id = idtab_first(agent_idtab); id != NULL; id = next) {
		next = idtab_next(id);
		if (id->helper == h && !helper_piv_blobs_has(now, nnow,
		    buf_ptr(id->blob), buf_len(id->blob))) {
			id->helper = NULL;	/* the helper forgot it */
			keys_drop(id, NULL, "card removed");
		}
	}
	/* Removed keys whose card was pulled come back when plugged in. */
	for (i = 0; i < nremoved; i++) {
		if (helper_piv_blobs_has(now, nnow, buf_ptr(removed[i]),
		    buf_len(removed[i])) && (r = helper_piv_blobs_add(&keep,
		    &nkeep, buf_ptr(removed[i]), buf_len(removed[i]))) != 0)
			goto out;
	}
	helper_piv_blobs_free(&removed, &nremoved);
	removed = keep;
	nremoved = nkeep;
	keep = NULL;
	nkeep = 0;
	helper_piv_blobs_free(&reported, &nreported);
	reported = now;
	nreported = nnow;
	now = NULL;
	nnow = 0;
	r = 0;
 out:
	helper_piv_blobs_free(&now, &nnow);
	helper_piv_blobs_free(&keep, &nkeep);
	key_free(k);
	free(label);
	return r;
}

static void
helper_piv_event(struct helper *h, uint8_t type, struct buf *m, void *arg)
{
	char *what = NULL, *device = NULL, *name = NULL;
	uint8_t kept;
	int r = TOK_ERR_INVALID_FORMAT;

	(void)arg;
	switch (type) {
	case IPC_EVENT:
		if ((r = buf_get_cstring(m, &what, NULL)) != 0)
			break;
		buf_free(last_keys);
		if ((last_keys = buf_dup(m)) == NULL) {
			r = TOK_ERR_ALLOC;
			break;
		}
		if ((r = helper_piv_sync(h, m)) != 0)
			break;
		verbose("PIV: %s", what);
		audit_token("token-change", "piv", what, NULL);
		break;
	case IPC_PIV_TOUCH:
		r = helper_get_note(h, HELPER_NOTE_TOUCH, 1, m);
		break;
	case IPC_PIV_PIN_WANTED:
		r = helper_get_note(h, HELPER_NOTE_PIN_WANTED, 0, m);
		break;
	case IPC_PIV_PIN_KEPT:
		if ((r = helper_get_device_flag(m, &device, &name,
		    &kept)) == 0)
			tokstate_pin_kept(device, name, kept);
		break;
	default:
		r = TOK_ERR_INVALID_FORMAT;
		break;
	}
	if (r != 0)
		error_fr(r, "bad event %u from the PIV helper", type);
	free(what);
	free(device);
	free(name);
}

static int
helper_piv_login(struct helper *h, const char *device, const char *pin,
    helper_reply_cb *cb, void *arg, uint32_t *idp)
{
	struct buf *p;
	int r;

	if ((p = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_put_cstring(p, device)) == 0 &&
	    (r = buf_put_cstring(p, pin)) == 0)
		r = helper_request(h, IPC_PIV_PIN, p, cb, arg, idp);
	buf_free(p);
	return r;
}

static void
helper_piv_key_removed(const struct identity *id)
{
	if (helper_piv_blobs_add(&removed, &nremoved, buf_ptr(id->blob),
	    buf_len(id->blob)) != 0)
		error_f("cannot remember that %s was removed", id->fingerprint);
}

static const struct backend helper_piv_backend = {
	.kind = "piv",
	.keys_given_back = 0,
	.token_noun = "PIV card",
	.pin_per_device = 1,
	.pin_cache_reported = 1,
	.describe_signs = 1,
	.login = helper_piv_login,
	.key_removed = helper_piv_key_removed,
};

/* A restarted helper reads the cards again and reports their keys. */
static void
helper_piv_restarted(struct helper *h, void *arg)
{
	struct identity *id, *next;

	(void)arg;
	for (id = idtab_first(agent_idtab); id != NULL; id = next) {
		next = idtab_next(id);
		if (id->helper != h)
			continue;
		id->helper = NULL;	/* the new helper never had it */
		keys_drop(id, NULL, "PIV helper restarted; listed again when "
		    "it has read the card");
	}
	buf_free(last_keys);
	last_keys = NULL;
}

void
helper_piv_start(void)
{
	char *prog, *argv[2];

	if (helper_piv != NULL)
		return;
	if ((prog = helper_find_program(PIV_HELPER)) == NULL) {
		error("PIV cards need %s, which was not found", PIV_HELPER);
		return;
	}
	argv[0] = prog;
	argv[1] = NULL;
	/* A restarted helper reports its cards' keys again. */
	helper_piv = helper_spawn(&helper_piv_backend, "piv", prog, argv,
	    helper_piv_event, helper_piv_restarted, NULL);
	free(prog);
}

struct helper *
helper_piv_running(void)
{
	return helper_piv;
}

/* A PIV_REREAD_EXT request waiting for the helper. */
struct piv_reread {
	struct conn *c;
	uint32_t reqid;
};

static void
helper_piv_reread_done(int r, uint8_t type, struct buf *m, const char *detail,
    void *arg)
{
	struct piv_reread *rr = arg;

	(void)m;
	if (r == 0 && type != IPC_OK)
		r = TOK_ERR_PROTOCOL;
	if (r != 0)
		error("reading the PIV cards again failed: %s%s%s",
		    tok_strerror(r), detail ? ": " : "", detail ? detail : "");
	conn_reply_status(rr->c, r == 0);
	free(rr);
}

/* The client left first: the helper's answer goes nowhere. */
static void
helper_piv_reread_cancel(void *arg)
{
	struct piv_reread *rr = arg;

	if (helper_piv != NULL)
		helper_cancel(helper_piv, rr->reqid);
	free(rr);
}

void
helper_piv_reread(struct conn *c, struct buf *m)
{
	struct piv_reread *rr;

	if (buf_expect_empty(m) != 0 || helper_piv == NULL ||
	    dest_bindings_is_remote(c->bindings) ||
	    (rr = calloc(1, sizeof(*rr))) == NULL) {
		conn_reply_status(c, 0);
		return;
	}
	rr->c = c;
	if (helper_request(helper_piv, IPC_PIV_REREAD, NULL,
	    helper_piv_reread_done, rr, &rr->reqid) != 0) {
		free(rr);
		conn_reply_status(c, 0);
		return;
	}
	conn_wait(c, rr, helper_piv_reread_cancel);
}

void
helper_piv_forget_pins(void)
{
	if (helper_piv != NULL &&
	    helper_request(helper_piv, IPC_PIV_FORGET, NULL, NULL, NULL,
	    NULL) != 0)
		error("could not clear the PIV PIN cache");
}

void
helper_piv_keys_removed_all(void)
{
	size_t i;

	for (i = 0; i < nreported; i++) {
		if (!helper_piv_blobs_has(removed, nremoved,
		    buf_ptr(reported[i]), buf_len(reported[i])) &&
		    helper_piv_blobs_add(&removed, &nremoved,
		    buf_ptr(reported[i]), buf_len(reported[i])) != 0)
			error_f("cannot remember a removed key");
	}
	helper_piv_forget_pins();
}

void
helper_piv_resync(void)
{
	struct buf *m;
	int r;

	if (helper_piv == NULL || last_keys == NULL)
		return;
	if ((m = buf_fromb(last_keys)) == NULL)
		return;
	if ((r = helper_piv_sync(helper_piv, m)) != 0)
		error_fr(r, "PIV keys");
	buf_free(m);
}

void
helper_piv_shutdown(void)
{
	helper_stop(helper_piv);
	helper_piv = NULL;
	helper_piv_blobs_free(&reported, &nreported);
	helper_piv_blobs_free(&removed, &nremoved);
	buf_free(last_keys);
	last_keys = NULL;
}

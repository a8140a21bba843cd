/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Resident FIDO keys imported by the agent (see resident.h). */
#include "config.h"

#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/askpass.h"
#include "agent/audit.h"
#include "agent/conn.h"
#include "agent/constraints.h"
#include "agent/dest.h"
#include "agent/helper-sk.h"
#include "agent/helper.h"
#include "agent/idtab.h"
#include "agent/keys.h"
#include "agent/lock.h"
#include "agent/loop.h"
#include "agent/notice.h"
#include "agent/pin.h"
#include "agent/prompt.h"
#include "agent/resident.h"
#include "common/buf.h"
#include "common/sanitize.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/key.h"
#include "common/log.h"
#include "common/secmem.h"
#include "sk/sk-ipc.h"

#define RESIDENT_PIN_TRIES	3		/* PINs asked per import */
#define RESIDENT_DEVICE_MAX	1024		/* a device named by a client */

/*
 * One import: a PIN prompt, then IPC_SK_LOAD_RESIDENT at the sk helper,
 * again after a wrong PIN.  For the extension c is its client; for a
 * token that was plugged in c is NULL and there is at most one per device.
 */
struct resident_op {
	struct conn *c;
	struct helper *h;
	struct askpass *ap;	/* the PIN prompt, while it is up */
	int at_helper;		/* reqid is in flight */
	uint32_t reqid;
	char *device;		/* "" : every token */
	char *name;		/* the token for people ("" : not known) */
	int tries;		/* PINs asked so far */
	int no_pin;		/* the user cancelled the prompt (or let it time out) */
	uint32_t retries;	/* left, from IPC_SK_PIN_WANTED */
	LIST_ENTRY(resident_op) entry;
};

static LIST_HEAD(, resident_op) resident_ops =
    LIST_HEAD_INITIALIZER(resident_ops);

static void
resident_op_free(struct resident_op *op)
{
	if (op == NULL)
		return;
	LIST_REMOVE(op, entry);
	askpass_cancel(op->ap);
	if (op->at_helper)
		helper_cancel(op->h, op->reqid);
	free(op->device);
	free(op->name);
	free(op);
}

static struct resident_op *
resident_op_new(struct conn *c, struct helper *h, const char *device,
    const char *name)
{
	struct resident_op *op;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		return NULL;
	if ((op->device = strdup(device)) == NULL ||
	    (op->name = strdup(name)) == NULL) {
		free(op->device);
		free(op);
		return NULL;
	}
	op->c = c;
	op->h = h;
	op->retries = HELPER_RETRIES_UNKNOWN;
	LIST_INSERT_HEAD(&resident_ops, op, entry);
	return op;
}

/* The token, as prompts and logs name it. */
static const char *
resident_op_token(const struct resident_op *op)
{
	if (*op->name != '\0')
		return op->name;
	if (*op->device != '\0')
		return op->device;
	return "the security keys present";
}

/* The client went away: stop the prompt or the helper's work. */
static void
resident_op_cancel(void *arg)
{
	resident_op_free(arg);
}

/*
 * IPC_SK_RESIDENT_KEYS from the sk helper: the resident keys it now holds,
 * each with the add body the agent gives back to a restarted helper, as for
 * keys added with ssh-add.  A key the agent already offers (added with
 * ssh-add, imported before) is left as it is, with its constraints; the
 * helper's new copy is dropped.
 */
static int
resident_keys(struct helper *h, struct buf *m, uint32_t *np, uint32_t *dupp)
{
	struct identity *id = NULL;
	struct key *k = NULL;
	const u_char *add_body;
	size_t add_len;
	uint64_t handle;
	uint32_t n, i;
	char *label = NULL;
	int r;

	*np = *dupp = 0;
	if ((r = buf_get_u32(m, &n)) != 0)
		return r;
	if (n > HELPER_MAX_KEYS)
		return TOK_ERR_PROTOCOL;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_u64(m, &handle)) != 0 ||
		    (r = key_froms(m, &k)) != 0 ||
		    (r = buf_get_cstring(m, &label, NULL)) != 0 ||
		    (r = buf_get_string_direct(m, &add_body,
		    &add_len)) != 0)
			goto out;
		if (!key_is_sk(k) || key_is_cert(k)) {
			r = TOK_ERR_PROTOCOL;
			goto out;
		}
		r = keys_identity_new(k, label, h, handle, &id);
		key_free(k);
		k = NULL;
		free(label);
		label = NULL;
		if (r != 0)
			goto out;
		if ((id->readd = buf_new()) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		if ((r = buf_put(id->readd, add_body, add_len)) != 0)
			goto out;
		if (idtab_lookup(agent_idtab, buf_ptr(id->blob),
		    buf_len(id->blob)) != NULL) {
			debug_f("%s is already loaded", id->fingerprint);
			keys_helper_drop(h, handle);
			identity_free(id);
			id = NULL;
			(*dupp)++;
			continue;
		}
		r = keys_insert(id);
		id = NULL;
		if (r != 0)
			goto out;
		(*np)++;
	}
	r = buf_expect_empty(m);
 out:
	identity_free(id);
	key_free(k);
	free(label);
	return r;
}

/* Tell the user, not only the log, that the token's PIN is blocked. */
static void
resident_notice_blocked(const char *token)
{
	char *text = NULL, *t;

	if ((t = sanitize_quoted(token, SANITIZE_MAX_NAME)) == NULL)
		return;
	/* Blocked after three wrong PINs in a row, or after too many. */
	if (asprintf(&text, "Security key PIN blocked\n"
	    "Security key %s blocked its PIN, so its resident SSH keys were "
	    "not imported.\nAfter three wrong PINs in a row, unplug it and "
	    "plug it in again; after too many, it must be reset.", t) < 0)
		text = NULL;
	free(t);
	if (text == NULL)
		return;
	notice_flash("Security key PIN blocked", text);
	free(text);
}

static void
resident_reply_failure(struct conn *c)
{
	u_char fail = SSH_AGENT_EXTENSION_FAILURE;
	struct buf *b;

	if ((b = buf_from(&fail, 1)) == NULL) {
		conn_reply_status(c, 0);
		return;
	}
	conn_reply(c, b);
	buf_free(b);
}

/* The import is over (r: how); answer its client, if any, and free it. */
static void
resident_done(struct resident_op *op, int r, const char *detail, uint32_t n,
    uint32_t dup)
{
	struct conn *c = op->c;
	const char *token = resident_op_token(op);
	struct buf *b = NULL;

	if (detail != NULL && *detail == '\0')
		detail = NULL;
	if (r == TOK_ERR_PIN_BLOCKED) {
		error("the PIN of %s is blocked: resident keys not imported",
		    token);
		if (c == NULL)
			resident_notice_blocked(token);
	} else if (r != 0 && op->no_pin)
		logit("resident keys of %s not imported: the PIN prompt %s%s",
		    token, r == TOK_ERR_TIMEOUT ? "timed out" :
		    "was cancelled", c == NULL ?
		    "; plug the security key in again to retry" : "");
	else if (r != 0)
		error("importing resident keys from %s failed: %s%s%s", token,
		    tok_strerror(r), detail ? ": " : "", detail ? detail : "");
	else if (c != NULL)
		logit("imported %u resident key%s from %s for pid %ld (%u "
		    "already loaded)", n, n == 1 ? "" : "s", token,
		    (long)c->pid, dup);
	else
		logit("imported %u resident key%s from security key %s (%u "
		    "already loaded)", n, n == 1 ? "" : "s", token, dup);
	op->at_helper = 0;
	resident_op_free(op);
	if (c == NULL)
		return;
	if (r != 0) {
		resident_reply_failure(c);
		return;
	}
	if ((b = buf_new()) == NULL ||
	    buf_put_u8(b, SSH_AGENT_EXTENSION_RESPONSE) != 0 ||
	    buf_put_cstring(b, RESIDENT_EXT) != 0 ||
	    buf_put_u32(b, n) != 0 || buf_put_u32(b, dup) != 0) {
		buf_free(b);
		resident_reply_failure(c);
		return;
	}
	conn_reply(c, b);
	buf_free(b);
}

static int resident_ask(struct resident_op *op, int wrong);
static void resident_note(const struct helper_note *, void *);

static void
resident_reply(int r, uint8_t type, struct buf *m, const char *detail,
    void *arg)
{
	struct resident_op *op = arg;
	uint32_t n = 0, dup = 0;
	int wrong;

	op->at_helper = 0;
	if (r == 0 && type != IPC_SK_RESIDENT_KEYS)
		r = TOK_ERR_PROTOCOL;
	if (r == 0)
		r = resident_keys(op->h, m, &n, &dup);
	/* A wrong PIN is asked again, saying so, a few times. */
	if ((r == TOK_ERR_PIN_INVALID || r == TOK_ERR_PIN_REQUIRED) &&
	    op->tries < RESIDENT_PIN_TRIES && op->retries != 0) {
		wrong = r == TOK_ERR_PIN_INVALID;
		if (wrong)
			logit("wrong PIN for security key %s",
			    resident_op_token(op));
		if ((r = resident_ask(op, wrong)) == 0)
			return;
	}
	resident_done(op, r, detail, n, dup);
}

static void
resident_pin(int r, char *pin, void *arg)
{
	struct resident_op *op = arg;
	struct buf *p = NULL;

	op->ap = NULL;
	if (r != 0)
		op->no_pin = 1;
	if (r == 0 && (p = buf_new()) == NULL)
		r = TOK_ERR_ALLOC;
	if (r == 0 && (r = buf_put_cstring(p, pin)) == 0 &&
	    (r = buf_put_cstring(p, op->device)) == 0) {
		op->retries = HELPER_RETRIES_UNKNOWN;
		if ((r = helper_request_notes(op->h, IPC_SK_LOAD_RESIDENT, p,
		    resident_reply, resident_note, op, &op->reqid)) == 0)
			op->at_helper = 1;
	}
	buf_free(p);
	if (pin != NULL)
		secmem_free(pin);
	if (r != 0)
		resident_done(op, r, NULL, 0, 0);
}

/* Put up the PIN prompt; wrong: the last PIN was refused. */
static int
resident_ask(struct resident_op *op, int wrong)
{
	char *prompt = NULL;
	int r = TOK_ERR_INTERNAL;

	if ((prompt = prompt_pin(NULL, op->c == NULL ?
	    "to import its resident SSH keys (it was plugged in)" :
	    "to import its resident SSH keys", "security key",
	    *op->name != '\0' ? op->name : NULL,
	    *op->device != '\0' ? op->device : NULL, wrong,
	    wrong ? op->retries : PROMPT_RETRIES_UNKNOWN)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((op->ap = askpass_start_for(ASKPASS_SECRET, prompt,
	    op->c != NULL ? op->c->pid : 0,
	    PIN_TIMEOUT_MS, resident_pin, op)) == NULL) {
		r = TOK_ERR_SYSTEM;
		goto out;
	}
	audit_token("pin-prompt", "fido", op->name, op->device);
	op->tries++;
	r = 0;
 out:
	free(prompt);
	return r;
}

void
resident_import(struct conn *c, struct buf *m)
{
	struct resident_op *op = NULL;
	struct helper *h;
	char *device = NULL;
	size_t len = 0;
	int r;

	/* Old clients send nothing: every token. */
	if (buf_len(m) != 0 &&
	    ((r = buf_get_cstring(m, &device, &len)) != 0 ||
	    (r = buf_expect_empty(m)) != 0 || len > RESIDENT_DEVICE_MAX)) {
		error("resident key import from pid %ld: malformed request",
		    (long)c->pid);
		goto fail;
	}
	if (dest_bindings_is_remote(c->bindings)) {
		error("refusing resident key import from a forwarded "
		    "connection");
		goto fail;
	}
	if ((h = helper_sk_get()) == NULL ||
	    (op = resident_op_new(c, h, device ? device : "", "")) == NULL)
		goto fail;
	/* Listing credentials needs the PIN: asked once, for all tokens. */
	if ((r = resident_ask(op, 0)) != 0) {
		error("resident key import: could not ask for the PIN: %s",
		    tok_strerror(r));
		resident_op_free(op);
		goto fail;
	}
	free(device);
	conn_wait(c, op, resident_op_cancel);
	return;
 fail:
	free(device);
	resident_reply_failure(c);
}

static struct resident_op *
resident_plug_op(const char *device)
{
	struct resident_op *op;

	LIST_FOREACH(op, &resident_ops, entry) {
		if (op->c == NULL && strcmp(op->device, device) == 0)
			return op;
	}
	return NULL;
}

void
resident_device_event(const char *device, const char *name, int present)
{
	struct resident_op *op;
	struct helper *h;
	int r;

	/* Worth the user's log only when it may lead to a prompt. */
	if (agent_opts.import_resident_on_plug)
		logit("security key %s (%s) %s", name, device,
		    present ? "plugged in" : "removed");
	else
		verbose("security key %s (%s) %s", name, device,
		    present ? "plugged in" : "removed");
	op = resident_plug_op(device);
	if (!present) {
		if (op != NULL) {
			logit("security key %s removed: its resident keys "
			    "were not imported", resident_op_token(op));
			resident_op_free(op);
		}
		return;
	}
	if (!agent_opts.import_resident_on_plug || *device == '\0')
		return;
	if (op != NULL) {
		debug_f("already importing from %s", device);
		return;
	}
	if (lock_is_locked()) {
		logit("agent locked: not importing the resident keys of %s",
		    name);
		return;
	}
	if ((h = helper_sk_get()) == NULL ||
	    (op = resident_op_new(NULL, h, device, name)) == NULL) {
		error("could not import the resident keys of %s", name);
		return;
	}
	if ((r = resident_ask(op, 0)) != 0)
		resident_done(op, r, "could not ask for the PIN", 0, 0);
}

/* A helper note about an import: a token wants its PIN. */
static void
resident_note(const struct helper_note *note, void *arg)
{
	struct resident_op *op = arg;
	const char *name = note->name;
	char *cp;

	if (note->type != HELPER_NOTE_PIN_WANTED)
		return;
	op->retries = note->value;
	/* "Every token" becomes the token that asked, for the next prompt. */
	if (*op->name == '\0' && *name != '\0' && (cp = strdup(name)) != NULL) {
		free(op->name);
		op->name = cp;
	}
	debug_f("request %u: %s (%s) wants a PIN, %u retries", op->reqid,
	    name, note->device, note->value);
}

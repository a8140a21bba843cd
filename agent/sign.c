/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* The signing pipeline (see sign.h). */
#include "config.h"

#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/askpass.h"
#include "agent/audit.h"
#include "agent/backend.h"
#include "agent/conn.h"
#include "agent/dest.h"
#include "agent/helper.h"
#include "agent/idtab.h"
#include "agent/keys.h"
#include "agent/lock.h"
#include "agent/loop.h"
#include "agent/notice.h"
#include "agent/pin.h"
#include "agent/policy-stage.h"
#include "agent/prompt.h"
#include "agent/purpose.h"
#include "agent/sign.h"
#include "agent/tokstate.h"
#include "agent/userauth.h"
#include "common/buf.h"
#include "common/sanitize.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/json.h"
#include "common/key.h"
#include "common/log.h"
#include "common/match.h"
#include "common/secmem.h"

#define SSHSIG_MAGIC		"SSHSIG"
#define SIGN_PIN_TRIES		3
#define SIGN_NOTICE_DELAY_MS	250	/* before "touch your key" shows */

struct sign_op {
	struct conn *c;
	struct buf *blob;	/* the key, looked up again after each wait */
	struct buf *data;
	uint32_t flags;
	char *description;	/* who, what for, which key: one line */
	struct prompt_req *pr;	/* the same, for prompts and notices */
	struct askpass *ap;
	struct helper *h;
	uint32_t reqid;
	void *login;		/* a PIN prompt + token login in progress */
	int pin_tries;		/* PINs asked for this request */
	struct notice *notice;	/* "touch your key" while the token waits */
	struct loop_timer *notice_timer;	/* shows notice_text when due */
	char *notice_text;
	char *pin_device;	/* the sk helper's token that wants a PIN */
	char *pin_name;
	uint32_t pin_retries;
	char *touch_token;	/* the token waiting for a touch, or NULL */
	uint64_t since_ms;	/* when the request arrived */
	struct purpose *purpose;	/* what the data is for */
	char rule[POLICY_MAX_WHERE];	/* the policy rule that decided */
	LIST_ENTRY(sign_op) all;	/* in sign_all until freed */
};

/* Every request in progress, for tokagent status. */
static LIST_HEAD(, sign_op) sign_all = LIST_HEAD_INITIALIZER(sign_all);

static void sign_touch_over(struct sign_op *);

static void
sign_op_free(struct sign_op *op)
{
	if (op == NULL)
		return;
	askpass_cancel(op->ap);
	sign_touch_over(op);
	pin_login_cancel(op->login);
	if (op->since_ms != 0)
		LIST_REMOVE(op, all);
	buf_free(op->blob);
	buf_free(op->data);
	free(op->description);
	prompt_req_free(op->pr);
	free(op->pin_device);
	free(op->pin_name);
	purpose_free(op->purpose);
	free(op);
}

/*
 * The audit record of a sign request: its outcome (event "sign"), or a
 * touch the token waits for ("touch": result "waiting" or "done", with
 * the token's name and device).
 */
static void
sign_record(struct sign_op *op, const char *event, const char *result,
    const char *reason, const char *token, const char *device)
{
	const struct purpose *p = op->purpose;
	struct identity *id;
	struct json *rec;
	char *summary = NULL;

	if ((rec = audit_begin(event)) == NULL)
		return;
	id = idtab_lookup(agent_idtab, buf_ptr(op->blob), buf_len(op->blob));
	audit_key(rec, id);
	audit_client(rec, op->c);
	if (token != NULL) {
		json_obj_begin(rec, "token");
		json_str(rec, "name", token);
		json_str(rec, "device", device);
		json_obj_end(rec);
	}
	if (p != NULL && p->use == POLICY_USE_SSHSIG)
		json_str(rec, "namespace", p->sshsig_namespace);
	if (p != NULL && (p->use == POLICY_USE_LOGIN || p->bound)) {
		json_obj_begin(rec, "destination");
		json_str(rec, "user", p->user);
		json_str(rec, "host", p->host);
		json_str(rec, "hostkey", p->hostkey_fp);
		json_int(rec, "hops", (int64_t)p->hops);
		json_bool(rec, "forwarded", p->forwarded);
		json_obj_end(rec);
	}
	json_str(rec, "purpose", p == NULL ? NULL :
	    p->use == POLICY_USE_LOGIN ? "login" :
	    p->use == POLICY_USE_SSHSIG ? "sshsig" : "other");
	if (id != NULL) {
		json_arr_begin(rec, "constraints");
		if (id->confirm)
			json_str(rec, NULL, "confirm");
		if (id->expires_ms != 0)
			json_str(rec, NULL, "lifetime");
		if (id->dest != NULL)
			json_str(rec, NULL, "destination");
		if (op->rule[0] != '\0')
			json_str(rec, NULL, "policy");
		json_arr_end(rec);
	}
	json_str(rec, "result", result);
	if (reason != NULL)
		json_str(rec, "reason", reason);
	if (op->rule[0] != '\0')
		json_str(rec, "rule", op->rule);
	if (asprintf(&summary, "%s %s: key %s%s%s for pid %ld%s%s%s%s%s%s",
	    event, result, id != NULL ? id->fingerprint : "(unknown)",
	    p != NULL && p->sshsig_namespace ? " namespace " : "",
	    p != NULL && p->sshsig_namespace ? p->sshsig_namespace : "",
	    (long)op->c->pid,
	    p != NULL && p->user ? " as " : "", p != NULL && p->user ? p->user : "",
	    p != NULL && p->host ? "@" : "", p != NULL && p->host ? p->host : "",
	    reason ? ": " : "", reason ? reason : "") < 0)
		summary = NULL;
	audit_commit(rec, summary);
	free(summary);
}

static void
sign_audit(struct sign_op *op, const char *result, const char *reason)
{
	sign_record(op, "sign", result, reason, NULL, NULL);
}

static void
sign_op_cancel(void *arg)
{
	struct sign_op *op = arg;

	/* The client left: stop the token (CTAPHID CANCEL), the prompt, all. */
	if (op->h != NULL)
		helper_cancel(op->h, op->reqid);
	sign_op_free(op);
}

static struct identity *sign_lookup(struct sign_op *);

/*
 * A failure the user can act on (token not present, touch timed out or
 * denied, PIN blocked, wrong token) reaches the user through the notice
 * channel (notice_flash), and the log at info level, naming the key and
 * the token.  token: "security key NAME" from the sk helper, or NULL.
 */
static void
sign_say_why(struct sign_op *op, int r, const char *token)
{
	struct identity *id;
	const char *reason;
	char *text, *qc = NULL, *st = NULL;

	if ((id = sign_lookup(op)) == NULL || !key_is_sk(id->key))
		return;
	switch (r) {
	case TOK_ERR_DEVICE_NOT_PRESENT:
		reason = "security key not present";
		break;
	case TOK_ERR_DEVICE_TIMEOUT:
		reason = "touch timed out";
		break;
	case TOK_ERR_TOUCH_DENIED:
		reason = "touch denied";
		break;
	case TOK_ERR_PIN_BLOCKED:
		reason = "PIN blocked";
		break;
	case TOK_ERR_KEY_NOT_FOUND:
		reason = token != NULL ? "wrong security key: it does not hold "
		    "the key" : "no security key present holds the key";
		break;
	default:
		return;
	}
	/* The comment and the token's name are peers' words: sanitised. */
	if ((qc = sanitize_quoted(id->comment, SANITIZE_MAX_NAME)) == NULL ||
	    (token != NULL &&
	    (st = sanitize_str(token, SANITIZE_MAX_NAME)) == NULL) ||
	    asprintf(&text, "Key %s %s could not sign: %s%s%s%s",
	    qc, id->fingerprint, reason, st != NULL ? " (" : "",
	    st != NULL ? st : "", st != NULL ? ")" : "") < 0) {
		free(qc);
		free(st);
		return;
	}
	free(qc);
	free(st);
	logit("%s", text);
	notice_flash("Security key", text);
	free(text);
}

static void
sign_fail(struct sign_op *op, int r, const char *why)
{
	struct conn *c = op->c;

	if (why != NULL && *why == '\0')
		why = NULL;
	error("sign request from pid %ld refused: %s%s%s", (long)c->pid,
	    tok_strerror(r), why ? ": " : "", why ? why : "");
	sign_audit(op, r == TOK_ERR_CONSTRAINT_REFUSED ||
	    r == TOK_ERR_CONFIRM_DENIED || r == TOK_ERR_AGENT_LOCKED ||
	    r == TOK_ERR_KEY_NOT_FOUND || r == TOK_ERR_CANCELLED ?
	    "refused" : "failed",
	    why != NULL ? why : tok_strerror(r));
	sign_op_free(op);
	conn_reply_status(c, 0);
}

static struct identity *
sign_lookup(struct sign_op *op)
{
	struct identity *id;

	id = idtab_lookup(agent_idtab, buf_ptr(op->blob), buf_len(op->blob));
	if (id != NULL && keys_expire_if_due(id))
		id = NULL;
	return id;
}

static void sign_send(struct sign_op *);
static void sign_note(const struct helper_note *, void *);

static void
sign_login_done(int r, void *arg)
{
	struct sign_op *op = arg;

	op->login = NULL;
	if (r != 0) {
		sign_fail(op, r, "token login failed");
		return;
	}
	/* The agent may have been locked while the user typed. */
	if (lock_is_locked()) {
		sign_fail(op, TOK_ERR_AGENT_LOCKED, NULL);
		return;
	}
	sign_send(op);
}

static void
sign_reply(int r, uint8_t type, struct buf *reply, const char *detail,
    void *arg)
{
	struct sign_op *op = arg;
	struct identity *id;
	struct buf *b = NULL;
	const u_char *sig;
	const char *token;
	char *why;
	size_t siglen;

	op->h = NULL;
	sign_touch_over(op);
	if (r == 0 && type != IPC_SIGNATURE)
		r = TOK_ERR_PROTOCOL;
	/* The sk helper forgets a PIN its token refused. */
	if (op->pin_device != NULL && (r == TOK_ERR_PIN_REQUIRED ||
	    r == TOK_ERR_PIN_INVALID || r == TOK_ERR_PIN_BLOCKED))
		tokstate_pin_forget(op->pin_device);
	/*
	 * A token that needs a PIN (a verify-required FIDO key, a replugged
	 * card that lost its login): ask, then try again; a wrong PIN is
	 * asked again a few times.
	 */
	if ((r == TOK_ERR_PIN_REQUIRED ||
	    (r == TOK_ERR_PIN_INVALID && op->pin_tries > 0)) &&
	    op->pin_tries < SIGN_PIN_TRIES && (id = sign_lookup(op)) != NULL) {
		/* A helper note may have said which token wants it. */
		op->login = pin_login(id, op->pin_device, op->pin_name,
		    op->pin_device != NULL ? op->pin_retries :
		    HELPER_RETRIES_UNKNOWN, op->pr, r == TOK_ERR_PIN_INVALID,
		    sign_login_done, op);
		if (op->login != NULL) {
			op->pin_tries++;
			return;
		}
	}
	if (r != 0) {
		token = detail != NULL &&
		    strncmp(detail, "security key ", 13) == 0 ? detail : NULL;
		sign_say_why(op, r, token);
		/* Name the key when the helper did not say more. */
		if (token != NULL && op->description != NULL &&
		    asprintf(&why, "%s, %s", token, op->description) != -1) {
			sign_fail(op, r, why);
			free(why);
		} else
			sign_fail(op, r, detail != NULL && *detail != '\0' ?
			    detail : op->description);
		return;
	}
	if ((id = sign_lookup(op)) == NULL) {
		sign_fail(op, TOK_ERR_KEY_NOT_FOUND, "removed while signing");
		return;
	}
	/* The helper is untrusted too: check what it made before passing it on. */
	if ((r = buf_get_string_direct(reply, &sig, &siglen)) != 0 ||
	    (r = buf_expect_empty(reply)) != 0 ||
	    (r = key_sig_check_format(id->key, sig, siglen, op->flags)) != 0) {
		sign_fail(op, r, "bad signature from helper");
		return;
	}
	if ((b = buf_new()) == NULL ||
	    buf_put_u8(b, SSH_AGENT_SIGN_RESPONSE) != 0 ||
	    buf_put_string(b, sig, siglen) != 0) {
		buf_free(b);
		sign_fail(op, TOK_ERR_ALLOC, NULL);
		return;
	}
	debug_f("signed with %s for pid %ld", id->fingerprint, (long)op->c->pid);
	sign_audit(op, "ok", NULL);
	conn_reply(op->c, b);
	buf_free(b);
	sign_op_free(op);
}

static void
sign_send(struct sign_op *op)
{
	struct identity *id;
	struct buf *p = NULL;
	int r;

	if ((id = sign_lookup(op)) == NULL) {
		sign_fail(op, TOK_ERR_KEY_NOT_FOUND, NULL);
		return;
	}
	if ((p = buf_new()) == NULL ||
	    (r = buf_put_u64(p, id->handle)) != 0 ||
	    (r = buf_put_stringb(p, op->data)) != 0 ||
	    (r = buf_put_u32(p, op->flags)) != 0 ||
	    (r = helper_request_notes(id->helper, IPC_SIGN, p, sign_reply,
	    sign_note, op, &op->reqid)) != 0) {
		buf_free(p);
		sign_fail(op, p == NULL ? TOK_ERR_ALLOC : r, NULL);
		return;
	}
	buf_free(p);
	op->h = id->helper;
}

/* The token no longer waits for this request: take its notice down. */
static void
sign_touch_over(struct sign_op *op)
{
	loop_cancel_timer(op->notice_timer);
	op->notice_timer = NULL;
	free(op->notice_text);
	op->notice_text = NULL;
	free(op->touch_token);
	op->touch_token = NULL;
	notice_close(op->notice);
	op->notice = NULL;
}

/*
 * The user chose Cancel on the touch notice: the token stops waiting
 * (the helper cancels the operation: CTAPHID_CANCEL on a FIDO token) and
 * the client gets its failure now.
 */
static void
sign_touch_cancelled(void *arg)
{
	struct sign_op *op = arg;

	logit("touch on %s cancelled from the notice: %s",
	    op->touch_token != NULL ? op->touch_token : "the security key",
	    op->description ? op->description : "");
	if (op->h != NULL)
		helper_cancel(op->h, op->reqid);
	op->h = NULL;
	sign_fail(op, TOK_ERR_CANCELLED, "cancelled from the touch notice");
}

static void
sign_touch_due(void *arg)
{
	struct sign_op *op = arg;

	op->notice_timer = NULL;
	/* Shown until the touch, a cancel or a time-out closes it. */
	op->notice = notice_start("Touch your security key", op->notice_text,
	    sign_touch_cancelled, op);
}

/*
 * The notice when several tokens blink and the one holding the key must be
 * touched: the key's name in the first line, then the usual details.
 */
static char *
sign_select_text(const struct sign_op *op, const struct identity *id)
{
	char *touch, *key, *s = NULL;
	const char *rest;

	if ((touch = prompt_touch(op->pr, NULL, NULL)) == NULL)
		return NULL;
	rest = strchr(touch, '\n') != NULL ? strchr(touch, '\n') + 1 : "";
	if ((key = sanitize_quoted(id != NULL ? id->comment : "?",
	    SANITIZE_MAX_SHORT - 8)) != NULL &&
	    asprintf(&s, "%s: touch the security key that holds it\n"
	    "(several are plugged in; the one that holds it is needed)\n%s",
	    key, rest) < 0)
		s = NULL;
	free(key);
	free(touch);
	return s;
}

/* The token waits for a touch for this request (begin), or no longer. */
static void
sign_touch(struct sign_op *op, const char *device, const char *name,
    int begin)
{
	struct identity *id;
	char *text;

	sign_touch_over(op);
	/* For status bars and touch detectors (tokagent events). */
	sign_record(op, "touch", begin ? "waiting" : "done", NULL, name,
	    device);
	if (!begin)
		return;
	if (begin == HELPER_TOUCH_SELECT) {
		/* several tokens blink: the user shows which one has the key */
		id = sign_lookup(op);
		logit("waiting for a touch on the security key that holds "
		    "key \"%s\": %s", id != NULL ? id->comment : "?",
		    op->description ? op->description : "");
		if ((text = sign_select_text(op, id)) == NULL) {
			error_f("out of memory");
			return;
		}
	} else {
		logit("waiting for touch on %s (%s): %s", device, name,
		    op->description ? op->description : "");
		if ((text = prompt_touch(op->pr, name, device)) == NULL) {
			error_f("out of memory");
			return;
		}
	}
	op->touch_token = strdup(name);
	op->notice_text = text;
	/*
	 * Nobody touches a token within SIGN_NOTICE_DELAY_MS, so a token
	 * that answers sooner (no touch needed after all, or one that was
	 * already being touched) flashes no notice and costs no process.
	 */
	if ((op->notice_timer = loop_add_timer(SIGN_NOTICE_DELAY_MS,
	    sign_touch_due, op)) == NULL)
		sign_touch_due(op);
}

/* The request is about to fail for want of the PIN of a token. */
static void
sign_pin_wanted(struct sign_op *op, const char *device, const char *name,
    uint32_t retries)
{
	char *d = NULL, *n = NULL;

	if ((d = strdup(device)) == NULL || (n = strdup(name)) == NULL) {
		free(d);
		return;	/* the retry then has no token: it fails */
	}
	free(op->pin_device);
	free(op->pin_name);
	op->pin_device = d;
	op->pin_name = n;
	op->pin_retries = retries;
}

/* A helper note about this request. */
static void
sign_note(const struct helper_note *note, void *arg)
{
	struct sign_op *op = arg;

	switch (note->type) {
	case HELPER_NOTE_TOUCH:
		sign_touch(op, note->device, note->name, (int)note->value);
		break;
	case HELPER_NOTE_PIN_WANTED:
		sign_pin_wanted(op, note->device, note->name, note->value);
		break;
	}
}

static void
sign_confirmed(int r, char *secret, void *arg)
{
	struct sign_op *op = arg;

	op->ap = NULL;
	(void)secret;
	if (r != 0) {
		sign_fail(op, r, "not confirmed by the user");
		return;
	}
	/* The agent may have been locked while the prompt was up. */
	if (lock_is_locked()) {
		sign_fail(op, TOK_ERR_AGENT_LOCKED, NULL);
		return;
	}
	sign_send(op);
}

/*
 * OpenSSH's "websafe" rule: a FIDO key made for a web origin (application
 * not "ssh:...") may sign only SSH userauth requests and SSHSIG blobs, so a
 * forwarded agent can not be used to answer a web site's challenge.  As
 * ssh-agent's -O websafe-allow=LIST, keys whose application matches the
 * pattern list (default "ssh:*") may sign anything, and -O
 * no-restrict-websafe lifts the rule.
 */
static int
sign_policy(const struct identity *id, const struct buf *data,
    const struct userauth_request *ua)
{
	const char *app;

	if (!key_is_sk(id->key) || !agent_opts.restrict_websafe)
		return 0;
	/* An sk key always has one; none at all is treated as "". */
	if ((app = key_sk_application(id->key)) == NULL)
		app = "";
	if (match_pattern_list(app, agent_opts.websafe_allow, 0) == 1)
		return 0;
	if (buf_len(data) >= 6 && memcmp(buf_ptr(data), SSHSIG_MAGIC, 6) == 0)
		return 0;
	if (ua != NULL)
		return 0;
	debug_f("application \"%s\" is not in websafe-allow \"%s\"", app,
	    agent_opts.websafe_allow);
	return TOK_ERR_CONSTRAINT_REFUSED;
}

void
sign_request(struct conn *c, struct buf *m)
{
	struct sign_op *op = NULL;
	struct identity *id;
	struct userauth_request *req = NULL;
	const struct userauth_request *ua;
	const struct backend *be;
	struct policy_verdict v;
	const char *reason = NULL;
	char *prompt = NULL, *why = NULL;
	int r, confirm;

	if ((op = calloc(1, sizeof(*op))) == NULL ||
	    (op->blob = buf_new()) == NULL || (op->data = buf_new()) == NULL)
		fatal_f("out of memory");
	op->c = c;
	op->since_ms = loop_now_ms();
	LIST_INSERT_HEAD(&sign_all, op, all);
	if ((r = buf_get_stringb(m, op->blob)) != 0 ||
	    (r = buf_get_stringb(m, op->data)) != 0 ||
	    (r = buf_get_u32(m, &op->flags)) != 0 ||
	    (r = buf_expect_empty(m)) != 0) {
		sign_fail(op, r, "malformed request");
		return;
	}
	/*
	 * lock (dispatch checked it) -> lifetime -> destination -> policy ->
	 * confirm -> token.  The data is parsed as a userauth request once,
	 * here; ua is that request when it is for this key.
	 */
	if ((id = sign_lookup(op)) == NULL) {
		sign_fail(op, TOK_ERR_KEY_NOT_FOUND, NULL);
		return;
	}
	if (userauth_parse(buf_ptr(op->data), buf_len(op->data), NULL,
	    &req) != 0)
		req = NULL;
	ua = req != NULL && key_equal(id->key, userauth_key(req)) ? req : NULL;
	if ((r = dest_check_userauth(id->dest, c->bindings, ua, NULL,
	    &reason)) != 0) {
		userauth_request_free(req);
		sign_fail(op, r, reason);
		return;
	}
	if ((r = sign_policy(id, op->data, ua)) != 0) {
		userauth_request_free(req);
		sign_fail(op, r, "key for a web origin may only sign SSH "
		    "logins and SSHSIG data");
		return;
	}
	op->purpose = purpose_read(c, buf_ptr(op->data), buf_len(op->data),
	    ua);
	userauth_request_free(req);
	if (op->purpose == NULL) {
		sign_fail(op, TOK_ERR_ALLOC, NULL);
		return;
	}
	policy_stage_decide(c, id, op->purpose, &v);
	strlcpy(op->rule, v.where, sizeof(op->rule));
	if (!v.allow) {
		if (asprintf(&why, "refused by policy (%s): %s", v.where,
		    v.reason) < 0)
			why = NULL;
		sign_fail(op, TOK_ERR_CONSTRAINT_REFUSED, why != NULL ? why :
		    v.reason);
		free(why);
		return;
	}
	if (!id->present) {
		sign_say_why(op, TOK_ERR_DEVICE_NOT_PRESENT, NULL);
		sign_fail(op, TOK_ERR_DEVICE_NOT_PRESENT, id->comment);
		return;
	}
	confirm = id->confirm || v.confirm || (agent_opts.confirm_forwarded &&
	    dest_bindings_count(c->bindings) > 1);
	/* Words for prompts and touch notices; software keys rarely need them. */
	be = helper_backend(id->helper);
	if ((confirm || (be != NULL && be->describe_signs)) &&
	    (op->pr = prompt_req_new(c, id, buf_ptr(op->data),
	    buf_len(op->data))) != NULL)
		op->description = strdup(prompt_req_summary(op->pr));
	if (confirm) {
		if (op->pr == NULL || (prompt = prompt_confirm(op->pr)) == NULL ||
		    (op->ap = askpass_start_for(ASKPASS_CONFIRM, prompt,
		    c->pid, agent_opts.confirm_timeout_ms, sign_confirmed, op)) == NULL) {
			free(prompt);
			sign_fail(op, TOK_ERR_CONFIRM_DENIED,
			    "could not ask for confirmation");
			return;
		}
		free(prompt);
		conn_wait(c, op, sign_op_cancel);
		return;
	}
	conn_wait(c, op, sign_op_cancel);
	sign_send(op);
}

void
sign_foreach_pending(void (*cb)(const struct sign_pending *, void *),
    void *arg)
{
	struct sign_pending sp;
	struct sign_op *op;

	LIST_FOREACH(op, &sign_all, all) {
		memset(&sp, 0, sizeof(sp));
		sp.c = op->c;
		sp.blob = buf_ptr(op->blob);
		sp.bloblen = buf_len(op->blob);
		sp.what = op->description;
		sp.since_ms = op->since_ms;
		if (op->ap != NULL)
			sp.state = "confirm";
		else if (op->login != NULL) {
			sp.state = "pin";
			sp.token = op->pin_name;
		} else if (op->touch_token != NULL) {
			sp.state = "touch";
			sp.token = op->touch_token;
		} else if (op->h != NULL)
			sp.state = "token";
		else
			sp.state = "queued";
		cb(&sp, arg);
	}
}

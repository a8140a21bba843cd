/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Prompt and notification text (see prompt.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conn.h"
#include "agent/dest.h"
#include "agent/idtab.h"
#include "agent/procinfo.h"
#include "agent/prompt.h"
#include "agent/userauth.h"
#include "common/buf.h"
#include "common/key.h"
#include "common/sanitize.h"

#define SSHSIG_MAGIC		"SSHSIG"
#define PROMPT_ANCESTORS	3	/* processes named after the requester */
#define PROMPT_PEER_NOTE	\
	"(Quoted text comes from the requesting program, the remote host " \
	"or the token.)"

enum prompt_kind {
	PROMPT_USE,		/* data that is neither a login nor SSHSIG */
	PROMPT_LOGIN,		/* a login at a bound, direct destination */
	PROMPT_LOGIN_FWD,	/* a login through agent forwarding */
	PROMPT_LOGIN_UNBOUND,	/* a login on a connection with no binding */
	PROMPT_SSHSIG,		/* ssh-keygen -Y sign */
};

struct prompt_req {
	enum prompt_kind kind;
	pid_t pid;		/* the requester, 0 when unknown */
	char *who;		/* raw program name of the requester */
	char *user;		/* raw login user */
	char *host;		/* sanitised name of the last hop */
	char *ns;		/* raw SSHSIG namespace */
	char *comment;		/* raw key comment */
	char *details;		/* sanitised lines, each ending in '\n' */
	char *summary;		/* one sanitised line */
};

/* The namespace of an SSHSIG signed-data blob, or NULL when data is none. */
static char *
prompt_sshsig_namespace(const u_char *data, size_t len)
{
	struct buf *b;
	char *ns = NULL;

	if (len < 6 || memcmp(data, SSHSIG_MAGIC, 6) != 0 ||
	    (b = buf_from(data + 6, len - 6)) == NULL)
		return NULL;
	if (buf_get_cstring(b, &ns, NULL) != 0)
		ns = NULL;
	buf_free(b);
	return ns;
}

char *
prompt_fit(char *const lines[], size_t n)
{
	char *s;
	size_t i, w;

	if (n == 0)
		return NULL;
	for (i = 0; i < n; i++) {
		if (lines[i] != NULL &&
		    sanitize_width(lines[i]) <= PROMPT_LINE_MAX)
			return strdup(lines[i]);
	}
	/* Cut the last one at a character boundary. */
	if (lines[n - 1] == NULL || (s = strdup(lines[n - 1])) == NULL)
		return NULL;
	for (i = 0, w = 0; s[i] != '\0'; i++) {
		if (((u_char)s[i] & 0xc0) != 0x80 && ++w > PROMPT_LINE_MAX) {
			s[i] = '\0';
			break;
		}
	}
	return s;
}

/* A quoted, sanitised field of at most cap columns ("?" for NULL). */
static char *
prompt_q(const char *raw, size_t cap)
{
	return sanitize_quoted(raw, cap);
}

/*
 * An already sanitised string cut to cap columns ("..." at the end when
 * cut); at worst an escape is cut short, which stays printable.
 */
static char *
prompt_cut(const char *clean, size_t cap)
{
	char *s;
	size_t i, w;

	if ((s = strdup(clean)) == NULL || sanitize_width(s) <= cap)
		return s;
	for (i = 0, w = 0; s[i] != '\0'; i++) {
		if (((u_char)s[i] & 0xc0) != 0x80 && ++w > cap - 3) {
			strlcpy(s + i, "...", strlen(s + i) + 1);
			break;
		}
	}
	return s;
}

/* What the request does, in a first line, with fields of cap columns. */
static char *
prompt_action(const struct prompt_req *pr, size_t cap)
{
	char *u = NULL, *h = NULL, *ns = NULL, *k = NULL, *s = NULL;
	int n = -1;

	switch (pr->kind) {
	case PROMPT_SSHSIG:
		if ((ns = prompt_q(pr->ns, cap)) != NULL)
			n = asprintf(&s, "sign for namespace %s", ns);
		break;
	case PROMPT_LOGIN:
	case PROMPT_LOGIN_FWD:
		if ((u = prompt_q(pr->user, cap)) != NULL &&
		    (h = prompt_cut(pr->host, cap)) != NULL)
			n = asprintf(&s, "log in as %s@%s%s", u, h,
			    pr->kind == PROMPT_LOGIN_FWD ? " (forwarded)" : "");
		break;
	case PROMPT_LOGIN_UNBOUND:
		if ((u = prompt_q(pr->user, cap)) != NULL)
			n = asprintf(&s, "log in as %s (host unknown)", u);
		break;
	case PROMPT_USE:
		if ((k = prompt_q(pr->comment, cap)) != NULL)
			n = asprintf(&s, "use key %s", k);
		break;
	}
	if (n < 0)
		s = NULL;
	free(u);
	free(h);
	free(ns);
	free(k);
	return s;
}

/*
 * prompt_first: the fitting first line of fmt, whose three %s are the
 * requester, the action and " with key K" (or ""); fallback when even
 * the shortest fields do not fit.
 */
static char *
prompt_first(const struct prompt_req *pr, const char *fmt,
    const char *fallback)
{
	static const size_t caps[] = { 24, 16, 10, SANITIZE_MAX_MIN };
	char *lines[2 * (sizeof(caps) / sizeof(caps[0])) + 1];
	char *who, *act, *key, *keyseg, *s;
	size_t i, j, n = 0, ncaps = sizeof(caps) / sizeof(caps[0]);

	/* With the key name while the longer caps fit, then without. */
	memset(lines, 0, sizeof(lines));
	for (j = 0; j < 2; j++) {
		for (i = 0; i < ncaps; i++) {
			if (j == 0 && (i >= 2 || pr->kind == PROMPT_USE))
				continue;
			who = prompt_q(pr->who, caps[i]);
			act = prompt_action(pr, caps[i]);
			key = prompt_q(pr->comment, caps[i]);
			keyseg = NULL;
			if (j == 0 && key != NULL &&
			    asprintf(&keyseg, " with key %s", key) < 0)
				keyseg = NULL;
			if (who != NULL && act != NULL &&
			    asprintf(&lines[n], fmt, who, act,
			    keyseg != NULL ? keyseg : "") < 0)
				lines[n] = NULL;
			n++;
			free(keyseg);
			free(who);
			free(act);
			free(key);
		}
	}
	lines[n++] = (char *)fallback;
	s = prompt_fit(lines, n);
	n--;
	for (i = 0; i < n; i++)
		free(lines[i]);
	return s;
}

static int
prompt_put_field(struct buf *b, const char *label, const char *raw,
    size_t cap, int quote)
{
	char *s;
	int r;

	if ((s = quote ? sanitize_quoted(raw, cap) :
	    sanitize_str(raw, cap)) == NULL)
		return -1;
	r = buf_putf(b, "%s: %s\n", label, s);
	free(s);
	return r;
}

/* The requester: its name, executable, command line and ancestors. */
static int
prompt_put_process(struct buf *b, pid_t pid)
{
	char *name = NULL, *exe = NULL, *cmd = NULL, *q = NULL, *e = NULL;
	pid_t p;
	int i, r = -1;

	if (pid <= 0)
		return buf_putf(b, "Requested by: an unknown process\n");
	name = procinfo_name(pid);
	exe = procinfo_exe(pid);
	cmd = procinfo_cmdline(pid);
	if ((q = prompt_q(name, SANITIZE_MAX_NAME)) == NULL ||
	    (e = sanitize_str(exe, SANITIZE_MAX_LINE)) == NULL ||
	    buf_putf(b, "Requested by: %s (pid %ld, %s)\n", q, (long)pid,
	    e) != 0)
		goto out;
	if (cmd != NULL && prompt_put_field(b, "Command", cmd,
	    SANITIZE_MAX_LINE, 1) != 0)
		goto out;
	p = pid;
	for (i = 0; i < PROMPT_ANCESTORS; i++) {
		if ((p = procinfo_parent(p)) <= 1)
			break;
		free(name);
		free(q);
		q = NULL;
		name = procinfo_name(p);
		if ((q = prompt_q(name, SANITIZE_MAX_SHORT)) == NULL ||
		    buf_putf(b, "%s%s (pid %ld)", i == 0 ? "Started by: " :
		    " < ", q, (long)p) != 0)
			goto out;
	}
	if (i > 0 && buf_putf(b, "\n") != 0)
		goto out;
	r = 0;
 out:
	free(name);
	free(exe);
	free(cmd);
	free(q);
	free(e);
	return r;
}

char *
prompt_token_label(const struct identity *id)
{
	const char *slash;

	/* p11 keys are labelled "token label/key label" by their helper. */
	if (id->provider == NULL || key_is_sk(id->key) ||
	    (slash = strrchr(id->comment, '/')) == NULL ||
	    slash == id->comment)
		return NULL;
	return strndup(id->comment, (size_t)(slash - id->comment));
}

/* The details that follow a first line. */
static char *
prompt_details(const struct prompt_req *pr, const struct conn *c,
    const struct identity *id, const char *path)
{
	struct buf *b;
	char *token = NULL, *s = NULL, *q = NULL;
	int ok = 0;

	if ((b = buf_new()) == NULL)
		return NULL;
	if ((q = prompt_q(pr->comment, SANITIZE_MAX_NAME)) == NULL ||
	    buf_putf(b, "Key: %s %s %s\n", q, key_type_name(id->key),
	    id->fingerprint) != 0)
		goto out;
	if ((token = prompt_token_label(id)) != NULL &&
	    prompt_put_field(b, "Token", token, SANITIZE_MAX_NAME, 1) != 0)
		goto out;
	switch (pr->kind) {
	case PROMPT_SSHSIG:
		if (prompt_put_field(b, "Namespace", pr->ns,
		    SANITIZE_MAX_NAME, 1) != 0)
			goto out;
		break;
	case PROMPT_LOGIN:
	case PROMPT_LOGIN_FWD:
		if (buf_putf(b, "Destination: %s (verified host key%s)%s\n",
		    path, pr->kind == PROMPT_LOGIN_FWD ? "s" : "",
		    pr->kind == PROMPT_LOGIN_FWD ?
		    ", through agent forwarding" : "") != 0)
			goto out;
		break;
	case PROMPT_LOGIN_UNBOUND:
		if (prompt_put_field(b, "User", pr->user, SANITIZE_MAX_NAME,
		    1) != 0 ||
		    buf_putf(b, "Destination: unknown (the connection is "
		    "not bound to an SSH session)\n") != 0)
			goto out;
		break;
	case PROMPT_USE:
		break;
	}
	if (c != NULL && prompt_put_process(b, c->pid) != 0)
		goto out;
	if (buf_putf(b, "%s\n", PROMPT_PEER_NOTE) != 0)
		goto out;
	ok = 1;
 out:
	if (ok)
		s = buf_dup_string(b);
	buf_free(b);
	free(token);
	free(q);
	return s;
}

static char *
prompt_summary(const struct prompt_req *pr, const struct conn *c,
    const struct identity *id)
{
	char *who, *act, *key = NULL, *s = NULL;

	who = procinfo_describe(c != NULL ? c->pid : 0);
	act = prompt_action(pr, SANITIZE_MAX_NAME);
	if (who != NULL && act != NULL &&
	    (key = prompt_q(pr->comment, SANITIZE_MAX_NAME)) != NULL &&
	    asprintf(&s, "%s to %s with key %s %s", who, act, key,
	    id->fingerprint) < 0)
		s = NULL;
	free(who);
	free(act);
	free(key);
	return s;
}

static struct prompt_req *
prompt_req_build(const struct conn *c, const struct identity *id,
    const u_char *data, size_t len)
{
	struct prompt_req *pr;
	struct userauth_request *req = NULL;
	char *path = NULL;
	size_t n;
	int ok = 0;

	if ((pr = calloc(1, sizeof(*pr))) == NULL)
		return NULL;
	pr->kind = PROMPT_USE;
	pr->pid = c != NULL ? c->pid : 0;
	if ((pr->comment = strdup(id->comment)) == NULL)
		goto out;
	if (c != NULL && c->pid > 0)
		pr->who = procinfo_name(c->pid);
	if (pr->who == NULL && (pr->who = strdup(c != NULL ?
	    "an unknown process" : "tokagent")) == NULL)
		goto out;
	if (data != NULL &&
	    (pr->ns = prompt_sshsig_namespace(data, len)) != NULL)
		pr->kind = PROMPT_SSHSIG;
	else if (data != NULL && c != NULL &&
	    userauth_parse(data, len, NULL, &req) == 0) {
		if ((pr->user = strdup(userauth_user(req))) == NULL)
			goto out;
		n = dest_bindings_count(c->bindings);
		if (n == 0)
			pr->kind = PROMPT_LOGIN_UNBOUND;
		else if (dest_describe_path(id->dest, c->bindings,
		    userauth_user(req), &path) == 0 &&
		    dest_describe_host(id->dest, c->bindings,
		    userauth_user(req), &pr->host) == 0)
			pr->kind = n > 1 ? PROMPT_LOGIN_FWD : PROMPT_LOGIN;
	}
	if ((pr->details = prompt_details(pr, c, id, path)) == NULL ||
	    (pr->summary = prompt_summary(pr, c, id)) == NULL)
		goto out;
	ok = 1;
 out:
	userauth_request_free(req);
	free(path);
	if (!ok) {
		prompt_req_free(pr);
		pr = NULL;
	}
	return pr;
}

struct prompt_req *
prompt_req_new(const struct conn *c, const struct identity *id,
    const u_char *data, size_t len)
{
	return prompt_req_build(c, id, data, len);
}

struct prompt_req *
prompt_req_for_key(const struct identity *id)
{
	return prompt_req_build(NULL, id, NULL, 0);
}

void
prompt_req_free(struct prompt_req *pr)
{
	if (pr == NULL)
		return;
	free(pr->who);
	free(pr->user);
	free(pr->host);
	free(pr->ns);
	free(pr->comment);
	free(pr->details);
	free(pr->summary);
	free(pr);
}

pid_t
prompt_req_pid(const struct prompt_req *pr)
{
	return pr->pid;
}

const char *
prompt_req_summary(const struct prompt_req *pr)
{
	return pr->summary;
}

char *
prompt_confirm(const struct prompt_req *pr)
{
	char *first, *s = NULL;

	if ((first = prompt_first(pr, "Allow %s to %s%s?",
	    "Allow the request below?")) == NULL)
		return NULL;
	if (asprintf(&s, "%s\n%s", first, pr->details) < 0)
		s = NULL;
	free(first);
	return s;
}

/* "Token: "NAME" at DEVICE\n", or "" when neither is known. */
static char *
prompt_token_line(const char *token, const char *device)
{
	char *t = NULL, *d = NULL, *s = NULL;
	int n;

	if (token != NULL && device != NULL && strcmp(token, device) == 0)
		token = NULL;	/* a device without a product name */
	if (token == NULL && device == NULL)
		return strdup("");
	if ((token != NULL && (t = prompt_q(token, SANITIZE_MAX_NAME)) ==
	    NULL) || (device != NULL &&
	    (d = sanitize_str(device, SANITIZE_MAX_LINE)) == NULL))
		n = -1;
	else
		n = asprintf(&s, "Token: %s%s%s\n", t != NULL ? t : "",
		    t != NULL && d != NULL ? " at " : "", d != NULL ? d : "");
	if (n < 0)
		s = NULL;
	free(t);
	free(d);
	return s;
}

char *
prompt_pin(const struct prompt_req *pr, const char *purpose,
    const char *kind, const char *token, const char *device, int wrong,
    uint32_t retries)
{
	char *lines[6], *first = NULL, *second = NULL, *tl = NULL, *s = NULL;
	char *t16 = NULL, *t32 = NULL, wrongs[64];
	size_t i;

	memset(lines, 0, sizeof(lines));
	if (token != NULL && device != NULL && strcmp(token, device) == 0)
		token = NULL;	/* a device without a product name */
	if (wrong && retries != PROMPT_RETRIES_UNKNOWN)
		snprintf(wrongs, sizeof(wrongs), "Wrong PIN (%u %s left). ",
		    retries, retries == 1 ? "try" : "tries");
	else
		strlcpy(wrongs, wrong ? "Wrong PIN. " : "", sizeof(wrongs));
	if (token != NULL && ((t32 = prompt_q(token, 32)) == NULL ||
	    (t16 = prompt_q(token, 16)) == NULL))
		goto out;
	if ((t32 != NULL && asprintf(&lines[0], "%sEnter PIN for %s %s",
	    wrongs, kind, t32) < 0) ||
	    (t16 != NULL && asprintf(&lines[1], "%sEnter PIN for %s %s",
	    wrongs, kind, t16) < 0) ||
	    asprintf(&lines[2], "%sEnter PIN for your %s", wrongs, kind) < 0)
		goto out;
	if ((first = prompt_fit(lines, 3)) == NULL)
		goto out;
	if (pr != NULL) {
		for (i = 0; i < 6; i++) {
			free(lines[i]);
			lines[i] = NULL;
		}
		if ((second = prompt_first(pr, "to allow %s to %s%s",
		    "to allow the request below")) == NULL)
			goto out;
	} else if (purpose != NULL && (second = strdup(purpose)) == NULL)
		goto out;
	/* Without a device, the token is the key's: the details name it. */
	if ((tl = prompt_token_line(pr != NULL && device == NULL ? NULL :
	    token, device)) == NULL)
		goto out;
	if (asprintf(&s, "%s\n%s%s%s%s%s", first,
	    second != NULL ? second : "", second != NULL ? "\n" : "",
	    !wrong && retries != PROMPT_RETRIES_UNKNOWN &&
	    retries < PROMPT_FEW_RETRIES ?
	    "Few PIN tries left: a wrong PIN may block the token.\n" : "",
	    tl, pr != NULL ? pr->details : "") < 0)
		s = NULL;
 out:
	for (i = 0; i < 6; i++)
		free(lines[i]);
	free(first);
	free(second);
	free(tl);
	free(t16);
	free(t32);
	return s;
}

char *
prompt_touch(const struct prompt_req *pr, const char *token,
    const char *device)
{
	char *second = NULL, *tl = NULL, *s = NULL;

	if (pr != NULL && (second = prompt_first(pr, "to allow %s to %s%s",
	    "to allow the request below")) == NULL)
		goto out;
	if ((tl = prompt_token_line(token, device)) == NULL)
		goto out;
	if (asprintf(&s, "Touch your security key\n%s%s%s%s",
	    second != NULL ? second : "", second != NULL ? "\n" : "", tl,
	    pr != NULL ? pr->details : "") < 0)
		s = NULL;
 out:
	free(second);
	free(tl);
	return s;
}

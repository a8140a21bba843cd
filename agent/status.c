/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* tokagent status: the agent extension and the client (see status.h). */
#include "config.h"

#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/client.h"
#include "agent/conn.h"
#include "agent/dest.h"
#include "agent/helper.h"
#include "agent/idtab.h"
#include "agent/keys.h"
#include "agent/loop.h"
#include "agent/procinfo.h"
#include "agent/prompt.h"
#include "agent/sign.h"
#include "agent/status.h"
#include "agent/tokstate.h"
#include "agent/helper-p11.h"
#include "agent/helper-piv.h"
#include "agent/helper-sk.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/key.h"
#include "common/log.h"
#include "common/sanitize.h"

#define STATUS_REPLY_MAX	(4 * 1024 * 1024)
#define STATUS_FIELD_MAX	SANITIZE_MAX_LINE

/* ---- The agent side ---------------------------------------------------- */

struct status_ctx {
	struct buf *sec;	/* the section being built */
	uint32_t n;		/* its records */
	int r;			/* first error */
};

static int
status_put_section(struct buf *b, struct status_ctx *ctx)
{
	int r;

	if (ctx->r != 0)
		return ctx->r;
	if ((r = buf_put_u32(b, ctx->n)) != 0 ||
	    (r = buf_putb(b, ctx->sec)) != 0)
		return r;
	return 0;
}

static void
status_ctx_reset(struct status_ctx *ctx)
{
	buf_reset(ctx->sec);
	ctx->n = 0;
	ctx->r = 0;
}

/*
 * Every token helper running: the sk helper, the PIV helper, the PC/SC
 * watcher, providers.
 */
static void
status_foreach_helper(void (*cb)(const char *kind, const char *name,
    struct helper *h, void *arg), void *arg)
{
	struct helper *h;

	if ((h = helper_sk_running()) != NULL)
		cb("fido", "security keys (sk helper)", h, arg);
	if ((h = helper_piv_running()) != NULL)
		cb("piv", "PIV cards (piv helper)", h, arg);
	helper_p11_foreach(cb, arg);
}

/*
 * The card of a native PIV key, from its name "<card> #<serial> PIV <slot>"
 * (token/piv-helper.c): a new string, or NULL when id is not one.
 */
static char *
status_piv_card(const struct identity *id)
{
	const char *p;

	if (id->helper == NULL || id->helper != helper_piv_running() ||
	    (p = strstr(id->comment, " PIV ")) == NULL)
		return NULL;
	while (strstr(p + 1, " PIV ") != NULL)
		p = strstr(p + 1, " PIV ");
	return strndup(id->comment, p - id->comment);
}

/* The PIV cards present: one record per card that has keys listed. */
static int
status_piv_cards(struct status_ctx *ctx)
{
	struct identity *id;
	struct buf *seen;
	char *card = NULL, *line = NULL;
	int r = 0;

	/* The cards named so far, each as "\ncard\n". */
	if ((seen = buf_new()) == NULL)
		return TOK_ERR_ALLOC;
	for (id = idtab_first(agent_idtab); id != NULL && r == 0;
	    id = idtab_next(id)) {
		if ((card = status_piv_card(id)) == NULL)
			continue;
		if (asprintf(&line, "\n%s\n", card) < 0) {
			line = NULL;
			r = TOK_ERR_ALLOC;
		} else if (buf_len(seen) == 0 || memmem(buf_ptr(seen),
		    buf_len(seen), line, strlen(line)) == NULL) {
			if ((r = buf_putf(seen, "%s", line)) == 0 &&
			    (r = buf_put_cstring(ctx->sec, "piv")) == 0 &&
			    (r = buf_put_cstring(ctx->sec, card)) == 0 &&
			    (r = buf_put_cstring(ctx->sec, "PC/SC")) == 0 &&
			    (r = buf_put_cstring(ctx->sec, id->token_serial ?
			    id->token_serial : "")) == 0 &&
			    (r = buf_put_u8(ctx->sec, id->present)) == 0)
				ctx->n++;
		}
		free(line);
		free(card);
		line = card = NULL;
	}
	buf_free(seen);
	return r;
}

static void
status_provider_token(const char *kind, const char *name, struct helper *h,
    void *arg)
{
	struct status_ctx *ctx = arg;
	struct identity *id;
	struct buf *labels;
	char *label;
	int present = 0, r = 0;

	(void)h;
	if (ctx->r != 0 || strcmp(kind, "pkcs11") != 0)
		return;
	if ((labels = buf_new()) == NULL) {
		ctx->r = TOK_ERR_ALLOC;
		return;
	}
	for (id = idtab_first(agent_idtab); id != NULL && r == 0;
	    id = idtab_next(id)) {
		if (id->provider == NULL || strcmp(id->provider, name) != 0)
			continue;
		present |= id->present;
		if ((label = prompt_token_label(id)) == NULL)
			continue;
		/* Each label once (a provider has few tokens). */
		if (buf_len(labels) == 0 || !memmem(buf_ptr(labels),
		    buf_len(labels), label, strlen(label)))
			r = buf_putf(labels, "%s%s", buf_len(labels) ? ", " :
			    "", label);
		free(label);
	}
	if (r == 0 && (r = buf_put_cstring(ctx->sec, "pkcs11")) == 0 &&
	    (r = buf_put_string(ctx->sec, buf_ptr(labels),
	    buf_len(labels))) == 0 &&
	    (r = buf_put_cstring(ctx->sec, name)) == 0 &&
	    (r = buf_put_cstring(ctx->sec, "")) == 0 &&
	    (r = buf_put_u8(ctx->sec, present)) == 0)
		ctx->n++;
	buf_free(labels);
	ctx->r = r;
}

static void
status_fido_token(const struct tokstate_device *d, void *arg)
{
	struct status_ctx *ctx = arg;
	int r;

	if (ctx->r != 0 || !d->present)
		return;
	if ((r = buf_put_cstring(ctx->sec, "fido")) == 0 &&
	    (r = buf_put_cstring(ctx->sec, d->name ? d->name : "")) == 0 &&
	    (r = buf_put_cstring(ctx->sec, d->device)) == 0 &&
	    (r = buf_put_cstring(ctx->sec, "")) == 0 &&
	    (r = buf_put_u8(ctx->sec, 1)) == 0)
		ctx->n++;
	ctx->r = r;
}

static int
status_tokens(struct status_ctx *ctx)
{
	int r;

	tokstate_foreach(status_fido_token, ctx);
	if (ctx->r != 0)
		return ctx->r;
	if ((r = status_piv_cards(ctx)) != 0)
		return r;
	status_foreach_helper(status_provider_token, ctx);
	return ctx->r;
}

/* The token a key lives on, in words. */
static char *
status_key_token(const struct identity *id)
{
	char *label, *s = NULL;

	if (id->helper == agent_soft)
		return strdup("software (tokagent memory)");
	if (key_is_sk(id->key)) {
		if (id->provider != NULL && strcmp(id->provider, "internal"))
			return strdup("FIDO security key, through middleware");
		return strdup("FIDO security key");
	}
	if ((label = status_piv_card(id)) != NULL) {
		if (asprintf(&s, "PIV card %s", label) < 0)
			s = NULL;
		free(label);
		return s;
	}
	if ((label = prompt_token_label(id)) != NULL) {
		if (asprintf(&s, "PKCS#11 token %s", label) < 0)
			s = NULL;
		free(label);
		return s;
	}
	return strdup("PKCS#11 token");
}

static char *
status_key_constraints(const struct identity *id)
{
	struct buf *b;
	char *dest = NULL, *s = NULL;
	uint64_t now = loop_now_ms();
	int r = 0;

	if ((b = buf_new()) == NULL)
		return NULL;
	if (id->confirm)
		r = buf_putf(b, "confirm");
	if (r == 0 && id->expires_ms != 0)
		r = buf_putf(b, "%slifetime %llus left", buf_len(b) ? ", " : "",
		    (unsigned long long)(id->expires_ms > now ?
		    (id->expires_ms - now + 999) / 1000 : 0));
	if (r == 0 && dest_constraints_count(id->dest) != 0) {
		if ((r = dest_constraints_describe(id->dest, &dest)) == 0)
			r = buf_putf(b, "%sdestinations %s",
			    buf_len(b) ? ", " : "", dest);
	}
	if (r == 0 && key_is_sk(id->key) && id->provider != NULL &&
	    strcmp(id->provider, "internal") != 0)
		r = buf_putf(b, "%ssk-provider %s", buf_len(b) ? ", " : "",
		    id->provider);
	if (r == 0)
		s = buf_dup_string(b);
	free(dest);
	buf_free(b);
	return s;
}

static int
status_keys(struct status_ctx *ctx)
{
	struct identity *id, *next;
	char *token = NULL, *cons = NULL;
	int r = 0;

	for (id = idtab_first(agent_idtab); id != NULL && r == 0; id = next) {
		next = idtab_next(id);
		if (keys_expire_if_due(id))
			continue;
		if ((token = status_key_token(id)) == NULL ||
		    (cons = status_key_constraints(id)) == NULL)
			r = TOK_ERR_ALLOC;
		else if ((r = buf_put_cstring(ctx->sec,
		    key_type_name(id->key))) == 0 &&
		    (r = buf_put_cstring(ctx->sec, id->fingerprint)) == 0 &&
		    (r = buf_put_cstring(ctx->sec, id->comment)) == 0 &&
		    (r = buf_put_cstring(ctx->sec, token)) == 0 &&
		    (r = buf_put_u8(ctx->sec, id->present &&
		    (id->helper == NULL || helper_running(id->helper)))) == 0 &&
		    (r = buf_put_cstring(ctx->sec, cons)) == 0)
			ctx->n++;
		free(token);
		free(cons);
		token = cons = NULL;
	}
	return r;
}

static void
status_pending_one(const struct sign_pending *sp, void *arg)
{
	struct status_ctx *ctx = arg;
	struct identity *id;
	char *who;
	uint64_t now = loop_now_ms();
	int r;

	if (ctx->r != 0)
		return;
	id = idtab_lookup(agent_idtab, sp->blob, sp->bloblen);
	who = sp->c->pid > 0 ? procinfo_name(sp->c->pid) : NULL;
	if ((r = buf_put_u64(ctx->sec, sp->c->serial)) == 0 &&
	    (r = buf_put_u32(ctx->sec, (uint32_t)sp->c->pid)) == 0 &&
	    (r = buf_put_cstring(ctx->sec, who ? who : "")) == 0 &&
	    (r = buf_put_cstring(ctx->sec, id ? id->fingerprint : "")) == 0 &&
	    (r = buf_put_cstring(ctx->sec, id ? id->comment : "")) == 0 &&
	    (r = buf_put_cstring(ctx->sec, sp->state)) == 0 &&
	    (r = buf_put_cstring(ctx->sec, sp->token ? sp->token : "")) == 0 &&
	    (r = buf_put_u32(ctx->sec, (uint32_t)((now - sp->since_ms) /
	    1000))) == 0 &&
	    (r = buf_put_cstring(ctx->sec, sp->what ? sp->what : "")) == 0)
		ctx->n++;
	free(who);
	ctx->r = r;
}

static void
status_pin_one(const struct tokstate_device *d, void *arg)
{
	struct status_ctx *ctx = arg;
	uint64_t now = loop_now_ms();
	int r;

	if (ctx->r != 0 || d->pin_until_ms <= now)
		return;
	if ((r = buf_put_cstring(ctx->sec, d->name ? d->name : "")) == 0 &&
	    (r = buf_put_cstring(ctx->sec, d->device)) == 0 &&
	    (r = buf_put_u32(ctx->sec, d->pin_until_ms == TOKSTATE_PIN_KEPT ?
	    STATUS_PIN_KEPT : (uint32_t)((d->pin_until_ms - now + 999) /
	    1000))) == 0)
		ctx->n++;
	ctx->r = r;
}

static int
status_pins(struct status_ctx *ctx)
{
	tokstate_foreach(status_pin_one, ctx);
	return ctx->r;
}

static void
status_helper_one(const char *kind, const char *name, struct helper *h,
    void *arg)
{
	struct status_ctx *ctx = arg;
	u_int inflight, deaths;
	pid_t pid;
	int r;

	if (ctx->r != 0 || h == NULL)
		return;
	helper_health(h, &pid, &inflight, &deaths);
	if ((r = buf_put_cstring(ctx->sec, kind)) == 0 &&
	    (r = buf_put_cstring(ctx->sec, name)) == 0 &&
	    (r = buf_put_u8(ctx->sec, helper_running(h))) == 0 &&
	    (r = buf_put_u32(ctx->sec, (uint32_t)pid)) == 0 &&
	    (r = buf_put_u32(ctx->sec, inflight)) == 0 &&
	    (r = buf_put_u32(ctx->sec, deaths)) == 0)
		ctx->n++;
	ctx->r = r;
}

void
status_request(struct conn *c, struct buf *m)
{
	struct status_ctx ctx;
	struct buf *b = NULL;
	int r;

	memset(&ctx, 0, sizeof(ctx));
	if ((r = buf_expect_empty(m)) != 0) {
		error_fr(r, "status request");
		conn_reply_status(c, 0);
		return;
	}
	if ((b = buf_new()) == NULL || (ctx.sec = buf_new()) == NULL)
		fatal_f("out of memory");
	if ((r = buf_put_u8(b, SSH_AGENT_EXTENSION_RESPONSE)) != 0 ||
	    (r = buf_put_cstring(b, STATUS_EXT)) != 0 ||
	    (r = buf_put_u32(b, STATUS_VERSION)) != 0)
		goto out;
	if ((r = status_tokens(&ctx)) != 0 ||
	    (r = status_put_section(b, &ctx)) != 0)
		goto out;
	status_ctx_reset(&ctx);
	if ((r = status_keys(&ctx)) != 0 ||
	    (r = status_put_section(b, &ctx)) != 0)
		goto out;
	status_ctx_reset(&ctx);
	sign_foreach_pending(status_pending_one, &ctx);
	if ((r = status_put_section(b, &ctx)) != 0)
		goto out;
	status_ctx_reset(&ctx);
	if ((r = status_pins(&ctx)) != 0 ||
	    (r = status_put_section(b, &ctx)) != 0)
		goto out;
	status_ctx_reset(&ctx);
	if (agent_soft != NULL)
		status_helper_one("soft", "software keys", agent_soft, &ctx);
	status_foreach_helper(status_helper_one, &ctx);
	r = status_put_section(b, &ctx);
 out:
	buf_free(ctx.sec);
	if (r != 0) {
		error_fr(r, "status reply");
		buf_free(b);
		conn_reply_status(c, 0);
		return;
	}
	conn_reply(c, b);
	buf_free(b);
}

/* ---- The client side --------------------------------------------------- */

/*
 * A string field of the reply, sanitised, as text or JSON.  quote (text
 * only): 1 quoted; 2 unquoted and 3 quoted, but an empty field is left
 * out with its prefix.
 */
static int
status_get_field(struct buf *reply, int json, int quote, struct buf *out,
    const char *prefix)
{
	const u_char *p;
	size_t len, i;
	char *s;
	int r;

	if ((r = buf_get_string_direct(reply, &p, &len)) != 0)
		return r;
	if (!json && quote >= 2 && len == 0)
		return 0;
	if ((s = sanitize_mem(p, len, STATUS_FIELD_MAX,
	    (quote == 1 || quote == 3) && !json ? SANITIZE_QUOTE : 0)) == NULL)
		return TOK_ERR_ALLOC;
	if ((r = buf_putf(out, "%s", prefix)) != 0)
		goto out;
	if (json) {
		/* Sanitised text has no control bytes: escape \ and ". */
		if ((r = buf_put_u8(out, '"')) != 0)
			goto out;
		for (i = 0; s[i] != '\0' && r == 0; i++) {
			if (s[i] == '"' || s[i] == '\\')
				r = buf_put_u8(out, '\\');
			if (r == 0)
				r = buf_put_u8(out, (u_char)s[i]);
		}
		if (r == 0)
			r = buf_put_u8(out, '"');
	} else
		r = buf_putf(out, "%s", s);
 out:
	free(s);
	return r;
}

static int
status_get_count(struct buf *reply, size_t min_record, uint32_t *np)
{
	int r;

	if ((r = buf_get_u32(reply, np)) != 0)
		return r;
	/* Each record takes at least min_record bytes: no huge loops. */
	if (*np > STATUS_MAX_RECORDS ||
	    (size_t)*np * min_record > buf_len(reply))
		return TOK_ERR_INVALID_FORMAT;
	return 0;
}

static int
status_get_u32(struct buf *reply, int json, struct buf *out,
    const char *prefix, const char *suffix)
{
	uint32_t v;
	int r;

	(void)json;
	if ((r = buf_get_u32(reply, &v)) != 0)
		return r;
	return buf_putf(out, "%s%u%s", prefix, v, suffix);
}

/* A PIN cache's seconds left, or STATUS_PIN_KEPT. */
static int
status_get_pin_left(struct buf *reply, int json, struct buf *out)
{
	uint32_t v;
	int r;

	if ((r = buf_get_u32(reply, &v)) != 0)
		return r;
	if (v == STATUS_PIN_KEPT)
		return buf_putf(out, "%s", json ? ", \"seconds_left\": null" :
		    ": PIN cached until the card is pulled or the agent locked");
	return buf_putf(out, json ? ", \"seconds_left\": %u" :
	    ": PIN cached, %us left", v);
}

static int
status_get_bool(struct buf *reply, int json, struct buf *out,
    const char *prefix, const char *yes, const char *no)
{
	uint8_t v;
	int r;

	if ((r = buf_get_u8(reply, &v)) != 0)
		return r;
	if (v > 1)
		return TOK_ERR_INVALID_FORMAT;
	if (json)
		return buf_putf(out, "%s%s", prefix, v ? "true" : "false");
	return buf_putf(out, "%s%s", prefix, v ? yes : no);
}

/* Sections as JSON keys and text headings. */
static const char *const status_sections[] = {
	"tokens", "keys", "pending", "pins", "helpers",
};
static const char *const status_headings[] = {
	"Tokens", "Keys", "Pending requests", "PIN caches", "Helpers",
};
/* Smallest record of each section, in bytes. */
static const size_t status_min_record[] = { 17, 21, 40, 12, 21 };

static int
status_record(struct buf *reply, int json, size_t sec, struct buf *out)
{
	uint64_t client;
	int r;

#define F(quote, jname, tprefix) \
	if ((r = status_get_field(reply, json, quote, out, \
	    json ? "\"" jname "\": " : tprefix)) != 0) \
		return r
#define SEP	(json ? ", " : "")
	switch (sec) {
	case 0:		/* tokens */
		F(0, "kind", "  ");
		if ((r = buf_putf(out, "%s", SEP)) != 0)
			return r;
		F(1, "name", " ");
		if ((r = buf_putf(out, "%s", SEP)) != 0)
			return r;
		F(0, "where", " at ");
		if ((r = buf_putf(out, "%s", SEP)) != 0)
			return r;
		F(3, "serial", " serial ");
		return status_get_bool(reply, json, out,
		    json ? ", \"present\": " : ", ", "present", "absent");
	case 1:		/* keys */
		F(0, "type", "  ");
		if ((r = buf_putf(out, "%s", SEP)) != 0)
			return r;
		F(0, "fingerprint", " ");
		if ((r = buf_putf(out, "%s", SEP)) != 0)
			return r;
		F(1, "comment", " ");
		if ((r = buf_putf(out, "%s", SEP)) != 0)
			return r;
		F(0, "token", "\n      on ");
		if ((r = status_get_bool(reply, json, out,
		    json ? ", \"present\": " : ", ", "present",
		    "absent")) != 0 || (r = buf_putf(out, "%s", SEP)) != 0)
			return r;
		F(2, "constraints", ", constraints: ");
		return 0;
	case 2:		/* pending */
		if ((r = buf_get_u64(reply, &client)) != 0 ||
		    (r = buf_putf(out, json ? "\"client\": %llu, " :
		    "  client %llu", (unsigned long long)client)) != 0 ||
		    (r = status_get_u32(reply, json, out,
		    json ? "\"pid\": " : " (pid ", json ? ", " : " ")) != 0)
			return r;
		F(1, "program", "");
		if ((r = buf_putf(out, "%s", json ? ", " : ")")) != 0)
			return r;
		F(0, "fingerprint", ": key ");
		if ((r = buf_putf(out, "%s", SEP)) != 0)
			return r;
		F(1, "comment", " ");
		if ((r = buf_putf(out, "%s", SEP)) != 0)
			return r;
		F(0, "state", "\n      waiting for ");
		if ((r = buf_putf(out, "%s", SEP)) != 0)
			return r;
		F(3, "token", " on token ");
		if ((r = status_get_u32(reply, json, out,
		    json ? ", \"seconds\": " : " for ",
		    json ? ", " : "s")) != 0)
			return r;
		F(0, "description", "\n      ");
		return 0;
	case 3:		/* pins */
		F(1, "token", "  ");
		if ((r = buf_putf(out, "%s", SEP)) != 0)
			return r;
		F(0, "device", " at ");
		return status_get_pin_left(reply, json, out);
	case 4:		/* helpers */
		F(0, "kind", "  ");
		if ((r = buf_putf(out, "%s", SEP)) != 0)
			return r;
		F(0, "name", " ");
		if ((r = status_get_bool(reply, json, out,
		    json ? ", \"running\": " : ": ", "running",
		    "not running")) != 0 ||
		    (r = status_get_u32(reply, json, out,
		    json ? ", \"pid\": " : ", pid ", "")) != 0 ||
		    (r = status_get_u32(reply, json, out,
		    json ? ", \"in_flight\": " : ", ", json ? "" :
		    " in flight")) != 0 ||
		    (r = status_get_u32(reply, json, out,
		    json ? ", \"restarts\": " : ", ", json ? "" :
		    " restarts")) != 0)
			return r;
		return 0;
	}
#undef F
#undef SEP
	return TOK_ERR_INTERNAL;
}

int
status_parse(struct buf *reply, int json, struct buf *out)
{
	uint32_t version, n, i;
	size_t sec;
	int r;

	if ((r = buf_get_u32(reply, &version)) != 0)
		return r;
	if (version != STATUS_VERSION)
		return TOK_ERR_INVALID_FORMAT;
	if (json && (r = buf_putf(out, "{\"version\": %u", version)) != 0)
		return r;
	for (sec = 0; sec < 5; sec++) {
		if ((r = status_get_count(reply, status_min_record[sec],
		    &n)) != 0)
			return r;
		if ((r = buf_putf(out, json ? ", \"%s\": [" : "%s:%s\n",
		    json ? status_sections[sec] : status_headings[sec],
		    json ? "" : n == 0 ? " none" : "")) != 0)
			return r;
		for (i = 0; i < n; i++) {
			if ((json && (r = buf_putf(out, "%s{",
			    i ? ", " : "")) != 0) ||
			    (r = status_record(reply, json, sec, out)) != 0 ||
			    (r = buf_putf(out, json ? "}" : "\n")) != 0)
				return r;
		}
		if (json && (r = buf_putf(out, "]")) != 0)
			return r;
	}
	if ((r = buf_expect_empty(reply)) != 0)
		return r;
	if (json && (r = buf_putf(out, "}\n")) != 0)
		return r;
	return 0;
}

int
status_client(int json)
{
	struct buf *req = NULL, *reply = NULL, *text = NULL;
	const u_char *name;
	size_t namelen;
	uint8_t type;
	int fd, r, ret = 1;

	if ((fd = client_connect()) == -1)
		return 2;
	if ((req = buf_new()) == NULL || (text = buf_new()) == NULL ||
	    buf_put_u8(req, SSH_AGENTC_EXTENSION) != 0 ||
	    buf_put_cstring(req, STATUS_EXT) != 0) {
		fprintf(stderr, "out of memory\n");
		goto out;
	}
	if ((r = client_request(fd, req, STATUS_REPLY_MAX, &reply)) != 0) {
		fprintf(stderr, "agent reply: %s\n", r == TOK_ERR_PROTOCOL ?
		    "the agent closed the connection" : tok_strerror(r));
		goto out;
	}
	if (buf_get_u8(reply, &type) != 0 ||
	    type != SSH_AGENT_EXTENSION_RESPONSE) {
		fprintf(stderr, "The agent does not support %s (not "
		    "tokagent, or an older one).\n", STATUS_EXT);
		goto out;
	}
	if ((r = buf_get_string_direct(reply, &name, &namelen)) != 0 ||
	    namelen != strlen(STATUS_EXT) ||
	    memcmp(name, STATUS_EXT, namelen) != 0 ||
	    (r = status_parse(reply, json, text)) != 0) {
		fprintf(stderr, "The agent's status reply is malformed.\n");
		goto out;
	}
	fwrite(buf_ptr(text), 1, buf_len(text), stdout);
	ret = fflush(stdout) == 0 ? 0 : 1;
 out:
	buf_free(req);
	buf_free(reply);
	buf_free(text);
	close(fd);
	return ret;
}

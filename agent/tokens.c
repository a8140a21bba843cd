/* Hardware tokens from the agent side (see tokens.h). */
#include "config.h"

#include <sys/queue.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/askpass.h"
#include "agent/conn.h"
#include "agent/constraints.h"
#include "agent/dest.h"
#include "agent/helper.h"
#include "agent/idtab.h"
#include "agent/keys.h"
#include "agent/loop.h"
#include "agent/resident.h"
#include "agent/audit.h"
#include "agent/tokens.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/key.h"
#include "common/log.h"
#include "common/match.h"
#include "common/secmem.h"
#include "agent/sign.h"
#include "pkcs/p11-ipc.h"
#include "sk/sk-ipc.h"

#define P11_HELPER		"tokagent-p11-helper"
#define SK_HELPER		"tokagent-sk-helper"
#define PCSC_WATCHER		"tokagent-pcsc-watcher"
#define P11_ADD_TIMEOUT_MS	(60 * 1000)
#define P11_LOGIN_TIMEOUT_MS	(30 * 1000)
#define P11_MAX_PROVIDERS	32	/* provider helpers at once */

struct provider {
	char *path;			/* realpath of the module */
	struct helper *h;
	struct buf *constraints;	/* as given to ssh-add -s; applied to each key */
	int added;			/* an ssh-add -s of it has succeeded */
	int nadding;			/* ssh-add -s requests in flight */
	struct loop_timer *discard;	/* never added: its helper goes */
	struct buf **removed;		/* blobs the user removed (ssh-add -d) */
	size_t nremoved;
	LIST_ENTRY(provider) entry;
};

struct provider_op {
	struct conn *c;
	struct provider *p;
	uint32_t reqid;
};

struct login_op {
	struct helper *h;
	char *device;			/* sk helper: the token to log in */
	struct askpass *ap;
	uint32_t reqid;
	void (*done)(int r, void *arg);
	void *arg;
};

static LIST_HEAD(, provider) providers = LIST_HEAD_INITIALIZER(providers);
static size_t nproviders;
static struct helper *tokens_sk;
static struct helper *tokens_pcsc;	/* card events, while providers exist */

int
tokens_provider_allowed(const char *path, char **realp)
{
	char resolved[PATH_MAX];

	*realp = NULL;
	if (realpath(path, resolved) == NULL) {
		error("provider %s: %s", path, strerror(errno));
		return TOK_ERR_PROVIDER_REFUSED;
	}
	/* OpenSSH's rule: a negated entry that matches refuses. */
	if (match_pattern_list(resolved, agent_opts.provider_allowlist,
	    0) != 1) {
		error("provider %s (%s) is not in the allowlist \"%s\"", path,
		    resolved, agent_opts.provider_allowlist);
		return TOK_ERR_PROVIDER_REFUSED;
	}
	if ((*realp = strdup(resolved)) == NULL)
		return TOK_ERR_ALLOC;
	return 0;
}

static struct provider *
tokens_find_provider(const char *path)
{
	struct provider *p;

	LIST_FOREACH(p, &providers, entry) {
		if (strcmp(p->path, path) == 0)
			return p;
	}
	return NULL;
}

static struct provider *
tokens_provider_of(const struct helper *h)
{
	struct provider *p;

	LIST_FOREACH(p, &providers, entry) {
		if (p->h == h)
			return p;
	}
	return NULL;
}

/* Did the user remove this key (or certificate) with ssh-add -d? */
static int
tokens_provider_removed(const struct provider *p, const u_char *blob,
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
tokens_provider_unremove(struct provider *p)
{
	size_t i;

	for (i = 0; i < p->nremoved; i++)
		buf_free(p->removed[i]);
	free(p->removed);
	p->removed = NULL;
	p->nremoved = 0;
}

void
tokens_key_removed(const struct identity *id)
{
	struct provider *p;
	struct buf **tmp;

	if (id->provider == NULL || (p = tokens_provider_of(id->helper)) == NULL)
		return;
	if (p->nremoved >= TOKENS_MAX_KEYS ||
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
tokens_keys_removed_all(void)
{
	struct provider *p;

	/* Until ssh-add -s again, token events bring nothing back. */
	LIST_FOREACH(p, &providers, entry)
		p->added = 0;
}

/* A new identity for a token key, with the provider's constraints. */
static int
tokens_new_identity(struct provider *p, uint64_t handle, struct key *k,
    const char *label)
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
tokens_provider_key(struct provider *p, uint64_t handle, struct key *k,
    const char *label)
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
	if (!cons.certs_only && !tokens_provider_removed(p, blob, len)) {
		if ((id = idtab_lookup(agent_idtab, blob, len)) != NULL &&
		    id->helper == p->h) {
			id->present = 1;
			id->handle = handle;
		} else if ((r = tokens_new_identity(p, handle, k, label)) != 0)
			goto out;
	}
	for (i = 0; i < cons.ncerts; i++) {
		if (!key_equal_public(cons.certs[i], k))
			continue;
		blob = key_blob(cons.certs[i], &len);
		if (tokens_provider_removed(p, blob, len))
			continue;
		if ((id = idtab_lookup(agent_idtab, blob, len)) != NULL &&
		    id->helper == p->h) {
			id->present = 1;
			id->handle = handle;
		} else if ((r = tokens_new_identity(p, handle, cons.certs[i],
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
tokens_provider_sync(struct provider *p, struct buf *m, int adding)
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
	if (n > TOKENS_MAX_KEYS)
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
		if ((r = tokens_provider_key(p, handle, k, label)) != 0)
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
tokens_provider_event(struct helper *h, uint8_t type, struct buf *m,
    void *arg)
{
	struct provider *p = tokens_provider_of(h);
	char *what = NULL;
	int r;

	(void)arg;
	if (p == NULL || type != IPC_EVENT ||
	    (r = buf_get_cstring(m, &what, NULL)) != 0 ||
	    (r = tokens_provider_sync(p, m, 0)) != 0) {
		error("bad event from %s", helper_name(h));
		free(what);
		return;
	}
	verbose("provider %s: %s", p->path, what);
	audit_token("token-change", "pkcs11", what, p->path);
	free(what);
}

static void
tokens_rescan_reply(int r, uint8_t type, struct buf *m, const char *detail,
    void *arg)
{
	struct provider *p = arg;

	if (r == 0 && type == IPC_KEYS)
		r = tokens_provider_sync(p, m, 0);
	if (r != 0)
		error("provider %s: rescan failed: %s%s%s", p->path,
		    tok_strerror(r), detail ? ": " : "", detail ? detail : "");
}

static void
tokens_provider_restarted(struct helper *h, void *arg)
{
	struct provider *p = arg;
	struct identity *id;

	/* The new helper has no login: keys come back as it finds them. */
	for (id = idtab_first(agent_idtab); id != NULL; id = idtab_next(id)) {
		if (id->helper == h)
			id->present = 0;
	}
	if (helper_request(h, IPC_P11_RESCAN, NULL, P11_ADD_TIMEOUT_MS,
	    tokens_rescan_reply, p, NULL) != 0)
		error("provider %s: could not rescan", p->path);
}

static void
tokens_provider_free(struct provider *p)
{
	struct identity *id, *next;

	for (id = idtab_first(agent_idtab); id != NULL; id = next) {
		next = idtab_next(id);
		if (id->helper == p->h) {
			id->helper = NULL;	/* it is going away */
			keys_drop(id, "provider removed");
		}
	}
	LIST_REMOVE(p, entry);
	nproviders--;
	loop_cancel_timer(p->discard);
	helper_stop(p->h);
	tokens_provider_unremove(p);
	free(p->path);
	buf_free(p->constraints);
	free(p);
}

static void
tokens_provider_discard_now(void *arg)
{
	struct provider *p = arg;

	p->discard = NULL;
	if (p->added || p->nadding > 0)
		return;		/* added meanwhile, or being added again */
	debug_f("provider %s was not added: stopping its helper", p->path);
	tokens_provider_free(p);
	if (LIST_EMPTY(&providers)) {
		helper_stop(tokens_pcsc);
		tokens_pcsc = NULL;
	}
}

/*
 * A provider never added keeps no helper: unless an ssh-add -s of it is in
 * flight, it goes, from a timer (a helper callback may be on the stack).
 */
static void
tokens_provider_maybe_discard(struct provider *p)
{
	if (p->added || p->nadding > 0 || p->discard != NULL)
		return;
	if ((p->discard = loop_add_timer(0, tokens_provider_discard_now,
	    p)) == NULL)
		error_f("provider %s: out of memory", p->path);
}

/* An ssh-add -s of p is over. */
static void
tokens_provider_add_done(struct provider *p)
{
	if (p->nadding > 0)
		p->nadding--;
	tokens_provider_maybe_discard(p);
}

static void
provider_op_cancel(void *arg)
{
	struct provider_op *op = arg;
	struct provider *p = op->p;

	helper_cancel(p->h, op->reqid);
	free(op);
	tokens_provider_add_done(p);
}

static void
tokens_add_reply(int r, uint8_t type, struct buf *m, const char *detail,
    void *arg)
{
	struct provider_op *op = arg;
	struct conn *c = op->c;
	struct provider *p = op->p;

	free(op);
	if (r == 0 && type != IPC_KEYS)
		r = TOK_ERR_PROTOCOL;
	if (r == 0)
		tokens_provider_unremove(p);	/* added again: all of it */
	if (r == 0 && (r = tokens_provider_sync(p, m, 1)) == 0)
		p->added = 1;
	if (r != 0)
		error("add provider %s failed: %s%s%s", p->path,
		    tok_strerror(r), detail ? ": " : "", detail ? detail : "");
	else
		logit("provider %s added by pid %ld", p->path, (long)c->pid);
	tokens_provider_add_done(p);
	conn_reply_status(c, r == 0);
}

/* A card or reader changed: every provider looks at its tokens again. */
static void
tokens_pcsc_event(struct helper *h, uint8_t type, struct buf *m, void *arg)
{
	struct provider *p;
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
		    P11_ADD_TIMEOUT_MS, tokens_rescan_reply, p, NULL) != 0)
			error("provider %s: could not rescan", p->path);
	}
}

static void
tokens_pcsc_start(void)
{
	char *prog, *argv[2];

	if (tokens_pcsc != NULL)
		return;
	if ((prog = helper_find_program(PCSC_WATCHER)) == NULL) {
		error("%s not found: card removal is noticed only on use",
		    PCSC_WATCHER);
		return;
	}
	argv[0] = prog;
	argv[1] = NULL;
	tokens_pcsc = helper_spawn("pcsc", prog, argv, tokens_pcsc_event,
	    NULL, NULL);
	free(prog);
}

void
tokens_add_provider(struct conn *c, struct buf *m, int constrained)
{
	struct provider_op *op = NULL;
	struct provider *p = NULL;
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
	if (dest_bindings_is_remote(c->bindings) &&
	    !agent_opts.allow_remote_providers) {
		error("refusing PKCS#11 provider %s from a forwarded "
		    "connection", path);
		r = TOK_ERR_PROVIDER_REFUSED;
		goto fail;
	}
	if ((r = tokens_provider_allowed(path, &real)) != 0)
		goto fail;
	/*
	 * As OpenSSH's agent: a provider is added once.  A second add would
	 * not check its PIN (the token is logged in) yet could drop the
	 * keys' constraints (-c): remove it first (ssh-add -e).
	 */
	if ((p = tokens_find_provider(real)) != NULL && p->added) {
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
		if ((p->h = helper_spawn("p11", prog, argv,
		    tokens_provider_event, tokens_provider_restarted,
		    p)) == NULL) {
			free(p->path);
			free(p);
			p = NULL;
			r = TOK_ERR_HELPER_DIED;
			goto fail;
		}
		LIST_INSERT_HEAD(&providers, p, entry);
		nproviders++;
		tokens_pcsc_start();
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
	    P11_ADD_TIMEOUT_MS, tokens_add_reply, op, &op->reqid)) != 0)
		goto fail;
	p->nadding++;
	buf_free(payload);
	free(path);
	free(real);
	free(prog);
	conn_wait(c, op, provider_op_cancel);
	return;
 fail:
	error("add provider %s from pid %ld: %s", path ? path : "?",
	    (long)c->pid, tok_strerror(r));
	if (p != NULL)
		tokens_provider_maybe_discard(p);
	free(op);
	buf_free(payload);
	free(path);
	free(real);
	free(prog);
	conn_reply_status(c, 0);
}

void
tokens_remove_provider(struct conn *c, struct buf *m)
{
	struct provider *p;
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
	if (realpath(path, real) == NULL || (p = tokens_find_provider(real)) ==
	    NULL) {
		error("remove provider %s: not loaded", path);
		free(path);
		conn_reply_status(c, 0);
		return;
	}
	logit("provider %s removed by pid %ld", p->path, (long)c->pid);
	tokens_provider_free(p);
	if (LIST_EMPTY(&providers)) {
		helper_stop(tokens_pcsc);
		tokens_pcsc = NULL;
	}
	free(path);
	conn_reply_status(c, 1);
}

#define TOKENS_SK_NAME_MAX	256	/* a token name from the sk helper */

/* A device path or token name from the sk helper: bounded, printable. */
static int
tokens_sk_string(struct buf *m, char **sp)
{
	const u_char *cp;
	size_t len, i;
	int r;

	*sp = NULL;
	if ((r = buf_get_string_direct(m, &cp, &len)) != 0)
		return r;
	if (len == 0 || len > TOKENS_SK_NAME_MAX)
		return TOK_ERR_INVALID_FORMAT;
	for (i = 0; i < len; i++) {
		if (cp[i] < 0x20 || cp[i] == 0x7f)
			return TOK_ERR_INVALID_FORMAT;
	}
	if ((*sp = malloc(len + 1)) == NULL)
		return TOK_ERR_ALLOC;
	memcpy(*sp, cp, len);
	(*sp)[len] = '\0';
	return 0;
}

/*
 * The sk helper's events: a token waits for (or got) a touch for a
 * request, a request is about to fail for want of a token's PIN, a token
 * was plugged in or pulled.
 */
static void
tokens_sk_event(struct helper *h, uint8_t type, struct buf *m, void *arg)
{
	char *device = NULL, *name = NULL;
	uint32_t reqid, retries;
	uint8_t flag;
	int r = TOK_ERR_INVALID_FORMAT;

	(void)h;
	(void)arg;
	switch (type) {
	case IPC_SK_TOUCH:
		if ((r = buf_get_u32(m, &reqid)) != 0 ||
		    (r = tokens_sk_string(m, &device)) != 0 ||
		    (r = tokens_sk_string(m, &name)) != 0 ||
		    (r = buf_get_u8(m, &flag)) != 0 ||
		    (r = buf_expect_empty(m)) != 0)
			break;
		if (flag > SIGN_TOUCH_SELECT) {
			r = TOK_ERR_INVALID_FORMAT;
			break;
		}
		sign_touch_event(reqid, device, name, flag);
		break;
	case IPC_SK_PIN_WANTED:
		if ((r = buf_get_u32(m, &reqid)) != 0 ||
		    (r = tokens_sk_string(m, &device)) != 0 ||
		    (r = tokens_sk_string(m, &name)) != 0 ||
		    (r = buf_get_u32(m, &retries)) != 0 ||
		    (r = buf_expect_empty(m)) != 0)
			break;
		if (!sign_pin_wanted(reqid, device, name, retries))
			(void)resident_pin_wanted(reqid, device, name,
			    retries);
		break;
	case IPC_SK_DEVICE:
		if ((r = tokens_sk_string(m, &device)) != 0 ||
		    (r = tokens_sk_string(m, &name)) != 0 ||
		    (r = buf_get_u8(m, &flag)) != 0 ||
		    (r = buf_expect_empty(m)) != 0)
			break;
		if (flag > 1) {
			r = TOK_ERR_INVALID_FORMAT;
			break;
		}
		audit_token(flag ? "token-plug" : "token-pull", "fido", name,
		    device);
		resident_device_event(device, name, flag);
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

struct helper *
tokens_sk_helper(void)
{
	char *prog, *argv[2];

	if (tokens_sk != NULL)
		return tokens_sk;
	if ((prog = helper_find_program(SK_HELPER)) == NULL) {
		error("FIDO keys need %s, which was not found", SK_HELPER);
		return NULL;
	}
	argv[0] = prog;
	argv[1] = NULL;
	tokens_sk = helper_spawn("sk", prog, argv, tokens_sk_event,
	    keys_helper_lost, NULL);
	free(prog);
	return tokens_sk;
}

static void
tokens_sk_provider_reply(int r, uint8_t type, struct buf *m,
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

int
tokens_sk_apply(struct identity *id, struct conn *c, struct constraints *cons)
{
	struct buf *p = NULL;
	char *real = NULL;
	int r;

	if (cons->certs != NULL) {
		error("associated certificates are for PKCS#11 keys only");
		return TOK_ERR_INVALID_FORMAT;
	}
	if (cons->sk_provider == NULL ||
	    strcmp(cons->sk_provider, "internal") == 0)
		return 0;
	if (!key_is_sk(id->key)) {
		error("sk-provider constraint on a non-FIDO key");
		return TOK_ERR_INVALID_FORMAT;
	}
	if (dest_bindings_is_remote(c->bindings) &&
	    !agent_opts.allow_remote_providers) {
		error("refusing sk provider %s from a forwarded connection",
		    cons->sk_provider);
		return TOK_ERR_PROVIDER_REFUSED;
	}
	if ((r = tokens_provider_allowed(cons->sk_provider, &real)) != 0)
		return r;
	/*
	 * The sk helper loads the middleware and answers in order, so the
	 * key signs through it before any signature is asked for.  If it
	 * cannot load it, the key refuses to sign (the reply is logged).
	 */
	if ((p = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_put_u64(p, id->handle)) != 0 ||
	    (r = buf_put_cstring(p, real)) != 0 ||
	    (r = helper_request(id->helper, IPC_SK_PROVIDER, p,
	    P11_ADD_TIMEOUT_MS, tokens_sk_provider_reply, NULL, NULL)) != 0) {
		error_fr(r, "sk provider %s", real);
		goto out;
	}
	debug_f("key %s signs through %s", id->fingerprint, real);
	r = 0;
 out:
	buf_free(p);
	free(real);
	return r;
}

static void
login_op_free(struct login_op *op)
{
	askpass_cancel(op->ap);
	free(op->device);
	free(op);
}

static void
tokens_login_reply(int r, uint8_t type, struct buf *m, const char *detail,
    void *arg)
{
	struct login_op *op = arg;
	void (*done)(int, void *) = op->done;
	void *darg = op->arg;

	(void)m;
	if (r == 0 && type != IPC_OK)
		r = TOK_ERR_PROTOCOL;
	if (r != 0)
		error("token login failed: %s%s%s", tok_strerror(r),
		    detail ? ": " : "", detail ? detail : "");
	login_op_free(op);
	done(r, darg);
}

static void
tokens_pin_entered(int r, char *pin, void *arg)
{
	struct login_op *op = arg;
	void (*done)(int, void *) = op->done;
	void *darg = op->arg;
	struct buf *p = NULL;

	op->ap = NULL;
	if (r == 0) {
		if ((p = buf_new()) == NULL)
			r = TOK_ERR_ALLOC;
		else if (op->h == tokens_sk) {
			/*
			 * The sk helper keeps it for that token only, for
			 * the retry (or the cache time).
			 */
			if ((r = buf_put_cstring(p, op->device)) == 0 &&
			    (r = buf_put_cstring(p, pin)) == 0 &&
			    (r = buf_put_u32(p, agent_opts.pin_cache_s)) == 0)
				r = helper_request(op->h, IPC_SK_PIN, p,
				    P11_LOGIN_TIMEOUT_MS, tokens_login_reply,
				    op, &op->reqid);
		} else if ((r = buf_put_cstring(p, pin)) == 0)
			r = helper_request(op->h, IPC_P11_LOGIN, p,
			    P11_LOGIN_TIMEOUT_MS, tokens_login_reply, op,
			    &op->reqid);
	}
	buf_free(p);
	secmem_free(pin);
	if (r != 0) {
		login_op_free(op);
		done(r, darg);
	}
}

/* Start the PIN prompt of a login; device: the sk helper's token. */
static void *
tokens_login_start(struct identity *id, const char *device, const char *name,
    uint32_t retries, const char *why, int retry,
    void (*done)(int r, void *arg), void *arg)
{
	struct login_op *op;
	char *prompt = NULL, *token = NULL, *wrong = NULL;

	if (id->helper == NULL || id->helper == agent_soft ||
	    (id->helper == tokens_sk && device == NULL) ||
	    (op = calloc(1, sizeof(*op))) == NULL)
		return NULL;
	op->h = id->helper;
	op->done = done;
	op->arg = arg;
	if (device != NULL && (op->device = strdup(device)) == NULL)
		goto fail;
	if (retry && retries != SK_IPC_RETRIES_UNKNOWN) {
		if (asprintf(&wrong, "Wrong PIN, %u %s left. ", retries,
		    retries == 1 ? "try" : "tries") < 0) {
			wrong = NULL;	/* asprintf leaves it undefined */
			goto fail;
		}
	} else if ((wrong = strdup(retry ? "Wrong PIN. " : "")) == NULL)
		goto fail;
	if (name != NULL) {
		if (asprintf(&token, " (\"%s\"%s)", name,
		    !retry && retries != SK_IPC_RETRIES_UNKNOWN &&
		    retries < 4 ? ", few tries left" : "") < 0) {
			token = NULL;
			goto fail;
		}
	} else if ((token = strdup("")) == NULL)
		goto fail;
	if (asprintf(&prompt, "%sEnter PIN for the %s of key \"%s\" %s%s to "
	    "allow %s", wrong, id->helper == tokens_sk ?
	    "security key" : "token", id->comment, id->provider ? id->provider :
	    id->fingerprint, token, why) < 0) {
		prompt = NULL;
		goto fail;
	}
	if ((op->ap = askpass_start(ASKPASS_SECRET, prompt,
	    TOKENS_PIN_TIMEOUT_MS, tokens_pin_entered, op)) == NULL)
		goto fail;
	audit_event("pin-prompt", NULL, id, NULL, name != NULL ? name :
	    id->provider);
	free(prompt);
	free(token);
	free(wrong);
	return op;
 fail:
	free(prompt);
	free(token);
	free(wrong);
	free(op->device);
	free(op);
	return NULL;
}

void *
tokens_login(struct identity *id, const char *why, int retry,
    void (*done)(int r, void *arg), void *arg)
{
	return tokens_login_start(id, NULL, NULL, SK_IPC_RETRIES_UNKNOWN, why,
	    retry, done, arg);
}

void *
tokens_sk_login(struct identity *id, const char *device, const char *name,
    uint32_t retries, const char *why, int retry,
    void (*done)(int r, void *arg), void *arg)
{
	if (id->helper != tokens_sk)
		return NULL;
	return tokens_login_start(id, device, name, retries, why, retry,
	    done, arg);
}

void
tokens_login_cancel(void *login)
{
	struct login_op *op = login;

	if (op == NULL)
		return;
	if (op->ap == NULL)
		helper_cancel(op->h, op->reqid);
	login_op_free(op);
}

void
tokens_forget_secrets(void)
{
	if (tokens_sk != NULL &&
	    helper_request(tokens_sk, IPC_SK_FORGET, NULL, 0, NULL, NULL,
	    NULL) != 0)
		error("could not clear the security key PIN cache");
}

void
tokens_shutdown(void)
{
	struct provider *p;

	while ((p = LIST_FIRST(&providers)) != NULL)
		tokens_provider_free(p);
	helper_stop(tokens_sk);
	tokens_sk = NULL;
	helper_stop(tokens_pcsc);
	tokens_pcsc = NULL;
}

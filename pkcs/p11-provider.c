/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * A PKCS#11 provider: module loading, tokens, sessions, login, key
 * discovery and signing (see p11-provider.h).
 *
 * Everything the module returns is untrusted: attribute values are fetched
 * with the two-call pattern and capped, object counts are capped, and
 * public keys are rebuilt and validated through common/key.h.
 */
#include "config.h"

#include <sys/types.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/key.h"
#include "common/log.h"
#include "common/secmem.h"
#include "pkcs/p11-elf.h"
#include "pkcs/p11-err.h"
#include "pkcs/p11-provider.h"
#include "pkcs/p11-pubkey.h"

#define P11_ATTR_MAX		(16 * 1024)	/* one attribute value */
#define P11_LABEL_MAX		256		/* CKA_LABEL kept */
#define P11_SLOTS_MAX		256
#define P11_OBJECTS_MAX		1024		/* per class+token */
#define P11_KEYS_MAX		4096		/* per provider */
#define P11_SIG_MAX		4096		/* > RSA-16384 */

struct p11_token {
	CK_SLOT_ID slot;
	char label[33];		/* printable, trimmed */
	char ident[96];		/* manufacturer/model/serial */
	CK_FLAGS flags;		/* CK_TOKEN_INFO flags, last look */
	CK_SESSION_HANDLE sess;
	int have_sess;
	int seen;		/* during a scan */
};

struct p11_key {
	uint64_t handle;
	char ident[96];		/* the token's */
	u_char *id;		/* CKA_ID */
	size_t idlen;
	struct key *pub;
	char *label;		/* "token label/key label" */
	CK_OBJECT_HANDLE priv;	/* cached private key object */
	int have_priv;
	int always_auth;	/* CKA_ALWAYS_AUTHENTICATE of priv */
};

struct p11_provider {
	CK_FUNCTION_LIST *f;
	void *dl;
	int initialized;
	int threads_ok;		/* initialised with CKF_OS_LOCKING_OK */
	struct p11_token **tokens;
	size_t ntokens;
	struct p11_key **keys;
	size_t nkeys;
	pthread_t watcher;
	int have_watcher;
	int watch_pipe[2];
	char *context_pin;	/* secmem; for the next signature only */
};

static void p11_watch_stop(struct p11_provider *);

/* ---- small helpers ---------------------------------------------------- */

/* p11_field_str: a space-padded CK_UTF8CHAR field as a printable C string. */
static void
p11_field_str(const CK_UTF8CHAR *field, size_t flen, char *out, size_t outlen)
{
	size_t i, n = flen;

	while (n > 0 && (field[n - 1] == ' ' || field[n - 1] == '\0'))
		n--;
	if (n > outlen - 1)
		n = outlen - 1;
	for (i = 0; i < n; i++) {
		out[i] = (field[i] < 0x20 || field[i] == 0x7f) ?
		    '?' : (char)field[i];
	}
	out[n] = '\0';
}

/* p11_text_sanitize: replace control characters in s, in place. */
static void
p11_text_sanitize(char *s)
{
	for (; *s != '\0'; s++) {
		if ((u_char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	}
}

static void
p11_key_free(struct p11_key *k)
{
	if (k == NULL)
		return;
	free(k->id);
	key_free(k->pub);
	free(k->label);
	free(k);
}

static void
p11_keys_free(struct p11_key **keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p11_key_free(keys[i]);
	free(keys);
}

static struct p11_token *
p11_token_by_ident(struct p11_provider *p, const char *ident)
{
	size_t i;

	for (i = 0; i < p->ntokens; i++) {
		if (strcmp(p->tokens[i]->ident, ident) == 0)
			return p->tokens[i];
	}
	return NULL;
}

static struct p11_key *
p11_key_by_handle(struct p11_provider *p, uint64_t handle)
{
	size_t i;

	for (i = 0; i < p->nkeys; i++) {
		if (p->keys[i]->handle == handle)
			return p->keys[i];
	}
	return NULL;
}

static void
p11_session_drop(struct p11_provider *p, struct p11_token *t)
{
	if (!t->have_sess)
		return;
	(void)p->f->C_CloseSession(t->sess);
	t->have_sess = 0;
	t->sess = 0;
}

static int
p11_session_ensure(struct p11_provider *p, struct p11_token *t)
{
	CK_RV rv;

	if (t->have_sess)
		return 0;
	rv = p->f->C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL, NULL,
	    &t->sess);
	if (rv != CKR_OK) {
		debug_f("C_OpenSession slot %lu: %s", t->slot,
		    p11_ckr_name(rv));
		return p11_err_from_ckr(rv);
	}
	t->have_sess = 1;
	return 0;
}

/*
 * p11_logged_in: 1 when the token's session can use private objects (user
 * logged in), 0 otherwise; a session that is gone is dropped.
 */
static int
p11_logged_in(struct p11_provider *p, struct p11_token *t)
{
	CK_SESSION_INFO si;
	CK_RV rv;

	if (!t->have_sess)
		return 0;
	memset(&si, 0, sizeof(si));
	if ((rv = p->f->C_GetSessionInfo(t->sess, &si)) != CKR_OK) {
		debug_f("C_GetSessionInfo: %s", p11_ckr_name(rv));
		if (p11_ckr_session_lost(rv))
			p11_session_drop(p, t);
		return 0;
	}
	return si.state == CKS_RO_USER_FUNCTIONS ||
	    si.state == CKS_RW_USER_FUNCTIONS;
}

static int
p11_needs_login(const struct p11_token *t)
{
	return (t->flags & CKF_LOGIN_REQUIRED) != 0;
}

/*
 * p11_attr_get: the value of attribute type of object o, as a new
 * allocation with a NUL appended (not counted in *lenp).  Values the
 * module can not give, or larger than max, are TOK_ERR_KEY_NOT_FOUND /
 * TOK_ERR_STRING_TOO_LARGE.
 */
static int
p11_attr_get(struct p11_provider *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_TYPE type, size_t max, u_char **valp, size_t *lenp)
{
	CK_ATTRIBUTE a;
	u_char *v = NULL;
	size_t len;
	CK_RV rv;
	int r = TOK_ERR_INTERNAL;

	*valp = NULL;
	*lenp = 0;
	memset(&a, 0, sizeof(a));
	a.type = type;
	rv = p->f->C_GetAttributeValue(s, o, &a, 1);
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE ||
	    (rv == CKR_OK && a.ulValueLen == CK_UNAVAILABLE_INFORMATION)) {
		r = TOK_ERR_KEY_NOT_FOUND;
		goto out;
	}
	if (rv != CKR_OK) {
		r = p11_err_from_ckr(rv);
		goto out;
	}
	if (a.ulValueLen > max) {
		r = TOK_ERR_STRING_TOO_LARGE;
		goto out;
	}
	len = a.ulValueLen;
	if ((v = calloc(1, len + 1)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	a.pValue = v;
	a.ulValueLen = len;
	if ((rv = p->f->C_GetAttributeValue(s, o, &a, 1)) != CKR_OK) {
		r = p11_err_from_ckr(rv);
		goto out;
	}
	/* The module may shrink the value, never grow it. */
	if (a.ulValueLen > len) {
		r = TOK_ERR_PROTOCOL;
		goto out;
	}
	v[a.ulValueLen] = '\0';
	*lenp = a.ulValueLen;
	*valp = v;
	v = NULL;
	r = 0;
 out:
	free(v);
	return r;
}

static int
p11_attr_ulong(struct p11_provider *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_TYPE type, CK_ULONG *valp)
{
	CK_ATTRIBUTE a;
	CK_ULONG v = 0;
	CK_RV rv;

	*valp = 0;
	a.type = type;
	a.pValue = &v;
	a.ulValueLen = sizeof(v);
	if ((rv = p->f->C_GetAttributeValue(s, o, &a, 1)) != CKR_OK)
		return rv == CKR_ATTRIBUTE_TYPE_INVALID ?
		    TOK_ERR_KEY_NOT_FOUND : p11_err_from_ckr(rv);
	if (a.ulValueLen != sizeof(v))
		return TOK_ERR_PROTOCOL;
	*valp = v;
	return 0;
}

/*
 * p11_find: the objects matching tmpl (at most max) as a new array in
 * *objsp, their number in *np.
 */
static int
p11_find(struct p11_provider *p, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
    CK_ULONG ntmpl, size_t max, CK_OBJECT_HANDLE **objsp, size_t *np,
    CK_RV *rvp)
{
	CK_OBJECT_HANDLE *objs = NULL, batch[32];
	CK_ULONG got, i;
	size_t n = 0;
	CK_RV rv;
	int r = TOK_ERR_INTERNAL, active = 0;

	*objsp = NULL;
	*np = 0;
	*rvp = CKR_OK;
	if ((objs = calloc(max, sizeof(*objs))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((rv = p->f->C_FindObjectsInit(s, tmpl, ntmpl)) != CKR_OK) {
		*rvp = rv;
		r = p11_err_from_ckr(rv);
		goto out;
	}
	active = 1;
	for (;;) {
		got = 0;
		rv = p->f->C_FindObjects(s, batch,
		    sizeof(batch) / sizeof(batch[0]), &got);
		if (rv != CKR_OK) {
			*rvp = rv;
			r = p11_err_from_ckr(rv);
			goto out;
		}
		if (got == 0)
			break;
		if (got > sizeof(batch) / sizeof(batch[0])) {
			r = TOK_ERR_PROTOCOL;
			goto out;
		}
		for (i = 0; i < got && n < max; i++)
			objs[n++] = batch[i];
		if (n >= max) {
			if (max > 1)
				verbose_f("more than %zu objects; ignoring "
				    "the rest", max);
			break;
		}
	}
	*objsp = objs;
	*np = n;
	objs = NULL;
	r = 0;
 out:
	if (active)
		(void)p->f->C_FindObjectsFinal(s);
	free(objs);
	return r;
}

/* ---- loading ---------------------------------------------------------- */

static int
p11_provider_init(struct p11_provider *p)
{
	CK_C_INITIALIZE_ARGS args;
	CK_INFO info;
	char manuf[33], desc[33];
	CK_RV rv;

	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = p->f->C_Initialize(&args);
	p->threads_ok = rv == CKR_OK;
	if (rv == CKR_CANT_LOCK || rv == CKR_ARGUMENTS_BAD ||
	    rv == CKR_NEED_TO_CREATE_THREADS) {
		debug_f("C_Initialize with OS locking: %s; retrying without",
		    p11_ckr_name(rv));
		rv = p->f->C_Initialize(NULL);
	}
	if (rv != CKR_OK) {
		error_f("C_Initialize: %s", p11_ckr_name(rv));
		return TOK_ERR_PROVIDER_REFUSED;
	}
	p->initialized = 1;
	memset(&info, 0, sizeof(info));
	if (p->f->C_GetInfo != NULL && p->f->C_GetInfo(&info) == CKR_OK) {
		p11_field_str(info.manufacturerID, sizeof(info.manufacturerID),
		    manuf, sizeof(manuf));
		p11_field_str(info.libraryDescription,
		    sizeof(info.libraryDescription), desc, sizeof(desc));
		verbose_f("module \"%s\" by \"%s\", cryptoki %u.%u", desc,
		    manuf, info.cryptokiVersion.major,
		    info.cryptokiVersion.minor);
	}
	return 0;
}

static struct p11_provider *
p11_provider_new(void)
{
	struct p11_provider *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->watch_pipe[0] = p->watch_pipe[1] = -1;
	return p;
}

/* p11_functions_valid: the entry points the helper calls are all there. */
static int
p11_functions_valid(const CK_FUNCTION_LIST *f)
{
	if (f->version.major < 2)
		return 0;
	return f->C_Initialize != NULL && f->C_Finalize != NULL &&
	    f->C_GetSlotList != NULL && f->C_GetTokenInfo != NULL &&
	    f->C_OpenSession != NULL && f->C_CloseSession != NULL &&
	    f->C_GetSessionInfo != NULL && f->C_Login != NULL &&
	    f->C_Logout != NULL && f->C_GetAttributeValue != NULL &&
	    f->C_FindObjectsInit != NULL && f->C_FindObjects != NULL &&
	    f->C_FindObjectsFinal != NULL && f->C_SignInit != NULL &&
	    f->C_Sign != NULL;
}

int
p11_provider_open_functions(CK_FUNCTION_LIST *f, struct p11_provider **pp)
{
	struct p11_provider *p = NULL;
	int r = TOK_ERR_INTERNAL;

	*pp = NULL;
	if (f == NULL || !p11_functions_valid(f)) {
		r = TOK_ERR_PROVIDER_REFUSED;
		goto out;
	}
	if ((p = p11_provider_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	p->f = f;
	if ((r = p11_provider_init(p)) != 0)
		goto out;
	*pp = p;
	p = NULL;
	r = 0;
 out:
	p11_provider_close(p);
	return r;
}

int
p11_provider_open(const char *path, struct p11_provider **pp)
{
	struct p11_provider *p = NULL;
	CK_C_GetFunctionList getfl;
	CK_FUNCTION_LIST *f = NULL;
	char fdpath[64];
	void *dl = NULL;
	CK_RV rv;
	int fd = -1, r = TOK_ERR_INTERNAL;

	*pp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		r = TOK_ERR_PROVIDER_REFUSED;
		error_f("open %s: %s", path, strerror(errno));
		goto out;
	}
	if ((r = p11_elf_fd_has_symbol(fd, "C_GetFunctionList")) != 0) {
		error_fr(r, "%s does not export C_GetFunctionList", path);
		r = TOK_ERR_PROVIDER_REFUSED;
		goto out;
	}
	/* Load the very file that was checked, not whatever path names now. */
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	if ((dl = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		error_f("dlopen %s: %s", path, dlerror());
		r = TOK_ERR_PROVIDER_REFUSED;
		goto out;
	}
	if ((getfl = (CK_C_GetFunctionList)dlsym(dl,
	    "C_GetFunctionList")) == NULL) {
		error_f("%s: no C_GetFunctionList", path);
		r = TOK_ERR_PROVIDER_REFUSED;
		goto out;
	}
	if ((rv = getfl(&f)) != CKR_OK || f == NULL) {
		error_f("%s: C_GetFunctionList: %s", path, p11_ckr_name(rv));
		r = TOK_ERR_PROVIDER_REFUSED;
		goto out;
	}
	if ((r = p11_provider_open_functions(f, &p)) != 0)
		goto out;
	p->dl = dl;
	dl = NULL;
	*pp = p;
	r = 0;
 out:
	if (dl != NULL)
		dlclose(dl);
	if (fd != -1)
		close(fd);
	return r;
}

void
p11_provider_close(struct p11_provider *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->ntokens; i++) {
		if (p->tokens[i]->have_sess) {
			(void)p->f->C_Logout(p->tokens[i]->sess);
			p11_session_drop(p, p->tokens[i]);
		}
		free(p->tokens[i]);
	}
	free(p->tokens);
	p11_keys_free(p->keys, p->nkeys);
	secmem_free(p->context_pin);
	p->context_pin = NULL;
	if (p->initialized)
		(void)p->f->C_Finalize(NULL);
	p11_watch_stop(p);
	/*
	 * The module stays mapped (p->dl is not closed): the helper ends
	 * after the provider does, a watcher thread stuck in the module may
	 * still return into it, and some modules do not survive dlclose().
	 */
	if (!p->have_watcher) {
		if (p->watch_pipe[0] != -1)
			close(p->watch_pipe[0]);
		if (p->watch_pipe[1] != -1)
			close(p->watch_pipe[1]);
		free(p);
	}
}

/* ---- tokens ----------------------------------------------------------- */

static void
p11_token_ident(const CK_TOKEN_INFO *ti, char *out, size_t outlen)
{
	char manuf[33], model[17], serial[17];

	p11_field_str(ti->manufacturerID, sizeof(ti->manufacturerID), manuf,
	    sizeof(manuf));
	p11_field_str(ti->model, sizeof(ti->model), model, sizeof(model));
	p11_field_str(ti->serialNumber, sizeof(ti->serialNumber), serial,
	    sizeof(serial));
	snprintf(out, outlen, "%s/%s/%s", manuf, model, serial);
}

/* p11_slots: the slots with a token present, as a new array. */
static int
p11_slots(struct p11_provider *p, CK_SLOT_ID **slotsp, size_t *np)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0, have;
	CK_RV rv;
	int try, r = TOK_ERR_INTERNAL;

	*slotsp = NULL;
	*np = 0;
	for (try = 0; try < 3; try++) {
		free(slots);
		slots = NULL;
		if ((rv = p->f->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK) {
			error_f("C_GetSlotList: %s", p11_ckr_name(rv));
			r = p11_err_from_ckr(rv);
			goto out;
		}
		if (n > P11_SLOTS_MAX)
			n = P11_SLOTS_MAX;
		if ((slots = calloc(n + 1, sizeof(*slots))) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		have = n;
		rv = p->f->C_GetSlotList(CK_TRUE, slots, &have);
		if (rv == CKR_BUFFER_TOO_SMALL && n < P11_SLOTS_MAX)
			continue;	/* a token arrived in between */
		if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL) {
			error_f("C_GetSlotList: %s", p11_ckr_name(rv));
			r = p11_err_from_ckr(rv);
			goto out;
		}
		if (have > n)
			have = n;
		*slotsp = slots;
		*np = have;
		slots = NULL;
		r = 0;
		goto out;
	}
	r = TOK_ERR_DEVICE;
 out:
	free(slots);
	return r;
}

/* p11_tokens_refresh: bring the token table in line with the slots. */
static int
p11_tokens_refresh(struct p11_provider *p)
{
	CK_SLOT_ID *slots = NULL;
	CK_TOKEN_INFO ti;
	CK_SESSION_INFO si;
	struct p11_token *t, **nt;
	char ident[96];
	size_t i, j, nslots = 0;
	CK_RV rv;
	int r = TOK_ERR_INTERNAL;

	if ((r = p11_slots(p, &slots, &nslots)) != 0)
		goto out;
	for (i = 0; i < p->ntokens; i++)
		p->tokens[i]->seen = 0;
	for (i = 0; i < nslots; i++) {
		memset(&ti, 0, sizeof(ti));
		if ((rv = p->f->C_GetTokenInfo(slots[i], &ti)) != CKR_OK) {
			debug_f("C_GetTokenInfo slot %lu: %s", slots[i],
			    p11_ckr_name(rv));
			continue;
		}
		if ((ti.flags & CKF_TOKEN_INITIALIZED) == 0)
			continue;
		p11_token_ident(&ti, ident, sizeof(ident));
		t = NULL;
		for (j = 0; j < p->ntokens; j++) {
			if (!p->tokens[j]->seen &&
			    strcmp(p->tokens[j]->ident, ident) == 0) {
				t = p->tokens[j];
				break;
			}
		}
		if (t == NULL) {
			if ((t = calloc(1, sizeof(*t))) == NULL) {
				r = TOK_ERR_ALLOC;
				goto out;
			}
			if ((nt = recallocarray(p->tokens, p->ntokens,
			    p->ntokens + 1, sizeof(*nt))) == NULL) {
				free(t);
				r = TOK_ERR_ALLOC;
				goto out;
			}
			p->tokens = nt;
			p->tokens[p->ntokens++] = t;
			strlcpy(t->ident, ident, sizeof(t->ident));
			t->slot = slots[i];
			debug_f("token %s in slot %lu", ident, slots[i]);
		} else if (t->slot != slots[i]) {
			p11_session_drop(p, t);
			t->slot = slots[i];
		}
		t->seen = 1;
		t->flags = ti.flags;
		p11_field_str(ti.label, sizeof(ti.label), t->label,
		    sizeof(t->label));
		/* A replug closes sessions: find out now, not at sign. */
		if (t->have_sess) {
			memset(&si, 0, sizeof(si));
			rv = p->f->C_GetSessionInfo(t->sess, &si);
			if (rv != CKR_OK || si.slotID != t->slot)
				p11_session_drop(p, t);
		}
	}
	/* Tokens that went away. */
	for (i = 0; i < p->ntokens; ) {
		if (p->tokens[i]->seen) {
			i++;
			continue;
		}
		debug_f("token %s gone", p->tokens[i]->ident);
		p11_session_drop(p, p->tokens[i]);
		free(p->tokens[i]);
		p->tokens[i] = p->tokens[--p->ntokens];
	}
	r = 0;
 out:
	free(slots);
	return r;
}

/* ---- login ------------------------------------------------------------ */

int
p11_provider_login(struct p11_provider *p, const char *pin, char **detailp)
{
	struct p11_token *t;
	CK_TOKEN_INFO ti;
	size_t i, pinlen = pin == NULL ? 0 : strlen(pin);
	const char *hint;
	CK_RV rv;
	int r = TOK_ERR_INTERNAL;

	*detailp = NULL;
	if ((r = p11_tokens_refresh(p)) != 0)
		goto out;
	for (i = 0; i < p->ntokens; i++) {
		t = p->tokens[i];
		if (!p11_needs_login(t))
			continue;
		if ((r = p11_session_ensure(p, t)) != 0)
			goto out;
		if (p11_logged_in(p, t))
			continue;
		if ((t->flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0)
			rv = p->f->C_Login(t->sess, CKU_USER, NULL, 0);
		else if (pinlen == 0)
			continue;
		else
			rv = p->f->C_Login(t->sess, CKU_USER,
			    (CK_UTF8CHAR_PTR)(uintptr_t)pin, pinlen);
		if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
			verbose_f("logged in to token \"%s\"", t->label);
			continue;
		}
		r = p11_err_from_ckr(rv);
		if (r == 0)
			r = TOK_ERR_DEVICE;
		/* Fresh flags: the retry counters changed with this try. */
		memset(&ti, 0, sizeof(ti));
		if (p->f->C_GetTokenInfo(t->slot, &ti) == CKR_OK)
			t->flags = ti.flags;
		hint = "";
		if ((t->flags & CKF_USER_PIN_LOCKED) != 0)
			hint = " (PIN locked)";
		else if ((t->flags & CKF_USER_PIN_FINAL_TRY) != 0)
			hint = " (final try)";
		else if ((t->flags & CKF_USER_PIN_COUNT_LOW) != 0)
			hint = " (few tries left)";
		if (asprintf(detailp, "login to token \"%s\": %s%s", t->label,
		    p11_ckr_name(rv), hint) == -1)
			*detailp = NULL;
		error_f("login to token \"%s\": %s%s", t->label,
		    p11_ckr_name(rv), hint);
		goto out;
	}
	r = 0;
 out:
	return r;
}

/* ---- keys ------------------------------------------------------------- */

static int
p11_key_pub(struct p11_provider *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_OBJECT_CLASS cls, struct key **pubp)
{
	u_char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	CK_ULONG ktype, ctype;
	int r = TOK_ERR_INTERNAL;

	*pubp = NULL;
	if (cls == CKO_CERTIFICATE) {
		if ((r = p11_attr_ulong(p, s, o, CKA_CERTIFICATE_TYPE,
		    &ctype)) != 0)
			goto out;
		if (ctype != CKC_X_509) {
			r = TOK_ERR_KEY_TYPE_UNKNOWN;
			goto out;
		}
		if ((r = p11_attr_get(p, s, o, CKA_VALUE, P11_ATTR_MAX,
		    &a, &alen)) != 0)
			goto out;
		r = p11_pubkey_x509(a, alen, pubp);
		goto out;
	}
	if ((r = p11_attr_ulong(p, s, o, CKA_KEY_TYPE, &ktype)) != 0)
		goto out;
	switch (ktype) {
	case CKK_RSA:
		if ((r = p11_attr_get(p, s, o, CKA_MODULUS, P11_ATTR_MAX,
		    &a, &alen)) != 0 ||
		    (r = p11_attr_get(p, s, o, CKA_PUBLIC_EXPONENT,
		    P11_ATTR_MAX, &b, &blen)) != 0)
			goto out;
		r = p11_pubkey_rsa(a, alen, b, blen, pubp);
		break;
	case CKK_EC:
	case CKK_EC_EDWARDS:
		if ((r = p11_attr_get(p, s, o, CKA_EC_PARAMS, P11_ATTR_MAX,
		    &a, &alen)) != 0 ||
		    (r = p11_attr_get(p, s, o, CKA_EC_POINT, P11_ATTR_MAX,
		    &b, &blen)) != 0)
			goto out;
		r = p11_pubkey_ec(a, alen, b, blen, pubp);
		break;
	default:
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		break;
	}
 out:
	free(a);
	free(b);
	return r;
}

static uint64_t
p11_key_handle(const char *ident, const u_char *id, size_t idlen,
    const struct key *pub)
{
	static const char domain[] = "tokagent-p11-key-handle";
	u_char md[EVP_MAX_MD_SIZE], lenb[8];
	const u_char *blob;
	size_t bloblen, i;
	unsigned int mdlen = 0;
	uint64_t h = 0;
	EVP_MD_CTX *ctx;

	blob = key_blob(pub, &bloblen);
	for (i = 0; i < 8; i++)
		lenb[i] = (u_char)((uint64_t)idlen >> (56 - 8 * i));
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, domain, sizeof(domain)) != 1 ||
	    EVP_DigestUpdate(ctx, ident, strlen(ident) + 1) != 1 ||
	    EVP_DigestUpdate(ctx, lenb, sizeof(lenb)) != 1 ||
	    EVP_DigestUpdate(ctx, id, idlen) != 1 ||
	    EVP_DigestUpdate(ctx, blob, bloblen) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < 8)
		fatal_f("SHA-256 failed");
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 8; i++)
		h = h << 8 | md[i];
	return h == 0 ? 1 : h;
}

/* A growable list of keys found during a scan. */
struct p11_found {
	struct p11_key **v;
	size_t n;
};

static int
p11_found_has(const struct p11_found *fl, uint64_t handle)
{
	size_t i;

	for (i = 0; i < fl->n; i++) {
		if (fl->v[i]->handle == handle)
			return 1;
	}
	return 0;
}

/* p11_id_in: 1 when id is the CKA_ID of one of the objects in ids. */
struct p11_idset {
	u_char **ids;
	size_t *lens;
	size_t n;
};

static int
p11_id_in(const struct p11_idset *set, const u_char *id, size_t idlen)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (set->lens[i] == idlen &&
		    (idlen == 0 || memcmp(set->ids[i], id, idlen) == 0))
			return 1;
	}
	return 0;
}

static void
p11_idset_free(struct p11_idset *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		free(set->ids[i]);
	free(set->ids);
	free(set->lens);
	memset(set, 0, sizeof(*set));
}

/* p11_private_ids: the CKA_IDs of the private keys visible on the token. */
static int
p11_private_ids(struct p11_provider *p, struct p11_token *t,
    struct p11_idset *set)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE *objs = NULL;
	u_char *id;
	size_t i, n = 0, idlen;
	CK_RV rv;
	int r = TOK_ERR_INTERNAL;

	memset(set, 0, sizeof(*set));
	if ((r = p11_find(p, t->sess, tmpl, 1, P11_OBJECTS_MAX, &objs, &n,
	    &rv)) != 0)
		goto out;
	if (n == 0) {
		r = 0;
		goto out;
	}
	if ((set->ids = calloc(n, sizeof(*set->ids))) == NULL ||
	    (set->lens = calloc(n, sizeof(*set->lens))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (p11_attr_get(p, t->sess, objs[i], CKA_ID, P11_ATTR_MAX,
		    &id, &idlen) != 0)
			continue;
		set->ids[set->n] = id;
		set->lens[set->n++] = idlen;
	}
	r = 0;
 out:
	free(objs);
	return r;
}

/*
 * p11_token_keys: add the keys of token t to fl.  Public keys come from
 * public key objects, X.509 certificates and private key objects that
 * carry their public half.  Once the private keys are visible (logged in,
 * or no login needed), only keys with a private key of the same CKA_ID are
 * listed; before that, the public objects stand for the keys a login will
 * reveal.
 */
static int
p11_token_keys(struct p11_provider *p, struct p11_token *t,
    struct p11_found *fl)
{
	static const CK_OBJECT_CLASS classes[] = {
		CKO_PUBLIC_KEY, CKO_CERTIFICATE, CKO_PRIVATE_KEY
	};
	CK_OBJECT_CLASS cls;
	CK_ATTRIBUTE tmpl[1];
	CK_OBJECT_HANDLE *objs = NULL;
	struct p11_idset privs;
	struct p11_key *k = NULL, **nv;
	struct key *pub = NULL;
	u_char *id = NULL, *label = NULL;
	size_t c, i, n = 0, idlen, labellen;
	int r = TOK_ERR_INTERNAL, filter;
	CK_RV rv;

	memset(&privs, 0, sizeof(privs));
	if ((r = p11_session_ensure(p, t)) != 0)
		goto out;
	filter = !p11_needs_login(t) || p11_logged_in(p, t);
	if (filter && (r = p11_private_ids(p, t, &privs)) != 0)
		goto out;
	for (c = 0; c < sizeof(classes) / sizeof(classes[0]); c++) {
		cls = classes[c];
		tmpl[0].type = CKA_CLASS;
		tmpl[0].pValue = &cls;
		tmpl[0].ulValueLen = sizeof(cls);
		free(objs);
		objs = NULL;
		if ((r = p11_find(p, t->sess, tmpl, 1, P11_OBJECTS_MAX, &objs,
		    &n, &rv)) != 0)
			goto out;
		for (i = 0; i < n && fl->n < P11_KEYS_MAX; i++) {
			free(id);
			free(label);
			id = label = NULL;
			key_free(pub);
			pub = NULL;
			if (p11_attr_get(p, t->sess, objs[i], CKA_ID,
			    P11_ATTR_MAX, &id, &idlen) != 0)
				continue;
			if (filter && !p11_id_in(&privs, id, idlen))
				continue;
			if ((r = p11_key_pub(p, t->sess, objs[i], cls,
			    &pub)) != 0) {
				/* Private keys rarely carry the public. */
				if (cls != CKO_PRIVATE_KEY)
					debug_fr(r, "token \"%s\" object %lu",
					    t->label, objs[i]);
				continue;
			}
			if ((k = calloc(1, sizeof(*k))) == NULL) {
				r = TOK_ERR_ALLOC;
				goto out;
			}
			k->handle = p11_key_handle(t->ident, id, idlen, pub);
			if (p11_found_has(fl, k->handle)) {
				free(k);
				k = NULL;
				continue;
			}
			if (p11_attr_get(p, t->sess, objs[i], CKA_LABEL,
			    P11_LABEL_MAX, &label, &labellen) != 0 ||
			    labellen == 0 || memchr(label, '\0', labellen)) {
				free(label);
				label = NULL;
			}
			if (asprintf(&k->label, "%s/%s", t->label,
			    label != NULL ? (char *)label : "key") == -1) {
				k->label = NULL;
				r = TOK_ERR_ALLOC;
				goto out;
			}
			p11_text_sanitize(k->label);
			strlcpy(k->ident, t->ident, sizeof(k->ident));
			k->id = id;
			k->idlen = idlen;
			id = NULL;
			k->pub = pub;
			pub = NULL;
			if ((nv = recallocarray(fl->v, fl->n, fl->n + 1,
			    sizeof(*nv))) == NULL) {
				r = TOK_ERR_ALLOC;
				goto out;
			}
			fl->v = nv;
			fl->v[fl->n++] = k;
			k = NULL;
		}
	}
	r = 0;
 out:
	p11_key_free(k);
	key_free(pub);
	free(id);
	free(label);
	free(objs);
	p11_idset_free(&privs);
	return r;
}

int
p11_provider_scan(struct p11_provider *p, int *changedp)
{
	struct p11_found fl = { NULL, 0 };
	size_t i;
	int r = TOK_ERR_INTERNAL, changed = 0;

	if (changedp != NULL)
		*changedp = 0;
	if ((r = p11_tokens_refresh(p)) != 0)
		goto out;
	for (i = 0; i < p->ntokens; i++) {
		if ((r = p11_token_keys(p, p->tokens[i], &fl)) != 0) {
			/* One bad token must not hide the others. */
			error_fr(r, "token \"%s\"", p->tokens[i]->label);
			if (r == TOK_ERR_ALLOC)
				goto out;
		}
	}
	if (fl.n != p->nkeys)
		changed = 1;
	for (i = 0; !changed && i < fl.n; i++) {
		if (p11_key_by_handle(p, fl.v[i]->handle) == NULL)
			changed = 1;
	}
	p11_keys_free(p->keys, p->nkeys);
	p->keys = fl.v;
	p->nkeys = fl.n;
	fl.v = NULL;
	fl.n = 0;
	if (changedp != NULL)
		*changedp = changed;
	r = 0;
 out:
	p11_keys_free(fl.v, fl.n);
	return r;
}

size_t
p11_provider_nkeys(const struct p11_provider *p)
{
	return p->nkeys;
}

int
p11_provider_put_keys(const struct p11_provider *p, struct buf *out)
{
	size_t i;
	int r;

	if ((r = buf_put_u32(out, (uint32_t)p->nkeys)) != 0)
		return r;
	for (i = 0; i < p->nkeys; i++) {
		if ((r = buf_put_u64(out, p->keys[i]->handle)) != 0 ||
		    (r = key_puts(p->keys[i]->pub, out)) != 0 ||
		    (r = buf_put_cstring(out, p->keys[i]->label)) != 0)
			return r;
	}
	return 0;
}

/* ---- signing ---------------------------------------------------------- */

static int
p11_find_private(struct p11_provider *p, struct p11_token *t,
    struct p11_key *k, CK_RV *rvp)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, k->id, k->idlen },
	};
	CK_ATTRIBUTE aa;
	CK_BBOOL always = CK_FALSE;
	CK_OBJECT_HANDLE *objs = NULL;
	size_t n = 0;
	int r;

	if ((r = p11_find(p, t->sess, tmpl, 2, 1, &objs, &n, rvp)) != 0)
		goto out;
	if (n == 0) {
		r = TOK_ERR_KEY_NOT_FOUND;
		goto out;
	}
	/* Keys that want the PIN for every signature (e.g. PIV 9c). */
	aa.type = CKA_ALWAYS_AUTHENTICATE;
	aa.pValue = &always;
	aa.ulValueLen = sizeof(always);
	if (p->f->C_GetAttributeValue(t->sess, objs[0], &aa, 1) != CKR_OK ||
	    aa.ulValueLen != sizeof(always))
		always = CK_FALSE;
	k->always_auth = always == CK_TRUE;
	k->priv = objs[0];
	k->have_priv = 1;
	r = 0;
 out:
	free(objs);
	return r;
}

static void
p11_detail_token(char **detailp, const struct p11_token *t, const char *what)
{
	free(*detailp);
	if (asprintf(detailp, "token \"%s\": %s", t->label, what) == -1)
		*detailp = NULL;
}

/*
 * p11_sign_once: one attempt; *rvp gets the failing CKR (CKR_OK when the
 * failure was not the module's).
 */
static int
p11_sign_once(struct p11_provider *p, struct p11_token *t, struct p11_key *k,
    const u_char *data, size_t datalen, uint32_t flags, struct buf *sigout,
    char **detailp, CK_RV *rvp)
{
	CK_MECHANISM mech;
	CK_SESSION_INFO si;
	struct buf *in = NULL;
	int protected;
	u_char md[EVP_MAX_MD_SIZE], *sig = NULL;
	const u_char *inp;
	size_t inlen, mdlen = 0;
	CK_ULONG siglen;
	CK_RV rv;
	int r = TOK_ERR_INTERNAL;

	*rvp = CKR_OK;
	memset(&mech, 0, sizeof(mech));
	if ((r = p11_session_ensure(p, t)) != 0)
		goto out;
	if (p11_needs_login(t)) {
		/* A lost session is a replug: tell it from a plain logout. */
		memset(&si, 0, sizeof(si));
		if ((rv = p->f->C_GetSessionInfo(t->sess, &si)) != CKR_OK) {
			*rvp = rv;
			r = p11_err_from_ckr(rv);
			goto out;
		}
		if (si.state != CKS_RO_USER_FUNCTIONS &&
		    si.state != CKS_RW_USER_FUNCTIONS) {
			p11_detail_token(detailp, t, "login needed");
			r = TOK_ERR_PIN_REQUIRED;
			goto out;
		}
	}
	if (!k->have_priv && (r = p11_find_private(p, t, k, rvp)) != 0) {
		p11_detail_token(detailp, t, "private key not found");
		goto out;
	}
	switch (key_type(k->pub)) {
	case KEY_RSA:
		if ((in = buf_new()) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		if ((r = key_rsa_digestinfo(flags, data, datalen, in)) != 0)
			goto out;
		mech.mechanism = CKM_RSA_PKCS;
		inp = buf_ptr(in);
		inlen = buf_len(in);
		break;
	case KEY_ECDSA:
		if ((r = key_ecdsa_digest(k->pub, data, datalen, md,
		    &mdlen)) != 0)
			goto out;
		mech.mechanism = CKM_ECDSA;
		inp = md;
		inlen = mdlen;
		break;
	case KEY_ED25519:
		mech.mechanism = CKM_EDDSA;
		inp = data;
		inlen = datalen;
		break;
	default:
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if ((sig = calloc(1, P11_SIG_MAX)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	protected = (t->flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
	if (k->always_auth && !protected && p->context_pin == NULL) {
		p11_detail_token(detailp, t, "the key needs the PIN for "
		    "each signature");
		r = TOK_ERR_PIN_REQUIRED;
		goto out;
	}
	if ((rv = p->f->C_SignInit(t->sess, &mech, k->priv)) != CKR_OK) {
		*rvp = rv;
		debug_f("C_SignInit: %s", p11_ckr_name(rv));
		r = p11_err_from_ckr(rv);
		goto out;
	}
	if (k->always_auth) {
		rv = protected ?
		    p->f->C_Login(t->sess, CKU_CONTEXT_SPECIFIC, NULL, 0) :
		    p->f->C_Login(t->sess, CKU_CONTEXT_SPECIFIC,
		    (CK_UTF8CHAR_PTR)p->context_pin, strlen(p->context_pin));
		if (rv != CKR_OK) {
			debug_f("context-specific C_Login: %s",
			    p11_ckr_name(rv));
			p11_detail_token(detailp, t, p11_ckr_name(rv));
			r = p11_err_from_ckr(rv);
			if (r == 0)
				r = TOK_ERR_DEVICE;
			/* v2.40 can not cancel the signature: start afresh. */
			p11_session_drop(p, t);
			k->have_priv = 0;
			goto out;
		}
	}
	siglen = P11_SIG_MAX;
	rv = p->f->C_Sign(t->sess, (CK_BYTE_PTR)(uintptr_t)inp, inlen, sig,
	    &siglen);
	if (rv != CKR_OK) {
		*rvp = rv;
		debug_f("C_Sign: %s", p11_ckr_name(rv));
		r = p11_err_from_ckr(rv);
		goto out;
	}
	if (siglen > P11_SIG_MAX) {
		r = TOK_ERR_PROTOCOL;
		goto out;
	}
	switch (key_type(k->pub)) {
	case KEY_RSA:
		r = key_rsa_sig_wrap(k->pub, flags, sig, siglen, sigout);
		break;
	case KEY_ECDSA:
		r = key_ecdsa_sig_from_raw(k->pub, sig, siglen, sigout);
		break;
	default:
		/* RFC 8709: string "ssh-ed25519", string signature (64). */
		if (siglen != 64) {
			r = TOK_ERR_SIGNATURE_INVALID;
			break;
		}
		if ((r = buf_put_cstring(sigout, "ssh-ed25519")) != 0 ||
		    (r = buf_put_string(sigout, sig, siglen)) != 0)
			break;
		break;
	}
 out:
	explicit_bzero(md, sizeof(md));
	free(sig);
	buf_free(in);
	return r;
}

int
p11_provider_sign(struct p11_provider *p, uint64_t handle, const u_char *data,
    size_t datalen, uint32_t flags, struct buf *sigout, char **detailp)
{
	struct p11_key *k;
	struct p11_token *t;
	CK_RV rv = CKR_OK;
	int attempt, r = TOK_ERR_INTERNAL;

	*detailp = NULL;
	for (attempt = 0; attempt < 2; attempt++) {
		/* A rescan replaces the key table: look up every time. */
		if ((k = p11_key_by_handle(p, handle)) == NULL) {
			r = TOK_ERR_KEY_NOT_FOUND;
			goto out;
		}
		if ((t = p11_token_by_ident(p, k->ident)) == NULL) {
			r = TOK_ERR_DEVICE_NOT_PRESENT;
			if (attempt == 0) {
				(void)p11_tokens_refresh(p);
				continue;
			}
			goto out;
		}
		r = p11_sign_once(p, t, k, data, datalen, flags, sigout,
		    detailp, &rv);
		if (r == 0)
			goto out;
		if (p11_ckr_session_lost(rv)) {
			/* Replugged or reset: new session (and login). */
			p11_session_drop(p, t);
			k->have_priv = 0;
			(void)p11_tokens_refresh(p);
			continue;
		}
		if (rv == CKR_OBJECT_HANDLE_INVALID ||
		    rv == CKR_KEY_HANDLE_INVALID) {
			k->have_priv = 0;
			continue;
		}
		if (rv == CKR_USER_NOT_LOGGED_IN) {
			k->have_priv = 0;
			p11_detail_token(detailp, t, "login needed");
			r = TOK_ERR_PIN_REQUIRED;
		}
		goto out;
	}
 out:
	/* A PIN for one signature is good for one try at most. */
	secmem_free(p->context_pin);
	p->context_pin = NULL;
	return r;
}

int
p11_provider_set_context_pin(struct p11_provider *p, const char *pin)
{
	secmem_free(p->context_pin);
	p->context_pin = NULL;
	if (pin == NULL || *pin == '\0')
		return 0;
	if ((p->context_pin = secmem_strdup(pin)) == NULL)
		return TOK_ERR_ALLOC;
	return 0;
}

/* ---- slot events ------------------------------------------------------ */

static void *
p11_watch_main(void *arg)
{
	struct p11_provider *p = arg;
	CK_SLOT_ID slot;
	CK_RV rv;
	int fails = 0;

	for (;;) {
		slot = 0;
		rv = p->f->C_WaitForSlotEvent(0, &slot, NULL);
		if (rv == CKR_OK) {
			fails = 0;
			/* Non-blocking: one pending byte is as good as many. */
			if (write(p->watch_pipe[1], "e", 1) == -1 &&
			    errno != EAGAIN)
				break;
			continue;
		}
		if (rv == CKR_FUNCTION_NOT_SUPPORTED ||
		    rv == CKR_CRYPTOKI_NOT_INITIALIZED || ++fails > 10)
			break;
		sleep(1);
	}
	return NULL;
}

int
p11_provider_watch(struct p11_provider *p, int *fdp)
{
	CK_SLOT_ID slot = 0;
	CK_RV rv;
	int i, fl, r = TOK_ERR_INTERNAL;

	*fdp = -1;
	if (p->have_watcher) {
		*fdp = p->watch_pipe[0];
		return 0;
	}
	if (!p->threads_ok || p->f->C_WaitForSlotEvent == NULL)
		return 0;
	rv = p->f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL);
	if (rv != CKR_OK && rv != CKR_NO_EVENT) {
		debug_f("no slot events: %s", p11_ckr_name(rv));
		return 0;
	}
	if (pipe2(p->watch_pipe, O_CLOEXEC) == -1) {
		r = TOK_ERR_SYSTEM;
		goto out;
	}
	for (i = 0; i < 2; i++) {
		if ((fl = fcntl(p->watch_pipe[i], F_GETFL)) == -1 ||
		    fcntl(p->watch_pipe[i], F_SETFL, fl | O_NONBLOCK) == -1) {
			r = TOK_ERR_SYSTEM;
			goto out;
		}
	}
	if (pthread_create(&p->watcher, NULL, p11_watch_main, p) != 0) {
		r = TOK_ERR_SYSTEM;
		goto out;
	}
	p->have_watcher = 1;
	*fdp = p->watch_pipe[0];
	r = 0;
 out:
	if (r != 0) {
		for (i = 0; i < 2; i++) {
			if (p->watch_pipe[i] != -1)
				close(p->watch_pipe[i]);
			p->watch_pipe[i] = -1;
		}
	}
	return r;
}

/*
 * p11_watch_stop: after C_Finalize, wait briefly for the watcher to return
 * from C_WaitForSlotEvent.  A thread that stays in the module is left
 * behind (p->have_watcher stays set, so p is not freed under it).
 */
static void
p11_watch_stop(struct p11_provider *p)
{
	struct timespec ts;

	if (!p->have_watcher)
		return;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return;
	ts.tv_sec += 2;
	if (pthread_timedjoin_np(p->watcher, NULL, &ts) == 0)
		p->have_watcher = 0;
	else
		verbose_f("slot event thread did not stop");
}

void
p11_provider_watch_drain(struct p11_provider *p)
{
	char junk[64];

	if (p->watch_pipe[0] == -1)
		return;
	while (read(p->watch_pipe[0], junk, sizeof(junk)) > 0)
		;
}

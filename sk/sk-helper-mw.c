/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* External sk middlewares in the sk helper (see sk-helper-mw.h). */
#include "config.h"

#include <sys/queue.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "sk/sk-api.h"
#include "sk/sk-helper-mw.h"
#include "sk/sk.h"

struct skmw {
	char *path;
	void *dl;
	pthread_mutex_t lock;		/* one sk_sign at a time */
	int (*sign)(uint32_t, const uint8_t *, size_t, const char *,
	    const uint8_t *, size_t, uint8_t, const char *,
	    struct sk_option **, struct sk_sign_response **);
	TAILQ_ENTRY(skmw) entry;
};

/* A key that signs through a module. */
struct skmw_key {
	uint64_t handle;
	struct skmw *mw;		/* NULL: refused, the key may not sign */
	TAILQ_ENTRY(skmw_key) entry;
};

static TAILQ_HEAD(, skmw) skmw_mods = TAILQ_HEAD_INITIALIZER(skmw_mods);
static TAILQ_HEAD(, skmw_key) skmw_keys = TAILQ_HEAD_INITIALIZER(skmw_keys);

const char *
skmw_path(const struct skmw *mw)
{
	return mw->path;
}

static struct skmw_key *
skmw_key_find(uint64_t handle)
{
	struct skmw_key *km;

	TAILQ_FOREACH(km, &skmw_keys, entry) {
		if (km->handle == handle)
			return km;
	}
	return NULL;
}

int
skmw_key_set(uint64_t handle, struct skmw *mw)
{
	struct skmw_key *km;

	if ((km = skmw_key_find(handle)) == NULL) {
		if ((km = calloc(1, sizeof(*km))) == NULL)
			return TOK_ERR_ALLOC;
		km->handle = handle;
		TAILQ_INSERT_TAIL(&skmw_keys, km, entry);
	}
	km->mw = mw;
	return 0;
}

int
skmw_key(uint64_t handle, struct skmw **mwp)
{
	struct skmw_key *km;

	*mwp = NULL;
	if ((km = skmw_key_find(handle)) == NULL)
		return 0;
	*mwp = km->mw;
	return 1;
}

void
skmw_key_drop(uint64_t handle)
{
	struct skmw_key *km;

	if ((km = skmw_key_find(handle)) != NULL) {
		TAILQ_REMOVE(&skmw_keys, km, entry);
		free(km);
	}
}

void
skmw_key_drop_all(void)
{
	struct skmw_key *km;

	while ((km = TAILQ_FIRST(&skmw_keys)) != NULL) {
		TAILQ_REMOVE(&skmw_keys, km, entry);
		free(km);
	}
}

/* The middleware at path, loaded and checked on first use. */
int
skmw_load(const char *path, struct skmw **mwp)
{
	struct skmw *mw = NULL;
	uint32_t (*version)(void);
	uint32_t v;
	int r = TOK_ERR_INTERNAL;

	*mwp = NULL;
	TAILQ_FOREACH(mw, &skmw_mods, entry) {
		if (strcmp(mw->path, path) == 0) {
			*mwp = mw;
			return 0;
		}
	}
	if ((mw = calloc(1, sizeof(*mw))) == NULL ||
	    (mw->path = strdup(path)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (pthread_mutex_init(&mw->lock, NULL) != 0) {
		free(mw->path);
		free(mw);
		mw = NULL;
		r = TOK_ERR_SYSTEM;
		goto out;
	}
	if ((mw->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		error("cannot load sk middleware %s: %s", path, dlerror());
		r = TOK_ERR_PROVIDER_REFUSED;
		goto out;
	}
	if ((version = (uint32_t (*)(void))dlsym(mw->dl,
	    "sk_api_version")) == NULL) {
		error("sk middleware %s: no sk_api_version", path);
		r = TOK_ERR_PROVIDER_REFUSED;
		goto out;
	}
	if (((v = version()) & SSH_SK_VERSION_MAJOR_MASK) !=
	    SSH_SK_VERSION_MAJOR) {
		error("sk middleware %s: API version 0x%08x, need 0x%08x",
		    path, v, SSH_SK_VERSION_MAJOR);
		r = TOK_ERR_PROVIDER_REFUSED;
		goto out;
	}
	if ((mw->sign = (int (*)(uint32_t, const uint8_t *, size_t,
	    const char *, const uint8_t *, size_t, uint8_t, const char *,
	    struct sk_option **, struct sk_sign_response **))dlsym(mw->dl,
	    "sk_sign")) == NULL) {
		error("sk middleware %s: no sk_sign", path);
		r = TOK_ERR_PROVIDER_REFUSED;
		goto out;
	}
	debug_f("loaded sk middleware %s (API 0x%08x)", path, v);
	TAILQ_INSERT_TAIL(&skmw_mods, mw, entry);
	*mwp = mw;
	mw = NULL;
	r = 0;
 out:
	if (mw != NULL) {
		if (mw->dl != NULL)
			dlclose(mw->dl);
		pthread_mutex_destroy(&mw->lock);
		free(mw->path);
		free(mw);
	}
	return r;
}

int
skmw_sign(struct skmw *mw, const struct sk_sign_req *req,
    void (*touch)(void *arg, const char *device, int begin), void *arg,
    struct sk_sig **sigp)
{
	struct sk_option *opts[1] = { NULL };
	struct sk_sign_response *resp = NULL;
	struct sk_sig *sig = NULL;
	int r = TOK_ERR_INTERNAL, mr;

	*sigp = NULL;
	pthread_mutex_lock(&mw->lock);
	if (req->flags & SK_FLAG_UP)
		touch(arg, mw->path, 1);
	mr = mw->sign(req->alg == SK_ALG_ED25519 ? SSH_SK_ED25519 :
	    SSH_SK_ECDSA, req->data, req->data_len, req->application,
	    req->key_handle, req->key_handle_len, req->flags, req->pin, opts,
	    &resp);
	if (req->flags & SK_FLAG_UP)
		touch(arg, mw->path, 0);
	pthread_mutex_unlock(&mw->lock);
	if (mr != 0) {
		debug_f("middleware %s: sk_sign: %d", mw->path, mr);
		if (mr == SSH_SK_ERR_PIN_REQUIRED)
			/* Given a PIN and still asking: the PIN is wrong. */
			r = req->pin != NULL ? TOK_ERR_PIN_INVALID :
			    TOK_ERR_PIN_REQUIRED;
		else if (mr == SSH_SK_ERR_DEVICE_NOT_FOUND)
			r = TOK_ERR_DEVICE_NOT_PRESENT;
		else
			r = TOK_ERR_DEVICE;
		goto out;
	}
	if (resp == NULL || resp->sig_r == NULL || resp->sig_r_len == 0 ||
	    (req->alg != SK_ALG_ED25519 &&
	    (resp->sig_s == NULL || resp->sig_s_len == 0))) {
		error_f("middleware %s: incomplete signature", mw->path);
		r = TOK_ERR_DEVICE;
		goto out;
	}
	if ((sig = calloc(1, sizeof(*sig))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	/* Both allocated with malloc(3): sk_sig_free() frees them. */
	sig->alg = req->alg;
	sig->flags = resp->flags;
	sig->counter = resp->counter;
	sig->sig_r = resp->sig_r;
	sig->sig_r_len = resp->sig_r_len;
	sig->sig_s = resp->sig_s;
	sig->sig_s_len = resp->sig_s_len;
	resp->sig_r = resp->sig_s = NULL;
	*sigp = sig;
	r = 0;
 out:
	if (resp != NULL) {
		free(resp->sig_r);
		free(resp->sig_s);
		free(resp);
	}
	return r;
}

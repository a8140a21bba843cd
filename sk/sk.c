/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The FIDO2 core: which device, which options, and turning what a token
 * returned into validated keys and signatures.  Talks to hardware only
 * through struct sk_devops.
 */
#include "config.h"

#include <sys/types.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "common/err.h"
#include "common/log.h"
#include "common/secmem.h"
#include "sk/devpool.h"
#include "sk/fido_unix.h"
#include "sk/sk.h"

#define SK_APP_PREFIX		"ssh:"
#define SK_USER_ID_DEFAULT_LEN	32
#define SK_ECDSA_SIG_DER_MAX	80	/* 2 * (2 + 33) + 2 + slack */
#define SK_ECDSA_COORD_LEN	32

#define CREDPROT_UV_OPTIONAL_WITH_ID	0x02
#define CREDPROT_UV_REQUIRED		0x03

#define SK_SELECT_TIMEOUT_MS	(60 * 1000)	/* touch to choose a token */
#define SK_SELECT_POLL_MS	50		/* per token, while choosing */

struct sk_ctx {
	const struct sk_devops *ops;
	struct sk_devpool *pool;	/* devices (shared or own_pool) */
	struct sk_devpool *own_pool;
	struct sk_hooks hooks;
	pthread_mutex_t lock;		/* protects busy_dev */
	void *busy_dev;			/* device running an operation */
	int cancelled;			/* atomic */
};

/* A device checked out of the pool for one operation. */
struct sk_opendev {
	struct sk_pooldev *pd;
	const char *path;		/* the pool's, while checked out */
	int retried;			/* a stale handle was reopened */
};

/* The first PIN failure of an operation, reported once at its end. */
struct sk_pinfail {
	char *device;
	int r;
	int retries;
};

void
sk_devcred_clear(struct sk_devcred *c)
{
	if (c == NULL)
		return;
	free(c->pubkey);
	free(c->id);
	free(c->sig);
	free(c->x5c);
	free(c->authdata);
	free(c->user_id);
	free(c->rp_id);
	memset(c, 0, sizeof(*c));
}

void
sk_devassert_clear(struct sk_devassert *a)
{
	if (a == NULL)
		return;
	free(a->sig);
	memset(a, 0, sizeof(*a));
}

void
sk_key_free(struct sk_key *k)
{
	if (k == NULL)
		return;
	free(k->application);
	free(k->pubkey);
	free(k->key_handle);
	free(k->att_sig);
	free(k->att_cert);
	free(k->authdata);
	free(k->user_id);
	free(k->device);
	freezero(k, sizeof(*k));
}

void
sk_keys_free(struct sk_key **keys, size_t n)
{
	size_t i;

	if (keys == NULL)
		return;
	for (i = 0; i < n; i++)
		sk_key_free(keys[i]);
	free(keys);
}

void
sk_sig_free(struct sk_sig *s)
{
	if (s == NULL)
		return;
	free(s->sig_r);
	free(s->sig_s);
	free(s->device);
	freezero(s, sizeof(*s));
}

static int
sk_memdup(const void *p, size_t len, u_char **dstp, size_t *dst_lenp)
{
	*dstp = NULL;
	*dst_lenp = 0;
	if (p == NULL || len == 0)
		return 0;
	if ((*dstp = malloc(len)) == NULL)
		return TOK_ERR_ALLOC;
	memcpy(*dstp, p, len);
	*dst_lenp = len;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Validation of what a token returned. */

/* Fill out (65 bytes) with the uncompressed point x||y, checked on P-256. */
static int
sk_ecdsa_point(const u_char *xy, size_t xy_len, u_char *out)
{
	EC_GROUP *g = NULL;
	EC_POINT *pt = NULL;
	int r = TOK_ERR_INTERNAL;

	if (xy_len != 2 * SK_ECDSA_COORD_LEN) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	out[0] = POINT_CONVERSION_UNCOMPRESSED;
	memcpy(out + 1, xy, xy_len);
	if ((g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL ||
	    (pt = EC_POINT_new(g)) == NULL) {
		r = TOK_ERR_LIBCRYPTO;
		goto out;
	}
	if (EC_POINT_oct2point(g, pt, out, SK_ECDSA_PUB_LEN, NULL) != 1 ||
	    EC_POINT_is_at_infinity(g, pt) ||
	    EC_POINT_is_on_curve(g, pt, NULL) != 1) {
		r = TOK_ERR_KEY_INVALID;
		goto out;
	}
	r = 0;
 out:
	EC_POINT_free(pt);
	EC_GROUP_free(g);
	return r;
}

int
sk_key_from_cred(const struct sk_devcred *c, const char *application,
    uint8_t flags, struct sk_key **keyp)
{
	struct sk_key *k = NULL;
	u_char point[SK_ECDSA_PUB_LEN];
	const u_char *pub;
	size_t pub_len;
	int r = TOK_ERR_INTERNAL;

	*keyp = NULL;
	if (application == NULL) {
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (c->id == NULL || c->id_len == 0 ||
	    c->id_len > SK_KEY_HANDLE_MAX ||
	    c->user_id_len > SK_USER_ID_MAX) {
		r = TOK_ERR_PROTOCOL;
		goto out;
	}
	switch (c->alg) {
	case SK_ALG_ECDSA:
		if ((r = sk_ecdsa_point(c->pubkey, c->pubkey_len,
		    point)) != 0)
			goto out;
		pub = point;
		pub_len = sizeof(point);
		break;
	case SK_ALG_ED25519:
		if (c->pubkey == NULL ||
		    c->pubkey_len != SK_ED25519_PUB_LEN) {
			r = TOK_ERR_KEY_INVALID;
			goto out;
		}
		pub = c->pubkey;
		pub_len = c->pubkey_len;
		break;
	default:
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->application = strdup(application)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	k->alg = c->alg;
	k->flags = flags;
	if ((r = sk_memdup(pub, pub_len, &k->pubkey, &k->pubkey_len)) != 0 ||
	    (r = sk_memdup(c->id, c->id_len, &k->key_handle,
	    &k->key_handle_len)) != 0 ||
	    (r = sk_memdup(c->sig, c->sig_len, &k->att_sig,
	    &k->att_sig_len)) != 0 ||
	    (r = sk_memdup(c->x5c, c->x5c_len, &k->att_cert,
	    &k->att_cert_len)) != 0 ||
	    (r = sk_memdup(c->authdata, c->authdata_len, &k->authdata,
	    &k->authdata_len)) != 0 ||
	    (r = sk_memdup(c->user_id, c->user_id_len, &k->user_id,
	    &k->user_id_len)) != 0)
		goto out;
	*keyp = k;
	k = NULL;
	r = 0;
 out:
	sk_key_free(k);
	return r;
}

/* Copy a bignum as unsigned big-endian bytes of at most max bytes. */
static int
sk_bn_bytes(const BIGNUM *bn, size_t max, u_char **dstp, size_t *lenp)
{
	int n;

	*dstp = NULL;
	*lenp = 0;
	if (BN_is_negative(bn) || BN_is_zero(bn) ||
	    (n = BN_num_bytes(bn)) <= 0 || (size_t)n > max)
		return TOK_ERR_SIGNATURE_INVALID;
	if ((*dstp = malloc(n)) == NULL)
		return TOK_ERR_ALLOC;
	if (BN_bn2bin(bn, *dstp) != n) {
		free(*dstp);
		*dstp = NULL;
		return TOK_ERR_LIBCRYPTO;
	}
	*lenp = n;
	return 0;
}

int
sk_sig_from_assert(int alg, const struct sk_devassert *a,
    struct sk_sig **sigp)
{
	struct sk_sig *s = NULL;
	ECDSA_SIG *esig = NULL;
	const BIGNUM *sr, *ss;
	const u_char *p;
	int r = TOK_ERR_INTERNAL;

	*sigp = NULL;
	if (a->sig == NULL || a->sig_len == 0) {
		r = TOK_ERR_SIGNATURE_INVALID;
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	s->alg = alg;
	s->flags = a->flags;
	s->counter = a->counter;
	switch (alg) {
	case SK_ALG_ECDSA:
		if (a->sig_len > SK_ECDSA_SIG_DER_MAX) {
			r = TOK_ERR_SIGNATURE_INVALID;
			goto out;
		}
		p = a->sig;
		if ((esig = d2i_ECDSA_SIG(NULL, &p, (long)a->sig_len)) ==
		    NULL) {
			r = TOK_ERR_SIGNATURE_INVALID;
			goto out;
		}
		if (p != a->sig + a->sig_len) {
			r = TOK_ERR_TRAILING_DATA;
			goto out;
		}
		ECDSA_SIG_get0(esig, &sr, &ss);
		if ((r = sk_bn_bytes(sr, SK_ECDSA_COORD_LEN, &s->sig_r,
		    &s->sig_r_len)) != 0 ||
		    (r = sk_bn_bytes(ss, SK_ECDSA_COORD_LEN, &s->sig_s,
		    &s->sig_s_len)) != 0)
			goto out;
		break;
	case SK_ALG_ED25519:
		if (a->sig_len != SK_ED25519_SIG_LEN) {
			r = TOK_ERR_SIGNATURE_INVALID;
			goto out;
		}
		if ((r = sk_memdup(a->sig, a->sig_len, &s->sig_r,
		    &s->sig_r_len)) != 0)
			goto out;
		break;
	default:
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	*sigp = s;
	s = NULL;
	r = 0;
 out:
	ECDSA_SIG_free(esig);
	sk_sig_free(s);
	return r;
}

/* ------------------------------------------------------------------ */
/* Context and devices. */

int
sk_ctx_new(const struct sk_devops *ops, struct sk_ctx **ctxp)
{
	struct sk_ctx *ctx = NULL;
	int r = TOK_ERR_INTERNAL;

	*ctxp = NULL;
	if (ops == NULL) {
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
		free(ctx);
		ctx = NULL;
		r = TOK_ERR_SYSTEM;
		goto out;
	}
	ctx->ops = ops;
	if ((r = sk_devpool_new(ops, &ctx->own_pool)) != 0) {
		pthread_mutex_destroy(&ctx->lock);
		free(ctx);
		ctx = NULL;
		goto out;
	}
	ctx->pool = ctx->own_pool;
	*ctxp = ctx;
	ctx = NULL;
	r = 0;
 out:
	return r;
}

void
sk_ctx_free(struct sk_ctx *ctx)
{
	if (ctx == NULL)
		return;
	sk_devpool_free(ctx->own_pool);
	pthread_mutex_destroy(&ctx->lock);
	freezero(ctx, sizeof(*ctx));
}

int
sk_ctx_set_devices(struct sk_ctx *ctx, const char *list, int discover)
{
	if (ctx->pool != ctx->own_pool)
		return 0;
	return sk_devpool_set_devices(ctx->own_pool, list, discover);
}

void
sk_ctx_set_pool(struct sk_ctx *ctx, struct sk_devpool *pool)
{
	ctx->pool = pool != NULL ? pool : ctx->own_pool;
}

void
sk_ctx_set_timeout(struct sk_ctx *ctx, int ms)
{
	sk_devpool_set_timeout(ctx->own_pool, ms);
}

void
sk_ctx_set_hooks(struct sk_ctx *ctx, const struct sk_hooks *hooks)
{
	if (hooks == NULL)
		memset(&ctx->hooks, 0, sizeof(ctx->hooks));
	else
		ctx->hooks = *hooks;
}

static long long
sk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
sk_cancelled(struct sk_ctx *ctx)
{
	return __atomic_load_n(&ctx->cancelled, __ATOMIC_SEQ_CST);
}

void
sk_ctx_cancel(struct sk_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	__atomic_store_n(&ctx->cancelled, 1, __ATOMIC_SEQ_CST);
	if (ctx->busy_dev != NULL && ctx->ops->cancel != NULL)
		(void)ctx->ops->cancel(ctx->busy_dev);
	pthread_mutex_unlock(&ctx->lock);
	sk_devpool_wake(ctx->pool);
}

/* Mark d busy for cancels; 0, or TOK_ERR_CANCELLED when cancelled already. */
static int
sk_set_busy(struct sk_ctx *ctx, struct sk_opendev *d)
{
	int r = 0;

	pthread_mutex_lock(&ctx->lock);
	if (d != NULL && sk_cancelled(ctx))
		r = TOK_ERR_CANCELLED;
	else
		ctx->busy_dev = d == NULL ? NULL : sk_pooldev_handle(d->pd);
	pthread_mutex_unlock(&ctx->lock);
	return r;
}

static void
sk_touch_hook(struct sk_ctx *ctx, const char *path, int begin)
{
	if (ctx->hooks.touch != NULL)
		ctx->hooks.touch(ctx->hooks.arg, path, begin);
}

/* The device paths for one operation: only, or the pool's candidates. */
static int
sk_gather(struct sk_ctx *ctx, const char *only, char ***pathsp,
    size_t *npathsp)
{
	int r;

	*pathsp = NULL;
	*npathsp = 0;
	if (only != NULL) {
		if ((*pathsp = calloc(1, sizeof(**pathsp))) == NULL ||
		    ((*pathsp)[0] = strdup(only)) == NULL) {
			free(*pathsp);
			*pathsp = NULL;
			return TOK_ERR_ALLOC;
		}
		*npathsp = 1;
		return 0;
	}
	/* A context of its own looks afresh each time (one-shot callers). */
	if ((r = sk_devpool_candidates(ctx->pool, ctx->pool == ctx->own_pool,
	    pathsp, npathsp)) != 0)
		return r;
	if (*npathsp == 0 && ctx->pool != ctx->own_pool) {
		/* Maybe plugged in since the last look. */
		sk_devpool_paths_free(*pathsp, *npathsp);
		r = sk_devpool_candidates(ctx->pool, 1, pathsp, npathsp);
	}
	return r;
}

/*
 * Check path out of the pool (wait: queue behind other users).  With
 * wait 0 a busy device gives 0 and d->pd NULL.
 */
static int
sk_dev_get(struct sk_ctx *ctx, const char *path, int wait,
    struct sk_opendev *d)
{
	int r;

	memset(d, 0, sizeof(*d));
	if (sk_cancelled(ctx))
		return TOK_ERR_CANCELLED;
	if ((r = sk_devpool_acquire(ctx->pool, path, wait, &ctx->cancelled,
	    &d->pd)) != 0) {
		debug_fr(r, "%s", path);
		return r;
	}
	if (d->pd != NULL)
		d->path = sk_pooldev_path(d->pd);
	return 0;
}

static void
sk_dev_put(struct sk_ctx *ctx, struct sk_opendev *d, int broken)
{
	if (d->pd != NULL)
		sk_devpool_release(ctx->pool, d->pd, broken);
	memset(d, 0, sizeof(*d));
}

static void *
sk_dev(const struct sk_opendev *d)
{
	return sk_pooldev_handle(d->pd);
}

/*
 * After an operation on d failed with r: 1 when it should run again on a
 * reopened handle.  A cached handle whose token went away and came back
 * (replugged, vfido restarted) fails to write; it is reopened once.  A
 * token that is really gone fails to open: that is final, and fast.
 */
static int
sk_dev_stale(struct sk_ctx *ctx, struct sk_opendev *d, int r)
{
	int or;

	if (r != TOK_ERR_DEVICE_NOT_PRESENT || d->retried ||
	    sk_pooldev_fresh(d->pd) || sk_cancelled(ctx))
		return 0;
	d->retried = 1;
	if ((or = sk_devpool_reopen(ctx->pool, d->pd)) != 0) {
		debug_fr(or, "reopen %s", d->path);
		return 0;
	}
	debug_f("%s: stale handle reopened", d->path);
	return 1;
}

static void
sk_pinfail_clear(struct sk_pinfail *pf)
{
	free(pf->device);
	memset(pf, 0, sizeof(*pf));
}

/*
 * Note the first PIN failure of an operation on d, with the PIN attempts
 * left, and say how many after a wrong PIN.
 */
static void
sk_note_pin(struct sk_ctx *ctx, struct sk_opendev *d, int r,
    struct sk_pinfail *pf)
{
	int n = -1;

	if (r != TOK_ERR_PIN_REQUIRED && r != TOK_ERR_PIN_INVALID &&
	    r != TOK_ERR_PIN_BLOCKED)
		return;
	if (ctx->ops->pin_retries == NULL ||
	    ctx->ops->pin_retries(sk_dev(d), &n) != 0 || n < 0)
		n = -1;
	if (r == TOK_ERR_PIN_INVALID) {
		if (n < 0)
			error("%s: incorrect PIN", d->path);
		else
			error("%s: incorrect PIN, %d %s left before the token "
			    "locks", d->path, n, n == 1 ? "try" : "tries");
	}
	if (pf == NULL || pf->device != NULL)
		return;
	if ((pf->device = strdup(d->path)) == NULL)
		return;
	pf->r = r;
	pf->retries = n;
}

/* Tell the caller about the PIN failure the operation ends with. */
static void
sk_report_pin(struct sk_ctx *ctx, int r, const struct sk_pinfail *pf)
{
	if (pf->device == NULL || ctx->hooks.pin_failed == NULL ||
	    (r != TOK_ERR_PIN_REQUIRED && r != TOK_ERR_PIN_INVALID &&
	    r != TOK_ERR_PIN_BLOCKED))
		return;
	ctx->hooks.pin_failed(ctx->hooks.arg, pf->device, r, pf->retries);
}

/* The PIN for d: the request's, else the hook's (*freep: free it). */
static int
sk_pin_for(struct sk_ctx *ctx, struct sk_opendev *d, const char *given,
    const char **pinp, char **freep)
{
	int r;

	*pinp = given;
	*freep = NULL;
	if (given != NULL || ctx->hooks.pin == NULL)
		return 0;
	if ((r = ctx->hooks.pin(ctx->hooks.arg, d->path, freep)) != 0)
		return r;
	*pinp = *freep;
	return 0;
}

static int
sk_sha256(const u_char *data, size_t len, u_char *out)
{
	unsigned int outlen = SK_CDH_LEN;

	if (EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL) != 1 ||
	    outlen != SK_CDH_LEN)
		return TOK_ERR_LIBCRYPTO;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sign. */

/* Ask a device silently (no touch, no PIN) whether it holds the key handle. */
static int
sk_probe(struct sk_ctx *ctx, struct sk_opendev *d,
    const struct sk_sign_req *req)
{
	struct sk_devassert_req areq;
	struct sk_devassert a;
	u_char cdh[SK_CDH_LEN];
	int r;

	memset(cdh, 0, sizeof(cdh));
	memset(&a, 0, sizeof(a));
	memset(&areq, 0, sizeof(areq));
	areq.rp_id = req->application;
	areq.cdh = cdh;
	areq.key_handle = req->key_handle;
	areq.key_handle_len = req->key_handle_len;
	areq.up = 0;
	do {
		if ((r = sk_set_busy(ctx, d)) != 0)
			break;
		r = ctx->ops->get_assert(sk_dev(d), &areq, NULL, &a);
		(void)sk_set_busy(ctx, NULL);
		sk_devassert_clear(&a);
	} while (sk_dev_stale(ctx, d, r));
	debug_fr(r, "probe %s", d->path);
	return r;
}

/* The real signature on one device. */
static int
sk_sign_on(struct sk_ctx *ctx, struct sk_opendev *d,
    const struct sk_sign_req *req, const u_char *cdh, struct sk_pinfail *pf,
    struct sk_sig **sigp)
{
	struct sk_devassert_req areq;
	struct sk_devassert a;
	struct sk_devinfo info;
	const char *pin = NULL;
	char *hook_pin = NULL;
	int r = TOK_ERR_INTERNAL;

	*sigp = NULL;
	memset(&a, 0, sizeof(a));
	memset(&areq, 0, sizeof(areq));
	areq.rp_id = req->application;
	areq.cdh = cdh;
	areq.key_handle = req->key_handle;
	areq.key_handle_len = req->key_handle_len;
	areq.up = (req->flags & SK_FLAG_UP) != 0;
	if ((req->flags & SK_FLAG_UV) != 0) {
		if ((r = sk_pin_for(ctx, d, req->pin, &pin, &hook_pin)) != 0)
			goto out;
		if (pin == NULL) {
			if ((r = ctx->ops->info(sk_dev(d), &info)) != 0)
				goto out;
			if (!info.has_uv) {
				r = TOK_ERR_PIN_REQUIRED;
				sk_note_pin(ctx, d, r, pf);
				goto out;
			}
			areq.uv = 1;
		}
	}
	do {
		if ((r = sk_set_busy(ctx, d)) != 0)
			goto out;
		if (areq.up)
			sk_touch_hook(ctx, d->path, 1);
		r = ctx->ops->get_assert(sk_dev(d), &areq, pin, &a);
		(void)sk_set_busy(ctx, NULL);
		if (areq.up)
			sk_touch_hook(ctx, d->path, 0);
	} while (sk_dev_stale(ctx, d, r));
	if (r != 0) {
		sk_note_pin(ctx, d, r, pf);
		goto out;
	}
	if (areq.up && (a.flags & SK_AUTHDATA_UP) == 0) {
		error_f("%s: token signed without user presence", d->path);
		r = TOK_ERR_PROTOCOL;
		goto out;
	}
	if ((r = sk_sig_from_assert(req->alg, &a, sigp)) != 0)
		goto out;
	if (((*sigp)->device = strdup(d->path)) == NULL) {
		sk_sig_free(*sigp);
		*sigp = NULL;
		r = TOK_ERR_ALLOC;
		goto out;
	}
	r = 0;
 out:
	secmem_free(hook_pin);
	sk_devassert_clear(&a);
	return r;
}

/*
 * Find the device holding the key handle among paths, silently: the idle
 * devices first, then, each in its turn, those busy with other requests.
 * On success d is checked out.
 */
static int
sk_choose(struct sk_ctx *ctx, const struct sk_sign_req *req, char **paths,
    size_t npaths, struct sk_opendev *d)
{
	int busy[SK_DEVICES_MAX];
	size_t i, pass;
	int r, found = 0;

	memset(busy, 0, sizeof(busy));
	for (pass = 0; pass < 2 && !found; pass++) {
		for (i = 0; i < npaths && i < SK_DEVICES_MAX; i++) {
			if (pass == 1 && !busy[i])
				continue;
			if ((r = sk_dev_get(ctx, paths[i], pass, d)) != 0) {
				if (r == TOK_ERR_CANCELLED)
					return r;
				continue;
			}
			if (d->pd == NULL) {
				busy[i] = 1;
				continue;
			}
			if ((r = sk_probe(ctx, d, req)) == 0) {
				found = 1;
				break;
			}
			sk_dev_put(ctx, d, r == TOK_ERR_DEVICE_NOT_PRESENT);
			if (r == TOK_ERR_CANCELLED)
				return r;
		}
	}
	if (!found)
		return TOK_ERR_KEY_NOT_FOUND;
	debug_f("key handle found on %s", d->path);
	return 0;
}

/*
 * Let the user say which token holds the key: every candidate waits for
 * a touch (it blinks), the first touched is chosen and the others are
 * told to stop.  The touch hook hears of it with device NULL, so the user
 * is asked to "touch the security key that holds it".  On success d is
 * the chosen device, checked out (the only one there is taken without a
 * touch).  TOK_ERR_KEY_NOT_FOUND when no token could be asked,
 * TOK_ERR_DEVICE_TIMEOUT when nobody touched one in time.
 */
static int
sk_select_by_touch(struct sk_ctx *ctx, char **paths, size_t npaths,
    struct sk_opendev *d)
{
	struct sk_opendev ds[SK_DEVICES_MAX];
	int active[SK_DEVICES_MAX];
	size_t i, n = 0, nactive;
	long long deadline;
	int r, touched = 0, chosen = -1;

	memset(d, 0, sizeof(*d));
	memset(ds, 0, sizeof(ds));
	memset(active, 0, sizeof(active));
	if (ctx->ops->select_begin == NULL ||
	    ctx->ops->select_status == NULL ||
	    ctx->ops->select_cancel == NULL)
		return TOK_ERR_KEY_NOT_FOUND;
	for (i = 0; i < npaths && n < SK_DEVICES_MAX; i++) {
		/* a token busy with another request can not be touched now */
		if (sk_dev_get(ctx, paths[i], 0, &ds[n]) != 0 ||
		    ds[n].pd == NULL)
			continue;
		n++;
	}
	if (n == 0) {
		r = TOK_ERR_KEY_NOT_FOUND;
		goto out;
	}
	if (n == 1) {
		/* the only token there: nothing to choose */
		*d = ds[0];
		memset(&ds[0], 0, sizeof(ds[0]));
		r = 0;
		goto out;
	}
	for (i = 0, nactive = 0; i < n; i++) {
		if ((r = ctx->ops->select_begin(sk_dev(&ds[i]))) != 0) {
			debug_fr(r, "select on %s", ds[i].path);
			continue;
		}
		active[i] = 1;
		nactive++;
	}
	if (nactive == 0) {
		r = TOK_ERR_KEY_NOT_FOUND;
		goto out;
	}
	sk_touch_hook(ctx, NULL, 1);
	deadline = sk_now_ms() + SK_SELECT_TIMEOUT_MS;
	r = TOK_ERR_DEVICE_TIMEOUT;
	while (nactive > 0 && chosen < 0) {
		if (sk_cancelled(ctx)) {
			r = TOK_ERR_CANCELLED;
			break;
		}
		if (sk_now_ms() >= deadline)
			break;
		for (i = 0; i < n && chosen < 0; i++) {
			if (!active[i])
				continue;
			touched = 0;
			if (ctx->ops->select_status(sk_dev(&ds[i]),
			    SK_SELECT_POLL_MS, &touched) != 0) {
				/* the token gave up (its own time-out) */
				active[i] = 0;
				nactive--;
				continue;
			}
			if (touched)
				chosen = (int)i;
		}
	}
	sk_touch_hook(ctx, NULL, 0);
	for (i = 0; i < n; i++)
		if (active[i] && (int)i != chosen)
			ctx->ops->select_cancel(sk_dev(&ds[i]));
	if (chosen < 0)
		goto out;
	debug_f("%s chosen by touch", ds[chosen].path);
	*d = ds[chosen];
	memset(&ds[chosen], 0, sizeof(ds[chosen]));
	r = 0;
 out:
	for (i = 0; i < n; i++)
		sk_dev_put(ctx, &ds[i], 0);
	return r;
}

/* Sign on the device path, checked out and waited for. */
static int
sk_sign_at(struct sk_ctx *ctx, const char *path,
    const struct sk_sign_req *req, const u_char *cdh, struct sk_pinfail *pf,
    struct sk_sig **sigp)
{
	struct sk_opendev d;
	int r;

	if ((r = sk_dev_get(ctx, path, 1, &d)) != 0)
		return r;
	r = sk_sign_on(ctx, &d, req, cdh, pf, sigp);
	sk_dev_put(ctx, &d, r == TOK_ERR_DEVICE_NOT_PRESENT);
	return r;
}

/* The device a failure is about (NULL: none in particular). */
static void
sk_blame(char **blamep, const char *path)
{
	free(*blamep);
	*blamep = path == NULL ? NULL : strdup(path);
}

/* Tell the caller why a signature failed, when the user can act on it. */
static void
sk_report_failure(struct sk_ctx *ctx, int r, const char *device)
{
	if (ctx->hooks.failed == NULL)
		return;
	switch (r) {
	case TOK_ERR_DEVICE_NOT_PRESENT:
	case TOK_ERR_DEVICE_TIMEOUT:
	case TOK_ERR_TOUCH_DENIED:
	case TOK_ERR_PIN_BLOCKED:
	case TOK_ERR_KEY_NOT_FOUND:
		ctx->hooks.failed(ctx->hooks.arg, device, r);
		break;
	default:
		break;
	}
}

/*
 * Device choice.  A PIN or a signature goes only to a token that holds
 * the key: the one it last worked on when that one is there, else the
 * only one, else the one a silent probe finds, else the one the user
 * touches when asked to touch the security key that holds it (a
 * credProtect "UV required" credential is invisible to a silent probe).
 */
int
sk_ctx_sign(struct sk_ctx *ctx, const struct sk_sign_req *req,
    struct sk_sig **sigp)
{
	struct sk_opendev d;
	struct sk_pinfail pf;
	char **paths = NULL, *home = NULL, *blame = NULL;
	u_char cdh[SK_CDH_LEN];
	size_t i, npaths = 0;
	int r = TOK_ERR_INTERNAL;

	*sigp = NULL;
	memset(&d, 0, sizeof(d));
	memset(&pf, 0, sizeof(pf));
	if (req->application == NULL || req->key_handle == NULL ||
	    req->key_handle_len == 0 ||
	    req->key_handle_len > SK_KEY_HANDLE_MAX ||
	    (req->data == NULL && req->data_len != 0)) {
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (req->alg != SK_ALG_ECDSA && req->alg != SK_ALG_ED25519) {
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if ((r = sk_sha256(req->data, req->data_len, cdh)) != 0)
		goto out;
	if ((r = sk_gather(ctx, req->device, &paths, &npaths)) != 0)
		goto out;
	if (npaths == 0) {
		r = TOK_ERR_DEVICE_NOT_PRESENT;
		goto out;
	}
	if (npaths == 1) {
		sk_blame(&blame, paths[0]);
		if ((r = sk_dev_get(ctx, paths[0], 1, &d)) != 0)
			goto out;
		r = sk_sign_on(ctx, &d, req, cdh, &pf, sigp);
		goto out;
	}
	/* the token the key last worked on, when it is there */
	if ((r = sk_devpool_recall(ctx->pool, req->key_handle,
	    req->key_handle_len, &home)) != 0)
		goto out;
	for (i = 0; home != NULL && i < npaths; i++) {
		if (strcmp(paths[i], home) != 0)
			continue;
		debug_f("key last used on %s", home);
		sk_blame(&blame, home);
		r = sk_sign_at(ctx, home, req, cdh, &pf, sigp);
		if (r != TOK_ERR_KEY_NOT_FOUND)
			goto out;
		/* not there any more (reset?): look again */
		sk_blame(&blame, NULL);
		sk_devpool_forget(ctx->pool, req->key_handle,
		    req->key_handle_len);
		break;
	}
	if ((r = sk_choose(ctx, req, paths, npaths, &d)) == 0) {
		sk_blame(&blame, d.path);
		r = sk_sign_on(ctx, &d, req, cdh, &pf, sigp);
		goto out;
	}
	if (r != TOK_ERR_KEY_NOT_FOUND || (req->flags & SK_FLAG_UV) == 0)
		goto out;
	/*
	 * No token admits to it silently: a credProtect "UV required"
	 * credential shows only after user verification.  Sending a PIN to
	 * each in turn would burn the retries of the wrong ones: ask the user
	 * to touch the one that holds the key.  (A key without
	 * verify-required that no probe finds is on none of the tokens:
	 * asking for a touch would only stall every login that tries it.)
	 */
	for (;;) {
		sk_blame(&blame, NULL);
		if ((r = sk_select_by_touch(ctx, paths, npaths, &d)) != 0)
			goto out;
		sk_blame(&blame, d.path);
		r = sk_sign_on(ctx, &d, req, cdh, &pf, sigp);
		if (r != TOK_ERR_KEY_NOT_FOUND)
			goto out;
		/* the user touched another token: ask again, without it */
		error("%s does not hold the key: wrong security key touched",
		    d.path);
		for (i = 0; i < npaths; i++)
			if (strcmp(paths[i], d.path) == 0)
				break;
		sk_dev_put(ctx, &d, 0);
		if (i == npaths)
			goto out;	/* cannot happen: not a candidate */
		free(paths[i]);
		paths[i] = paths[--npaths];
		paths[npaths] = NULL;
		if (npaths == 0)
			goto out;
	}
 out:
	if (r == 0 && *sigp != NULL)
		sk_devpool_remember(ctx->pool, req->key_handle,
		    req->key_handle_len, (*sigp)->device);
	sk_report_pin(ctx, r, &pf);
	sk_report_failure(ctx, r, blame);
	sk_dev_put(ctx, &d, r == TOK_ERR_DEVICE_NOT_PRESENT);
	sk_devpool_paths_free(paths, npaths);
	sk_pinfail_clear(&pf);
	free(home);
	free(blame);
	explicit_bzero(cdh, sizeof(cdh));
	return r;
}

/* ------------------------------------------------------------------ */
/* Enroll. */

int
sk_ctx_enroll(struct sk_ctx *ctx, const struct sk_enroll_req *req,
    struct sk_key **keyp)
{
	struct sk_opendev dev, *d = &dev;
	struct sk_devcred_req creq;
	struct sk_devcred cred;
	struct sk_devinfo info;
	struct sk_pinfail pf;
	char **paths = NULL;
	u_char cdh[SK_CDH_LEN], user_id[SK_USER_ID_DEFAULT_LEN];
	size_t i, npaths = 0;
	int r = TOK_ERR_INTERNAL;

	*keyp = NULL;
	memset(&dev, 0, sizeof(dev));
	memset(&pf, 0, sizeof(pf));
	memset(&cred, 0, sizeof(cred));
	memset(&creq, 0, sizeof(creq));
	memset(user_id, 0, sizeof(user_id));
	if (req->application == NULL || *req->application == '\0' ||
	    (req->challenge == NULL && req->challenge_len != 0) ||
	    req->user_id_len > SK_USER_ID_MAX) {
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (req->alg != SK_ALG_ECDSA && req->alg != SK_ALG_ED25519) {
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if ((r = sk_sha256(req->challenge, req->challenge_len, cdh)) != 0)
		goto out;
	if ((r = sk_gather(ctx, req->device, &paths, &npaths)) != 0)
		goto out;
	/*
	 * Several tokens: the first that opens gets the credential (sk.h).
	 * Letting the user choose one by touch (CTAP selection) is not built.
	 */
	r = TOK_ERR_DEVICE_NOT_PRESENT;
	for (i = 0; i < npaths; i++) {
		if ((r = sk_dev_get(ctx, paths[i], 1, d)) == 0 ||
		    r == TOK_ERR_CANCELLED)
			break;
	}
	if (r != 0)
		goto out;
	if ((r = ctx->ops->info(sk_dev(d), &info)) != 0)
		goto out;
	creq.alg = req->alg;
	creq.rp_id = req->application;
	creq.cdh = cdh;
	if (req->user_id != NULL && req->user_id_len > 0) {
		creq.user_id = req->user_id;
		creq.user_id_len = req->user_id_len;
	} else {
		creq.user_id = user_id;
		creq.user_id_len = sizeof(user_id);
	}
	creq.resident = (req->flags & SK_FLAG_RESIDENT) != 0;
	if ((req->flags & (SK_FLAG_RESIDENT | SK_FLAG_UV)) != 0) {
		/* Never leave such a key readable without protection. */
		if (!info.supports_credprot) {
			error_f("%s does not support credProtect; refusing to "
			    "make an unprotected resident or verify-required "
			    "key", d->path);
			r = TOK_ERR_FEATURE_UNSUPPORTED;
			goto out;
		}
		creq.cred_prot = (req->flags & SK_FLAG_UV) != 0 ?
		    CREDPROT_UV_REQUIRED : CREDPROT_UV_OPTIONAL_WITH_ID;
	}
	if ((req->flags & SK_FLAG_UV) != 0 && !info.has_pin && !info.has_uv) {
		error_f("%s has no PIN set and no built-in user verification; "
		    "a verify-required key could never be used", d->path);
		r = TOK_ERR_FEATURE_UNSUPPORTED;
		goto out;
	}
	if (req->pin == NULL && info.has_pin && !info.has_uv &&
	    (req->flags & (SK_FLAG_RESIDENT | SK_FLAG_UV)) != 0) {
		r = TOK_ERR_PIN_REQUIRED;
		sk_note_pin(ctx, d, r, &pf);
		goto out;
	}
	do {
		if ((r = sk_set_busy(ctx, d)) != 0)
			goto out;
		sk_touch_hook(ctx, d->path, 1);
		r = ctx->ops->make_cred(sk_dev(d), &creq, req->pin, &cred);
		(void)sk_set_busy(ctx, NULL);
		sk_touch_hook(ctx, d->path, 0);
	} while (sk_dev_stale(ctx, d, r));
	if (r != 0) {
		sk_note_pin(ctx, d, r, &pf);
		goto out;
	}
	if (cred.alg != req->alg) {
		error_f("%s: token made a key of another type", d->path);
		r = TOK_ERR_KEY_TYPE_MISMATCH;
		goto out;
	}
	if ((r = sk_key_from_cred(&cred, req->application,
	    req->flags & (SK_FLAG_UP | SK_FLAG_UV | SK_FLAG_RESIDENT),
	    keyp)) != 0)
		goto out;
	if (((*keyp)->device = strdup(d->path)) == NULL) {
		sk_key_free(*keyp);
		*keyp = NULL;
		r = TOK_ERR_ALLOC;
		goto out;
	}
	sk_devpool_remember(ctx->pool, (*keyp)->key_handle,
	    (*keyp)->key_handle_len, d->path);
	r = 0;
 out:
	sk_report_pin(ctx, r, &pf);
	sk_devcred_clear(&cred);
	sk_dev_put(ctx, d, r == TOK_ERR_DEVICE_NOT_PRESENT);
	sk_devpool_paths_free(paths, npaths);
	sk_pinfail_clear(&pf);
	explicit_bzero(cdh, sizeof(cdh));
	return r;
}

/* ------------------------------------------------------------------ */
/* Resident keys. */

/* Append the resident keys of one device to *keysp. */
static int
sk_resident_on(struct sk_ctx *ctx, struct sk_opendev *d, const char *given,
    struct sk_pinfail *pf, struct sk_key ***keysp, size_t *nkeysp)
{
	struct sk_devcred *creds = NULL;
	struct sk_devinfo info;
	struct sk_key **tmp, *k = NULL;
	const char *pin = NULL;
	char *hook_pin = NULL;
	size_t i, ncreds = 0;
	uint8_t flags;
	int r = TOK_ERR_INTERNAL;

	if ((r = ctx->ops->info(sk_dev(d), &info)) != 0)
		goto out;
	if (info.has_pin &&
	    (r = sk_pin_for(ctx, d, given, &pin, &hook_pin)) != 0)
		goto out;
	if (pin == NULL && info.has_pin) {
		r = TOK_ERR_PIN_REQUIRED;
		sk_note_pin(ctx, d, r, pf);
		goto out;
	}
	do {
		if ((r = sk_set_busy(ctx, d)) != 0)
			goto out;
		r = ctx->ops->resident(sk_dev(d), SK_APP_PREFIX, pin, &creds,
		    &ncreds);
		(void)sk_set_busy(ctx, NULL);
	} while (sk_dev_stale(ctx, d, r));
	if (r != 0) {
		sk_note_pin(ctx, d, r, pf);
		goto out;
	}
	for (i = 0; i < ncreds; i++) {
		if (creds[i].rp_id == NULL ||
		    strncmp(creds[i].rp_id, SK_APP_PREFIX,
		    strlen(SK_APP_PREFIX)) != 0)
			continue;
		flags = SK_FLAG_UP | SK_FLAG_RESIDENT;
		if (creds[i].cred_prot == CREDPROT_UV_REQUIRED)
			flags |= SK_FLAG_UV;
		if ((r = sk_key_from_cred(&creds[i], creds[i].rp_id, flags,
		    &k)) != 0) {
			debug_fr(r, "%s: skipping credential %zu of %s",
			    d->path, i, creds[i].rp_id);
			continue;
		}
		if ((k->device = strdup(d->path)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		sk_devpool_remember(ctx->pool, k->key_handle,
		    k->key_handle_len, d->path);
		if ((tmp = reallocarray(*keysp, *nkeysp + 1,
		    sizeof(*tmp))) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		*keysp = tmp;
		tmp[(*nkeysp)++] = k;
		k = NULL;
	}
	r = 0;
 out:
	secmem_free(hook_pin);
	sk_key_free(k);
	for (i = 0; i < ncreds; i++)
		sk_devcred_clear(&creds[i]);
	free(creds);
	return r;
}

int
sk_ctx_load_resident(struct sk_ctx *ctx, const char *pin, const char *device,
    struct sk_key ***keysp, size_t *nkeysp)
{
	struct sk_opendev d;
	struct sk_pinfail pf;
	struct sk_key **keys = NULL;
	char **paths = NULL;
	size_t i, npaths = 0, nkeys = 0;
	int r = TOK_ERR_INTERNAL, dr, nok = 0, first_err = 0;

	*keysp = NULL;
	*nkeysp = 0;
	memset(&d, 0, sizeof(d));
	memset(&pf, 0, sizeof(pf));
	if ((r = sk_gather(ctx, device, &paths, &npaths)) != 0)
		goto out;
	for (i = 0; i < npaths; i++) {
		if ((dr = sk_dev_get(ctx, paths[i], 1, &d)) == 0) {
			dr = sk_resident_on(ctx, &d, pin, &pf, &keys, &nkeys);
			sk_dev_put(ctx, &d, dr == TOK_ERR_DEVICE_NOT_PRESENT);
		}
		if (dr != 0) {
			debug_fr(dr, "%s", paths[i]);
			if (first_err == 0)
				first_err = dr;
			if (dr == TOK_ERR_CANCELLED)
				break;
			continue;
		}
		nok++;
	}
	if (nok == 0) {
		r = first_err != 0 ? first_err : TOK_ERR_DEVICE_NOT_PRESENT;
		goto out;
	}
	*keysp = keys;
	*nkeysp = nkeys;
	keys = NULL;
	nkeys = 0;
	r = 0;
 out:
	sk_report_pin(ctx, r, &pf);
	sk_keys_free(keys, nkeys);
	sk_devpool_paths_free(paths, npaths);
	sk_pinfail_clear(&pf);
	return r;
}

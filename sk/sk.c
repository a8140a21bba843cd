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

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "common/err.h"
#include "common/log.h"
#include "sk/fido_unix.h"
#include "sk/sk.h"

#define SK_APP_PREFIX		"ssh:"
#define SK_USER_ID_DEFAULT_LEN	32
#define SK_ECDSA_SIG_DER_MAX	80	/* 2 * (2 + 33) + 2 + slack */
#define SK_ECDSA_COORD_LEN	32

#define CREDPROT_UV_OPTIONAL_WITH_ID	0x02
#define CREDPROT_UV_REQUIRED		0x03

struct sk_ctx {
	const struct sk_devops *ops;
	char **paths;			/* configured devices */
	size_t npaths;
	int discover;
	int timeout_ms;
	struct sk_hooks hooks;
	pthread_mutex_t lock;		/* protects busy_dev */
	void *busy_dev;			/* device running an operation */
};

/* A device opened for one operation. */
struct sk_opendev {
	char *path;
	void *dev;
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
	ctx->timeout_ms = -1;
	*ctxp = ctx;
	ctx = NULL;
	r = 0;
 out:
	return r;
}

static void
sk_paths_free(char **paths, size_t n)
{
	size_t i;

	if (paths == NULL)
		return;
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

void
sk_ctx_free(struct sk_ctx *ctx)
{
	if (ctx == NULL)
		return;
	sk_paths_free(ctx->paths, ctx->npaths);
	pthread_mutex_destroy(&ctx->lock);
	freezero(ctx, sizeof(*ctx));
}

/* Split a comma-separated list; "unix:" entries are normalised. */
static int
sk_parse_list(const char *list, char ***pathsp, size_t *npathsp)
{
	char *copy = NULL, *cp, *tok, **paths = NULL;
	size_t i, npaths = 0;
	int r = TOK_ERR_INTERNAL;

	*pathsp = NULL;
	*npathsp = 0;
	if (list == NULL || *list == '\0')
		return 0;
	if ((copy = strdup(list)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((paths = calloc(SK_DEVICES_MAX, sizeof(*paths))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	for (cp = copy; (tok = strsep(&cp, ",")) != NULL;) {
		tok += strspn(tok, " \t");
		tok[strcspn(tok, " \t")] = '\0';
		if (*tok == '\0')
			continue;
		for (i = 0; i < npaths; i++) {
			if (strcmp(paths[i], tok) == 0)
				break;
		}
		if (i < npaths)
			continue;
		if (npaths >= SK_DEVICES_MAX) {
			r = TOK_ERR_INVALID_ARGUMENT;
			goto out;
		}
		if ((paths[npaths] = strdup(tok)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		npaths++;
	}
	*pathsp = paths;
	*npathsp = npaths;
	paths = NULL;
	npaths = 0;
	r = 0;
 out:
	sk_paths_free(paths, npaths);
	free(copy);
	return r;
}

int
sk_ctx_set_devices(struct sk_ctx *ctx, const char *list, int discover)
{
	char **paths = NULL;
	size_t npaths = 0;
	int r;

	if ((r = sk_parse_list(list, &paths, &npaths)) != 0)
		return r;
	sk_paths_free(ctx->paths, ctx->npaths);
	ctx->paths = paths;
	ctx->npaths = npaths;
	ctx->discover = discover;
	return 0;
}

void
sk_ctx_set_timeout(struct sk_ctx *ctx, int ms)
{
	ctx->timeout_ms = ms < 0 ? -1 : ms;
}

void
sk_ctx_set_hooks(struct sk_ctx *ctx, const struct sk_hooks *hooks)
{
	if (hooks == NULL)
		memset(&ctx->hooks, 0, sizeof(ctx->hooks));
	else
		ctx->hooks = *hooks;
}

void
sk_ctx_cancel(struct sk_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	if (ctx->busy_dev != NULL && ctx->ops->cancel != NULL)
		(void)ctx->ops->cancel(ctx->busy_dev);
	pthread_mutex_unlock(&ctx->lock);
}

static void
sk_set_busy(struct sk_ctx *ctx, void *dev)
{
	pthread_mutex_lock(&ctx->lock);
	ctx->busy_dev = dev;
	pthread_mutex_unlock(&ctx->lock);
}

static void
sk_touch_hook(struct sk_ctx *ctx, const char *path, int begin)
{
	if (ctx->hooks.touch != NULL)
		ctx->hooks.touch(ctx->hooks.arg, path, begin);
}

/* The device paths for one operation: only, or configured + discovered. */
static int
sk_gather(struct sk_ctx *ctx, const char *only, char ***pathsp,
    size_t *npathsp)
{
	char **paths = NULL, **found = NULL, *dup;
	size_t i, j, npaths = 0, nfound = 0;
	int r = TOK_ERR_INTERNAL;

	*pathsp = NULL;
	*npathsp = 0;
	if ((paths = calloc(SK_DEVICES_MAX, sizeof(*paths))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (only != NULL) {
		if ((paths[0] = strdup(only)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		npaths = 1;
		goto done;
	}
	for (i = 0; i < ctx->npaths; i++) {
		if ((paths[npaths] = strdup(ctx->paths[i])) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		npaths++;
	}
	if (ctx->discover && ctx->ops->discover != NULL) {
		if ((r = ctx->ops->discover(&found, &nfound)) != 0) {
			debug_fr(r, "device discovery");
			nfound = 0;
		}
		for (i = 0; i < nfound && npaths < SK_DEVICES_MAX; i++) {
			for (j = 0; j < npaths; j++) {
				if (strcmp(paths[j], found[i]) == 0)
					break;
			}
			if (j < npaths)
				continue;
			if ((dup = strdup(found[i])) == NULL) {
				r = TOK_ERR_ALLOC;
				goto out;
			}
			paths[npaths++] = dup;
		}
	}
 done:
	*pathsp = paths;
	*npathsp = npaths;
	paths = NULL;
	npaths = 0;
	r = 0;
 out:
	sk_paths_free(found, nfound);
	sk_paths_free(paths, npaths);
	return r;
}

static void
sk_close_all(struct sk_ctx *ctx, struct sk_opendev *devs, size_t n)
{
	size_t i;

	if (devs == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (devs[i].dev != NULL)
			ctx->ops->close(devs[i].dev);
		free(devs[i].path);
	}
	free(devs);
}

/*
 * Open every device of the operation; the ones that fail to open are
 * skipped.  TOK_ERR_DEVICE_NOT_PRESENT when none could be opened.
 */
static int
sk_open_all(struct sk_ctx *ctx, const char *only, struct sk_opendev **devsp,
    size_t *ndevsp)
{
	struct sk_opendev *devs = NULL;
	char **paths = NULL;
	size_t i, npaths = 0, ndevs = 0;
	void *dev;
	int r = TOK_ERR_INTERNAL, last = TOK_ERR_DEVICE_NOT_PRESENT;

	*devsp = NULL;
	*ndevsp = 0;
	if ((r = sk_gather(ctx, only, &paths, &npaths)) != 0)
		goto out;
	if (npaths == 0) {
		r = TOK_ERR_DEVICE_NOT_PRESENT;
		goto out;
	}
	if ((devs = calloc(npaths, sizeof(*devs))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < npaths; i++) {
		if ((r = ctx->ops->open(paths[i], ctx->timeout_ms,
		    &dev)) != 0) {
			debug_fr(r, "open %s", paths[i]);
			last = r;
			continue;
		}
		devs[ndevs].dev = dev;
		devs[ndevs].path = paths[i];
		paths[i] = NULL;
		ndevs++;
	}
	if (ndevs == 0) {
		r = last;
		goto out;
	}
	*devsp = devs;
	*ndevsp = ndevs;
	devs = NULL;
	ndevs = 0;
	r = 0;
 out:
	sk_close_all(ctx, devs, ndevs);
	sk_paths_free(paths, npaths);
	return r;
}

/* Close every device but devs[keep]. */
static void
sk_close_others(struct sk_ctx *ctx, struct sk_opendev *devs, size_t n,
    size_t keep)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i == keep || devs[i].dev == NULL)
			continue;
		ctx->ops->close(devs[i].dev);
		devs[i].dev = NULL;
	}
}

/* Say how many PIN attempts are left after a wrong PIN. */
static void
sk_report_pin(struct sk_ctx *ctx, struct sk_opendev *d, int r)
{
	int n = -1;

	if (r != TOK_ERR_PIN_INVALID)
		return;
	if (ctx->ops->pin_retries == NULL ||
	    ctx->ops->pin_retries(d->dev, &n) != 0 || n < 0)
		error("%s: incorrect PIN", d->path);
	else
		error("%s: incorrect PIN, %d %s left before the token locks",
		    d->path, n, n == 1 ? "try" : "tries");
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
	sk_set_busy(ctx, d->dev);
	r = ctx->ops->get_assert(d->dev, &areq, NULL, &a);
	sk_set_busy(ctx, NULL);
	sk_devassert_clear(&a);
	debug_fr(r, "probe %s", d->path);
	return r;
}

/* The real signature on one device. */
static int
sk_sign_on(struct sk_ctx *ctx, struct sk_opendev *d,
    const struct sk_sign_req *req, const u_char *cdh, struct sk_sig **sigp)
{
	struct sk_devassert_req areq;
	struct sk_devassert a;
	struct sk_devinfo info;
	const char *pin = req->pin;
	int r = TOK_ERR_INTERNAL;

	*sigp = NULL;
	memset(&a, 0, sizeof(a));
	memset(&areq, 0, sizeof(areq));
	areq.rp_id = req->application;
	areq.cdh = cdh;
	areq.key_handle = req->key_handle;
	areq.key_handle_len = req->key_handle_len;
	areq.up = (req->flags & SK_FLAG_UP) != 0;
	if ((req->flags & SK_FLAG_UV) != 0 && pin == NULL) {
		if ((r = ctx->ops->info(d->dev, &info)) != 0)
			goto out;
		if (!info.has_uv) {
			r = TOK_ERR_PIN_REQUIRED;
			goto out;
		}
		areq.uv = 1;
	}
	if (areq.up)
		sk_touch_hook(ctx, d->path, 1);
	sk_set_busy(ctx, d->dev);
	r = ctx->ops->get_assert(d->dev, &areq, pin, &a);
	sk_set_busy(ctx, NULL);
	if (areq.up)
		sk_touch_hook(ctx, d->path, 0);
	if (r != 0) {
		sk_report_pin(ctx, d, r);
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
	sk_devassert_clear(&a);
	return r;
}

int
sk_ctx_sign(struct sk_ctx *ctx, const struct sk_sign_req *req,
    struct sk_sig **sigp)
{
	struct sk_opendev *devs = NULL;
	u_char cdh[SK_CDH_LEN];
	size_t i, ndevs = 0, chosen;
	int r = TOK_ERR_INTERNAL, pr;

	*sigp = NULL;
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
	if ((r = sk_open_all(ctx, req->device, &devs, &ndevs)) != 0)
		goto out;
	if (ndevs == 1) {
		r = sk_sign_on(ctx, &devs[0], req, cdh, sigp);
		goto out;
	}
	chosen = ndevs;
	for (i = 0; i < ndevs; i++) {
		if ((pr = sk_probe(ctx, &devs[i], req)) == 0) {
			chosen = i;
			break;
		}
	}
	if (chosen < ndevs) {
		debug_f("key handle found on %s", devs[chosen].path);
		sk_close_others(ctx, devs, ndevs, chosen);
		r = sk_sign_on(ctx, &devs[chosen], req, cdh, sigp);
		goto out;
	}
	if ((req->flags & SK_FLAG_UV) == 0) {
		r = TOK_ERR_KEY_NOT_FOUND;
		goto out;
	}
	/*
	 * A credential protected with credProtect=3 does not show without
	 * user verification, so the silent probe can not find it: try each
	 * token in turn.  A token without the credential says so at once.
	 */
	r = TOK_ERR_KEY_NOT_FOUND;
	for (i = 0; i < ndevs; i++) {
		r = sk_sign_on(ctx, &devs[i], req, cdh, sigp);
		if (r != TOK_ERR_KEY_NOT_FOUND)
			break;
	}
 out:
	sk_close_all(ctx, devs, ndevs);
	explicit_bzero(cdh, sizeof(cdh));
	return r;
}

/* ------------------------------------------------------------------ */
/* Enroll. */

int
sk_ctx_enroll(struct sk_ctx *ctx, const struct sk_enroll_req *req,
    struct sk_key **keyp)
{
	struct sk_opendev *devs = NULL, *d;
	struct sk_devcred_req creq;
	struct sk_devcred cred;
	struct sk_devinfo info;
	u_char cdh[SK_CDH_LEN], user_id[SK_USER_ID_DEFAULT_LEN];
	size_t ndevs = 0;
	int r = TOK_ERR_INTERNAL;

	*keyp = NULL;
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
	if ((r = sk_open_all(ctx, req->device, &devs, &ndevs)) != 0)
		goto out;
	/* XXX several tokens: the first is used; select by touch later. */
	sk_close_others(ctx, devs, ndevs, 0);
	d = &devs[0];
	if ((r = ctx->ops->info(d->dev, &info)) != 0)
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
		goto out;
	}
	sk_touch_hook(ctx, d->path, 1);
	sk_set_busy(ctx, d->dev);
	r = ctx->ops->make_cred(d->dev, &creq, req->pin, &cred);
	sk_set_busy(ctx, NULL);
	sk_touch_hook(ctx, d->path, 0);
	if (r != 0) {
		sk_report_pin(ctx, d, r);
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
	r = 0;
 out:
	sk_devcred_clear(&cred);
	sk_close_all(ctx, devs, ndevs);
	explicit_bzero(cdh, sizeof(cdh));
	return r;
}

/* ------------------------------------------------------------------ */
/* Resident keys. */

/* Append the resident keys of one device to *keysp. */
static int
sk_resident_on(struct sk_ctx *ctx, struct sk_opendev *d, const char *pin,
    struct sk_key ***keysp, size_t *nkeysp)
{
	struct sk_devcred *creds = NULL;
	struct sk_devinfo info;
	struct sk_key **tmp, *k = NULL;
	size_t i, ncreds = 0;
	uint8_t flags;
	int r = TOK_ERR_INTERNAL;

	if ((r = ctx->ops->info(d->dev, &info)) != 0)
		goto out;
	if (pin == NULL && info.has_pin) {
		r = TOK_ERR_PIN_REQUIRED;
		goto out;
	}
	sk_set_busy(ctx, d->dev);
	r = ctx->ops->resident(d->dev, SK_APP_PREFIX, pin, &creds, &ncreds);
	sk_set_busy(ctx, NULL);
	if (r != 0) {
		sk_report_pin(ctx, d, r);
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
	struct sk_opendev *devs = NULL;
	struct sk_key **keys = NULL;
	size_t i, ndevs = 0, nkeys = 0;
	int r = TOK_ERR_INTERNAL, dr, nok = 0, first_err = 0;

	*keysp = NULL;
	*nkeysp = 0;
	if ((r = sk_open_all(ctx, device, &devs, &ndevs)) != 0)
		goto out;
	for (i = 0; i < ndevs; i++) {
		if ((dr = sk_resident_on(ctx, &devs[i], pin, &keys,
		    &nkeys)) != 0) {
			debug_fr(dr, "%s", devs[i].path);
			if (first_err == 0)
				first_err = dr;
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
	sk_keys_free(keys, nkeys);
	sk_close_all(ctx, devs, ndevs);
	return r;
}

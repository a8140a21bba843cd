/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * struct sk_devops on libfido2: hidraw devices found by libfido2's own
 * discovery, and "unix:PATH" devices through sk/fido_unix.c.  The only
 * file of the sk core that calls libfido2 for operations (its FIDO_ERR_*
 * codes are turned into TOK_ERR_* in sk/fido_err.c).
 */
#include "config.h"

#include <sys/types.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fido.h>
#include <fido/credman.h>

#include "common/err.h"
#include "common/log.h"
#include "sk/fido_err.h"
#include "sk/fido_unix.h"
#include "sk/sk.h"

#define FIDO_OPS_MANIFEST_MAX	SK_DEVICES_MAX
#define FIDO_OPS_PUBKEY_MAX	256
#define FIDO_OPS_SIG_MAX	512
#define FIDO_OPS_X5C_MAX	8192
#define FIDO_OPS_AUTHDATA_MAX	4096

/*
 * One open device.  lock guards swapping dev (fido_ops_resync) against a
 * cancel from another thread; operations themselves run unlocked.
 */
struct fido_ops_dev {
	fido_dev_t *dev;
	char *path;
	int timeout_ms;
	pthread_mutex_t lock;
};

static int fido_ops_open_raw(const char *path, int timeout_ms,
    fido_dev_t **devp);

/*
 * After an operation given up on our side (timed out, then CTAPHID_CANCEL),
 * the token's late answer is still on its way and would be taken for the
 * answer to the next request on this handle: open a fresh handle (a new
 * channel) and drop the old one.  If that fails the old one stays; the
 * next operation then fails and the pool reopens.
 */
static void
fido_ops_resync(struct fido_ops_dev *d)
{
	fido_dev_t *dev = NULL, *old;

	if (fido_ops_open_raw(d->path, d->timeout_ms, &dev) != 0) {
		debug_f("%s: reopen after a cancel failed", d->path);
		return;
	}
	pthread_mutex_lock(&d->lock);
	old = d->dev;
	d->dev = dev;
	pthread_mutex_unlock(&d->lock);
	(void)fido_dev_close(old);
	fido_dev_free(&old);
}

static void
fido_ops_init(void)
{
	int flags = 0;

	if (getenv("TOKAGENT_FIDO_DEBUG") != NULL)
		flags |= FIDO_DEBUG;
	fido_init(flags);
}

static void
fido_ops_init_once(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	(void)pthread_once(&once, fido_ops_init);
}

static long long
fido_ops_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Translate the result of an operation that started at start_ms: a read
 * that failed after the device's time bound ran out is a timeout; the
 * token is told to give up.
 */
static int
fido_ops_result(struct fido_ops_dev *d, int fr, long long start_ms)
{
	if (fr == FIDO_ERR_RX && d->timeout_ms >= 0 &&
	    fido_ops_now_ms() - start_ms >= d->timeout_ms) {
		(void)fido_dev_cancel(d->dev);
		fido_ops_resync(d);
		return TOK_ERR_DEVICE_TIMEOUT;
	}
	return sk_fido_err(fr);
}

/* Copy a token-supplied byte string, bounded by max. */
static int
fido_ops_copy(const u_char *p, size_t len, size_t max, u_char **dstp,
    size_t *dst_lenp)
{
	*dstp = NULL;
	*dst_lenp = 0;
	if (p == NULL || len == 0)
		return 0;
	if (len > max)
		return TOK_ERR_PROTOCOL;
	if ((*dstp = malloc(len)) == NULL)
		return TOK_ERR_ALLOC;
	memcpy(*dstp, p, len);
	*dst_lenp = len;
	return 0;
}

static int
fido_ops_alg_from_cose(int cose)
{
	switch (cose) {
	case COSE_ES256:
		return SK_ALG_ECDSA;
	case COSE_EDDSA:
		return SK_ALG_ED25519;
	default:
		return -1;
	}
}

/* "Manufacturer Product" of a discovered device, NULL when it has none. */
static char *
fido_ops_devname(const fido_dev_info_t *di)
{
	const char *m = fido_dev_info_manufacturer_string(di);
	const char *p = fido_dev_info_product_string(di);
	char *name = NULL;

	if (m == NULL)
		m = "";
	if (p == NULL)
		p = "";
	if (*m == '\0' && *p == '\0')
		return NULL;
	/* Product strings often repeat the maker ("Yubico YubiKey ..."). */
	if (*m == '\0' || strncmp(p, m, strlen(m)) == 0)
		return strdup(*p != '\0' ? p : m);
	if (*p == '\0')
		return strdup(m);
	if (asprintf(&name, "%s %s", m, p) < 0)
		return NULL;
	return name;
}

static int
fido_ops_discover(char ***pathsp, char ***namesp, size_t *npathsp)
{
	fido_dev_info_t *devlist = NULL;
	const fido_dev_info_t *di;
	char **paths = NULL, **names = NULL;
	size_t i, n = 0, npaths = 0;
	const char *path;
	int fr, r = TOK_ERR_INTERNAL;

	*pathsp = NULL;
	*namesp = NULL;
	*npathsp = 0;
	fido_ops_init_once();
	if ((devlist = fido_dev_info_new(FIDO_OPS_MANIFEST_MAX)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((fr = fido_dev_info_manifest(devlist, FIDO_OPS_MANIFEST_MAX,
	    &n)) != FIDO_OK) {
		debug_f("fido_dev_info_manifest: %s", fido_strerr(fr));
		r = 0;	/* no HID support is no device */
		goto out;
	}
	if (n > 0 && ((paths = calloc(n, sizeof(*paths))) == NULL ||
	    (names = calloc(n, sizeof(*names))) == NULL)) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((di = fido_dev_info_ptr(devlist, i)) == NULL ||
		    (path = fido_dev_info_path(di)) == NULL)
			continue;
		if ((paths[npaths] = strdup(path)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		names[npaths] = fido_ops_devname(di);	/* NULL: unnamed */
		npaths++;
	}
	*pathsp = paths;
	*namesp = names;
	*npathsp = npaths;
	paths = names = NULL;
	npaths = 0;
	r = 0;
 out:
	for (i = 0; i < npaths; i++) {
		free(paths[i]);
		free(names[i]);
	}
	free(paths);
	free(names);
	fido_dev_info_free(&devlist, FIDO_OPS_MANIFEST_MAX);
	return r;
}

/*
 * A configured device is there when a "unix:" socket accepts a connection;
 * any other path when it exists.
 */
static int
fido_ops_present(const char *path)
{
	if (fido_unix_is_unix_path(path))
		return fido_unix_present(path);
	return access(path, F_OK) == 0;
}

static int
fido_ops_open(const char *path, int timeout_ms, void **devp)
{
	struct fido_ops_dev *d = NULL;
	int r;

	*devp = NULL;
	fido_ops_init_once();
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->path = strdup(path)) == NULL) {
		if (d != NULL)
			free(d);
		return TOK_ERR_ALLOC;
	}
	d->timeout_ms = timeout_ms;
	if ((r = fido_ops_open_raw(path, timeout_ms, &d->dev)) != 0) {
		free(d->path);
		free(d);
		return r;
	}
	pthread_mutex_init(&d->lock, NULL);
	*devp = d;
	return 0;
}

static int
fido_ops_open_raw(const char *path, int timeout_ms, fido_dev_t **devp)
{
	fido_dev_t *dev = NULL;
	int fr, r = TOK_ERR_INTERNAL;

	*devp = NULL;
	if (fido_unix_is_unix_path(path)) {
		if ((r = fido_unix_open_dev(path, &dev)) != 0)
			goto out;
	} else {
		if ((dev = fido_dev_new()) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		if ((fr = fido_dev_open(dev, path)) != FIDO_OK) {
			debug_f("fido_dev_open %s: %s", path, fido_strerr(fr));
			r = sk_fido_err(fr);
			fido_dev_free(&dev);
			goto out;
		}
	}
	if (timeout_ms >= 0 &&
	    (fr = fido_dev_set_timeout(dev, timeout_ms)) != FIDO_OK) {
		r = sk_fido_err(fr);
		goto out;
	}
	*devp = dev;
	dev = NULL;
	r = 0;
 out:
	if (dev != NULL) {
		(void)fido_dev_close(dev);
		fido_dev_free(&dev);
	}
	return r;
}

static void
fido_ops_close(void *dev)
{
	struct fido_ops_dev *d = dev;

	if (d == NULL)
		return;
	if (d->dev != NULL) {
		(void)fido_dev_close(d->dev);
		fido_dev_free(&d->dev);
	}
	pthread_mutex_destroy(&d->lock);
	free(d->path);
	free(d);
}

static int
fido_ops_info(void *dev, struct sk_devinfo *infop)
{
	struct fido_ops_dev *d = dev;

	memset(infop, 0, sizeof(*infop));
	infop->has_pin = fido_dev_has_pin(d->dev);
	infop->has_uv = fido_dev_has_uv(d->dev);
	infop->supports_credprot = fido_dev_supports_cred_prot(d->dev);
	infop->supports_credman = fido_dev_supports_credman(d->dev);
	return 0;
}

/* Copy what a credential holds into c (which the caller clears on error). */
static int
fido_ops_cred_out(const fido_cred_t *cred, struct sk_devcred *c)
{
	int r;

	c->alg = fido_ops_alg_from_cose(fido_cred_type(cred));
	c->cred_prot = fido_cred_prot(cred);
	if ((r = fido_ops_copy(fido_cred_pubkey_ptr(cred),
	    fido_cred_pubkey_len(cred), FIDO_OPS_PUBKEY_MAX,
	    &c->pubkey, &c->pubkey_len)) != 0 ||
	    (r = fido_ops_copy(fido_cred_id_ptr(cred), fido_cred_id_len(cred),
	    SK_KEY_HANDLE_MAX, &c->id, &c->id_len)) != 0 ||
	    (r = fido_ops_copy(fido_cred_sig_ptr(cred), fido_cred_sig_len(cred),
	    FIDO_OPS_SIG_MAX, &c->sig, &c->sig_len)) != 0 ||
	    (r = fido_ops_copy(fido_cred_x5c_ptr(cred), fido_cred_x5c_len(cred),
	    FIDO_OPS_X5C_MAX, &c->x5c, &c->x5c_len)) != 0 ||
	    (r = fido_ops_copy(fido_cred_authdata_ptr(cred),
	    fido_cred_authdata_len(cred), FIDO_OPS_AUTHDATA_MAX,
	    &c->authdata, &c->authdata_len)) != 0 ||
	    (r = fido_ops_copy(fido_cred_user_id_ptr(cred),
	    fido_cred_user_id_len(cred), SK_USER_ID_MAX,
	    &c->user_id, &c->user_id_len)) != 0)
		return r;
	return 0;
}

static int
fido_ops_make_cred(void *dev, const struct sk_devcred_req *req,
    const char *pin, struct sk_devcred *credp)
{
	struct fido_ops_dev *d = dev;
	fido_cred_t *cred = NULL;
	long long start;
	int fr, cose, r = TOK_ERR_INTERNAL;

	memset(credp, 0, sizeof(*credp));
	switch (req->alg) {
	case SK_ALG_ECDSA:
		cose = COSE_ES256;
		break;
	case SK_ALG_ED25519:
		cose = COSE_EDDSA;
		break;
	default:
		r = TOK_ERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if ((cred = fido_cred_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((fr = fido_cred_set_type(cred, cose)) != FIDO_OK ||
	    (fr = fido_cred_set_clientdata_hash(cred, req->cdh,
	    SK_CDH_LEN)) != FIDO_OK ||
	    (fr = fido_cred_set_rp(cred, req->rp_id, NULL)) != FIDO_OK ||
	    (fr = fido_cred_set_user(cred, req->user_id, req->user_id_len,
	    "openssh", "openssh", NULL)) != FIDO_OK ||
	    (fr = fido_cred_set_rk(cred, req->resident ?
	    FIDO_OPT_TRUE : FIDO_OPT_OMIT)) != FIDO_OK) {
		r = sk_fido_err(fr);
		goto out;
	}
	if (req->cred_prot != 0) {
#ifdef HAVE_FIDO_CRED_SET_PROT
		if ((fr = fido_cred_set_prot(cred, req->cred_prot)) !=
		    FIDO_OK) {
			r = sk_fido_err(fr);
			goto out;
		}
#else
		r = TOK_ERR_FEATURE_UNSUPPORTED;
		goto out;
#endif
	}
	start = fido_ops_now_ms();
	if ((fr = fido_dev_make_cred(d->dev, cred, pin)) != FIDO_OK) {
		debug_f("fido_dev_make_cred: %s", fido_strerr(fr));
		r = fido_ops_result(d, fr, start);
		goto out;
	}
	if ((r = fido_ops_cred_out(cred, credp)) != 0)
		goto out;
	r = 0;
 out:
	if (r != 0)
		sk_devcred_clear(credp);
	fido_cred_free(&cred);
	return r;
}

static int
fido_ops_get_assert(void *dev, const struct sk_devassert_req *req,
    const char *pin, struct sk_devassert *assertp)
{
	struct fido_ops_dev *d = dev;
	fido_assert_t *assert = NULL;
	long long start;
	int fr, r = TOK_ERR_INTERNAL;

	memset(assertp, 0, sizeof(*assertp));
	if ((assert = fido_assert_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((fr = fido_assert_set_clientdata_hash(assert, req->cdh,
	    SK_CDH_LEN)) != FIDO_OK ||
	    (fr = fido_assert_set_rp(assert, req->rp_id)) != FIDO_OK ||
	    (fr = fido_assert_allow_cred(assert, req->key_handle,
	    req->key_handle_len)) != FIDO_OK ||
	    (fr = fido_assert_set_up(assert, req->up ?
	    FIDO_OPT_TRUE : FIDO_OPT_FALSE)) != FIDO_OK ||
	    (req->uv && (fr = fido_assert_set_uv(assert,
	    FIDO_OPT_TRUE)) != FIDO_OK)) {
		r = sk_fido_err(fr);
		goto out;
	}
	start = fido_ops_now_ms();
	if ((fr = fido_dev_get_assert(d->dev, assert, pin)) != FIDO_OK) {
		debug_f("fido_dev_get_assert: %s", fido_strerr(fr));
		r = fido_ops_result(d, fr, start);
		goto out;
	}
	if (fido_assert_count(assert) != 1) {
		error_f("token returned %zu assertions",
		    fido_assert_count(assert));
		r = TOK_ERR_PROTOCOL;
		goto out;
	}
	assertp->flags = fido_assert_flags(assert, 0);
	assertp->counter = fido_assert_sigcount(assert, 0);
	if ((r = fido_ops_copy(fido_assert_sig_ptr(assert, 0),
	    fido_assert_sig_len(assert, 0), FIDO_OPS_SIG_MAX,
	    &assertp->sig, &assertp->sig_len)) != 0)
		goto out;
	r = 0;
 out:
	if (r != 0)
		sk_devassert_clear(assertp);
	fido_assert_free(&assert);
	return r;
}

/* Append the resident credentials of rp_id to *credsp. */
static int
fido_ops_rp_creds(struct fido_ops_dev *d, const char *rp_id, const char *pin,
    struct sk_devcred **credsp, size_t *ncredsp)
{
	fido_credman_rk_t *rk = NULL;
	const fido_cred_t *cred;
	struct sk_devcred *tmp, *c;
	size_t i, n;
	int fr, r = TOK_ERR_INTERNAL;

	if ((rk = fido_credman_rk_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((fr = fido_credman_get_dev_rk(d->dev, rp_id, rk, pin)) !=
	    FIDO_OK) {
		debug_f("fido_credman_get_dev_rk %s: %s", rp_id,
		    fido_strerr(fr));
		r = fr == FIDO_ERR_NO_CREDENTIALS ? 0 : sk_fido_err(fr);
		goto out;
	}
	n = fido_credman_rk_count(rk);
	if (n > SK_DEVICES_MAX * 16 || *ncredsp + n > SK_DEVICES_MAX * 64) {
		r = TOK_ERR_PROTOCOL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((cred = fido_credman_rk(rk, i)) == NULL)
			continue;
		if ((tmp = reallocarray(*credsp, *ncredsp + 1,
		    sizeof(*tmp))) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		*credsp = tmp;
		c = &tmp[*ncredsp];
		memset(c, 0, sizeof(*c));
		(*ncredsp)++;
		if ((r = fido_ops_cred_out(cred, c)) != 0)
			goto out;
		if ((c->rp_id = strdup(rp_id)) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
	}
	r = 0;
 out:
	fido_credman_rk_free(&rk);
	return r;
}

static int
fido_ops_resident(void *dev, const char *prefix, const char *pin,
    struct sk_devcred **credsp, size_t *ncredsp)
{
	struct fido_ops_dev *d = dev;
	fido_credman_rp_t *rp = NULL;
	struct sk_devcred *creds = NULL;
	size_t i, n, ncreds = 0;
	const char *rp_id;
	int fr, r = TOK_ERR_INTERNAL;

	*credsp = NULL;
	*ncredsp = 0;
	if (!fido_dev_supports_credman(d->dev)) {
		r = TOK_ERR_FEATURE_UNSUPPORTED;
		goto out;
	}
	if ((rp = fido_credman_rp_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((fr = fido_credman_get_dev_rp(d->dev, rp, pin)) != FIDO_OK) {
		debug_f("fido_credman_get_dev_rp: %s", fido_strerr(fr));
		if (fr == FIDO_ERR_NO_CREDENTIALS) {
			r = 0;
			goto out;
		}
		r = sk_fido_err(fr);
		goto out;
	}
	n = fido_credman_rp_count(rp);
	for (i = 0; i < n; i++) {
		if ((rp_id = fido_credman_rp_id(rp, i)) == NULL ||
		    strncmp(rp_id, prefix, strlen(prefix)) != 0) {
			debug3_f("skipping rp %zu", i);
			continue;
		}
		if ((r = fido_ops_rp_creds(d, rp_id, pin, &creds,
		    &ncreds)) != 0)
			goto out;
	}
	*credsp = creds;
	*ncredsp = ncreds;
	creds = NULL;
	ncreds = 0;
	r = 0;
 out:
	for (i = 0; i < ncreds; i++)
		sk_devcred_clear(&creds[i]);
	free(creds);
	fido_credman_rp_free(&rp);
	return r;
}

static int
fido_ops_cancel(void *dev)
{
	struct fido_ops_dev *d = dev;
	int fr;

	pthread_mutex_lock(&d->lock);
	fr = fido_dev_cancel(d->dev);
	pthread_mutex_unlock(&d->lock);
	return sk_fido_err(fr);
}

static int
fido_ops_select_begin(void *dev)
{
	struct fido_ops_dev *d = dev;

	return sk_fido_err(fido_dev_get_touch_begin(d->dev));
}

static int
fido_ops_select_status(void *dev, int ms, int *touchedp)
{
	struct fido_ops_dev *d = dev;

	*touchedp = 0;
	return sk_fido_err(fido_dev_get_touch_status(d->dev, touchedp, ms));
}

static void
fido_ops_select_cancel(void *dev)
{
	struct fido_ops_dev *d = dev;

	pthread_mutex_lock(&d->lock);
	(void)fido_dev_cancel(d->dev);
	pthread_mutex_unlock(&d->lock);
	/* its answer to the cancelled request must not meet the next one */
	fido_ops_resync(d);
}

static int
fido_ops_pin_retries(void *dev, int *retriesp)
{
	struct fido_ops_dev *d = dev;
	int n = -1, fr;

	*retriesp = -1;
	if ((fr = fido_dev_get_retry_count(d->dev, &n)) != FIDO_OK)
		return sk_fido_err(fr);
	*retriesp = n;
	return 0;
}

const struct sk_devops sk_devops_fido = {
	.discover = fido_ops_discover,
	.open = fido_ops_open,
	.close = fido_ops_close,
	.info = fido_ops_info,
	.make_cred = fido_ops_make_cred,
	.get_assert = fido_ops_get_assert,
	.resident = fido_ops_resident,
	.cancel = fido_ops_cancel,
	.select_begin = fido_ops_select_begin,
	.select_status = fido_ops_select_status,
	.select_cancel = fido_ops_select_cancel,
	.pin_retries = fido_ops_pin_retries,
	.present = fido_ops_present,
};

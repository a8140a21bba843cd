/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The device pool (see devpool.h): one operation per device at a time,
 * devices kept open while in use.
 *
 * Why handles are closed when idle: libfido2 takes an exclusive flock(2)
 * on a hidraw device it opens, so while we hold a handle ssh-keygen, a
 * browser or another agent cannot use the token at all.  Keeping it open
 * for a burst of signatures saves the CTAPHID INIT + getInfo of each open;
 * closing it about two seconds after the last use gives the token back.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/log.h"
#include "sk/devpool.h"
#include "sk/devwatch.h"
#include "sk/sk.h"

#define SK_POOL_HOMES_MAX	256	/* key handles whose token we know */

/* Which token a key handle last worked on (by SHA-256 of the handle). */
struct sk_poolhome {
	u_char kh_hash[32];
	char *path;
	unsigned long long used;	/* LRU stamp; 0: slot free */
};

/* A caller queued for a device. */
struct sk_devpool;
static void sk_devpool_home_drop(struct sk_devpool *, const char *);
struct sk_poolwait {
	TAILQ_ENTRY(sk_poolwait) entry;
};

struct sk_pooldev {
	char *path;
	char *name;			/* NULL: the path */
	void *dev;			/* open handle, or NULL */
	int busy;			/* checked out */
	int fresh;			/* opened by this checkout */
	int configured;			/* from the list: always a candidate */
	int discovered;			/* seen by the last discovery */
	int present;			/* as last reported by a scan */
	int pulled;			/* pulled while checked out: close
					 * its handle at release */
	int removed;			/* unlinked: free when refs drop to 0 */
	unsigned int refs;		/* checkouts + queued callers */
	long long idle_since_ms;
	TAILQ_HEAD(, sk_poolwait) waiters;
	TAILQ_ENTRY(sk_pooldev) entry;
};

struct sk_devpool {
	const struct sk_devops *ops;
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* a device came free, or wake */
	pthread_mutex_t scan_lock;	/* one scan at a time */
	TAILQ_HEAD(, sk_pooldev) devs;
	int discover;
	int discovered_once;
	int scanned_once;
	int timeout_ms;
	sk_devpool_event_cb *event_cb;
	void *event_arg;
	struct sk_poolhome homes[SK_POOL_HOMES_MAX];
	unsigned long long home_clock;
};

/* A change found by a scan, reported after the locks are dropped. */
struct sk_poolevent {
	char *path;
	char *name;
	int present;
};

static long long
sk_devpool_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
sk_devpool_new(const struct sk_devops *ops, struct sk_devpool **poolp)
{
	struct sk_devpool *pool = NULL;
	int r = TOK_ERR_INTERNAL;

	*poolp = NULL;
	if (ops == NULL)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((pool = calloc(1, sizeof(*pool))) == NULL)
		return TOK_ERR_ALLOC;
	if (pthread_mutex_init(&pool->lock, NULL) != 0)
		goto fail;
	if (pthread_mutex_init(&pool->scan_lock, NULL) != 0) {
		pthread_mutex_destroy(&pool->lock);
		goto fail;
	}
	if (pthread_cond_init(&pool->cond, NULL) != 0) {
		pthread_mutex_destroy(&pool->scan_lock);
		pthread_mutex_destroy(&pool->lock);
		goto fail;
	}
	TAILQ_INIT(&pool->devs);
	pool->ops = ops;
	pool->timeout_ms = -1;
	*poolp = pool;
	return 0;
 fail:
	free(pool);
	r = TOK_ERR_SYSTEM;
	return r;
}

static void
sk_pooldev_free(struct sk_pooldev *d)
{
	free(d->path);
	free(d->name);
	free(d);
}

/* Unlink d (pool locked); freed now or by its last user. */
static void
sk_pooldev_unlink(struct sk_devpool *pool, struct sk_pooldev *d)
{
	if (d->removed)
		return;
	TAILQ_REMOVE(&pool->devs, d, entry);
	d->removed = 1;
	pthread_cond_broadcast(&pool->cond);
	if (d->refs == 0) {
		if (d->dev != NULL)
			pool->ops->close(d->dev);
		sk_pooldev_free(d);
	}
}

void
sk_devpool_free(struct sk_devpool *pool)
{
	struct sk_pooldev *d;
	size_t i;

	if (pool == NULL)
		return;
	while ((d = TAILQ_FIRST(&pool->devs)) != NULL) {
		if (d->refs != 0)
			fatal_f("device %s still in use", d->path);
		sk_pooldev_unlink(pool, d);
	}
	for (i = 0; i < SK_POOL_HOMES_MAX; i++)
		free(pool->homes[i].path);
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->scan_lock);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

void
sk_devpool_paths_free(char **paths, size_t n)
{
	size_t i;

	if (paths == NULL)
		return;
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

static struct sk_pooldev *
sk_devpool_find(struct sk_devpool *pool, const char *path)
{
	struct sk_pooldev *d;

	TAILQ_FOREACH(d, &pool->devs, entry) {
		if (strcmp(d->path, path) == 0)
			return d;
	}
	return NULL;
}

/* The entry for path, made if new (pool locked). */
static int
sk_devpool_get(struct sk_devpool *pool, const char *path,
    struct sk_pooldev **dp)
{
	struct sk_pooldev *d;
	size_t n = 0;

	*dp = NULL;
	if ((d = sk_devpool_find(pool, path)) != NULL) {
		*dp = d;
		return 0;
	}
	TAILQ_FOREACH(d, &pool->devs, entry)
		n++;
	if (n >= SK_DEVICES_MAX * 2)
		return TOK_ERR_INVALID_ARGUMENT;
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->path = strdup(path)) == NULL) {
		free(d);
		return TOK_ERR_ALLOC;
	}
	TAILQ_INIT(&d->waiters);
	TAILQ_INSERT_TAIL(&pool->devs, d, entry);
	*dp = d;
	return 0;
}

int
sk_devpool_set_devices(struct sk_devpool *pool, const char *list,
    int discover)
{
	struct sk_pooldev *d;
	char *copy = NULL, *cp, *tok;
	size_t n = 0;
	int r = TOK_ERR_INTERNAL;

	pthread_mutex_lock(&pool->lock);
	TAILQ_FOREACH(d, &pool->devs, entry)
		d->configured = 0;
	pool->discover = discover;
	if (list == NULL || *list == '\0') {
		r = 0;
		goto out;
	}
	if ((copy = strdup(list)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	for (cp = copy; (tok = strsep(&cp, ",")) != NULL;) {
		tok += strspn(tok, " \t");
		tok[strcspn(tok, " \t")] = '\0';
		if (*tok == '\0')
			continue;
		if (++n > SK_DEVICES_MAX) {
			r = TOK_ERR_INVALID_ARGUMENT;
			goto out;
		}
		if ((r = sk_devpool_get(pool, tok, &d)) != 0)
			goto out;
		d->configured = 1;
	}
	r = 0;
 out:
	pthread_mutex_unlock(&pool->lock);
	free(copy);
	return r;
}

void
sk_devpool_set_timeout(struct sk_devpool *pool, int ms)
{
	pthread_mutex_lock(&pool->lock);
	pool->timeout_ms = ms < 0 ? -1 : ms;
	pthread_mutex_unlock(&pool->lock);
}

void
sk_devpool_set_events(struct sk_devpool *pool, sk_devpool_event_cb *cb,
    void *arg)
{
	pthread_mutex_lock(&pool->lock);
	pool->event_cb = cb;
	pool->event_arg = arg;
	pthread_mutex_unlock(&pool->lock);
}

/*
 * Run discovery and record what it found (takes the pool lock).  Entries
 * of discovered devices no longer there lose their discovered mark; they
 * are unlinked by sk_devpool_scan, which reports them.
 */
static int
sk_devpool_discover(struct sk_devpool *pool)
{
	struct sk_pooldev *d;
	char **paths = NULL, **names = NULL;
	size_t i, n = 0;
	int r;

	if (!pool->discover || pool->ops->discover == NULL) {
		pthread_mutex_lock(&pool->lock);
		pool->discovered_once = 1;
		pthread_mutex_unlock(&pool->lock);
		return 0;
	}
	if ((r = pool->ops->discover(&paths, &names, &n)) != 0) {
		debug_fr(r, "device discovery");
		return r;
	}
	pthread_mutex_lock(&pool->lock);
	TAILQ_FOREACH(d, &pool->devs, entry)
		d->discovered = 0;
	for (i = 0; i < n && i < SK_DEVICES_MAX; i++) {
		if (paths[i] == NULL ||
		    (r = sk_devpool_get(pool, paths[i], &d)) != 0)
			continue;
		d->discovered = 1;
		if (d->name == NULL && names != NULL && names[i] != NULL &&
		    *names[i] != '\0')
			d->name = strdup(names[i]);	/* NULL: the path */
	}
	pool->discovered_once = 1;
	pthread_mutex_unlock(&pool->lock);
	sk_devpool_paths_free(paths, n);
	sk_devpool_paths_free(names, names == NULL ? 0 : n);
	return 0;
}

int
sk_devpool_candidates(struct sk_devpool *pool, int rescan, char ***pathsp,
    size_t *npathsp)
{
	struct sk_pooldev *d;
	char **paths = NULL;
	size_t n = 0;
	int r = TOK_ERR_INTERNAL, need;

	*pathsp = NULL;
	*npathsp = 0;
	pthread_mutex_lock(&pool->lock);
	need = rescan || !pool->discovered_once;
	pthread_mutex_unlock(&pool->lock);
	if (need)
		(void)sk_devpool_discover(pool);
	if ((paths = calloc(SK_DEVICES_MAX, sizeof(*paths))) == NULL)
		return TOK_ERR_ALLOC;
	pthread_mutex_lock(&pool->lock);
	TAILQ_FOREACH(d, &pool->devs, entry) {
		if (n >= SK_DEVICES_MAX)
			break;
		if (!d->configured && !d->discovered)
			continue;
		if ((paths[n] = strdup(d->path)) == NULL) {
			r = TOK_ERR_ALLOC;
			pthread_mutex_unlock(&pool->lock);
			goto out;
		}
		n++;
	}
	pthread_mutex_unlock(&pool->lock);
	*pathsp = paths;
	*npathsp = n;
	paths = NULL;
	n = 0;
	r = 0;
 out:
	sk_devpool_paths_free(paths, n);
	return r;
}

/* Open d's handle (d checked out by the caller; pool unlocked). */
static int
sk_devpool_open(struct sk_devpool *pool, struct sk_pooldev *d)
{
	int r, ms;

	pthread_mutex_lock(&pool->lock);
	ms = pool->timeout_ms;
	pthread_mutex_unlock(&pool->lock);
	if ((r = pool->ops->open(d->path, ms, &d->dev)) != 0) {
		d->dev = NULL;
		debug_fr(r, "open %s", d->path);
		return r;
	}
	d->fresh = 1;
	return 0;
}

static int
sk_devpool_cancelled(const int *cancelp)
{
	return cancelp != NULL && __atomic_load_n(cancelp, __ATOMIC_SEQ_CST);
}

int
sk_devpool_acquire(struct sk_devpool *pool, const char *path, int wait,
    const int *cancelp, struct sk_pooldev **pdp)
{
	struct sk_pooldev *d = NULL;
	struct sk_poolwait w;
	struct timespec ts;
	int r = TOK_ERR_INTERNAL;

	*pdp = NULL;
	pthread_mutex_lock(&pool->lock);
	if ((r = sk_devpool_get(pool, path, &d)) != 0)
		goto unlock;
	if (d->busy || !TAILQ_EMPTY(&d->waiters)) {
		if (!wait) {
			r = 0;
			goto unlock;
		}
		d->refs++;
		TAILQ_INSERT_TAIL(&d->waiters, &w, entry);
		while ((d->busy || TAILQ_FIRST(&d->waiters) != &w) &&
		    !sk_devpool_cancelled(cancelp)) {
			/* Woken on release and cancel; the bound is a safety net. */
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			(void)pthread_cond_timedwait(&pool->cond, &pool->lock,
			    &ts);
		}
		TAILQ_REMOVE(&d->waiters, &w, entry);
		d->refs--;
		if (d->busy || sk_devpool_cancelled(cancelp)) {
			/* Let the next in line look again. */
			pthread_cond_broadcast(&pool->cond);
			if (d->removed && d->refs == 0) {
				if (d->dev != NULL)
					pool->ops->close(d->dev);
				sk_pooldev_free(d);
			}
			r = TOK_ERR_CANCELLED;
			goto unlock;
		}
	}
	if (d->removed) {
		/* Pulled while we waited. */
		pthread_cond_broadcast(&pool->cond);
		if (d->refs == 0) {
			if (d->dev != NULL)
				pool->ops->close(d->dev);
			sk_pooldev_free(d);
		}
		r = TOK_ERR_DEVICE_NOT_PRESENT;
		goto unlock;
	}
	d->busy = 1;
	d->fresh = 0;
	d->refs++;
	pthread_mutex_unlock(&pool->lock);
	if (d->dev == NULL && (r = sk_devpool_open(pool, d)) != 0) {
		sk_devpool_release(pool, d, 1);
		return r;
	}
	*pdp = d;
	return 0;
 unlock:
	pthread_mutex_unlock(&pool->lock);
	return r;
}

void
sk_devpool_release(struct sk_devpool *pool, struct sk_pooldev *d, int broken)
{
	void *close_dev = NULL;

	if (d == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	if (!d->busy || d->refs == 0)
		fatal_f("%s: released but not checked out", d->path);
	if (broken || d->removed || d->pulled) {
		close_dev = d->dev;
		d->dev = NULL;
	}
	d->pulled = 0;
	d->busy = 0;
	d->fresh = 0;
	d->refs--;
	d->idle_since_ms = sk_devpool_now_ms();
	if (d->removed && d->refs == 0)
		sk_pooldev_free(d);
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	if (close_dev != NULL)
		pool->ops->close(close_dev);
}

int
sk_devpool_reopen(struct sk_devpool *pool, struct sk_pooldev *d)
{
	if (d->dev != NULL) {
		pool->ops->close(d->dev);
		d->dev = NULL;
	}
	return sk_devpool_open(pool, d);
}

void *
sk_pooldev_handle(const struct sk_pooldev *d)
{
	return d->dev;
}

const char *
sk_pooldev_path(const struct sk_pooldev *d)
{
	return d->path;
}

int
sk_pooldev_fresh(const struct sk_pooldev *d)
{
	return d->fresh;
}

void
sk_devpool_wake(struct sk_devpool *pool)
{
	pthread_mutex_lock(&pool->lock);
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

static int
sk_devpool_event_add(struct sk_poolevent **evsp, size_t *nevsp,
    const struct sk_pooldev *d, int present)
{
	struct sk_poolevent *tmp;
	const char *name = d->name != NULL ? d->name : d->path;

	if ((tmp = reallocarray(*evsp, *nevsp + 1, sizeof(*tmp))) == NULL)
		return TOK_ERR_ALLOC;
	*evsp = tmp;
	tmp += *nevsp;
	if ((tmp->path = strdup(d->path)) == NULL ||
	    (tmp->name = strdup(name)) == NULL) {
		free(tmp->path);
		return TOK_ERR_ALLOC;
	}
	tmp->present = present;
	(*nevsp)++;
	return 0;
}

int
sk_devpool_scan(struct sk_devpool *pool)
{
	struct sk_pooldev *d, *tmp;
	struct sk_poolevent *evs = NULL;
	char **conf = NULL;
	int *alive = NULL;
	size_t i, nconf = 0, nevs = 0;
	sk_devpool_event_cb *cb;
	void *cb_arg, *close_dev;
	int r = TOK_ERR_INTERNAL, present;

	pthread_mutex_lock(&pool->scan_lock);
	if ((r = sk_devpool_discover(pool)) != 0)
		goto out;
	/* The configured devices, checked without the pool lock. */
	if ((conf = calloc(SK_DEVICES_MAX, sizeof(*conf))) == NULL ||
	    (alive = calloc(SK_DEVICES_MAX, sizeof(*alive))) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	pthread_mutex_lock(&pool->lock);
	TAILQ_FOREACH(d, &pool->devs, entry) {
		if (d->configured && nconf < SK_DEVICES_MAX &&
		    (conf[nconf] = strdup(d->path)) != NULL)
			nconf++;
	}
	pthread_mutex_unlock(&pool->lock);
	for (i = 0; i < nconf; i++)
		alive[i] = pool->ops->present == NULL ||
		    pool->ops->present(conf[i]);
	pthread_mutex_lock(&pool->lock);
	for (d = TAILQ_FIRST(&pool->devs); d != NULL; d = tmp) {
		tmp = TAILQ_NEXT(d, entry);
		present = d->discovered;
		if (d->configured) {
			present = 0;
			for (i = 0; i < nconf; i++) {
				if (strcmp(conf[i], d->path) == 0)
					present = alive[i];
			}
		}
		if (present == d->present && pool->scanned_once)
			goto next;
		if (present || pool->scanned_once)
			(void)sk_devpool_event_add(&evs, &nevs, d, present);
		d->present = present;
		if (present)
			goto next;
		/* Pulled: its handle goes, now or when its operation ends. */
		if (!d->configured) {
			/*
			 * A discovered path (hidraw) may name another token
			 * next time: forget which keys lived there.
			 */
			sk_devpool_home_drop(pool, d->path);
			sk_pooldev_unlink(pool, d);
			goto next;
		}
		if (d->busy)
			d->pulled = 1;
		else if (d->dev != NULL) {
			close_dev = d->dev;
			d->dev = NULL;
			pool->ops->close(close_dev);
		}
 next:
		continue;
	}
	pool->scanned_once = 1;
	cb = pool->event_cb;
	cb_arg = pool->event_arg;
	pthread_mutex_unlock(&pool->lock);
	for (i = 0; i < nevs; i++) {
		debug_f("%s (%s) %s", evs[i].path, evs[i].name,
		    evs[i].present ? "plugged in" : "pulled");
		if (cb != NULL)
			cb(cb_arg, evs[i].path, evs[i].name, evs[i].present);
	}
	r = 0;
 out:
	pthread_mutex_unlock(&pool->scan_lock);
	for (i = 0; i < nevs; i++) {
		free(evs[i].path);
		free(evs[i].name);
	}
	free(evs);
	sk_devpool_paths_free(conf, nconf);
	free(alive);
	return r;
}

void
sk_devpool_reap(struct sk_devpool *pool, int idle_ms)
{
	struct sk_pooldev *d;
	void *close_devs[SK_DEVICES_MAX];
	size_t i, n = 0;
	long long now = sk_devpool_now_ms();

	pthread_mutex_lock(&pool->lock);
	TAILQ_FOREACH(d, &pool->devs, entry) {
		if (n >= SK_DEVICES_MAX)
			break;
		if (d->busy || d->dev == NULL || !TAILQ_EMPTY(&d->waiters) ||
		    now - d->idle_since_ms < idle_ms)
			continue;
		debug3_f("closing %s, idle", d->path);
		close_devs[n++] = d->dev;
		d->dev = NULL;
	}
	pthread_mutex_unlock(&pool->lock);
	for (i = 0; i < n; i++)
		pool->ops->close(close_devs[i]);
}

int
sk_devpool_name(struct sk_devpool *pool, const char *path, char **namep)
{
	struct sk_pooldev *d;
	int r = 0;

	*namep = NULL;
	pthread_mutex_lock(&pool->lock);
	d = sk_devpool_find(pool, path);
	if ((*namep = strdup(d != NULL && d->name != NULL ?
	    d->name : path)) == NULL)
		r = TOK_ERR_ALLOC;
	pthread_mutex_unlock(&pool->lock);
	return r;
}

size_t
sk_devpool_nopen(struct sk_devpool *pool)
{
	struct sk_pooldev *d;
	size_t n = 0;

	pthread_mutex_lock(&pool->lock);
	TAILQ_FOREACH(d, &pool->devs, entry) {
		if (d->dev != NULL)
			n++;
	}
	pthread_mutex_unlock(&pool->lock);
	return n;
}

/* --- which token holds a key ------------------------------------------ */

static int
sk_devpool_kh_hash(const u_char *kh, size_t len, u_char out[32])
{
	unsigned int outlen = 32;

	if (EVP_Digest(kh, len, out, &outlen, EVP_sha256(), NULL) != 1 ||
	    outlen != 32)
		return TOK_ERR_LIBCRYPTO;
	return 0;
}

/* The slot of hash (pool locked), or NULL. */
static struct sk_poolhome *
sk_devpool_home_find(struct sk_devpool *pool, const u_char hash[32])
{
	size_t i;

	for (i = 0; i < SK_POOL_HOMES_MAX; i++)
		if (pool->homes[i].used != 0 &&
		    memcmp(pool->homes[i].kh_hash, hash, 32) == 0)
			return &pool->homes[i];
	return NULL;
}

void
sk_devpool_remember(struct sk_devpool *pool, const u_char *kh, size_t len,
    const char *path)
{
	struct sk_poolhome *h, *oldest;
	u_char hash[32];
	char *copy;
	size_t i;

	if (kh == NULL || len == 0 || path == NULL ||
	    sk_devpool_kh_hash(kh, len, hash) != 0 ||
	    (copy = strdup(path)) == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	if ((h = sk_devpool_home_find(pool, hash)) == NULL) {
		/* a free slot, else the least recently used */
		oldest = &pool->homes[0];
		for (i = 0; i < SK_POOL_HOMES_MAX; i++) {
			if (pool->homes[i].used < oldest->used)
				oldest = &pool->homes[i];
		}
		h = oldest;
		memcpy(h->kh_hash, hash, 32);
	}
	free(h->path);
	h->path = copy;
	h->used = ++pool->home_clock;
	pthread_mutex_unlock(&pool->lock);
}

int
sk_devpool_recall(struct sk_devpool *pool, const u_char *kh, size_t len,
    char **pathp)
{
	struct sk_poolhome *h;
	u_char hash[32];
	int r = 0;

	*pathp = NULL;
	if (kh == NULL || len == 0)
		return 0;
	if ((r = sk_devpool_kh_hash(kh, len, hash)) != 0)
		return r;
	pthread_mutex_lock(&pool->lock);
	if ((h = sk_devpool_home_find(pool, hash)) != NULL &&
	    (*pathp = strdup(h->path)) == NULL)
		r = TOK_ERR_ALLOC;
	pthread_mutex_unlock(&pool->lock);
	return r;
}

void
sk_devpool_forget(struct sk_devpool *pool, const u_char *kh, size_t len)
{
	struct sk_poolhome *h;
	u_char hash[32];

	if (kh == NULL || len == 0 || sk_devpool_kh_hash(kh, len, hash) != 0)
		return;
	pthread_mutex_lock(&pool->lock);
	if ((h = sk_devpool_home_find(pool, hash)) != NULL) {
		free(h->path);
		memset(h, 0, sizeof(*h));
	}
	pthread_mutex_unlock(&pool->lock);
}

/* --- following tokens as they come and go ------------------------------ */

/* ms until the first open idle handle is due for closing, or -1. */
static int
sk_devpool_reap_due(struct sk_devpool *pool, int idle_ms)
{
	struct sk_pooldev *d;
	long long now = sk_devpool_now_ms(), due = -1, t;

	pthread_mutex_lock(&pool->lock);
	TAILQ_FOREACH(d, &pool->devs, entry) {
		if (d->dev == NULL)
			continue;
		/* in use: look again when it could be idle long enough */
		t = d->busy || !TAILQ_EMPTY(&d->waiters) ? now + idle_ms :
		    d->idle_since_ms + idle_ms;
		if (due < 0 || t < due)
			due = t;
	}
	pthread_mutex_unlock(&pool->lock);
	if (due < 0)
		return -1;
	return due <= now ? 0 : (int)(due - now);
}

/* The configured devices and whether each was last seen present. */
static int
sk_devpool_configured(struct sk_devpool *pool, char ***pathsp,
    int **presentp, size_t *np)
{
	struct sk_pooldev *d;
	char **paths = NULL;
	int *present = NULL;
	size_t n = 0;

	*pathsp = NULL;
	*presentp = NULL;
	*np = 0;
	if ((paths = calloc(SK_DEVICES_MAX, sizeof(*paths))) == NULL ||
	    (present = calloc(SK_DEVICES_MAX, sizeof(*present))) == NULL) {
		free(paths);
		return TOK_ERR_ALLOC;
	}
	pthread_mutex_lock(&pool->lock);
	TAILQ_FOREACH(d, &pool->devs, entry) {
		if (!d->configured || n >= SK_DEVICES_MAX)
			continue;
		if ((paths[n] = strdup(d->path)) == NULL)
			break;
		present[n++] = d->present;
	}
	pthread_mutex_unlock(&pool->lock);
	*pathsp = paths;
	*presentp = present;
	*np = n;
	return 0;
}

int
sk_devpool_watch(struct sk_devpool *pool, int idle_ms, int poll_ms,
    int wake_fd)
{
	struct sk_devwatch *w = NULL;
	char **paths = NULL;
	int *present = NULL;
	size_t n = 0;
	int r, wr = 1;

	if ((r = sk_devwatch_new(pool->discover, &w)) != 0)
		return r;
	for (;;) {
		if (wr == 1 && (r = sk_devpool_scan(pool)) != 0)
			debug_fr(r, "looking for tokens");
		sk_devpool_reap(pool, idle_ms);
		if (wr == 1) {
			if ((r = sk_devpool_configured(pool, &paths, &present,
			    &n)) != 0)
				break;
			r = sk_devwatch_set_unix(w, paths, present, n);
			sk_devpool_paths_free(paths, n);
			free(present);
			paths = NULL;
			present = NULL;
			if (r != 0)
				break;
		}
		wr = sk_devwatch_wait(w, wake_fd,
		    sk_devpool_reap_due(pool, idle_ms), poll_ms);
		if (wr == 2) {
			r = 0;
			break;
		}
		if (wr < 0) {
			r = wr;
			break;
		}
	}
	sk_devwatch_free(w);
	return r;
}

/* Forget every key noted on path (pool locked). */
static void
sk_devpool_home_drop(struct sk_devpool *pool, const char *path)
{
	size_t i;

	for (i = 0; i < SK_POOL_HOMES_MAX; i++) {
		if (pool->homes[i].used == 0 ||
		    strcmp(pool->homes[i].path, path) != 0)
			continue;
		free(pool->homes[i].path);
		memset(&pool->homes[i], 0, sizeof(pool->homes[i]));
	}
}

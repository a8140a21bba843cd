/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * tokagent-sk-helper: the agent's long-lived FIDO2 helper.  It holds the
 * key handles of FIDO keys added to the agent and signs with them through
 * the sk core (libfido2), so the agent never links libfido2 and nothing is
 * forked per signature.
 *
 * Started by tokagent with the IPC socket on fd 3 (common/ipc.h and
 * sk/sk-ipc.h), on the helper runtime (token/runtime.h), whose loop
 * answers the agent's heartbeat.  Requests are taken one at a time; each
 * token operation runs on a worker thread of its own (at most
 * SKH_WORKERS_MAX at once, the rest queue in order), so a touch pending on
 * one token never delays another token.  Devices come from one shared pool (sk/devpool.h): one operation
 * per token at a time, requests for a busy token wait their turn in
 * order, handles stay open between operations and are closed after
 * SKH_IDLE_MS without use.  IPC_CANCEL stops its request only: a CTAPHID
 * CANCEL on its device if it runs, dropped if it has not started.
 *
 * PINs are kept per token (device path), in locked memory, and given to
 * that token only.  A watcher thread follows tokens without polling
 * (udev events, inotify and held connections: sk/devwatch.h; where that
 * is impossible it looks every $TOKAGENT_FIDO_POLL_MS, default 1000) and
 * announces them to the agent (IPC_SK_DEVICE); a pulled token's PINs are forgotten and its handle
 * closed.  Devices: libfido2's discovery plus $TOKAGENT_FIDO_DEVICES.
 * $TOKAGENT_FIDO_TIMEOUT_MS bounds how long a token may wait for a touch
 * (default 60 s).  A key given an external middleware (IPC_SK_PROVIDER)
 * signs through that module's sk_sign() instead, one call at a time per
 * module; such an operation cannot be cancelled (the sk-api has no
 * cancel), only its queued requests dropped.
 *
 * Middlewares are in sk/sk-helper-mw.c.
 *
 * Usage: tokagent-sk-helper [-dv]
 */
#include "config.h"

#include <sys/queue.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/key.h"
#include "common/log.h"
#include "common/secmem.h"
#include "sk/devpool.h"
#include "sk/fido_unix.h"
#include "sk/sk-helper-mw.h"
#include "sk/sk-ipc.h"
#include "sk/sk.h"
#include "token/keystore.h"
#include "token/runtime.h"

#define SKH_TIMEOUT_MS		(60 * 1000)	/* a touch never comes */
#define SKH_PIN_MAX		256
#define SKH_DEVICE_MAX		1024	/* longest device path we take */
#define SKH_WORKERS_MAX		32	/* token operations at once */
#define SKH_QUEUE_MAX		1024	/* requests waiting to start */
#define SKH_PINS_MAX		64	/* tokens with a cached PIN */
#define SKH_IDLE_MS		2000	/* close a device unused this long */
#define SKH_POLL_MS		1000	/* look for tokens this often */

struct skh_job {
	uint32_t id;
	int load_resident;		/* else: sign */
	char *pin;			/* load_resident: secure memory */
	char *device;			/* load_resident: NULL: every token */
	/* Copies: the store may drop the key while the job waits or runs. */
	struct key *key;		/* public key and application */
	struct buf *kh;			/* key handle */
	uint8_t flags;			/* SK_FLAG_* */
	struct buf *data;
	struct skmw *mw;		/* NULL: libfido2 (internal) */
	struct sk_ctx *ctx;		/* while running, under skh_lock */
	char *why;			/* the token a failure is about */
	TAILQ_ENTRY(skh_job) entry;
};

/* A token's PIN, for that token only. */
struct skh_pin {
	char *device;
	char *pin;			/* secure memory */
	time_t expiry;			/* 0: for the next operation only */
	TAILQ_ENTRY(skh_pin) entry;
};

/* skh_lock protects the queues, the key store and the PIN cache. */
static pthread_mutex_t skh_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t skh_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t skh_done_cond = PTHREAD_COND_INITIALIZER;
static TAILQ_HEAD(, skh_job) skh_queue = TAILQ_HEAD_INITIALIZER(skh_queue);
static TAILQ_HEAD(, skh_job) skh_running =
    TAILQ_HEAD_INITIALIZER(skh_running);
static size_t skh_nqueued;
static size_t skh_nworkers;		/* threads alive */
static size_t skh_nidle;		/* of which waiting for a job */
static struct sk_devpool *skh_pool;
static struct keystore *skh_keys;
static TAILQ_HEAD(, skh_pin) skh_pins = TAILQ_HEAD_INITIALIZER(skh_pins);
static int skh_eof;
static int skh_watching;		/* the watcher thread runs */
static int skh_wake[2] = { -1, -1 };	/* wakes the watcher to leave */
static int skh_timeout_ms;

static void
skh_pin_free(struct skh_pin *p)
{
	TAILQ_REMOVE(&skh_pins, p, entry);
	secmem_free(p->pin);
	free(p->device);
	free(p);
}

/* Forget the PINs of device (NULL: of every token); skh_lock held. */
static void
skh_forget_pins(const char *device)
{
	struct skh_pin *p, *next;

	for (p = TAILQ_FIRST(&skh_pins); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (device == NULL || strcmp(p->device, device) == 0)
			skh_pin_free(p);
	}
}

/* The name of a token for people; never NULL (fatal on no memory). */
static char *
skh_token_name(const char *device)
{
	char *name = NULL;

	if (sk_devpool_name(skh_pool, device, &name) != 0)
		fatal_f("out of memory");
	return name;
}

/* Touch notices for the agent, from a worker thread. */
static void
skh_touch_event(uint32_t id, const char *device, int begin)
{
	struct buf *m;
	char *name;

	if (device == NULL) {
		/* choosing a token by touch (sk.h: touch hook) */
		device = "*";
		if (begin)
			begin = 2;
	}
	name = skh_token_name(device);
	if ((m = buf_new()) == NULL || ipc_msg_start(m, 0, IPC_SK_TOUCH) != 0 ||
	    buf_put_u32(m, id) != 0 || buf_put_cstring(m, device) != 0 ||
	    buf_put_cstring(m, name) != 0 ||
	    buf_put_u8(m, (uint8_t)begin) != 0)
		fatal_f("out of memory");
	token_send(m);
	buf_free(m);
	free(name);
}

static void
skh_touch_hook(void *arg, const char *device, int begin)
{
	const struct skh_job *job = arg;

	skh_touch_event(job->id, device, begin);
}

/* The cached PIN of device, for the core (pin hook). */
static int
skh_pin_hook(void *arg, const char *device, char **pinp)
{
	struct skh_pin *p;
	int r = 0;

	(void)arg;
	*pinp = NULL;
	pthread_mutex_lock(&skh_lock);
	TAILQ_FOREACH(p, &skh_pins, entry) {
		if (strcmp(p->device, device) == 0)
			break;
	}
	if (p != NULL && p->expiry != 0 && p->expiry < time(NULL)) {
		skh_pin_free(p);
		p = NULL;
	}
	if (p != NULL) {
		if ((*pinp = secmem_strdup(p->pin)) == NULL)
			r = TOK_ERR_ALLOC;
		else if (p->expiry == 0)
			skh_pin_free(p);	/* for this operation only */
	}
	pthread_mutex_unlock(&skh_lock);
	return r;
}

/* Tell the agent a request is about to fail for want of device's PIN. */
static void
skh_pin_wanted(uint32_t id, const char *device, int r, int retries)
{
	struct buf *m;
	char *name = skh_token_name(device);

	if (r == TOK_ERR_PIN_INVALID || r == TOK_ERR_PIN_BLOCKED) {
		pthread_mutex_lock(&skh_lock);
		skh_forget_pins(device);
		pthread_mutex_unlock(&skh_lock);
	}
	if ((m = buf_new()) == NULL ||
	    ipc_msg_start(m, 0, IPC_SK_PIN_WANTED) != 0 ||
	    buf_put_u32(m, id) != 0 || buf_put_cstring(m, device) != 0 ||
	    buf_put_cstring(m, name) != 0 ||
	    buf_put_u32(m, retries < 0 ? SK_IPC_RETRIES_UNKNOWN :
	    (uint32_t)retries) != 0)
		fatal_f("out of memory");
	token_send(m);
	buf_free(m);
	free(name);
}

static void
skh_pin_failed_hook(void *arg, const char *device, int r, int retries)
{
	const struct skh_job *job = arg;

	skh_pin_wanted(job->id, device, r, retries);
}

/* Why a signature fails, for the agent's notice: the token concerned. */
static void
skh_failed_hook(void *arg, const char *device, int r)
{
	struct skh_job *job = arg;
	char *name;

	(void)r;
	free(job->why);
	job->why = NULL;
	if (device == NULL)
		return;
	name = skh_token_name(device);
	if (asprintf(&job->why, "security key %s", name) == -1)
		job->why = NULL;
	free(name);
}

/* A token came or went (from the watcher). */
static void
skh_device_event(void *arg, const char *device, const char *name,
    int present)
{
	struct buf *m;

	(void)arg;
	if (!present) {
		pthread_mutex_lock(&skh_lock);
		skh_forget_pins(device);
		pthread_mutex_unlock(&skh_lock);
	}
	logit("token %s (%s) %s", device, name,
	    present ? "plugged in" : "pulled");
	if ((m = buf_new()) == NULL ||
	    ipc_msg_start(m, 0, IPC_SK_DEVICE) != 0 ||
	    buf_put_cstring(m, device) != 0 || buf_put_cstring(m, name) != 0 ||
	    buf_put_u8(m, present ? 1 : 0) != 0)
		fatal_f("out of memory");
	token_send(m);
	buf_free(m);
}

static void
skh_run_job(struct skh_job *job)
{
	struct sk_sign_req req;
	struct sk_hooks hooks;
	struct sk_sig *sig = NULL;
	struct buf *m = NULL, *blob = NULL;
	char *pin = NULL;
	int r;

	memset(&req, 0, sizeof(req));
	req.alg = key_type(job->key) == KEY_ED25519_SK ? SK_ALG_ED25519 :
	    SK_ALG_ECDSA;
	req.data = buf_ptr(job->data);
	req.data_len = buf_len(job->data);
	req.application = key_sk_application(job->key);
	req.key_handle = buf_ptr(job->kh);
	req.key_handle_len = buf_len(job->kh);
	req.flags = job->flags;
	if (job->mw != NULL) {
		/* A middleware's PIN is cached under the module's path. */
		if ((req.flags & SK_FLAG_UV) &&
		    (r = skh_pin_hook(job, skmw_path(job->mw), &pin)) != 0)
			goto out;
		req.pin = pin;
		r = skmw_sign(job->mw, &req, skh_touch_hook, job, &sig);
		if (r == TOK_ERR_PIN_REQUIRED || r == TOK_ERR_PIN_INVALID)
			skh_pin_wanted(job->id, skmw_path(job->mw), r, -1);
	} else {
		memset(&hooks, 0, sizeof(hooks));
		hooks.touch = skh_touch_hook;
		hooks.pin = skh_pin_hook;
		hooks.pin_failed = skh_pin_failed_hook;
		hooks.failed = skh_failed_hook;
		hooks.arg = job;
		sk_ctx_set_hooks(job->ctx, &hooks);
		r = sk_ctx_sign(job->ctx, &req, &sig);
	}
	if (r != 0)
		goto out;
	if ((m = buf_new()) == NULL || (blob = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if ((r = key_sk_sig_from_parts(job->key, sig->sig_r, sig->sig_r_len,
	    sig->sig_s, sig->sig_s_len, sig->flags, sig->counter,
	    blob)) != 0 ||
	    (r = ipc_msg_start(m, job->id, IPC_SIGNATURE)) != 0 ||
	    (r = buf_put_stringb(m, blob)) != 0)
		goto out;
	token_send(m);
 out:
	if (r != 0)
		token_send_failure(job->id, r, r == TOK_ERR_PIN_REQUIRED ?
		    "the key needs the token's PIN" : job->why);
	secmem_free(pin);
	sk_sig_free(sig);
	buf_free(m);
	buf_free(blob);
}

/*
 * Import the resident keys of one token or of every token: the helper
 * keeps them.  A PIN given with the request goes to the token named, or
 * to the only token present; with several tokens and no device named it
 * would burn the retries of every token with another PIN, so each token
 * then uses its own cached PIN instead.
 */
static void
skh_run_load(struct skh_job *job)
{
	struct sk_key **keys = NULL;
	struct sk_hooks hooks;
	struct key *k = NULL;
	struct buf *m = NULL, *list = NULL, *add_body = NULL;
	uint64_t handle;
	char **paths = NULL, *label = NULL, *name = NULL;
	const char *pin = job->pin;
	size_t nkeys = 0, i, npaths = 0;
	uint32_t n = 0;
	int r;

	if ((m = buf_new()) == NULL || (list = buf_new()) == NULL ||
	    (add_body = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (pin != NULL && job->device == NULL) {
		if ((r = sk_devpool_candidates(skh_pool, 0, &paths,
		    &npaths)) != 0)
			goto out;
		if (npaths > 1) {
			error("a PIN for resident keys of one of %zu tokens: "
			    "using each token's own PIN instead", npaths);
			pin = NULL;
		}
	}
	memset(&hooks, 0, sizeof(hooks));
	hooks.pin = skh_pin_hook;
	hooks.pin_failed = skh_pin_failed_hook;
	hooks.arg = job;
	sk_ctx_set_hooks(job->ctx, &hooks);
	if ((r = sk_ctx_load_resident(job->ctx, pin, job->device, &keys,
	    &nkeys)) != 0)
		goto out;
	for (i = 0; i < nkeys; i++) {
		if ((r = key_sk_from_parts(keys[i]->alg == SK_ALG_ED25519 ?
		    KEY_ED25519_SK : KEY_ECDSA_SK, keys[i]->pubkey,
		    keys[i]->pubkey_len, keys[i]->application, keys[i]->flags,
		    keys[i]->key_handle, keys[i]->key_handle_len, &k)) != 0) {
			error_fr(r, "resident key %zu", i);
			continue;
		}
		name = skh_token_name(keys[i]->device != NULL ?
		    keys[i]->device : "?");
		if (asprintf(&label, "%s on %s", keys[i]->application,
		    name) < 0) {
			label = NULL;	/* asprintf leaves it undefined */
			r = TOK_ERR_ALLOC;
			goto out;
		}
		free(name);
		name = NULL;
		/* The key as ssh-add would add it: the agent gives it back. */
		buf_reset(add_body);
		if ((r = key_private_to_agent(k, label, add_body)) != 0)
			goto out;
		pthread_mutex_lock(&skh_lock);
		r = keystore_add(skh_keys, k, &handle);
		pthread_mutex_unlock(&skh_lock);
		if (r != 0)
			goto out;
		if ((r = buf_put_u64(list, handle)) != 0 ||
		    (r = key_puts(k, list)) != 0 ||
		    (r = buf_put_cstring(list, label)) != 0 ||
		    (r = buf_put_stringb(list, add_body)) != 0) {
			pthread_mutex_lock(&skh_lock);
			keystore_drop(skh_keys, handle);	/* frees k */
			pthread_mutex_unlock(&skh_lock);
			k = NULL;
			goto out;
		}
		k = NULL;	/* the store has it */
		free(label);
		label = NULL;
		n++;
	}
	if ((r = ipc_msg_start(m, job->id, IPC_SK_RESIDENT_KEYS)) != 0 ||
	    (r = buf_put_u32(m, n)) != 0 || (r = buf_putb(m, list)) != 0)
		goto out;
	token_send(m);
 out:
	if (r != 0)
		token_send_failure(job->id, r, "loading resident keys");
	sk_devpool_paths_free(paths, npaths);
	sk_keys_free(keys, nkeys);
	key_free(k);
	free(label);
	free(name);
	buf_free(m);
	buf_free(list);
	buf_free(add_body);
}

static void
skh_job_free(struct skh_job *job)
{
	secmem_free(job->pin);
	free(job->device);
	key_free(job->key);
	buf_free(job->kh);
	buf_free(job->data);
	sk_ctx_free(job->ctx);
	free(job->why);
	free(job);
}

/* A context for one job, on the shared pool. */
static int
skh_job_ctx(struct skh_job *job)
{
	int r;

	if ((r = sk_ctx_new(&sk_devops_fido, &job->ctx)) != 0)
		return r;
	sk_ctx_set_pool(job->ctx, skh_pool);
	return 0;
}

static void *
skh_worker(void *arg)
{
	struct skh_job *job;

	(void)arg;
	pthread_mutex_lock(&skh_lock);
	for (;;) {
		while ((job = TAILQ_FIRST(&skh_queue)) == NULL && !skh_eof) {
			skh_nidle++;
			pthread_cond_wait(&skh_cond, &skh_lock);
			skh_nidle--;
		}
		if (job == NULL)
			break;
		TAILQ_REMOVE(&skh_queue, job, entry);
		skh_nqueued--;
		TAILQ_INSERT_TAIL(&skh_running, job, entry);
		pthread_mutex_unlock(&skh_lock);
		if (job->load_resident)
			skh_run_load(job);
		else
			skh_run_job(job);
		pthread_mutex_lock(&skh_lock);
		TAILQ_REMOVE(&skh_running, job, entry);
		skh_job_free(job);
	}
	skh_nworkers--;
	pthread_cond_broadcast(&skh_done_cond);
	pthread_mutex_unlock(&skh_lock);
	return NULL;
}

/*
 * Queue job (its context made here, so a cancel can reach it) and make
 * sure a worker will take it: a new thread when every worker is busy,
 * up to SKH_WORKERS_MAX.  skh_lock held.
 */
static int
skh_enqueue(struct skh_job *job)
{
	pthread_attr_t attr;
	pthread_t t;
	int r;

	if (skh_nqueued >= SKH_QUEUE_MAX)
		return TOK_ERR_NO_BUFFER_SPACE;
	if ((r = skh_job_ctx(job)) != 0)
		return r;
	TAILQ_INSERT_TAIL(&skh_queue, job, entry);
	skh_nqueued++;
	if (skh_nqueued > skh_nidle && skh_nworkers < SKH_WORKERS_MAX) {
		if (pthread_attr_init(&attr) != 0 ||
		    pthread_attr_setdetachstate(&attr,
		    PTHREAD_CREATE_DETACHED) != 0)
			fatal_f("pthread_attr");
		if (pthread_create(&t, &attr, skh_worker, NULL) == 0)
			skh_nworkers++;
		else if (skh_nworkers == 0)
			fatal_f("pthread_create");
		else
			error_f("pthread_create: the request waits");
		pthread_attr_destroy(&attr);
	}
	pthread_cond_signal(&skh_cond);
	return 0;
}

/*
 * IPC_SK_PROVIDER: the key signs through a middleware from now on.  A
 * middleware that cannot be used leaves the key refusing to sign rather
 * than falling back to libfido2.
 */
static int
skh_set_provider(struct buf *req)
{
	struct skmw *mw = NULL;
	char *path = NULL;
	uint64_t handle;
	int r, known;

	if ((r = buf_get_u64(req, &handle)) != 0 ||
	    (r = buf_get_cstring(req, &path, NULL)) != 0 ||
	    (r = buf_expect_empty(req)) != 0)
		goto out;
	pthread_mutex_lock(&skh_lock);
	known = keystore_get(skh_keys, handle) != NULL;
	pthread_mutex_unlock(&skh_lock);
	if (!known) {
		r = TOK_ERR_KEY_NOT_FOUND;
		goto out;
	}
	/* A module that cannot be used leaves the key refusing to sign. */
	r = skmw_load(path, &mw);
	if ((known = skmw_key_set(handle, mw)) != 0)
		r = known;
 out:
	free(path);
	return r;
}

static int
skh_sign(uint32_t id, struct buf *req)
{
	struct skh_job *job = NULL;
	struct skmw *mw;
	const u_char *data, *kh;
	struct key *k;
	uint64_t handle;
	uint32_t flags;
	size_t len, khlen;
	int r;

	if ((r = ipc_get_sign(req, &handle, &data, &len, &flags)) != 0)
		return r;
	if ((job = calloc(1, sizeof(*job))) == NULL ||
	    (job->data = buf_new()) == NULL || (job->kh = buf_new()) == NULL ||
	    (r = buf_put(job->data, data, len)) != 0) {
		if (job != NULL)
			skh_job_free(job);
		return TOK_ERR_ALLOC;
	}
	job->id = id;
	if (skmw_key(handle, &mw) && mw == NULL) {
		skh_job_free(job);
		return TOK_ERR_PROVIDER_REFUSED;
	}
	job->mw = mw;
	pthread_mutex_lock(&skh_lock);
	if ((k = keystore_get(skh_keys, handle)) == NULL)
		r = TOK_ERR_KEY_NOT_FOUND;
	else if ((r = key_sk_key_handle(k, &kh, &khlen)) == 0 &&
	    (r = buf_put(job->kh, kh, khlen)) == 0)
		r = key_dup_public(k, &job->key);
	job->flags = k == NULL ? 0 : key_sk_flags(k);
	if (r == 0 && (r = skh_enqueue(job)) == 0)
		job = NULL;
	pthread_mutex_unlock(&skh_lock);
	if (job != NULL)
		skh_job_free(job);
	return r;
}

static int
skh_queue_load(uint32_t id, struct buf *req)
{
	struct skh_job *job = NULL;
	char *pin = NULL, *device = NULL;
	int r;

	if ((r = buf_get_cstring(req, &pin, NULL)) != 0 ||
	    (r = buf_get_cstring(req, &device, NULL)) != 0 ||
	    (r = buf_expect_empty(req)) != 0)
		goto out;
	if (strlen(pin) > SKH_PIN_MAX || strlen(device) > SKH_DEVICE_MAX) {
		r = TOK_ERR_STRING_TOO_LARGE;
		goto out;
	}
	if ((job = calloc(1, sizeof(*job))) == NULL ||
	    (*pin != '\0' && (job->pin = secmem_strdup(pin)) == NULL) ||
	    (*device != '\0' && (job->device = strdup(device)) == NULL)) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	job->id = id;
	job->load_resident = 1;
	pthread_mutex_lock(&skh_lock);
	if ((r = skh_enqueue(job)) == 0)
		job = NULL;
	pthread_mutex_unlock(&skh_lock);
 out:
	if (job != NULL)
		skh_job_free(job);
	if (pin != NULL)
		freezero(pin, strlen(pin));
	free(device);
	return r;
}

/* IPC_CANCEL from the runtime's loop: stop the request on its token. */
static void
skh_cancel(void *ctx, uint32_t id)
{
	struct skh_job *job;

	(void)ctx;
	pthread_mutex_lock(&skh_lock);
	TAILQ_FOREACH(job, &skh_running, entry) {
		if (job->id == id) {
			sk_ctx_cancel(job->ctx);
			break;
		}
	}
	TAILQ_FOREACH(job, &skh_queue, entry) {
		if (job->id == id) {
			TAILQ_REMOVE(&skh_queue, job, entry);
			skh_nqueued--;
			skh_job_free(job);
			break;
		}
	}
	pthread_mutex_unlock(&skh_lock);
}

/* IPC_SK_PIN: the PIN of one token, for that token only. */
static int
skh_set_pin(struct buf *req)
{
	struct skh_pin *p = NULL, *q;
	char *pin = NULL, *device = NULL;
	uint32_t secs;
	size_t n = 0;
	int r;

	if ((r = buf_get_cstring(req, &device, NULL)) != 0 ||
	    (r = buf_get_cstring(req, &pin, NULL)) != 0 ||
	    (r = buf_get_u32(req, &secs)) != 0 ||
	    (r = buf_expect_empty(req)) != 0)
		goto out;
	if (strlen(pin) > SKH_PIN_MAX || strlen(device) > SKH_DEVICE_MAX) {
		r = TOK_ERR_STRING_TOO_LARGE;
		goto out;
	}
	if (*device == '\0') {
		r = TOK_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->pin = secmem_strdup(pin)) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	p->device = device;
	device = NULL;
	p->expiry = secs == 0 ? 0 : time(NULL) + secs;
	pthread_mutex_lock(&skh_lock);
	skh_forget_pins(p->device);
	TAILQ_FOREACH(q, &skh_pins, entry)
		n++;
	if (n >= SKH_PINS_MAX)
		r = TOK_ERR_NO_BUFFER_SPACE;
	else {
		TAILQ_INSERT_TAIL(&skh_pins, p, entry);
		p = NULL;
	}
	pthread_mutex_unlock(&skh_lock);
 out:
	if (p != NULL) {
		secmem_free(p->pin);
		free(p->device);
		free(p);
	}
	if (pin != NULL)
		freezero(pin, strlen(pin));
	free(device);
	return r;
}

/*
 * Requests, one at a time on the runtime's loop (handle_on_loop): answered
 * at once, but signing and resident-key loading are queued for the token
 * workers, which answer themselves.  Nothing here waits on a token.
 */
static int
skh_handle(void *ctx, uint32_t id, uint8_t type, struct buf *m,
    uint8_t *rtypep, struct buf *payload, char **detailp)
{
	uint64_t handle;
	int r;

	(void)ctx;
	(void)detailp;
	*rtypep = IPC_OK;
	switch (type) {
	case IPC_SIGN:
		if ((r = skh_sign(id, m)) != 0)
			return r;
		return TOKEN_REPLY_LATER;
	case IPC_SK_LOAD_RESIDENT:
		if ((r = skh_queue_load(id, m)) != 0)
			return r;
		return TOKEN_REPLY_LATER;
	case IPC_ADD_KEY:
		*rtypep = IPC_KEY;
		return keystore_add_from_agent(skh_keys, &skh_lock,
		    KEYSTORE_SK, m, payload);
	case IPC_DROP:
		if ((r = buf_get_u64(m, &handle)) != 0 ||
		    (r = buf_expect_empty(m)) != 0)
			return r;
		skmw_key_drop(handle);
		pthread_mutex_lock(&skh_lock);
		r = keystore_drop(skh_keys, handle);
		pthread_mutex_unlock(&skh_lock);
		return r;
	case IPC_DROP_ALL:
		if ((r = buf_expect_empty(m)) != 0)
			return r;
		skmw_key_drop_all();
		pthread_mutex_lock(&skh_lock);
		keystore_drop_all(skh_keys);
		skh_forget_pins(NULL);
		pthread_mutex_unlock(&skh_lock);
		return 0;
	case IPC_SK_PROVIDER:
		return skh_set_provider(m);
	case IPC_SK_PIN:
		return skh_set_pin(m);
	case IPC_SK_FORGET:
		if ((r = buf_expect_empty(m)) != 0)
			return r;
		pthread_mutex_lock(&skh_lock);
		skh_forget_pins(NULL);
		pthread_mutex_unlock(&skh_lock);
		return 0;
	default:
		return TOK_ERR_FEATURE_UNSUPPORTED;
	}
}

static const struct token_ops skh_ops = {
	.name = "sk",
	.handle = skh_handle,
	.handle_on_loop = 1,	/* token work goes to the token workers */
	.cancel = skh_cancel,
};

/*
 * The watcher: announces tokens as they come and go (the first look
 * announces those present at start) and closes idle handles.
 */
static void *
skh_watcher(void *arg)
{
	int poll_ms = *(int *)arg, r;

	/* sleeps until a token may have come or gone: no polling */
	if ((r = sk_devpool_watch(skh_pool, SKH_IDLE_MS, poll_ms,
	    skh_wake[0])) != 0)
		error_fr(r, "watching tokens");
	pthread_mutex_lock(&skh_lock);
	skh_watching = 0;
	pthread_cond_broadcast(&skh_done_cond);
	pthread_mutex_unlock(&skh_lock);
	return NULL;
}

/* An integer from the environment, within bounds; fatal when malformed. */
static int
skh_env_int(const char *name, int min, int max, int def)
{
	const char *s, *errstr = NULL;
	int v;

	if ((s = getenv(name)) == NULL || *s == '\0')
		return def;
	v = (int)strtonum(s, min, max, &errstr);
	if (errstr != NULL)
		fatal_f("bad %s \"%s\": %s", name, s, errstr);
	return v;
}

int
main(int argc, char **argv)
{
	struct skh_job *job;
	pthread_attr_t attr;
	pthread_t watcher;
	char **args;
	int r, poll_ms;

	token_helper_init(argc, argv, "tokagent-sk-helper", "", 0, &args);
	if ((skh_keys = keystore_new()) == NULL)
		fatal_f("out of memory");
	skh_timeout_ms = skh_env_int("TOKAGENT_FIDO_TIMEOUT_MS", 100, 600000,
	    SKH_TIMEOUT_MS);
	poll_ms = skh_env_int("TOKAGENT_FIDO_POLL_MS", 10, 60000, SKH_POLL_MS);
	if ((r = sk_devpool_new(&sk_devops_fido, &skh_pool)) != 0 ||
	    (r = sk_devpool_set_devices(skh_pool, getenv(FIDO_UNIX_ENV),
	    getenv("TOKAGENT_FIDO_NO_DISCOVERY") == NULL)) != 0)
		fatal_fr(r, "FIDO setup");
	sk_devpool_set_timeout(skh_pool, skh_timeout_ms);
	sk_devpool_set_events(skh_pool, skh_device_event, NULL);
	skh_watching = 1;
	if (pipe2(skh_wake, O_CLOEXEC) != 0 ||
	    pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0 ||
	    pthread_create(&watcher, &attr, skh_watcher, &poll_ms) != 0)
		fatal_f("cannot start the token watcher");
	pthread_attr_destroy(&attr);
	r = token_helper_run(&skh_ops, NULL);
	/* The agent is gone: stop the tokens, then leave. */
	pthread_mutex_lock(&skh_lock);
	skh_eof = 1;
	while ((job = TAILQ_FIRST(&skh_queue)) != NULL) {
		TAILQ_REMOVE(&skh_queue, job, entry);
		skh_nqueued--;
		skh_job_free(job);
	}
	TAILQ_FOREACH(job, &skh_running, entry)
		sk_ctx_cancel(job->ctx);
	pthread_cond_broadcast(&skh_cond);
	pthread_cond_broadcast(&skh_done_cond);
	if (write(skh_wake[1], "", 1) != 1)
		fatal_f("cannot stop the token watcher");
	while (skh_nworkers > 0 || skh_watching)
		pthread_cond_wait(&skh_done_cond, &skh_lock);
	skh_forget_pins(NULL);
	pthread_mutex_unlock(&skh_lock);
	skmw_key_drop_all();
	keystore_free(skh_keys);
	sk_devpool_free(skh_pool);
	return r == 0 ? 0 : 1;
}

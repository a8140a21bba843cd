/*
 * tokagent-sk-helper: the agent's long-lived FIDO2 helper.  It holds the
 * key handles of FIDO keys added to the agent and signs with them through
 * the sk core (libfido2), so the agent never links libfido2 and nothing is
 * forked per signature.
 *
 * Started by tokagent with the IPC socket on fd 3 (common/ipc.h and
 * sk/sk-ipc.h).  The main thread reads requests; each token operation runs
 * on a worker thread of its own (at most SKH_WORKERS_MAX at once, the rest
 * queue in order), so a touch pending on one token never delays another
 * token.  Devices come from one shared pool (sk/devpool.h): one operation
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
 * Usage: tokagent-sk-helper [-d]
 */
#include "config.h"

#include <sys/queue.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/ecdsa.h>
#include <openssl/bn.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/harden.h"
#include "common/ipc.h"
#include "common/key.h"
#include "common/log.h"
#include "common/secmem.h"
#include "sk/devpool.h"
#include "sk/fido_unix.h"
#include "sk/sk-api.h"
#include "sk/sk-ipc.h"
#include "sk/sk.h"
#include "token/keystore.h"
#include "token/server.h"

#define SKH_READ_CHUNK		65536
#define SKH_TIMEOUT_MS		(60 * 1000)	/* a touch never comes */
#define SKH_PIN_MAX		256
#define SKH_DEVICE_MAX		1024	/* longest device path we take */
#define SKH_WORKERS_MAX		32	/* token operations at once */
#define SKH_QUEUE_MAX		1024	/* requests waiting to start */
#define SKH_PINS_MAX		64	/* tokens with a cached PIN */
#define SKH_IDLE_MS		2000	/* close a device unused this long */
#define SKH_POLL_MS		1000	/* look for tokens this often */

/* An external middleware, loaded once per path and kept until exit. */
struct skh_mw {
	char *path;
	void *dl;
	pthread_mutex_t lock;		/* one sk_sign at a time */
	int (*sign)(uint32_t, const uint8_t *, size_t, const char *,
	    const uint8_t *, size_t, uint8_t, const char *,
	    struct sk_option **, struct sk_sign_response **);
	TAILQ_ENTRY(skh_mw) entry;
};

/* A key that signs through a middleware; main thread only. */
struct skh_keymw {
	uint64_t handle;
	struct skh_mw *mw;		/* NULL: refused, the key may not sign */
	TAILQ_ENTRY(skh_keymw) entry;
};

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
	struct skh_mw *mw;		/* NULL: libfido2 (internal) */
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
static pthread_mutex_t skh_write_lock = PTHREAD_MUTEX_INITIALIZER;
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
static TAILQ_HEAD(, skh_mw) skh_mws = TAILQ_HEAD_INITIALIZER(skh_mws);
static TAILQ_HEAD(, skh_keymw) skh_keymws =
    TAILQ_HEAD_INITIALIZER(skh_keymws);

/* Write one message to the agent; any thread. */
static void
skh_send(struct buf *m)
{
	struct buf *out;
	ssize_t n;

	if ((out = buf_new()) == NULL || frame_put(out, m) != 0)
		fatal_f("out of memory");
	pthread_mutex_lock(&skh_write_lock);
	while (buf_len(out) > 0) {
		n = write(TOKEN_IPC_FD, buf_ptr(out), buf_len(out));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* the agent is gone; main sees EOF */
		if (buf_consume(out, (size_t)n) != 0)
			fatal_f("buffer accounting");
	}
	pthread_mutex_unlock(&skh_write_lock);
	buf_free(out);
}

static void
skh_reply_failure(uint32_t id, int r, const char *detail)
{
	struct buf *m;

	if ((m = buf_new()) == NULL || ipc_msg_failure(m, id, r, detail) != 0)
		fatal_f("out of memory");
	skh_send(m);
	buf_free(m);
}

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
	skh_send(m);
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
	skh_send(m);
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
	skh_send(m);
	buf_free(m);
}

/* The token's signature as the SSH sk signature blob. */
static int
skh_sig_blob(const struct key *k, const struct sk_sig *sig, struct buf *out)
{
	ECDSA_SIG *esig = NULL;
	BIGNUM *r = NULL, *s = NULL;
	u_char *der = NULL;
	int len, ret;

	if (key_type(k) == KEY_ED25519_SK)
		return key_sk_sig_wrap(k, sig->sig_r, sig->sig_r_len,
		    sig->flags, sig->counter, out);
	if ((esig = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(sig->sig_r, (int)sig->sig_r_len, NULL)) == NULL ||
	    (s = BN_bin2bn(sig->sig_s, (int)sig->sig_s_len, NULL)) == NULL ||
	    ECDSA_SIG_set0(esig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(esig);
		return TOK_ERR_LIBCRYPTO;
	}
	if ((len = i2d_ECDSA_SIG(esig, &der)) <= 0) {
		ECDSA_SIG_free(esig);
		return TOK_ERR_LIBCRYPTO;
	}
	ret = key_sk_sig_wrap(k, der, (size_t)len, sig->flags, sig->counter,
	    out);
	OPENSSL_free(der);
	ECDSA_SIG_free(esig);
	return ret;
}

/*
 * Sign through the job's middleware: the response becomes a struct sk_sig
 * like the internal path's.  The sk-api has no touch hook, so the touch
 * notice spans the whole call for keys that need presence.
 */
static int
skh_mw_sign(const struct skh_job *job, const struct sk_sign_req *req,
    struct sk_sig **sigp)
{
	struct sk_option *opts[1] = { NULL };
	struct sk_sign_response *resp = NULL;
	struct sk_sig *sig = NULL;
	int r = TOK_ERR_INTERNAL, mr;

	*sigp = NULL;
	pthread_mutex_lock(&job->mw->lock);
	if (job->flags & SK_FLAG_UP)
		skh_touch_event(job->id, job->mw->path, 1);
	mr = job->mw->sign(req->alg == SK_ALG_ED25519 ? SSH_SK_ED25519 :
	    SSH_SK_ECDSA, req->data, req->data_len, req->application,
	    req->key_handle, req->key_handle_len, req->flags, req->pin, opts,
	    &resp);
	if (job->flags & SK_FLAG_UP)
		skh_touch_event(job->id, job->mw->path, 0);
	pthread_mutex_unlock(&job->mw->lock);
	if (mr != 0) {
		debug_f("middleware %s: sk_sign: %d", job->mw->path, mr);
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
		error_f("middleware %s: incomplete signature", job->mw->path);
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
		    (r = skh_pin_hook(job, job->mw->path, &pin)) != 0)
			goto out;
		req.pin = pin;
		r = skh_mw_sign(job, &req, &sig);
		if (r == TOK_ERR_PIN_REQUIRED || r == TOK_ERR_PIN_INVALID)
			skh_pin_wanted(job->id, job->mw->path, r, -1);
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
	if ((r = skh_sig_blob(job->key, sig, blob)) != 0 ||
	    (r = ipc_msg_start(m, job->id, IPC_SIGNATURE)) != 0 ||
	    (r = buf_put_stringb(m, blob)) != 0)
		goto out;
	skh_send(m);
 out:
	if (r != 0)
		skh_reply_failure(job->id, r, r == TOK_ERR_PIN_REQUIRED ?
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
	struct buf *m = NULL, *list = NULL;
	uint64_t handle;
	char **paths = NULL, *label = NULL, *name = NULL;
	const char *pin = job->pin;
	size_t nkeys = 0, i, npaths = 0;
	uint32_t n = 0;
	int r;

	if ((m = buf_new()) == NULL || (list = buf_new()) == NULL) {
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
		pthread_mutex_lock(&skh_lock);
		r = keystore_add(skh_keys, k, &handle);
		pthread_mutex_unlock(&skh_lock);
		if (r != 0)
			goto out;
		if ((r = buf_put_u64(list, handle)) != 0 ||
		    (r = key_puts(k, list)) != 0 ||
		    (r = buf_put_cstring(list, label)) != 0)
			goto out;
		k = NULL;	/* the store has it */
		free(label);
		label = NULL;
		n++;
	}
	if ((r = ipc_msg_start(m, job->id, IPC_KEYS)) != 0 ||
	    (r = buf_put_u32(m, n)) != 0 || (r = buf_putb(m, list)) != 0)
		goto out;
	skh_send(m);
 out:
	if (r != 0)
		skh_reply_failure(job->id, r, "loading resident keys");
	sk_devpool_paths_free(paths, npaths);
	sk_keys_free(keys, nkeys);
	key_free(k);
	free(label);
	free(name);
	buf_free(m);
	buf_free(list);
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

static int
skh_add(struct buf *req, struct buf *reply)
{
	struct buf *body = NULL;
	struct key *k = NULL, *stored;
	const u_char *kh;
	char *comment = NULL;
	uint64_t handle;
	size_t total, khlen;
	int r;

	if ((r = buf_froms(req, &body)) != 0 ||
	    (r = buf_expect_empty(req)) != 0)
		goto out;
	total = buf_len(body);
	if ((r = key_private_from_agent(body, &k, &comment)) != 0)
		goto out;
	if (!key_is_sk(k) || key_sk_key_handle(k, &kh, &khlen) != 0) {
		r = TOK_ERR_KEY_TYPE_MISMATCH;
		goto out;
	}
	pthread_mutex_lock(&skh_lock);
	r = keystore_add(skh_keys, k, &handle);
	pthread_mutex_unlock(&skh_lock);
	if (r != 0)
		goto out;
	stored = k;
	k = NULL;
	if ((r = buf_put_u64(reply, handle)) != 0 ||
	    (r = key_puts(stored, reply)) != 0 ||
	    (r = buf_put_cstring(reply, comment)) != 0 ||
	    (r = buf_put_u32(reply, (uint32_t)(total - buf_len(body)))) != 0) {
		pthread_mutex_lock(&skh_lock);
		(void)keystore_drop(skh_keys, handle);
		pthread_mutex_unlock(&skh_lock);
	}
 out:
	key_free(k);
	free(comment);
	buf_free(body);
	return r;
}

static struct skh_keymw *
skh_keymw_find(uint64_t handle)
{
	struct skh_keymw *km;

	TAILQ_FOREACH(km, &skh_keymws, entry) {
		if (km->handle == handle)
			return km;
	}
	return NULL;
}

/* The key with handle (dropped or replaced) forgets its middleware. */
static void
skh_keymw_drop(uint64_t handle)
{
	struct skh_keymw *km;

	if ((km = skh_keymw_find(handle)) != NULL) {
		TAILQ_REMOVE(&skh_keymws, km, entry);
		free(km);
	}
}

static void
skh_keymw_drop_all(void)
{
	struct skh_keymw *km;

	while ((km = TAILQ_FIRST(&skh_keymws)) != NULL) {
		TAILQ_REMOVE(&skh_keymws, km, entry);
		free(km);
	}
}

/* The middleware at path, loaded and checked on first use. */
static int
skh_mw_load(const char *path, struct skh_mw **mwp)
{
	struct skh_mw *mw = NULL;
	uint32_t (*version)(void);
	uint32_t v;
	int r = TOK_ERR_INTERNAL;

	*mwp = NULL;
	TAILQ_FOREACH(mw, &skh_mws, entry) {
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
	TAILQ_INSERT_TAIL(&skh_mws, mw, entry);
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

/*
 * IPC_SK_PROVIDER: the key signs through a middleware from now on.  A
 * middleware that cannot be used leaves the key refusing to sign rather
 * than falling back to libfido2.
 */
static int
skh_set_provider(struct buf *req)
{
	struct skh_keymw *km = NULL;
	struct skh_mw *mw = NULL;
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
	if ((km = skh_keymw_find(handle)) == NULL) {
		if ((km = calloc(1, sizeof(*km))) == NULL) {
			r = TOK_ERR_ALLOC;
			goto out;
		}
		km->handle = handle;
		TAILQ_INSERT_TAIL(&skh_keymws, km, entry);
	}
	r = skh_mw_load(path, &mw);
	km->mw = mw;
 out:
	free(path);
	return r;
}

static int
skh_sign(uint32_t id, struct buf *req)
{
	struct skh_job *job = NULL;
	struct skh_keymw *km;
	const u_char *data, *kh;
	struct key *k;
	uint64_t handle;
	uint32_t flags;
	size_t len, khlen;
	int r;

	if ((r = buf_get_u64(req, &handle)) != 0 ||
	    (r = buf_get_string_direct(req, &data, &len)) != 0 ||
	    (r = buf_get_u32(req, &flags)) != 0 ||
	    (r = buf_get_string_direct(req, NULL, NULL)) != 0 ||
	    (r = buf_expect_empty(req)) != 0)
		return r;
	if ((job = calloc(1, sizeof(*job))) == NULL ||
	    (job->data = buf_new()) == NULL || (job->kh = buf_new()) == NULL ||
	    (r = buf_put(job->data, data, len)) != 0) {
		if (job != NULL)
			skh_job_free(job);
		return TOK_ERR_ALLOC;
	}
	job->id = id;
	if ((km = skh_keymw_find(handle)) != NULL && km->mw == NULL) {
		skh_job_free(job);
		return TOK_ERR_PROVIDER_REFUSED;
	}
	job->mw = km == NULL ? NULL : km->mw;
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

static void
skh_cancel(struct buf *req)
{
	struct skh_job *job;
	uint32_t id;

	if (buf_get_u32(req, &id) != 0 || buf_expect_empty(req) != 0) {
		error("bad cancel from the agent");
		return;
	}
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

/* Requests answered on the main thread at once; signing is queued. */
static void
skh_handle(struct buf *m)
{
	struct buf *reply = NULL, *payload = NULL;
	uint32_t id;
	uint8_t type, rtype = IPC_OK;
	uint64_t handle;
	int r;

	if ((r = ipc_msg_header(m, &id, &type)) != 0)
		fatal_fr(r, "bad message from the agent");
	if (type == IPC_CANCEL) {
		skh_cancel(m);
		return;
	}
	if (type == IPC_SIGN) {
		if ((r = skh_sign(id, m)) != 0)
			skh_reply_failure(id, r, NULL);
		return;
	}
	if (type == IPC_SK_LOAD_RESIDENT) {
		if ((r = skh_queue_load(id, m)) != 0)
			skh_reply_failure(id, r, NULL);
		return;
	}
	if ((reply = buf_new()) == NULL || (payload = buf_new()) == NULL)
		fatal_f("out of memory");
	switch (type) {
	case IPC_ADD_KEY:
		r = skh_add(m, payload);
		rtype = IPC_KEY;
		break;
	case IPC_DROP:
		if ((r = buf_get_u64(m, &handle)) == 0 &&
		    (r = buf_expect_empty(m)) == 0) {
			skh_keymw_drop(handle);
			pthread_mutex_lock(&skh_lock);
			r = keystore_drop(skh_keys, handle);
			pthread_mutex_unlock(&skh_lock);
		}
		break;
	case IPC_DROP_ALL:
		skh_keymw_drop_all();
		pthread_mutex_lock(&skh_lock);
		keystore_drop_all(skh_keys);
		skh_forget_pins(NULL);
		pthread_mutex_unlock(&skh_lock);
		break;
	case IPC_SK_PROVIDER:
		r = skh_set_provider(m);
		break;
	case IPC_SK_PIN:
		r = skh_set_pin(m);
		break;
	case IPC_SK_FORGET:
		if ((r = buf_expect_empty(m)) != 0)
			break;
		pthread_mutex_lock(&skh_lock);
		skh_forget_pins(NULL);
		pthread_mutex_unlock(&skh_lock);
		break;
	default:
		r = TOK_ERR_FEATURE_UNSUPPORTED;
		break;
	}
	if (r == 0) {
		if (ipc_msg_start(reply, id, rtype) != 0 ||
		    buf_putb(reply, payload) != 0)
			fatal_f("out of memory");
		skh_send(reply);
	} else
		skh_reply_failure(id, r, NULL);
	buf_free(reply);
	buf_free(payload);
}

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
	struct buf *in, *m = NULL;
	struct skh_job *job;
	pthread_attr_t attr;
	pthread_t watcher;
	u_char *p;
	ssize_t n;
	int ch, debug = 0, r, poll_ms;

	harden_process();
	while ((ch = getopt(argc, argv, "d")) != -1) {
		switch (ch) {
		case 'd':
			debug++;
			break;
		default:
			fatal_f("usage: tokagent-sk-helper [-d]");
		}
	}
	log_init("tokagent-sk-helper", debug ? LOG_LEVEL_DEBUG2 :
	    LOG_LEVEL_INFO, 1);
	if ((skh_keys = keystore_new()) == NULL || (in = buf_new()) == NULL)
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
	for (;;) {
		if ((r = buf_reserve(in, SKH_READ_CHUNK, &p)) != 0)
			fatal_fr(r, "input");
		n = read(TOKEN_IPC_FD, p, SKH_READ_CHUNK);
		if (buf_consume_end(in, SKH_READ_CHUNK -
		    (n > 0 ? (size_t)n : 0)) != 0)
			fatal_f("buffer accounting");
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		while ((r = frame_take(in, IPC_MSG_MAX, &m)) == 0 && m != NULL) {
			skh_handle(m);
			buf_free(m);
			m = NULL;
		}
		if (r != 0)
			fatal_fr(r, "bad frame from the agent");
	}
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
	skh_keymw_drop_all();
	keystore_free(skh_keys);
	sk_devpool_free(skh_pool);
	buf_free(in);
	return 0;
}

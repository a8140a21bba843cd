/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Agent lock (see lock.h). */
#include "config.h"

#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "agent/conn.h"
#include "agent/audit.h"
#include "agent/lock.h"
#include "agent/loop.h"
#include "agent/helper-sk.h"
#include "agent/helper-piv.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/secmem.h"

#define LOCK_SALT_LEN		16
#define LOCK_HASH_LEN		32
#define LOCK_KDF_ROUNDS		4096
#define LOCK_DELAY_STEP_MS	100
#define LOCK_DELAY_MAX_MS	10000
#define LOCK_PASS_MAX		4096	/* bytes of a lock passphrase */
#define LOCK_QUEUE_MAX		64	/* unlock attempts waiting their turn */

static int lock_locked;
static int lock_session_locked;	/* the screen is locked (policy "lock") */
static u_char lock_salt[LOCK_SALT_LEN];
static u_char lock_hash[LOCK_HASH_LEN];
static unsigned int lock_failures;

/*
 * Unlock attempts are tried one at a time, agent-wide: after a failure
 * the next one waits LOCK_DELAY_STEP_MS times the number of failures so
 * far (at most LOCK_DELAY_MAX_MS), however many connections guess at once.
 * The failed attempt is answered when its delay is over.
 */
struct lock_attempt {
	struct conn *c;
	u_char *pass;			/* secure memory */
	size_t len;
	TAILQ_ENTRY(lock_attempt) entry;
};

static TAILQ_HEAD(, lock_attempt) lock_queue =
    TAILQ_HEAD_INITIALIZER(lock_queue);
static size_t lock_nqueued;
static struct lock_attempt *lock_answering;	/* failed, its delay running */
static struct loop_timer *lock_timer;		/* the delay */
static uint64_t lock_full_logged_ms;
static int lock_full_logged;

int
lock_is_locked(void)
{
	return lock_locked || lock_session_locked;
}

void
lock_session(int locked)
{
	if (locked == lock_session_locked)
		return;
	lock_session_locked = locked;
	logit("agent %s with the screen", locked ? "locked" : "unlocked");
}

static int
lock_derive(const u_char *pass, size_t len, u_char *out)
{
	if (PKCS5_PBKDF2_HMAC((const char *)pass, (int)len, lock_salt,
	    sizeof(lock_salt), LOCK_KDF_ROUNDS, EVP_sha256(), LOCK_HASH_LEN,
	    out) != 1)
		return TOK_ERR_LIBCRYPTO;
	return 0;
}

static int
lock_get_passphrase(struct buf *m, const u_char **pp, size_t *lenp)
{
	int r;

	if ((r = buf_get_string_direct(m, pp, lenp)) != 0 ||
	    (r = buf_expect_empty(m)) != 0)
		return r;
	return 0;
}

void
lock_lock(struct conn *c, struct buf *m)
{
	const u_char *pass;
	size_t len;
	int r;

	if ((r = lock_get_passphrase(m, &pass, &len)) != 0) {
		error_fr(r, "lock request");
		conn_reply_status(c, 0);
		return;
	}
	if (len > LOCK_PASS_MAX) {
		error("lock: passphrase longer than %d bytes", LOCK_PASS_MAX);
		conn_reply_status(c, 0);
		return;
	}
	if (lock_locked) {
		conn_reply_status(c, 0);
		return;
	}
	if (RAND_bytes(lock_salt, sizeof(lock_salt)) != 1 ||
	    (r = lock_derive(pass, len, lock_hash)) != 0) {
		error("lock: could not hash passphrase");
		conn_reply_status(c, 0);
		return;
	}
	lock_locked = 1;
	lock_failures = 0;
	/* Cached PINs do not survive a lock. */
	helper_sk_forget_pins();
	helper_piv_forget_pins();
	logit("agent locked by pid %ld", (long)c->pid);
	audit_event("lock", c, NULL, "ok", NULL);
	conn_reply_status(c, 1);
}

static void
lock_attempt_free(struct lock_attempt *a)
{
	if (a == NULL)
		return;
	secmem_free(a->pass);
	free(a);
}

/* The connection of a waiting attempt closed. */
static void
lock_attempt_cancel(void *arg)
{
	struct lock_attempt *a = arg;

	if (a == lock_answering)
		lock_answering = NULL;	/* its delay still holds the others */
	else {
		TAILQ_REMOVE(&lock_queue, a, entry);
		lock_nqueued--;
	}
	lock_attempt_free(a);
}

static void lock_pump(void);

/* A failure's delay is over: answer it, and try the next attempt. */
static void
lock_delay_done(void *arg)
{
	struct lock_attempt *a = lock_answering;
	struct conn *c;

	(void)arg;
	lock_timer = NULL;
	lock_answering = NULL;
	if (a != NULL) {
		c = a->c;
		lock_attempt_free(a);
		conn_reply_status(c, 0);
	}
	lock_pump();
}

/* Try waiting attempts, in order, while no failure's delay is running. */
static void
lock_pump(void)
{
	u_char h[LOCK_HASH_LEN];
	struct lock_attempt *a;
	struct conn *c;
	uint64_t delay;
	int r, ok;

	while (lock_timer == NULL && (a = TAILQ_FIRST(&lock_queue)) != NULL) {
		TAILQ_REMOVE(&lock_queue, a, entry);
		lock_nqueued--;
		c = a->c;
		if (!lock_locked) {
			/* Unlocked by an earlier attempt: as if unlocked. */
			lock_attempt_free(a);
			conn_reply_status(c, 0);
			continue;
		}
		r = lock_derive(a->pass, a->len, h);
		ok = r == 0 && CRYPTO_memcmp(h, lock_hash, sizeof(h)) == 0;
		explicit_bzero(h, sizeof(h));
		if (ok) {
			explicit_bzero(lock_hash, sizeof(lock_hash));
			lock_locked = 0;
			lock_failures = 0;
			lock_attempt_free(a);
			logit("agent unlocked by pid %ld", (long)c->pid);
			audit_event("unlock", c, NULL, "ok", NULL);
			conn_reply_status(c, 1);
			continue;
		}
		if (lock_failures < 100)
			lock_failures++;
		delay = (uint64_t)LOCK_DELAY_STEP_MS * lock_failures;
		if (delay > LOCK_DELAY_MAX_MS)
			delay = LOCK_DELAY_MAX_MS;
		error("unlock failed (pid %ld); answering in %llu ms",
		    (long)c->pid, (unsigned long long)delay);
		audit_event("unlock", c, NULL, "refused", "wrong passphrase");
		/* Slow down guessing without stalling anyone else. */
		if ((lock_timer = loop_add_timer(delay, lock_delay_done,
		    NULL)) == NULL) {
			lock_attempt_free(a);
			conn_reply_status(c, 0);
			return;	/* the next attempt retries */
		}
		lock_answering = a;
	}
}

void
lock_unlock(struct conn *c, struct buf *m)
{
	struct lock_attempt *a = NULL;
	const u_char *pass;
	uint64_t now;
	size_t len;
	int r;

	if ((r = lock_get_passphrase(m, &pass, &len)) != 0) {
		error_fr(r, "unlock request");
		conn_reply_status(c, 0);
		return;
	}
	if (!lock_locked) {
		conn_reply_status(c, 0);
		return;
	}
	if (len > LOCK_PASS_MAX) {
		/* Cannot match: no lock passphrase is that long. */
		error("unlock failed (pid %ld): passphrase too long",
		    (long)c->pid);
		conn_reply_status(c, 0);
		return;
	}
	if (lock_nqueued >= LOCK_QUEUE_MAX) {
		/* Refused untried: guessing faster gains nothing. */
		now = loop_now_ms();
		if (!lock_full_logged || now - lock_full_logged_ms > 10000)
			error("unlock attempts arrive faster than they are "
			    "tried (%d waiting): refusing more", LOCK_QUEUE_MAX);
		lock_full_logged = 1;
		lock_full_logged_ms = now;
		conn_reply_status(c, 0);
		return;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->pass = secmem_alloc(len > 0 ? len : 1)) == NULL) {
		error_f("out of memory");
		free(a);
		conn_reply_status(c, 0);
		return;
	}
	if (len > 0)
		memcpy(a->pass, pass, len);
	a->len = len;
	a->c = c;
	TAILQ_INSERT_TAIL(&lock_queue, a, entry);
	lock_nqueued++;
	conn_wait(c, a, lock_attempt_cancel);
	lock_pump();
}

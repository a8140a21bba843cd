/* Agent lock (see lock.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "agent/conn.h"
#include "agent/audit.h"
#include "agent/lock.h"
#include "agent/loop.h"
#include "agent/tokens.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"

#define LOCK_SALT_LEN		16
#define LOCK_HASH_LEN		32
#define LOCK_KDF_ROUNDS		4096
#define LOCK_DELAY_STEP_MS	100
#define LOCK_DELAY_MAX_MS	10000

static int lock_locked;
static int lock_session_locked;	/* the screen is locked (policy "lock") */
static u_char lock_salt[LOCK_SALT_LEN];
static u_char lock_hash[LOCK_HASH_LEN];
static unsigned int lock_failures;

struct lock_delay {
	struct conn *c;
	struct loop_timer *timer;
};

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
	tokens_forget_secrets();
	logit("agent locked by pid %ld", (long)c->pid);
	audit_event("lock", c, NULL, "ok", NULL);
	conn_reply_status(c, 1);
}

static void
lock_delay_done(void *arg)
{
	struct lock_delay *d = arg;
	struct conn *c = d->c;

	free(d);
	conn_reply_status(c, 0);
}

static void
lock_delay_cancel(void *arg)
{
	struct lock_delay *d = arg;

	loop_cancel_timer(d->timer);
	free(d);
}

void
lock_unlock(struct conn *c, struct buf *m)
{
	u_char h[LOCK_HASH_LEN];
	struct lock_delay *d;
	const u_char *pass;
	uint64_t delay;
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
	r = lock_derive(pass, len, h);
	if (r == 0 && CRYPTO_memcmp(h, lock_hash, sizeof(h)) == 0) {
		explicit_bzero(h, sizeof(h));
		explicit_bzero(lock_hash, sizeof(lock_hash));
		lock_locked = 0;
		lock_failures = 0;
		logit("agent unlocked by pid %ld", (long)c->pid);
		audit_event("unlock", c, NULL, "ok", NULL);
		conn_reply_status(c, 1);
		return;
	}
	explicit_bzero(h, sizeof(h));
	if (lock_failures < 100)
		lock_failures++;
	delay = (uint64_t)LOCK_DELAY_STEP_MS * lock_failures;
	if (delay > LOCK_DELAY_MAX_MS)
		delay = LOCK_DELAY_MAX_MS;
	error("unlock failed (pid %ld); answering in %llu ms", (long)c->pid,
	    (unsigned long long)delay);
	audit_event("unlock", c, NULL, "refused", "wrong passphrase");
	/* Slow down guessing without stalling anyone else. */
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->timer = loop_add_timer(delay, lock_delay_done, d)) == NULL) {
		free(d);
		conn_reply_status(c, 0);
		return;
	}
	d->c = c;
	conn_wait(c, d, lock_delay_cancel);
}

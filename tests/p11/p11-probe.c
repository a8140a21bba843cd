/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * p11-probe: test driver for tokagent-p11-helper.  Spawns the helper the
 * way the agent does (the IPC socketpair end on fd 3) and talks the helper
 * protocol to it.
 *
 * Usage:
 *   p11-probe keys HELPER MODULE PIN
 *	add the provider, print each key as "type base64 label" (the format
 *	of ssh-keygen -D), sign with every key (RSA: flags 0, 2, 4) and
 *	verify each signature with key_verify; check that handles are stable
 *	across IPC_P11_RESCAN, that unknown handles and types fail cleanly,
 *	and that IPC_REMOVE_PROVIDER ends the helper.
 *   p11-probe fail ERR HELPER MODULE PIN [PATH]
 *	IPC_ADD_PROVIDER (naming PATH, default MODULE) must fail with the
 *	TOK_ERR_* value ERR (e.g. -25 for a wrong PIN).
 *   p11-probe relogin HELPER MODULE PIN BADPIN
 *	add with an empty PIN: signing must ask for the PIN
 *	(TOK_ERR_PIN_REQUIRED); IPC_P11_LOGIN with BADPIN must fail with
 *	TOK_ERR_PIN_INVALID; with PIN it must succeed and signing work.
 *   p11-probe garbage HELPER MODULE PIN
 *	malformed requests get IPC_FAILURE or end the helper, never a crash.
 *   p11-probe alwaysauth HELPER MODULE PIN LABEL
 *	the key labelled LABEL has CKA_ALWAYS_AUTHENTICATE: every signature
 *	asks for the PIN (TOK_ERR_PIN_REQUIRED), IPC_P11_LOGIN allows one
 *	signature, a wrong PIN fails it; the other keys sign without asking.
 *   p11-probe replug HELPER SHIM PIN STATEFILE events|noevents
 *	with the test module tests/p11/p11-shim.c in front of SoftHSM: unplug the
 *	token (write "absent" to STATEFILE) and plug it back; with events the
 *	helper must report both through IPC_EVENT, without them through
 *	IPC_P11_RESCAN; keys keep their handles; signing fails fast while the
 *	token is out, asks for the PIN after it is back
 *	(TOK_ERR_PIN_REQUIRED), and works after IPC_P11_LOGIN.
 * Exit 0 when every check passed.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/ipc.h"
#include "common/key.h"
#include "pkcs/p11-ipc.h"

#define PROBE_MAX_KEYS	64

struct probe_key {
	uint64_t handle;
	struct key *pub;
	char *label;
};

struct probe {
	pid_t pid;
	int fd;
	struct buf *in;
	uint32_t next_id;
	struct probe_key keys[PROBE_MAX_KEYS];
	size_t nkeys;
};

static int probe_failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		probe_failures++;					\
	}								\
} while (0)

static void
probe_die(const char *what)
{
	fprintf(stderr, "p11-probe: %s\n", what);
	exit(1);
}

static void
probe_spawn(struct probe *pr, const char *helper, const char *module)
{
	int sv[2];

	memset(pr, 0, sizeof(*pr));
	pr->next_id = 1;
	if ((pr->in = buf_new()) == NULL)
		probe_die("out of memory");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		probe_die("socketpair");
	if ((pr->pid = fork()) == -1)
		probe_die("fork");
	if (pr->pid == 0) {
		close(sv[0]);
		if (sv[1] != 3) {
			if (dup2(sv[1], 3) == -1)
				_exit(127);
			close(sv[1]);
		}
		execl(helper, helper, getenv("P11_PROBE_VERBOSE") ? "-vvv" :
		    "-v", module, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	pr->fd = sv[0];
}

static void probe_hello(struct probe *);

/* probe_wait: the helper's wait status, after closing our end. */
static int
probe_wait(struct probe *pr)
{
	int status = 0;
	size_t i;

	if (pr->fd != -1)
		close(pr->fd);
	pr->fd = -1;
	while (waitpid(pr->pid, &status, 0) == -1 && errno == EINTR)
		;
	buf_free(pr->in);
	pr->in = NULL;
	for (i = 0; i < pr->nkeys; i++) {
		key_free(pr->keys[i].pub);
		free(pr->keys[i].label);
	}
	pr->nkeys = 0;
	return status;
}

static void
probe_send(struct probe *pr, const struct buf *msg)
{
	struct buf *f;
	const u_char *p;
	size_t left;
	ssize_t n;

	if ((f = buf_new()) == NULL || frame_put(f, msg) != 0)
		probe_die("frame");
	p = buf_ptr(f);
	left = buf_len(f);
	while (left > 0) {
		if ((n = write(pr->fd, p, left)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			break;	/* the helper may be gone: reads tell */
		}
		p += n;
		left -= (size_t)n;
	}
	buf_free(f);
}

/* probe_recv: the next message, or NULL when the helper closed. */
static struct buf *
probe_recv(struct probe *pr)
{
	struct buf *m = NULL;
	u_char tmp[8192];
	ssize_t n;

	for (;;) {
		if (frame_take(pr->in, IPC_MSG_MAX, &m) != 0)
			probe_die("bad frame from helper");
		if (m != NULL)
			return m;
		if ((n = read(pr->fd, tmp, sizeof(tmp))) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		if (buf_put(pr->in, tmp, (size_t)n) != 0)
			probe_die("buffer");
	}
}

/*
 * probe_hello: the hellos every helper exchanges first (common/ipc.h): the
 * helper's must carry IPC_VERSION; then ours.
 */
static void
probe_hello(struct probe *pr)
{
	struct buf *m;
	uint32_t id, version;
	uint8_t type;

	if ((m = probe_recv(pr)) == NULL)
		probe_die("helper closed before its hello");
	if (ipc_msg_header(m, &id, &type) != 0 || id != 0 ||
	    type != IPC_HELLO || buf_get_u32(m, &version) != 0 ||
	    buf_get_string_direct(m, NULL, NULL) != 0 ||
	    buf_expect_empty(m) != 0)
		probe_die("bad hello from the helper");
	CHECK(version == IPC_VERSION, "helper protocol version %u", version);
	buf_free(m);
	if ((m = buf_new()) == NULL || ipc_msg_start(m, 0, IPC_HELLO) != 0 ||
	    buf_put_u32(m, IPC_VERSION) != 0 ||
	    buf_put_cstring(m, "p11-probe") != 0)
		probe_die("message");
	probe_send(pr, m);
	buf_free(m);
}

/*
 * probe_call: send a request of type with body and return the reply for
 * it (events are skipped); *typep its type.  NULL when the helper closed.
 */
static struct buf *
probe_call(struct probe *pr, uint8_t type, const struct buf *body,
    uint8_t *typep)
{
	struct buf *msg, *rep;
	uint32_t id = pr->next_id++, rid;
	uint8_t rtype;

	*typep = 0;
	if ((msg = buf_new()) == NULL || ipc_msg_start(msg, id, type) != 0 ||
	    (body != NULL && buf_putb(msg, body) != 0))
		probe_die("message");
	probe_send(pr, msg);
	buf_free(msg);
	for (;;) {
		if ((rep = probe_recv(pr)) == NULL)
			return NULL;
		if (ipc_msg_header(rep, &rid, &rtype) != 0)
			probe_die("short reply");
		if (rid == 0 && rtype == IPC_EVENT) {
			buf_free(rep);
			continue;
		}
		if (rid != id)
			probe_die("reply for another request");
		*typep = rtype;
		return rep;
	}
}

/* probe_failure_code: the TOK_ERR_* in an IPC_FAILURE body. */
static int
probe_failure_code(struct buf *rep)
{
	uint32_t code;
	char *detail = NULL;

	if (buf_get_u32(rep, &code) != 0 ||
	    buf_get_cstring(rep, &detail, NULL) != 0 ||
	    buf_expect_empty(rep) != 0)
		probe_die("malformed IPC_FAILURE");
	fprintf(stderr, "p11-probe: failure %d (%s): %s\n", -(int)code,
	    tok_strerror(-(int)code), detail);
	free(detail);
	return -(int)code;
}

/* probe_parse_keys: parse an IPC_KEYS body into pr->keys. */
static void
probe_parse_keys(struct probe *pr, struct buf *rep)
{
	uint32_t n, i;
	size_t j;

	for (j = 0; j < pr->nkeys; j++) {
		key_free(pr->keys[j].pub);
		free(pr->keys[j].label);
	}
	pr->nkeys = 0;
	if (buf_get_u32(rep, &n) != 0 || n > PROBE_MAX_KEYS)
		probe_die("bad key count");
	for (i = 0; i < n; i++) {
		if (buf_get_u64(rep, &pr->keys[i].handle) != 0 ||
		    key_froms(rep, &pr->keys[i].pub) != 0 ||
		    buf_get_cstring(rep, &pr->keys[i].label, NULL) != 0)
			probe_die("bad key entry");
		pr->nkeys++;
	}
	if (buf_expect_empty(rep) != 0)
		probe_die("trailing data after keys");
}

/* probe_add: IPC_ADD_PROVIDER; returns 0 (keys parsed) or the error. */
static int
probe_add(struct probe *pr, const char *path, const char *pin)
{
	struct buf *b, *rep;
	uint8_t type;
	int r;

	if ((b = buf_new()) == NULL || buf_put_cstring(b, path) != 0 ||
	    buf_put_cstring(b, pin) != 0)
		probe_die("message");
	rep = probe_call(pr, IPC_ADD_PROVIDER, b, &type);
	buf_free(b);
	if (rep == NULL)
		return TOK_ERR_HELPER_DIED;
	if (type == IPC_KEYS) {
		probe_parse_keys(pr, rep);
		r = 0;
	} else if (type == IPC_FAILURE)
		r = probe_failure_code(rep);
	else
		r = TOK_ERR_PROTOCOL;
	buf_free(rep);
	return r;
}

/* probe_sign: IPC_SIGN; 0 with the signature in sig, or the error. */
static int
probe_sign(struct probe *pr, uint64_t handle, const u_char *data,
    size_t len, uint32_t flags, struct buf *sig)
{
	struct buf *b, *rep;
	uint8_t type;
	int r;

	if ((b = buf_new()) == NULL || buf_put_u64(b, handle) != 0 ||
	    buf_put_string(b, data, len) != 0 || buf_put_u32(b, flags) != 0)
		probe_die("message");
	rep = probe_call(pr, IPC_SIGN, b, &type);
	buf_free(b);
	if (rep == NULL)
		return TOK_ERR_HELPER_DIED;
	if (type == IPC_SIGNATURE) {
		r = buf_get_stringb(rep, sig);
		if (r == 0)
			r = buf_expect_empty(rep);
	} else if (type == IPC_FAILURE)
		r = probe_failure_code(rep);
	else
		r = TOK_ERR_PROTOCOL;
	buf_free(rep);
	return r;
}

/* probe_simple: a request whose reply is IPC_OK; 0 or the error. */
static int
probe_simple(struct probe *pr, uint8_t type, const struct buf *body)
{
	struct buf *rep;
	uint8_t rtype;
	int r;

	if ((rep = probe_call(pr, type, body, &rtype)) == NULL)
		return TOK_ERR_HELPER_DIED;
	if (rtype == IPC_OK)
		r = buf_expect_empty(rep);
	else if (rtype == IPC_FAILURE)
		r = probe_failure_code(rep);
	else
		r = TOK_ERR_PROTOCOL;
	buf_free(rep);
	return r;
}

static int
probe_login(struct probe *pr, const char *pin)
{
	struct buf *b;
	int r;

	if ((b = buf_new()) == NULL || buf_put_cstring(b, pin) != 0)
		probe_die("message");
	r = probe_simple(pr, IPC_P11_LOGIN, b);
	buf_free(b);
	return r;
}

static int
probe_remove(struct probe *pr, const char *path)
{
	struct buf *b;
	int r;

	if ((b = buf_new()) == NULL || buf_put_cstring(b, path) != 0)
		probe_die("message");
	r = probe_simple(pr, IPC_REMOVE_PROVIDER, b);
	buf_free(b);
	return r;
}

/* probe_sign_verify: sign with key i (flags) and verify; 0 when valid. */
static int
probe_sign_verify(struct probe *pr, size_t i, uint32_t flags)
{
	static const u_char data[] = "tokagent p11 probe data to sign";
	const char *alg = NULL;
	struct buf *sig;
	int r;

	if ((sig = buf_new()) == NULL)
		probe_die("out of memory");
	if ((r = probe_sign(pr, pr->keys[i].handle, data, sizeof(data), flags,
	    sig)) != 0)
		goto out;
	if (key_type(pr->keys[i].pub) == KEY_RSA)
		alg = (flags & 0x04) ? "rsa-sha2-512" :
		    (flags & 0x02) ? "rsa-sha2-256" : "ssh-rsa";
	if ((r = key_sig_check_format(pr->keys[i].pub, buf_ptr(sig),
	    buf_len(sig), flags)) != 0)
		goto out;
	r = key_verify(pr->keys[i].pub, buf_ptr(sig), buf_len(sig), data,
	    sizeof(data), alg);
 out:
	buf_free(sig);
	return r;
}

static void
probe_print_keys(struct probe *pr)
{
	char *line;
	size_t i;

	for (i = 0; i < pr->nkeys; i++) {
		if (key_to_line(pr->keys[i].pub, pr->keys[i].label,
		    &line) != 0)
			probe_die("key_to_line");
		printf("%s\n", line);
		free(line);
	}
	fflush(stdout);
}

static int
probe_exit_status(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

static void
cmd_keys(const char *helper, const char *module, const char *pin)
{
	struct probe pr;
	struct buf *b, *rep;
	uint64_t handles[PROBE_MAX_KEYS];
	size_t i, n;
	uint32_t flags;
	uint8_t type;
	int r, status;

	probe_spawn(&pr, helper, module);
	probe_hello(&pr);
	r = probe_add(&pr, module, pin);
	CHECK(r == 0, "add provider: %s", tok_strerror(r));
	if (r != 0)
		goto done;
	CHECK(pr.nkeys > 0, "no keys listed");
	probe_print_keys(&pr);
	for (i = 0; i < pr.nkeys; i++) {
		for (flags = 0; flags <= 4; flags += 2) {
			if (flags != 0 && key_type(pr.keys[i].pub) != KEY_RSA)
				break;
			r = probe_sign_verify(&pr, i, flags);
			CHECK(r == 0, "sign+verify %s flags %u: %s",
			    pr.keys[i].label, flags, tok_strerror(r));
		}
	}
	/* Handles are stable across a rescan. */
	n = pr.nkeys;
	for (i = 0; i < n; i++)
		handles[i] = pr.keys[i].handle;
	rep = probe_call(&pr, IPC_P11_RESCAN, NULL, &type);
	CHECK(rep != NULL && type == IPC_KEYS, "rescan");
	if (rep != NULL && type == IPC_KEYS) {
		probe_parse_keys(&pr, rep);
		CHECK(pr.nkeys == n, "rescan: %zu keys, had %zu", pr.nkeys, n);
		for (i = 0; i < n && i < pr.nkeys; i++)
			CHECK(pr.keys[i].handle == handles[i],
			    "handle of key %zu changed", i);
	}
	buf_free(rep);
	/* Unknown handle. */
	if ((b = buf_new()) == NULL)
		probe_die("out of memory");
	r = probe_sign(&pr, 0x123456789abcdefULL, (const u_char *)"x", 1, 0, b);
	CHECK(r == TOK_ERR_KEY_NOT_FOUND, "unknown handle: %s",
	    tok_strerror(r));
	buf_free(b);
	/* IPC_DROP answers OK; other types are unsupported. */
	if ((b = buf_new()) == NULL || buf_put_u64(b, handles[0]) != 0)
		probe_die("message");
	r = probe_simple(&pr, IPC_DROP, b);
	CHECK(r == 0, "drop: %s", tok_strerror(r));
	buf_free(b);
	r = probe_simple(&pr, IPC_DROP_ALL, NULL);
	CHECK(r == TOK_ERR_FEATURE_UNSUPPORTED, "drop all: %s",
	    tok_strerror(r));
	r = probe_simple(&pr, 99, NULL);
	CHECK(r == TOK_ERR_FEATURE_UNSUPPORTED, "type 99: %s",
	    tok_strerror(r));
	/* Removing another provider is refused; ours ends the helper. */
	r = probe_remove(&pr, "/nonexistent/provider.so");
	CHECK(r == TOK_ERR_PROVIDER_REFUSED, "remove other: %s",
	    tok_strerror(r));
	r = probe_remove(&pr, module);
	CHECK(r == 0, "remove provider: %s", tok_strerror(r));
 done:
	status = probe_wait(&pr);
	CHECK(probe_exit_status(status) == 0, "helper exit status %d",
	    probe_exit_status(status));
}

static void
cmd_fail(const char *errstr, const char *helper, const char *module,
    const char *pin, const char *path)
{
	struct probe pr;
	int r, want = atoi(errstr), status;

	probe_spawn(&pr, helper, module);
	probe_hello(&pr);
	r = probe_add(&pr, path, pin);
	CHECK(r == want, "add provider: got %d (%s), want %d (%s)", r,
	    tok_strerror(r), want, tok_strerror(want));
	status = probe_wait(&pr);
	CHECK(probe_exit_status(status) == 0, "helper exit status %d",
	    probe_exit_status(status));
}

static void
cmd_relogin(const char *helper, const char *module, const char *pin,
    const char *badpin)
{
	struct probe pr;
	struct buf *sig;
	size_t i;
	int r, status;

	probe_spawn(&pr, helper, module);
	probe_hello(&pr);
	r = probe_add(&pr, module, "");
	CHECK(r == 0, "add provider without PIN: %s", tok_strerror(r));
	CHECK(pr.nkeys > 0, "no public keys listed before login");
	if ((sig = buf_new()) == NULL)
		probe_die("out of memory");
	if (pr.nkeys > 0) {
		r = probe_sign(&pr, pr.keys[0].handle, (const u_char *)"x", 1,
		    0, sig);
		CHECK(r == TOK_ERR_PIN_REQUIRED, "sign before login: %s",
		    tok_strerror(r));
	}
	r = probe_login(&pr, badpin);
	CHECK(r == TOK_ERR_PIN_INVALID, "login with bad PIN: %s",
	    tok_strerror(r));
	r = probe_login(&pr, pin);
	CHECK(r == 0, "login: %s", tok_strerror(r));
	for (i = 0; i < pr.nkeys; i++) {
		r = probe_sign_verify(&pr, i, 0x04);
		CHECK(r == 0, "sign+verify %s after login: %s",
		    pr.keys[i].label, tok_strerror(r));
	}
	buf_free(sig);
	r = probe_remove(&pr, module);
	CHECK(r == 0, "remove provider: %s", tok_strerror(r));
	status = probe_wait(&pr);
	CHECK(probe_exit_status(status) == 0, "helper exit status %d",
	    probe_exit_status(status));
}

/* probe_raw: send raw bytes as one frame body. */
static void
probe_raw(struct probe *pr, const void *p, size_t len)
{
	struct buf *b;

	if ((b = buf_from(p, len)) == NULL)
		probe_die("out of memory");
	probe_send(pr, b);
	buf_free(b);
}

/* probe_expect_failure_or_close: the next reply is IPC_FAILURE, or EOF. */
static int
probe_expect_failure_or_close(struct probe *pr, const char *what)
{
	struct buf *rep;
	uint32_t id;
	uint8_t type;

	if ((rep = probe_recv(pr)) == NULL)
		return 1;	/* closed */
	if (ipc_msg_header(rep, &id, &type) != 0)
		probe_die("short reply");
	CHECK(type == IPC_FAILURE, "%s: reply type %u", what, type);
	buf_free(rep);
	return 0;
}

static void
cmd_garbage(const char *helper, const char *module, const char *pin)
{
	static const u_char add_trunc[] = {
		0, 0, 0, 7, IPC_ADD_PROVIDER, 0, 0, 0, 9, 'x'
	};
	static const u_char sign_trunc[] = {
		0, 0, 0, 8, IPC_SIGN, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff
	};
	static const u_char login_huge[] = {
		0, 0, 0, 9, IPC_P11_LOGIN, 0xff, 0xff, 0xff, 0xff
	};
	static const u_char rescan_trailing[] = {
		0, 0, 0, 10, IPC_P11_RESCAN, 0
	};
	static const u_char drop_short[] = { 0, 0, 0, 11, IPC_DROP, 1, 2 };
	static const u_char shorthdr[] = { 0, 1 };
	static const u_char *const cases[] = {
		add_trunc, sign_trunc, login_huge, rescan_trailing, drop_short
	};
	static const size_t lens[] = {
		sizeof(add_trunc), sizeof(sign_trunc), sizeof(login_huge),
		sizeof(rescan_trailing), sizeof(drop_short)
	};
	struct probe pr;
	u_char hugeframe[4] = { 0x7f, 0xff, 0xff, 0xff };
	size_t i, j;
	ssize_t n;
	int r, status, closed = 0;

	/* Malformed requests before and after the provider is added. */
	probe_spawn(&pr, helper, module);
	probe_hello(&pr);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]) && !closed; i++) {
		probe_raw(&pr, cases[i], lens[i]);
		closed = probe_expect_failure_or_close(&pr, "pre-add");
	}
	status = probe_wait(&pr);
	CHECK(!WIFSIGNALED(status), "helper killed by signal %d",
	    WTERMSIG(status));

	probe_spawn(&pr, helper, module);
	probe_hello(&pr);
	r = probe_add(&pr, module, pin);
	CHECK(r == 0, "add provider: %s", tok_strerror(r));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		probe_raw(&pr, cases[i], lens[i]);
		if (probe_expect_failure_or_close(&pr, "post-add"))
			break;
	}
	/* Still serving after the garbage. */
	if (i == sizeof(cases) / sizeof(cases[0]) && pr.nkeys > 0) {
		/* Any key will do but one that wants the PIN every time. */
		r = TOK_ERR_KEY_NOT_FOUND;
		for (j = 0; j < pr.nkeys && r != 0; j++)
			r = probe_sign_verify(&pr, j, 0x02);
		CHECK(r == 0, "sign after garbage: %s", tok_strerror(r));
	}
	/* A header too short to carry an id, then an oversized frame. */
	probe_raw(&pr, shorthdr, sizeof(shorthdr));
	do {
		n = write(pr.fd, hugeframe, sizeof(hugeframe));
	} while (n == -1 && errno == EINTR);
	CHECK(probe_recv(&pr) == NULL, "helper kept going after bad frames");
	status = probe_wait(&pr);
	CHECK(!WIFSIGNALED(status), "helper killed by signal %d",
	    WTERMSIG(status));
}

static void
probe_set_state(const char *path, const char *state)
{
	char tmp[PATH_MAX];
	FILE *f;

	/*
	 * Written aside and renamed over: the shim polls the file, and a
	 * truncated one it reads mid-write is one more (spurious) replug.
	 */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp) ||
	    (f = fopen(tmp, "w")) == NULL || fputs(state, f) == EOF ||
	    fclose(f) != 0 || rename(tmp, path) != 0)
		probe_die("cannot write the shim state file");
}

/*
 * probe_wait_event: wait up to timeout_ms for an IPC_EVENT and load its key
 * list into pr->keys; 0 on success.
 */
static int
probe_wait_event(struct probe *pr, int timeout_ms)
{
	struct pollfd pfd;
	struct buf *m = NULL;
	u_char tmp[8192];
	uint32_t id;
	uint8_t type;
	ssize_t n;
	int waited = 0;

	for (;;) {
		if (frame_take(pr->in, IPC_MSG_MAX, &m) != 0)
			probe_die("bad frame from helper");
		if (m != NULL) {
			if (ipc_msg_header(m, &id, &type) != 0)
				probe_die("short message");
			if (id != 0 || type != IPC_EVENT)
				probe_die("unexpected message while waiting");
			if (buf_get_cstring(m, NULL, NULL) != 0)
				probe_die("bad event");
			probe_parse_keys(pr, m);
			buf_free(m);
			return 0;
		}
		pfd.fd = pr->fd;
		pfd.events = POLLIN;
		if (waited >= timeout_ms)
			return TOK_ERR_TIMEOUT;
		if (poll(&pfd, 1, 100) == 0) {
			waited += 100;
			continue;
		}
		if ((n = read(pr->fd, tmp, sizeof(tmp))) <= 0)
			return TOK_ERR_HELPER_DIED;
		if (buf_put(pr->in, tmp, (size_t)n) != 0)
			probe_die("buffer");
	}
}

/* probe_rescan: IPC_P11_RESCAN into pr->keys; 0 or the error. */
static int
probe_rescan(struct probe *pr)
{
	struct buf *rep;
	uint8_t type;
	int r;

	if ((rep = probe_call(pr, IPC_P11_RESCAN, NULL, &type)) == NULL)
		return TOK_ERR_HELPER_DIED;
	if (type == IPC_KEYS) {
		probe_parse_keys(pr, rep);
		r = 0;
	} else if (type == IPC_FAILURE)
		r = probe_failure_code(rep);
	else
		r = TOK_ERR_PROTOCOL;
	buf_free(rep);
	return r;
}

static void
cmd_replug(const char *helper, const char *shim, const char *pin,
    const char *statefile, int events)
{
	struct probe pr;
	struct buf *sig;
	uint64_t handles[PROBE_MAX_KEYS];
	size_t i, n;
	int r, status, round;

	probe_set_state(statefile, "present");
	probe_spawn(&pr, helper, shim);
	probe_hello(&pr);
	r = probe_add(&pr, shim, pin);
	CHECK(r == 0, "add provider: %s", tok_strerror(r));
	if (r != 0 || pr.nkeys == 0)
		goto done;
	n = pr.nkeys;
	for (i = 0; i < n; i++)
		handles[i] = pr.keys[i].handle;
	if ((sig = buf_new()) == NULL)
		probe_die("out of memory");
	for (round = 0; round < 2; round++) {
		r = probe_sign_verify(&pr, 0, 0x02);
		CHECK(r == 0, "round %d: sign before unplug: %s", round,
		    tok_strerror(r));
		probe_set_state(statefile, "absent");
		if (events) {
			r = probe_wait_event(&pr, 5000);
			CHECK(r == 0, "round %d: no event after unplug: %s",
			    round, tok_strerror(r));
		} else {
			/* A sign notices first, then a rescan drops keys. */
			buf_reset(sig);
			r = probe_sign(&pr, handles[0], (const u_char *)"x", 1,
			    0, sig);
			CHECK(r == TOK_ERR_DEVICE_NOT_PRESENT,
			    "round %d: sign while unplugged: %s", round,
			    tok_strerror(r));
			r = probe_rescan(&pr);
			CHECK(r == 0, "rescan: %s", tok_strerror(r));
		}
		CHECK(pr.nkeys == 0, "round %d: %zu keys while unplugged",
		    round, pr.nkeys);
		buf_reset(sig);
		r = probe_sign(&pr, handles[0], (const u_char *)"x", 1, 0, sig);
		CHECK(r == TOK_ERR_DEVICE_NOT_PRESENT || r ==
		    TOK_ERR_KEY_NOT_FOUND, "round %d: sign while unplugged: %s",
		    round, tok_strerror(r));
		probe_set_state(statefile, "present");
		if (events) {
			r = probe_wait_event(&pr, 5000);
			CHECK(r == 0, "round %d: no event after replug: %s",
			    round, tok_strerror(r));
		} else {
			r = probe_rescan(&pr);
			CHECK(r == 0, "rescan: %s", tok_strerror(r));
		}
		CHECK(pr.nkeys == n, "round %d: %zu keys after replug, had %zu",
		    round, pr.nkeys, n);
		for (i = 0; i < n && i < pr.nkeys; i++)
			CHECK(pr.keys[i].handle == handles[i],
			    "round %d: handle of key %zu changed", round, i);
		buf_reset(sig);
		r = probe_sign(&pr, handles[0], (const u_char *)"x", 1, 0, sig);
		CHECK(r == TOK_ERR_PIN_REQUIRED,
		    "round %d: sign after replug: %s", round, tok_strerror(r));
		r = probe_login(&pr, pin);
		CHECK(r == 0, "round %d: login: %s", round, tok_strerror(r));
		for (i = 0; i < pr.nkeys; i++) {
			r = probe_sign_verify(&pr, i, 0x04);
			CHECK(r == 0, "round %d: sign %s after login: %s",
			    round, pr.keys[i].label, tok_strerror(r));
		}
	}
	/*
	 * A replug between two signatures that no scan saw: the token is
	 * back before anyone looked (the shim treats any new contents of the
	 * state file as a replug).
	 */
	probe_set_state(statefile, "present again");
	buf_reset(sig);
	r = probe_sign(&pr, handles[0], (const u_char *)"x", 1, 0, sig);
	CHECK(r == TOK_ERR_PIN_REQUIRED, "sign after quick replug: %s",
	    tok_strerror(r));
	buf_free(sig);
	r = probe_remove(&pr, shim);
	CHECK(r == 0, "remove provider: %s", tok_strerror(r));
 done:
	status = probe_wait(&pr);
	CHECK(probe_exit_status(status) == 0, "helper exit status %d",
	    probe_exit_status(status));
}

static void
cmd_alwaysauth(const char *helper, const char *module, const char *pin,
    const char *label)
{
	struct probe pr;
	struct buf *sig;
	size_t i, ka = SIZE_MAX, other = SIZE_MAX;
	const char *slash;
	int r, round, status;

	probe_spawn(&pr, helper, module);
	probe_hello(&pr);
	r = probe_add(&pr, module, pin);
	CHECK(r == 0, "add provider: %s", tok_strerror(r));
	for (i = 0; i < pr.nkeys; i++) {
		slash = strrchr(pr.keys[i].label, '/');
		if (slash != NULL && strcmp(slash + 1, label) == 0)
			ka = i;
		else if (other == SIZE_MAX)
			other = i;
	}
	CHECK(ka != SIZE_MAX && other != SIZE_MAX, "keys not found");
	if (ka == SIZE_MAX || other == SIZE_MAX)
		goto done;
	if ((sig = buf_new()) == NULL)
		probe_die("out of memory");
	for (round = 0; round < 2; round++) {
		buf_reset(sig);
		r = probe_sign(&pr, pr.keys[ka].handle, (const u_char *)"x", 1,
		    0, sig);
		CHECK(r == TOK_ERR_PIN_REQUIRED, "round %d: sign without "
		    "PIN: %s", round, tok_strerror(r));
		r = probe_login(&pr, pin);
		CHECK(r == 0, "round %d: login: %s", round, tok_strerror(r));
		r = probe_sign_verify(&pr, ka, 0);
		CHECK(r == 0, "round %d: sign after login: %s", round,
		    tok_strerror(r));
		r = probe_sign_verify(&pr, other, 0);
		CHECK(r == 0, "round %d: other key: %s", round,
		    tok_strerror(r));
	}
	/* The PIN was for one signature only, and a wrong one fails. */
	buf_reset(sig);
	r = probe_login(&pr, pin);
	CHECK(r == 0, "login: %s", tok_strerror(r));
	r = probe_sign_verify(&pr, other, 0);
	CHECK(r == 0, "other key: %s", tok_strerror(r));
	r = probe_sign(&pr, pr.keys[ka].handle, (const u_char *)"x", 1, 0, sig);
	CHECK(r == TOK_ERR_PIN_REQUIRED, "PIN outlived the next signature: %s",
	    tok_strerror(r));
	/* Already logged in: a wrong PIN only shows at the signature. */
	r = probe_login(&pr, "0000");
	CHECK(r == 0, "login while logged in: %s", tok_strerror(r));
	buf_reset(sig);
	r = probe_sign(&pr, pr.keys[ka].handle, (const u_char *)"x", 1, 0, sig);
	CHECK(r == TOK_ERR_PIN_INVALID, "sign with a wrong PIN: %s",
	    tok_strerror(r));
	/* That may have cost the login; the right PIN brings both back. */
	r = probe_login(&pr, pin);
	CHECK(r == 0, "login: %s", tok_strerror(r));
	r = probe_sign_verify(&pr, ka, 0);
	CHECK(r == 0, "sign after a wrong PIN: %s", tok_strerror(r));
	buf_free(sig);
	r = probe_remove(&pr, module);
	CHECK(r == 0, "remove provider: %s", tok_strerror(r));
 done:
	status = probe_wait(&pr);
	CHECK(probe_exit_status(status) == 0, "helper exit status %d",
	    probe_exit_status(status));
}

static void
usage(void)
{
	fprintf(stderr, "usage: p11-probe "
	    "keys|fail|relogin|alwaysauth|garbage|replug ...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "keys") == 0 && argc == 5)
		cmd_keys(argv[2], argv[3], argv[4]);
	else if (strcmp(argv[1], "fail") == 0 && (argc == 6 || argc == 7))
		cmd_fail(argv[2], argv[3], argv[4], argv[5],
		    argc == 7 ? argv[6] : argv[4]);
	else if (strcmp(argv[1], "relogin") == 0 && argc == 6)
		cmd_relogin(argv[2], argv[3], argv[4], argv[5]);
	else if (strcmp(argv[1], "replug") == 0 && argc == 7)
		cmd_replug(argv[2], argv[3], argv[4], argv[5],
		    strcmp(argv[6], "events") == 0);
	else if (strcmp(argv[1], "alwaysauth") == 0 && argc == 6)
		cmd_alwaysauth(argv[2], argv[3], argv[4], argv[5]);
	else if (strcmp(argv[1], "garbage") == 0 && argc == 5)
		cmd_garbage(argv[2], argv[3], argv[4]);
	else
		usage();
	if (probe_failures != 0) {
		fprintf(stderr, "p11-probe: %d check(s) failed\n",
		    probe_failures);
		return 1;
	}
	return 0;
}

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Token helper supervision from the agent side (see helper.h). */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/child.h"
#include "agent/helper.h"
#include "agent/loop.h"
#include "agent/progdir.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/ipc.h"
#include "common/log.h"

#define HELPER_RESTART_MIN_MS	100
#define HELPER_RESTART_MAX_MS	10000
#define HELPER_READ_CHUNK	65536
#define HELPER_PING_MS		5000	/* heartbeat while requests wait */
#define HELPER_PING_ENV		"TOKAGENT_HELPER_PING_MS"
#define HELPER_KILL_GRACE_MS	1000	/* SIGTERM, then SIGKILL */

struct helper_req {
	uint32_t id;
	helper_reply_cb *cb;
	helper_note_cb *ncb;
	void *arg;
	struct helper *h;
	TAILQ_ENTRY(helper_req) entry;
};

/* A replaced helper's process, until it is reaped. */
struct helper_corpse {
	pid_t pid;
	struct loop_timer *kill_timer;
};

struct helper {
	const struct backend *backend;
	char *name;
	char *prog;
	char **argv;
	pid_t pid;
	int fd;
	struct loop_fd *lf;
	struct buf *in, *out;
	uint32_t next_id;
	TAILQ_HEAD(, helper_req) reqs;
	helper_event_cb *ecb;
	helper_restart_cb *rcb;
	void *arg;
	uint64_t restart_delay;
	struct loop_timer *restart_timer;
	uint64_t started_ms;
	int hello;			/* the helper's IPC_HELLO arrived */
	int broken;			/* wrong protocol: never restarted */
	int retiring;			/* helper_retire: stopped after a reply */
	struct loop_timer *ping_timer;	/* heartbeat, while requests wait */
	uint32_t ping_id;		/* the heartbeat not answered yet */
	int ping_late;			/* ping_id missed one period */
	uint64_t ping_ms;
	u_int deaths;			/* for tokagent status */
};

static int helper_start(struct helper *h);
static void helper_died(struct helper *h, const char *why);
static void helper_ping_arm(struct helper *h);

/*
 * The one directory (installed) or build tree the helpers come from, found
 * once: an installed agent must never start build-tree helpers, and a
 * build-tree agent never the installed ones (make check would test other
 * binaries than those just built).
 */
static int
helper_progdir(char **dirp, int *buildtreep)
{
	static char *dir;
	static int buildtree, done;
	char exe[PATH_MAX], bindir[PATH_MAX];
	ssize_t n;
	int r;

	*dirp = NULL;
	*buildtreep = 0;
	if (!done) {
		done = 1;
		if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0) {
			error_f("cannot find the agent's own path: %s",
			    strerror(errno));
			return TOK_ERR_SYSTEM;
		}
		exe[n] = '\0';
		/* Installed in BINDIR, also when BINDIR is reached by a symlink. */
		if (realpath(BINDIR, bindir) != NULL &&
		    strlen(exe) == strlen(bindir) + sizeof("/tokagent") - 1 &&
		    strncmp(exe, bindir, strlen(bindir)) == 0 &&
		    strcmp(exe + strlen(bindir), "/tokagent") == 0) {
			if ((dir = strdup(LIBEXECDIR)) == NULL)
				return TOK_ERR_ALLOC;
		} else if ((r = progdir_resolve(exe, BINDIR, LIBEXECDIR, &dir,
		    &buildtree)) != 0) {
			error("%s is neither installed as %s/tokagent nor in "
			    "a build tree: no helper programs", exe, BINDIR);
			return r;
		}
		debug_f("helpers from %s%s", dir,
		    buildtree ? " (build tree)" : "");
	}
	if (dir == NULL)
		return TOK_ERR_KEY_NOT_FOUND;
	*dirp = dir;
	*buildtreep = buildtree;
	return 0;
}

char *
helper_find_program(const char *name)
{
	char *dirs = NULL, *dir, *cp, *path = NULL;
	const char *env, *base;
	int i, buildtree;

	if ((env = getenv("TOKAGENT_HELPER_PATH")) != NULL && *env != '\0') {
		/* Explicitly chosen: only these directories. */
		if ((dirs = strdup(env)) == NULL)
			return NULL;
		for (cp = dirs; (dir = strsep(&cp, ":")) != NULL;) {
			if (*dir == '\0')
				continue;
			if (asprintf(&path, "%s/%s", dir, name) < 0) {
				path = NULL;
				break;
			}
			if (access(path, X_OK) == 0)
				break;
			free(path);
			path = NULL;
		}
		free(dirs);
		return path;
	}
	if (helper_progdir(&dir, &buildtree) != 0)
		return NULL;
	for (i = 0; buildtree ? progdir_build_subdirs[i] != NULL : i < 1;
	    i++) {
		base = buildtree ? progdir_build_subdirs[i] : NULL;
		if (asprintf(&path, "%s%s%s/%s", dir, base ? "/" : "",
		    base ? base : "", name) < 0)
			return NULL;
		if (access(path, X_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

int
helper_get_name(struct buf *m, char **sp)
{
	const u_char *cp;
	size_t len, i;
	int r;

	*sp = NULL;
	if ((r = buf_get_string_direct(m, &cp, &len)) != 0)
		return r;
	if (len == 0 || len > HELPER_NAME_MAX)
		return TOK_ERR_INVALID_FORMAT;
	for (i = 0; i < len; i++) {
		if (cp[i] < 0x20 || cp[i] == 0x7f)
			return TOK_ERR_INVALID_FORMAT;
	}
	if ((*sp = malloc(len + 1)) == NULL)
		return TOK_ERR_ALLOC;
	memcpy(*sp, cp, len);
	(*sp)[len] = '\0';
	return 0;
}

int
helper_running(const struct helper *h)
{
	return h->pid > 0;
}

const char *
helper_name(const struct helper *h)
{
	return h->name;
}

const struct backend *
helper_backend(const struct helper *h)
{
	return h == NULL ? NULL : h->backend;
}

int
helper_get_device_flag(struct buf *m, char **devicep, char **namep,
    uint8_t *flagp)
{
	int r;

	if ((r = helper_get_name(m, devicep)) != 0 ||
	    (r = helper_get_name(m, namep)) != 0 ||
	    (r = buf_get_u8(m, flagp)) != 0 ||
	    (r = buf_expect_empty(m)) != 0)
		return r;
	return *flagp > 1 ? TOK_ERR_INVALID_FORMAT : 0;
}

int
helper_get_note(struct helper *h, enum helper_note_type type,
    uint8_t max_touch, struct buf *m)
{
	struct helper_note note;
	struct helper_req *req;
	char *device = NULL, *name = NULL;
	uint32_t reqid, value;
	uint8_t flag;
	int r;

	memset(&note, 0, sizeof(note));
	if ((r = buf_get_u32(m, &reqid)) != 0 ||
	    (r = helper_get_name(m, &device)) != 0 ||
	    (r = helper_get_name(m, &name)) != 0)
		goto out;
	if (type == HELPER_NOTE_TOUCH) {
		if ((r = buf_get_u8(m, &flag)) != 0)
			goto out;
		if (flag > max_touch) {
			r = TOK_ERR_INVALID_FORMAT;
			goto out;
		}
		value = flag;
	} else if ((r = buf_get_u32(m, &value)) != 0)
		goto out;
	if ((r = buf_expect_empty(m)) != 0)
		goto out;
	note.type = type;
	note.device = device;
	note.name = name;
	note.value = value;
	TAILQ_FOREACH(req, &h->reqs, entry) {
		if (req->id == reqid)
			break;
	}
	if (req == NULL || req->cb == NULL || req->ncb == NULL)
		debug_f("note for request %u, which no longer waits", reqid);
	else
		req->ncb(&note, req->arg);
 out:
	free(device);
	free(name);
	return r;
}

void
helper_health(const struct helper *h, pid_t *pidp, u_int *inflightp,
    u_int *deathsp)
{
	const struct helper_req *req;
	u_int n = 0;

	TAILQ_FOREACH(req, &h->reqs, entry)
		n++;
	*pidp = h->pid > 0 ? h->pid : 0;
	*inflightp = n;
	*deathsp = h->deaths;
}

static void
helper_req_finish(struct helper_req *req, int r, uint8_t type,
    struct buf *payload, const char *detail)
{
	struct helper *h = req->h;

	TAILQ_REMOVE(&h->reqs, req, entry);
	if (req->cb != NULL)
		req->cb(r, type, payload, detail, req->arg);
	free(req);
}

static void
helper_fail_all(struct helper *h, int r)
{
	struct helper_req *req;

	while ((req = TAILQ_FIRST(&h->reqs)) != NULL)
		helper_req_finish(req, r, 0, NULL, NULL);
}

static void
helper_update_events(struct helper *h)
{
	if (h->lf != NULL)
		loop_set_events(h->lf,
		    LOOP_READ | (buf_len(h->out) > 0 ? LOOP_WRITE : 0));
}

/* The helper's first message: IPC_HELLO with our protocol version. */
static void
helper_check_hello(struct helper *h, uint32_t id, uint8_t type,
    struct buf *m)
{
	uint32_t version = 0;

	if (id != 0 || type != IPC_HELLO || buf_get_u32(m, &version) != 0 ||
	    buf_get_string_direct(m, NULL, NULL) != 0 ||
	    buf_expect_empty(m) != 0) {
		error("helper %s (%s) did not start with a hello: not a "
		    "tokagent %s helper", h->name, h->prog, PACKAGE_VERSION);
		h->broken = 1;
		helper_died(h, "speaks another protocol");
		return;
	}
	if (version != IPC_VERSION) {
		error("helper %s (%s) speaks helper protocol version %u, the "
		    "agent version %u: install the tokagent programs of one "
		    "build", h->name, h->prog, version, IPC_VERSION);
		h->broken = 1;
		helper_died(h, "speaks another protocol version");
		return;
	}
	h->hello = 1;
}

static void
helper_handle_msg(struct helper *h, struct buf *m)
{
	struct helper_req *req;
	uint32_t id, code;
	uint8_t type;
	char *detail = NULL;
	int r;

	if ((r = ipc_msg_header(m, &id, &type)) != 0) {
		helper_died(h, "malformed message header");
		return;
	}
	if (!h->hello) {
		helper_check_hello(h, id, type, m);
		return;
	}
	if (id == 0) {
		if (h->ecb != NULL)
			h->ecb(h, type, m, h->arg);
		return;
	}
	TAILQ_FOREACH(req, &h->reqs, entry) {
		if (req->id == id)
			break;
	}
	if (req == NULL) {
		/* A late reply to a cancelled or timed-out request. */
		debug_f("%s: reply to unknown request %u", h->name, id);
		return;
	}
	if (type != IPC_FAILURE) {
		helper_req_finish(req, 0, type, m, NULL);
		return;
	}
	if ((r = buf_get_u32(m, &code)) != 0 ||
	    (r = buf_get_cstring(m, &detail, NULL)) != 0 ||
	    (r = buf_expect_empty(m)) != 0 ||
	    code == 0 || code > (uint32_t)-TOK_ERR_LAST) {
		error_f("%s: malformed failure reply", h->name);
		code = (uint32_t)-TOK_ERR_PROTOCOL;
	}
	helper_req_finish(req, -(int)code, 0, NULL, detail);
	free(detail);
}

static void
helper_io(int fd, int events, void *arg)
{
	struct helper *h = arg;
	struct buf *m;
	u_char *p;
	ssize_t n;
	int r;

	if (events & LOOP_WRITE) {
		n = write(fd, buf_ptr(h->out), buf_len(h->out));
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			helper_died(h, "write failed");
			return;
		}
		if (n > 0 && buf_consume(h->out, (size_t)n) != 0)
			fatal_f("buffer accounting");
		helper_update_events(h);
	}
	if (events & (LOOP_READ | LOOP_HUP)) {
		if ((r = buf_reserve(h->in, HELPER_READ_CHUNK, &p)) != 0) {
			helper_died(h, "input overflow");
			return;
		}
		n = read(fd, p, HELPER_READ_CHUNK);
		if (buf_consume_end(h->in,
		    HELPER_READ_CHUNK - (n > 0 ? (size_t)n : 0)) != 0)
			fatal_f("buffer accounting");
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			helper_died(h, n == 0 ? "exited" : "read failed");
			return;
		}
		for (;;) {
			if ((r = frame_take(h->in, IPC_MSG_MAX, &m)) != 0) {
				helper_died(h, "oversized message");
				return;
			}
			if (m == NULL)
				break;
			helper_handle_msg(h, m);
			buf_free(m);
			if (h->fd == -1)
				return;	/* died while handling */
		}
	}
}

static void
helper_restart_timer(void *arg)
{
	struct helper *h = arg;

	h->restart_timer = NULL;
	if (helper_start(h) != 0) {
		helper_died(h, "restart failed");
		return;
	}
	if (h->rcb != NULL)
		h->rcb(h, h->arg);
}

static void
helper_corpse_reaped(pid_t pid, int status, void *arg)
{
	struct helper_corpse *hc = arg;

	(void)pid;
	(void)status;
	loop_cancel_timer(hc->kill_timer);
	free(hc);
}

static void
helper_corpse_kill(void *arg)
{
	struct helper_corpse *hc = arg;

	hc->kill_timer = NULL;
	debug_f("pid %ld outlived its grace: SIGKILL", (long)hc->pid);
	kill(hc->pid, SIGKILL);
}

/*
 * Ask the old process to go, and make sure it does: a frozen helper must
 * not linger with private keys in memory.  agent/child.c reaps it.
 */
static void
helper_reap(pid_t pid)
{
	struct helper_corpse *hc;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	if ((hc = calloc(1, sizeof(*hc))) == NULL) {
		kill(pid, SIGKILL);
		return;
	}
	hc->pid = pid;
	if ((hc->kill_timer = loop_add_timer(HELPER_KILL_GRACE_MS,
	    helper_corpse_kill, hc)) == NULL ||
	    child_watch(pid, helper_corpse_reaped, hc) != 0) {
		loop_cancel_timer(hc->kill_timer);
		free(hc);
		kill(pid, SIGKILL);
	}
}

static void
helper_close(struct helper *h)
{
	loop_remove_fd(h->lf);
	h->lf = NULL;
	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
	helper_reap(h->pid);
	h->pid = -1;
	h->hello = 0;
	loop_cancel_timer(h->ping_timer);
	h->ping_timer = NULL;
	h->ping_id = 0;
	h->ping_late = 0;
	buf_reset(h->in);
	buf_reset(h->out);
}

static void
helper_died(struct helper *h, const char *why)
{
	uint64_t ran;

	if (h->retiring) {
		helper_close(h);
		helper_fail_all(h, TOK_ERR_HELPER_DIED);
		return;
	}
	error("helper %s (pid %ld) %s; %s", h->name, (long)h->pid, why,
	    h->broken ? "not restarted" : "restarting");
	h->deaths++;
	helper_close(h);
	helper_fail_all(h, TOK_ERR_HELPER_DIED);
	if (h->broken)
		return;
	/* Back off when it keeps dying right after start. */
	ran = loop_now_ms() - h->started_ms;
	if (ran > 30000)
		h->restart_delay = HELPER_RESTART_MIN_MS;
	else if (h->restart_delay < HELPER_RESTART_MAX_MS)
		h->restart_delay *= 2;
	if (h->restart_timer == NULL)
		h->restart_timer = loop_add_timer(h->restart_delay,
		    helper_restart_timer, h);
}

static int
helper_start(struct helper *h)
{
	struct buf *hello;
	int sp[2], devnull;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
		error_f("socketpair: %s", strerror(errno));
		return TOK_ERR_SYSTEM;
	}
	if ((pid = fork()) == -1) {
		error_f("fork: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return TOK_ERR_SYSTEM;
	}
	if (pid == 0) {
		/* Child: IPC on fd 3, stdin/stdout on /dev/null, stderr kept for logs. */
		if ((devnull = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(devnull, 0) == -1 || dup2(devnull, 1) == -1)
			_exit(127);
		/* dup2 onto itself would keep close-on-exec. */
		if (sp[1] == 3 ? fcntl(3, F_SETFD, 0) == -1 :
		    dup2(sp[1], 3) == -1)
			_exit(127);
		closefrom(4);
		signal(SIGPIPE, SIG_DFL);
		execv(h->prog, h->argv);
		fprintf(stderr, "tokagent: exec %s: %s\n", h->prog,
		    strerror(errno));
		_exit(127);
	}
	close(sp[1]);
	if (fcntl(sp[0], F_SETFL, O_NONBLOCK) == -1) {
		close(sp[0]);
		helper_reap(pid);
		return TOK_ERR_SYSTEM;
	}
	(void)child_watch(pid, NULL, NULL);
	h->fd = sp[0];
	h->pid = pid;
	h->started_ms = loop_now_ms();
	h->hello = 0;
	if ((hello = buf_new()) == NULL ||
	    ipc_msg_start(hello, 0, IPC_HELLO) != 0 ||
	    buf_put_u32(hello, IPC_VERSION) != 0 ||
	    buf_put_cstring(hello, "tokagent") != 0 ||
	    frame_put(h->out, hello) != 0 ||
	    (h->lf = loop_add_fd(h->fd, LOOP_READ | LOOP_WRITE, helper_io,
	    h)) == NULL) {
		buf_free(hello);
		helper_close(h);
		return TOK_ERR_ALLOC;
	}
	buf_free(hello);
	debug_f("started %s (%s) pid %ld", h->name, h->prog, (long)pid);
	return 0;
}

struct helper *
helper_spawn(const struct backend *backend, const char *name,
    const char *prog, char *const argv[], helper_event_cb *ecb,
    helper_restart_cb *rcb, void *arg)
{
	struct helper *h;
	const char *env, *errstr = NULL;
	long long ms;
	size_t n, i;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->backend = backend;
	h->fd = -1;
	h->pid = -1;
	h->next_id = 1;
	h->ecb = ecb;
	h->rcb = rcb;
	h->arg = arg;
	h->restart_delay = HELPER_RESTART_MIN_MS;
	h->ping_ms = HELPER_PING_MS;
	if ((env = getenv(HELPER_PING_ENV)) != NULL &&
	    (ms = strtonum(env, 10, 600000, &errstr), errstr == NULL))
		h->ping_ms = (uint64_t)ms;
	TAILQ_INIT(&h->reqs);
	for (n = 0; argv[n] != NULL; n++)
		;
	if ((h->name = strdup(name)) == NULL ||
	    (h->prog = strdup(prog)) == NULL ||
	    (h->argv = calloc(n + 1, sizeof(*h->argv))) == NULL ||
	    (h->in = buf_new()) == NULL || (h->out = buf_new()) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		if ((h->argv[i] = strdup(argv[i])) == NULL)
			goto fail;
	}
	if (buf_set_max_size(h->in, IPC_MSG_MAX + 2 * HELPER_READ_CHUNK) != 0 ||
	    helper_start(h) != 0)
		goto fail;
	return h;
 fail:
	error_f("could not start helper %s", name);
	helper_stop(h);
	return NULL;
}

static void
helper_pong(int r, uint8_t type, struct buf *m, const char *detail,
    void *arg)
{
	struct helper *h = arg;

	(void)m;
	(void)detail;
	if (r == TOK_ERR_HELPER_DIED || r == TOK_ERR_CANCELLED)
		return;
	h->ping_id = 0;
	h->ping_late = 0;
	if (r != 0 || type != IPC_OK)
		error("helper %s: bad heartbeat reply", h->name);
}

/* Requests other than the heartbeat wait at the helper. */
static int
helper_busy(const struct helper *h)
{
	const struct helper_req *req;

	TAILQ_FOREACH(req, &h->reqs, entry) {
		if (req->id != h->ping_id)
			return 1;
	}
	return 0;
}

/*
 * The heartbeat: while requests wait, the helper's loop must answer a
 * ping each period, however slow the work is (the helper bounds that
 * itself).  One that does not is hung: it is replaced.  Idle helpers are
 * left alone (no wake-ups while nothing happens).
 */
static void
helper_ping(void *arg)
{
	struct helper *h = arg;

	h->ping_timer = NULL;
	if (h->ping_id != 0) {
		/*
		 * One period of grace: a reply that is already in the
		 * socket but not read yet (a busy agent) is not a miss.
		 */
		if (!h->ping_late) {
			h->ping_late = 1;
			helper_ping_arm(h);
			return;
		}
		helper_died(h, "stopped answering its heartbeat");
		return;
	}
	if (!helper_busy(h))
		return;
	if (helper_request(h, IPC_PING, NULL, helper_pong, h,
	    &h->ping_id) != 0)
		error("helper %s: cannot send the heartbeat", h->name);
	helper_ping_arm(h);
}

static void
helper_ping_arm(struct helper *h)
{
	if (h->ping_timer == NULL && h->fd != -1)
		h->ping_timer = loop_add_timer(h->ping_ms, helper_ping, h);
}

int
helper_request(struct helper *h, uint8_t type, const struct buf *payload,
    helper_reply_cb *cb, void *arg, uint32_t *idp)
{
	return helper_request_notes(h, type, payload, cb, NULL, arg, idp);
}

int
helper_request_notes(struct helper *h, uint8_t type,
    const struct buf *payload, helper_reply_cb *cb, helper_note_cb *ncb,
    void *arg, uint32_t *idp)
{
	struct helper_req *req = NULL;
	struct buf *m = NULL;
	int r = TOK_ERR_INTERNAL;

	if (idp != NULL)
		*idp = 0;
	if (h->fd == -1)
		return TOK_ERR_HELPER_DIED;
	if ((req = calloc(1, sizeof(*req))) == NULL ||
	    (m = buf_new()) == NULL) {
		r = TOK_ERR_ALLOC;
		goto out;
	}
	if (++h->next_id == 0)
		h->next_id = 1;
	req->id = h->next_id;
	req->cb = cb;
	req->ncb = ncb;
	req->arg = arg;
	req->h = h;
	if ((r = ipc_msg_start(m, req->id, type)) != 0 ||
	    (payload != NULL && (r = buf_putb(m, payload)) != 0) ||
	    (r = frame_put(h->out, m)) != 0)
		goto out;
	TAILQ_INSERT_TAIL(&h->reqs, req, entry);
	helper_ping_arm(h);
	if (idp != NULL)
		*idp = req->id;
	req = NULL;
	helper_update_events(h);
	r = 0;
 out:
	free(req);
	buf_free(m);
	return r;
}

void
helper_cancel(struct helper *h, uint32_t id)
{
	struct helper_req *req;
	struct buf *m;

	TAILQ_FOREACH(req, &h->reqs, entry) {
		if (req->id == id)
			break;
	}
	if (req == NULL)
		return;
	req->cb = NULL;
	helper_req_finish(req, TOK_ERR_CANCELLED, 0, NULL, NULL);
	if (h->fd == -1 || (m = buf_new()) == NULL)
		return;
	if (ipc_msg_start(m, 0, IPC_CANCEL) == 0 &&
	    buf_put_u32(m, id) == 0 && frame_put(h->out, m) == 0)
		helper_update_events(h);
	buf_free(m);
}

static void
helper_retire_done(void *arg)
{
	struct helper *h = arg;

	h->restart_timer = NULL;
	helper_stop(h);
}

static void
helper_retire_reply(int r, uint8_t type, struct buf *m, const char *detail,
    void *arg)
{
	struct helper *h = arg;

	(void)m;
	if (r == 0 && type != IPC_OK)
		r = TOK_ERR_PROTOCOL;
	if (r != 0 && r != TOK_ERR_HELPER_DIED)
		error("helper %s: last request failed: %s%s%s", h->name,
		    tok_strerror(r), detail ? ": " : "", detail ? detail : "");
	/* Not from inside its own reply: free it from the loop. */
	if (h->restart_timer == NULL &&
	    (h->restart_timer = loop_add_timer(0, helper_retire_done,
	    h)) == NULL)
		error_f("cannot free helper %s", h->name);
}

void
helper_retire(struct helper *h, uint8_t type, const struct buf *payload)
{
	if (h == NULL)
		return;
	h->retiring = 1;
	h->ecb = NULL;
	h->rcb = NULL;
	helper_fail_all(h, TOK_ERR_CANCELLED);
	loop_cancel_timer(h->restart_timer);
	h->restart_timer = NULL;
	if (h->fd == -1 || helper_request(h, type, payload,
	    helper_retire_reply, h, NULL) != 0)
		helper_stop(h);
}

void
helper_stop(struct helper *h)
{
	size_t i;

	if (h == NULL)
		return;
	loop_cancel_timer(h->restart_timer);
	helper_close(h);
	helper_fail_all(h, TOK_ERR_HELPER_DIED);
	if (h->argv != NULL) {
		for (i = 0; h->argv[i] != NULL; i++)
			free(h->argv[i]);
		free(h->argv);
	}
	free(h->name);
	free(h->prog);
	buf_free(h->in);
	buf_free(h->out);
	free(h);
}

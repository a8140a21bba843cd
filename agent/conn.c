/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Client connections on the agent socket (see conn.h). */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/conn.h"
#include "agent/dest.h"
#include "agent/loop.h"
#include "agent/procinfo.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/log.h"

#define CONN_READ_CHUNK		16384
#define CONN_ACCEPT_BATCH	16	/* accepts per wake-up of the listener */
#define CONN_ACCEPT_BACKOFF_MS	250	/* out of descriptors: retry after */
#define CONN_LIMIT_QUIET_MS	10000	/* limit hits this close: one episode */
#define CONN_FD_RESERVE_MIN	16	/* descriptors kept from clients, for */
#define CONN_FD_RESERVE_MAX	64	/* helpers, prompts and logs */
#define CONN_CLIENT_BUCKETS	256

/* The connections of one client process (peer pid). */
struct conn_client {
	pid_t pid;			/* 0: unknown, not shared */
	size_t nconns;
	size_t inflight;		/* its connections with a request waiting */
	size_t nwoken;			/* unparked, their turn still to come */
	struct conn *park_head, *park_tail;
	struct conn_client *hnext;
};

static struct conn *conns;
static size_t nconns;
static uint64_t conn_serial;
static uid_t conn_allow_uid;
static conn_handler *conn_handle;
static struct conn_client *conn_clients[CONN_CLIENT_BUCKETS];

/* Connections with requests left, served one batch each per turn. */
static struct conn *conn_run_head, *conn_run_tail;
static size_t conn_run_len;
static struct loop_timer *conn_run_timer;

/* The listening socket, paused while descriptors run out. */
static struct loop_fd *conn_listen_lf;
static struct loop_timer *conn_accept_timer;
static size_t conn_max;
static uint64_t conn_limit_last_ms;
static int conn_limit_seen;

static void conn_io(int fd, int events, void *arg);
static void conn_process(struct conn *c);
static void conn_run(void *arg);
static void conn_update_events(struct conn *c);

size_t
conn_count(void)
{
	return nconns;
}

/* --- clients: in-flight budget per peer process ------------------------ */

static struct conn_client **
conn_client_bucket(pid_t pid)
{
	return &conn_clients[(uint32_t)pid % CONN_CLIENT_BUCKETS];
}

static struct conn_client *
conn_client_get(pid_t pid)
{
	struct conn_client *cl;

	if (pid > 0) {
		for (cl = *conn_client_bucket(pid); cl != NULL; cl = cl->hnext) {
			if (cl->pid == pid) {
				cl->nconns++;
				return cl;
			}
		}
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return NULL;
	cl->pid = pid > 0 ? pid : 0;
	cl->nconns = 1;
	if (cl->pid != 0) {
		cl->hnext = *conn_client_bucket(pid);
		*conn_client_bucket(pid) = cl;
	}
	return cl;
}

static void
conn_client_put(struct conn_client *cl)
{
	struct conn_client **clp;

	if (--cl->nconns > 0)
		return;
	if (cl->pid != 0) {
		for (clp = conn_client_bucket(cl->pid); *clp != NULL;
		    clp = &(*clp)->hnext) {
			if (*clp == cl) {
				*clp = cl->hnext;
				break;
			}
		}
	}
	free(cl);
}

static void
conn_schedule(struct conn *c)
{
	if (c->scheduled)
		return;
	c->scheduled = 1;
	c->run_next = NULL;
	if (conn_run_tail != NULL)
		conn_run_tail->run_next = c;
	else
		conn_run_head = c;
	conn_run_tail = c;
	conn_run_len++;
	/* The turn comes after this round of fd events. */
	if (conn_run_timer == NULL && (conn_run_timer = loop_defer(conn_run,
	    NULL)) == NULL)
		fatal_f("out of memory");
}

static void
conn_unschedule(struct conn *c)
{
	struct conn *p;

	if (!c->scheduled)
		return;
	if (conn_run_head == c) {
		conn_run_head = c->run_next;
		p = NULL;
	} else {
		for (p = conn_run_head; p != NULL && p->run_next != c;
		    p = p->run_next)
			;
		if (p == NULL)
			fatal_f("run queue corrupt");
		p->run_next = c->run_next;
	}
	if (conn_run_tail == c)
		conn_run_tail = p;
	c->run_next = NULL;
	c->scheduled = 0;
	conn_run_len--;
}

/* One turn: every connection that was waiting for one handles a batch. */
static void
conn_run(void *arg)
{
	struct conn *c;
	size_t n = conn_run_len;

	(void)arg;
	conn_run_timer = NULL;
	while (n-- > 0 && (c = conn_run_head) != NULL) {
		conn_run_head = c->run_next;
		if (conn_run_head == NULL)
			conn_run_tail = NULL;
		c->run_next = NULL;
		c->scheduled = 0;
		conn_run_len--;
		conn_process(c);
	}
}

static void
conn_park(struct conn *c)
{
	struct conn_client *cl = c->client;

	c->parked = 1;
	c->park_next = NULL;
	if (c->woken) {
		/* It lost the free slot to another connection: first again. */
		c->park_next = cl->park_head;
		cl->park_head = c;
		if (cl->park_tail == NULL)
			cl->park_tail = c;
	} else {
		if (cl->park_tail != NULL)
			cl->park_tail->park_next = c;
		else
			cl->park_head = c;
		cl->park_tail = c;
	}
}

static void
conn_unpark(struct conn *c)
{
	struct conn_client *cl = c->client;
	struct conn *p;

	if (!c->parked)
		return;
	if (cl->park_head == c) {
		cl->park_head = c->park_next;
		p = NULL;
	} else {
		for (p = cl->park_head; p != NULL && p->park_next != c;
		    p = p->park_next)
			;
		if (p == NULL)
			fatal_f("park list corrupt");
		p->park_next = c->park_next;
	}
	if (cl->park_tail == c)
		cl->park_tail = p;
	c->park_next = NULL;
	c->parked = 0;
}

/* Give the client's free in-flight slots to its parked connections. */
static void
conn_client_wake(struct conn_client *cl)
{
	struct conn *c;

	while (cl->inflight + cl->nwoken < CONN_CLIENT_INFLIGHT &&
	    (c = cl->park_head) != NULL) {
		conn_unpark(c);
		c->woken = 1;
		cl->nwoken++;
		conn_schedule(c);
		conn_update_events(c);
	}
}

static void
conn_clear_woken(struct conn *c)
{
	if (c->woken) {
		c->woken = 0;
		c->client->nwoken--;
	}
}

/* The request in flight is over (answered or cancelled). */
static void
conn_op_done(struct conn *c)
{
	if (c->op == NULL)
		return;
	c->op = NULL;
	c->op_cancel = NULL;
	if (c->client->inflight > 0)
		c->client->inflight--;
	conn_client_wake(c->client);
}

/* --- the listening socket ---------------------------------------------- */

static void
conn_accept_resume(void)
{
	loop_cancel_timer(conn_accept_timer);
	conn_accept_timer = NULL;
	if (conn_listen_lf != NULL)
		loop_set_events(conn_listen_lf, LOOP_READ);
}

static void
conn_accept_retry(void *arg)
{
	(void)arg;
	conn_accept_timer = NULL;
	conn_accept_resume();
}

/*
 * No descriptor for another client: stop polling the listener until a
 * connection closes or CONN_ACCEPT_BACKOFF_MS pass.  Logged once per
 * episode (limit hits less than CONN_LIMIT_QUIET_MS apart).
 */
static void
conn_accept_pause(const char *why)
{
	uint64_t now = loop_now_ms();

	if (!conn_limit_seen || now - conn_limit_last_ms > CONN_LIMIT_QUIET_MS)
		error("%s (%zu clients connected): new clients wait until one "
		    "leaves", why, nconns);
	conn_limit_seen = 1;
	conn_limit_last_ms = now;
	loop_set_events(conn_listen_lf, 0);
	if (conn_accept_timer == NULL)
		conn_accept_timer = loop_add_timer(CONN_ACCEPT_BACKOFF_MS,
		    conn_accept_retry, NULL);
}

static void
conn_accept(int lfd, int events, void *arg)
{
	struct ucred cred;
	socklen_t len;
	struct conn *c;
	int fd, i;

	(void)events;
	(void)arg;
	for (i = 0; i < CONN_ACCEPT_BATCH; i++) {
		if (nconns >= conn_max) {
			conn_accept_pause("connection limit reached");
			return;
		}
		if ((fd = accept4(lfd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				conn_accept_pause(strerror(errno));
			else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				error_f("accept: %s", strerror(errno));
			return;
		}
		len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred,
		    &len) == -1) {
			error_f("SO_PEERCRED: %s", strerror(errno));
			close(fd);
			continue;
		}
		if (cred.uid != 0 && cred.uid != conn_allow_uid) {
			error("refusing connection from uid %ld (pid %ld)",
			    (long)cred.uid, (long)cred.pid);
			close(fd);
			continue;
		}
		if ((c = conn_new(fd, cred.uid, cred.pid)) == NULL)
			return;
		debug2_f("client %llu: pid %ld uid %ld",
		    (unsigned long long)c->serial, (long)c->pid, (long)c->uid);
	}
}

void
conn_listen(int fd, uid_t allow_uid)
{
	struct rlimit rl;
	size_t reserve, lim = 1024;

	conn_allow_uid = allow_uid;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		lim = rl.rlim_cur > SIZE_MAX / 2 ? SIZE_MAX / 2 :
		    (size_t)rl.rlim_cur;
	reserve = lim / 16;
	if (reserve < CONN_FD_RESERVE_MIN)
		reserve = CONN_FD_RESERVE_MIN;
	if (reserve > CONN_FD_RESERVE_MAX)
		reserve = CONN_FD_RESERVE_MAX;
	conn_max = lim > 2 * reserve ? lim - reserve : lim / 2;
	if (conn_max == 0)
		conn_max = 1;
	debug_f("up to %zu clients (descriptor limit %zu)", conn_max, lim);
	if ((conn_listen_lf = loop_add_fd(fd, LOOP_READ, conn_accept,
	    NULL)) == NULL)
		fatal_f("out of memory");
}

/* --- connections ------------------------------------------------------- */

void
conn_free(struct conn *c)
{
	struct conn_client *cl = c->client;

	if (c->op != NULL && c->op_cancel != NULL)
		c->op_cancel(c->op);
	c->op_cancel = NULL;
	conn_unschedule(c);
	conn_unpark(c);
	conn_clear_woken(c);
	if (c->op != NULL) {
		c->op = NULL;
		if (cl->inflight > 0)
			cl->inflight--;
	}
	loop_remove_fd(c->lf);
	close(c->fd);
	buf_free(c->in);
	buf_free(c->out);
	dest_bindings_free(c->bindings);
	procinfo_chain_free(c->procs);
	free(c->client_json);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	nconns--;
	free(c);
	conn_client_wake(cl);
	conn_client_put(cl);
	/* A descriptor is free again. */
	if (conn_accept_timer != NULL)
		conn_accept_resume();
}

void
conn_close_all(void)
{
	while (conns != NULL)
		conn_free(conns);
}

/* Is the connection ready to read more requests? */
static int
conn_wants_input(const struct conn *c)
{
	return !c->closing && c->op == NULL && !c->parked && !c->scheduled &&
	    buf_len(c->out) < CONN_OUT_MAX;
}

static void
conn_update_events(struct conn *c)
{
	int ev = 0;

	if (conn_wants_input(c))
		ev |= LOOP_READ;
	/* A closing connection is freed from conn_io once its output is gone. */
	if (buf_len(c->out) > 0 || c->closing)
		ev |= LOOP_WRITE;
	loop_set_events(c->lf, ev);
}

/*
 * Send what the socket takes now.  Errors only mark the connection closing:
 * callers still hold it; conn_io frees it.
 */
static void
conn_flush(struct conn *c)
{
	ssize_t n;

	while (buf_len(c->out) > 0) {
		n = send(c->fd, buf_ptr(c->out), buf_len(c->out),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN) {
			c->closing = 1;
			buf_reset(c->out);
			return;
		}
		if (n <= 0)
			return;
		if (buf_consume(c->out, (size_t)n) != 0)
			fatal_f("buffer accounting");
	}
}

/* Is a whole request (or an oversized one) waiting in the input? */
static int
conn_frame_ready(const struct conn *c)
{
	uint32_t len;

	if (buf_peek_u32(c->in, 0, &len) != 0)
		return 0;
	return len > CONN_MSG_MAX || buf_len(c->in) - 4 >= len;
}

/*
 * Does the waiting request count against its client's in-flight budget?
 * Listing is always answered at once, so it never waits for the budget.
 */
static int
conn_frame_budgeted(const struct conn *c)
{
	uint32_t len;

	return buf_peek_u32(c->in, 0, &len) != 0 || len == 0 ||
	    buf_ptr(c->in)[4] != SSH_AGENTC_REQUEST_IDENTITIES;
}

/*
 * Handle complete requests in the input, until one has to wait, the output
 * is full, the client's in-flight budget is used up, or this connection's
 * batch is done (then it gets another turn after the others).
 */
static void
conn_process(struct conn *c)
{
	struct buf *m;
	int n = 0;

	conn_clear_woken(c);
	while (c->op == NULL && !c->closing && !c->parked &&
	    buf_len(c->out) < CONN_OUT_MAX && conn_frame_ready(c)) {
		if (n++ == CONN_BATCH) {
			conn_schedule(c);
			break;
		}
		if (c->client->inflight >= CONN_CLIENT_INFLIGHT &&
		    conn_frame_budgeted(c)) {
			conn_park(c);
			break;
		}
		if (frame_take(c->in, CONN_MSG_MAX, &m) != 0 || m == NULL) {
			error("client %llu (pid %ld): message too long; closing",
			    (unsigned long long)c->serial, (long)c->pid);
			c->closing = 1;
			break;
		}
		c->dispatching = 1;
		if (conn_handle != NULL)
			conn_handle(c, m);
		else
			conn_reply_status(c, 0);
		c->dispatching = 0;
		buf_free(m);
		conn_flush(c);
	}
	conn_flush(c);
	conn_client_wake(c->client);
	conn_update_events(c);
}

struct conn *
conn_new(int fd, uid_t uid, pid_t pid)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->in = buf_new()) == NULL || (c->out = buf_new()) == NULL ||
	    (c->bindings = dest_bindings_new()) == NULL ||
	    (c->client = conn_client_get(pid)) == NULL ||
	    buf_set_max_size(c->in, CONN_MSG_MAX + 4 + CONN_READ_CHUNK) != 0 ||
	    (c->lf = loop_add_fd(fd, LOOP_READ, conn_io, c)) == NULL) {
		error_f("out of memory");
		if (c != NULL) {
			if (c->client != NULL)
				conn_client_put(c->client);
			buf_free(c->in);
			buf_free(c->out);
			dest_bindings_free(c->bindings);
			free(c);
		}
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->uid = uid;
	c->pid = pid;
	c->serial = ++conn_serial;
	c->next = conns;
	if (conns != NULL)
		conns->prev = c;
	conns = c;
	nconns++;
	return c;
}

static void
conn_io(int fd, int events, void *arg)
{
	struct conn *c = arg;
	u_char *p;
	ssize_t n;

	if ((events & LOOP_WRITE) && buf_len(c->out) > 0) {
		n = send(fd, buf_ptr(c->out), buf_len(c->out), MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			conn_free(c);
			return;
		}
		if (n > 0 && buf_consume(c->out, (size_t)n) != 0)
			fatal_f("buffer accounting");
	}
	if ((events & LOOP_READ) && conn_wants_input(c)) {
		if (buf_reserve(c->in, CONN_READ_CHUNK, &p) != 0) {
			c->closing = 1;	/* cannot happen: frames are capped */
		} else {
			n = read(fd, p, CONN_READ_CHUNK);
			if (buf_consume_end(c->in, CONN_READ_CHUNK -
			    (n > 0 ? (size_t)n : 0)) != 0)
				fatal_f("buffer accounting");
			if (n == -1 && errno != EAGAIN && errno != EINTR) {
				conn_free(c);
				return;
			}
			/* EOF: the replies queued so far still go out. */
			if (n == 0)
				c->closing = 1;
		}
		conn_process(c);
	} else if (events & LOOP_HUP) {
		/* Gone while a request waits: cancel it (a touch, a prompt). */
		conn_free(c);
		return;
	} else if (!c->parked && !c->scheduled) {
		/* The client read some output: waiting requests go on. */
		conn_process(c);
	}
	if (c->closing && buf_len(c->out) == 0) {
		conn_free(c);
		return;
	}
	conn_update_events(c);
}

void
conn_set_handler(conn_handler *handler)
{
	conn_handle = handler;
}

void
conn_reply(struct conn *c, const struct buf *reply)
{
	int r;

	conn_op_done(c);
	if ((r = frame_put(c->out, reply)) != 0) {
		error_fr(r, "queue reply");
		c->closing = 1;
	}
	/* Requests that arrived while this one waited are handled now. */
	if (!c->dispatching)
		conn_process(c);
}

void
conn_reply_status(struct conn *c, int ok)
{
	u_char t = ok ? SSH_AGENT_SUCCESS : SSH_AGENT_FAILURE;
	struct buf *b;

	if ((b = buf_from(&t, 1)) == NULL)
		fatal_f("out of memory");
	conn_reply(c, b);
	buf_free(b);
}

int
conn_push(struct conn *c, const struct buf *msg, size_t max)
{
	int r;

	if (c->closing || buf_len(c->out) > max)
		return TOK_ERR_NO_BUFFER_SPACE;
	if ((r = frame_put(c->out, msg)) != 0)
		return r;
	if (!c->dispatching)
		conn_update_events(c);
	return 0;
}

const struct procinfo_chain *
conn_procs(struct conn *c)
{
	if (c->procs == NULL)
		c->procs = procinfo_chain_get(c->pid);
	return c->procs;
}

void
conn_wait(struct conn *c, void *op, void (*cancel)(void *op))
{
	if (c->op == NULL)
		c->client->inflight++;
	c->op = op;
	c->op_cancel = cancel;
}

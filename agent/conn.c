/* Client connections on the agent socket (see conn.h). */
#include "config.h"

#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/conn.h"
#include "agent/dest.h"
#include "agent/dispatch.h"
#include "agent/loop.h"
#include "agent/procinfo.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/log.h"

#define CONN_READ_CHUNK	16384
#define SSH_AGENT_FAILURE	5
#define SSH_AGENT_SUCCESS	6

static struct conn *conns;
static size_t nconns;
static uint64_t conn_serial;
static uid_t conn_allow_uid;

static void conn_io(int fd, int events, void *arg);

size_t
conn_count(void)
{
	return nconns;
}

void
conn_free(struct conn *c)
{
	if (c->op != NULL && c->op_cancel != NULL)
		c->op_cancel(c->op);
	c->op = NULL;
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
}

void
conn_close_all(void)
{
	while (conns != NULL)
		conn_free(conns);
}

static void
conn_update_events(struct conn *c)
{
	int ev = 0;

	if (c->op == NULL && !c->closing)
		ev |= LOOP_READ;
	/* A closing connection is freed from conn_io once its output is gone. */
	if (buf_len(c->out) > 0 || c->closing)
		ev |= LOOP_WRITE;
	loop_set_events(c->lf, ev);
}

/* Handle every complete request in the input, until one has to wait. */
static void
conn_process(struct conn *c)
{
	struct buf *m;
	int r;

	while (c->op == NULL && !c->closing) {
		if ((r = frame_take(c->in, CONN_MSG_MAX, &m)) != 0) {
			error("client %llu (pid %ld): message too long; closing",
			    (unsigned long long)c->serial, (long)c->pid);
			c->closing = 1;
			break;
		}
		if (m == NULL)
			break;
		c->dispatching = 1;
		dispatch_message(c, m);
		c->dispatching = 0;
		buf_free(m);
	}
	conn_update_events(c);
}

static void
conn_accept(int lfd, int events, void *arg)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct conn *c;
	int fd;

	(void)events;
	(void)arg;
	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			error_f("accept: %s", strerror(errno));
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		error_f("SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return;
	}
	if (cred.uid != 0 && cred.uid != conn_allow_uid) {
		error("refusing connection from uid %ld (pid %ld)",
		    (long)cred.uid, (long)cred.pid);
		close(fd);
		return;
	}
	if ((c = conn_new(fd, cred.uid, cred.pid)) == NULL)
		return;
	debug2_f("client %llu: pid %ld uid %ld", (unsigned long long)c->serial,
	    (long)c->pid, (long)c->uid);
}

struct conn *
conn_new(int fd, uid_t uid, pid_t pid)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->in = buf_new()) == NULL || (c->out = buf_new()) == NULL ||
	    (c->bindings = dest_bindings_new()) == NULL ||
	    buf_set_max_size(c->in, CONN_MSG_MAX + 4 + CONN_READ_CHUNK) != 0 ||
	    (c->lf = loop_add_fd(fd, LOOP_READ, conn_io, c)) == NULL) {
		error_f("out of memory");
		if (c != NULL) {
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
		if (c->closing && buf_len(c->out) == 0) {
			conn_free(c);
			return;
		}
	}
	if ((events & LOOP_READ) && c->op == NULL && !c->closing) {
		if (buf_reserve(c->in, CONN_READ_CHUNK, &p) != 0) {
			c->closing = 1;	/* cannot happen: frames are capped */
		} else {
			n = read(fd, p, CONN_READ_CHUNK);
			if (buf_consume_end(c->in, CONN_READ_CHUNK -
			    (n > 0 ? (size_t)n : 0)) != 0)
				fatal_f("buffer accounting");
			if (n == 0 || (n == -1 && errno != EAGAIN &&
			    errno != EINTR)) {
				conn_free(c);
				return;
			}
		}
		conn_process(c);
	} else if (events & LOOP_HUP) {
		/* Gone while a request waits: cancel it (a touch, a prompt). */
		conn_free(c);
		return;
	}
	if (c->closing && buf_len(c->out) == 0) {
		conn_free(c);
		return;
	}
	conn_update_events(c);
}

void
conn_listen(int fd, uid_t allow_uid)
{
	conn_allow_uid = allow_uid;
	if (loop_add_fd(fd, LOOP_READ, conn_accept, NULL) == NULL)
		fatal_f("out of memory");
}

void
conn_reply(struct conn *c, const struct buf *reply)
{
	int r;

	c->op = NULL;
	c->op_cancel = NULL;
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
	c->op = op;
	c->op_cancel = cancel;
}

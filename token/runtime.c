/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* The helper runtime: main skeleton and IPC loop (see runtime.h). */
#include "config.h"

#include <sys/queue.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "common/harden.h"
#include "common/ipc.h"
#include "common/log.h"
#include "token/runtime.h"

#define RT_READ_CHUNK	16384
#define RT_QUEUE_MAX	4096	/* requests waiting for the worker */

struct rt_job {
	uint32_t id;
	uint8_t type;
	struct buf *m;		/* NULL: an event on the event fd */
	TAILQ_ENTRY(rt_job) entry;
};

static const struct token_ops *rt_ops;
static void *rt_ctx;
static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rt_cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t rt_write_lock = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(, rt_job) rt_queue = TAILQ_HEAD_INITIALIZER(rt_queue);
static size_t rt_nqueued;
static int rt_stop;
static int rt_event_fd = -1;
static int rt_event_pending;	/* an event job is queued or running */
static int rt_busy;		/* the worker serves a job */
static int rt_wake[2] = { -1, -1 };
static const char *rt_name = "helper";

static void rt_hello(void);

void
token_helper_init(int argc, char **argv, const char *name,
    const char *usage, int nargs, char ***argvp)
{
	enum log_level level = LOG_LEVEL_INFO;
	struct stat sb;
	int ch;

	harden_process();
	rt_name = name;
	log_init(name, level, 1);
	while ((ch = getopt(argc, argv, "dv")) != -1) {
		switch (ch) {
		case 'd':
		case 'v':
			/* The first raises the level to debug, as -d did. */
			if (level < LOG_LEVEL_DEBUG2)
				level = LOG_LEVEL_DEBUG2;
			else if (level < LOG_LEVEL_DEBUG3)
				level++;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != nargs)
		goto usage;
	*argvp = argv + optind;
	log_init(name, level, 1);
	if (fstat(TOKEN_IPC_FD, &sb) == -1 || !S_ISSOCK(sb.st_mode))
		fatal_f("fd %d is not the agent's socket: this program is "
		    "started by tokagent", TOKEN_IPC_FD);
	signal(SIGPIPE, SIG_IGN);
	/* First, before any thread of the backend may send an event. */
	rt_hello();
	return;
 usage:
	fprintf(stderr, "usage: %s [-dv]%s%s\n", name, *usage ? " " : "",
	    usage);
	exit(2);
}

void
token_send(struct buf *m)
{
	struct buf *out;
	ssize_t n;

	if ((out = buf_new()) == NULL || frame_put(out, m) != 0)
		fatal_f("out of memory");
	pthread_mutex_lock(&rt_write_lock);
	while (buf_len(out) > 0) {
		n = write(TOKEN_IPC_FD, buf_ptr(out), buf_len(out));
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;	/* the agent is gone; the loop sees EOF */
		if (buf_consume(out, (size_t)n) != 0)
			fatal_f("buffer accounting");
	}
	pthread_mutex_unlock(&rt_write_lock);
	buf_free(out);
}

void
token_send_failure(uint32_t id, int r, const char *detail)
{
	struct buf *m;

	if ((m = buf_new()) == NULL || ipc_msg_failure(m, id, r, detail) != 0)
		fatal_f("out of memory");
	token_send(m);
	buf_free(m);
}

static void
rt_wakeup(void)
{
	char c = 0;

	/* A full pipe already holds a wake-up: nothing is lost. */
	if (rt_wake[1] != -1 && write(rt_wake[1], &c, 1) == -1 &&
	    errno != EAGAIN)
		debug_f("wake-up: %s", strerror(errno));
}

void
token_set_event_fd(int fd)
{
	pthread_mutex_lock(&rt_lock);
	rt_event_fd = fd;
	pthread_mutex_unlock(&rt_lock);
	rt_wakeup();
}

static void
rt_job_free(struct rt_job *job)
{
	if (job == NULL)
		return;
	buf_free(job->m);	/* zeroed: it may hold a PIN */
	free(job);
}

static void
rt_serve(struct rt_job *job)
{
	struct buf *reply = NULL, *payload = NULL;
	uint8_t rtype = 0;
	char *detail = NULL;
	int r;

	if ((reply = buf_new()) == NULL || (payload = buf_new()) == NULL)
		fatal_f("out of memory");
	r = rt_ops->handle(rt_ctx, job->id, job->type, job->m, &rtype,
	    payload, &detail);
	if (r == 0) {
		if (ipc_msg_start(reply, job->id, rtype) != 0 ||
		    buf_putb(reply, payload) != 0)
			fatal_f("out of memory");
		token_send(reply);
	} else if (r != TOKEN_REPLY_LATER) {
		debug_f("%s: request %u type %u: %s%s%s", rt_ops->name,
		    job->id, job->type, tok_strerror(r), detail ? ": " : "",
		    detail ? detail : "");
		token_send_failure(job->id, r, detail);
	}
	free(detail);
	buf_free(reply);
	buf_free(payload);
}

static void *
rt_worker(void *arg)
{
	struct rt_job *job;

	(void)arg;
	pthread_mutex_lock(&rt_lock);
	for (;;) {
		while (!rt_stop && (job = TAILQ_FIRST(&rt_queue)) == NULL)
			pthread_cond_wait(&rt_cond, &rt_lock);
		if (rt_stop)
			break;
		TAILQ_REMOVE(&rt_queue, job, entry);
		rt_nqueued--;
		rt_busy = 1;
		pthread_mutex_unlock(&rt_lock);
		if (job->m == NULL) {
			rt_ops->event(rt_ctx);
			pthread_mutex_lock(&rt_lock);
			rt_event_pending = 0;
			pthread_mutex_unlock(&rt_lock);
			rt_wakeup();	/* poll the event fd again */
		} else
			rt_serve(job);
		rt_job_free(job);
		pthread_mutex_lock(&rt_lock);
		rt_busy = 0;
	}
	pthread_mutex_unlock(&rt_lock);
	return NULL;
}

/* Queue a job for the worker; rt_lock not held. */
static int
rt_enqueue(uint32_t id, uint8_t type, struct buf *m)
{
	struct rt_job *job;

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return TOK_ERR_ALLOC;
	job->id = id;
	job->type = type;
	job->m = m;
	pthread_mutex_lock(&rt_lock);
	if (m != NULL && rt_nqueued >= RT_QUEUE_MAX) {
		pthread_mutex_unlock(&rt_lock);
		free(job);
		return TOK_ERR_NO_BUFFER_SPACE;
	}
	TAILQ_INSERT_TAIL(&rt_queue, job, entry);
	rt_nqueued++;
	pthread_cond_signal(&rt_cond);
	pthread_mutex_unlock(&rt_lock);
	return 0;
}

/* IPC_CANCEL: drop the request if it waits, else tell the backend. */
static void
rt_cancel(struct buf *m)
{
	struct rt_job *job;
	uint32_t id;

	if (buf_get_u32(m, &id) != 0 || buf_expect_empty(m) != 0) {
		error("%s: bad cancel from the agent", rt_name);
		return;
	}
	pthread_mutex_lock(&rt_lock);
	TAILQ_FOREACH(job, &rt_queue, entry) {
		if (job->m != NULL && job->id == id)
			break;
	}
	if (job != NULL) {
		TAILQ_REMOVE(&rt_queue, job, entry);
		rt_nqueued--;
	}
	pthread_mutex_unlock(&rt_lock);
	if (job != NULL) {
		debug_f("request %u cancelled before it started", id);
		rt_job_free(job);
	} else if (rt_ops->cancel != NULL)
		rt_ops->cancel(rt_ctx, id);
}

static void
rt_hello(void)
{
	struct buf *m;

	if ((m = buf_new()) == NULL || ipc_msg_start(m, 0, IPC_HELLO) != 0 ||
	    buf_put_u32(m, IPC_VERSION) != 0 ||
	    buf_put_cstring(m, rt_name) != 0)
		fatal_f("out of memory");
	token_send(m);
	buf_free(m);
}

/* The agent's IPC_HELLO: the same protocol version, or nothing works. */
static void
rt_check_hello(uint8_t type, struct buf *m)
{
	uint32_t version;

	if (type != IPC_HELLO)
		log_die(NULL, 0, "%s: the agent did not start with "
		    "IPC_HELLO (message type %u): it is not tokagent %s, or "
		    "an older one",
		    rt_name, type, PACKAGE_VERSION);
	if (buf_get_u32(m, &version) != 0 ||
	    buf_get_string_direct(m, NULL, NULL) != 0 ||
	    buf_expect_empty(m) != 0)
		log_die(NULL, 0, "%s: malformed IPC_HELLO from the agent",
		    rt_name);
	if (version != IPC_VERSION)
		log_die(NULL, 0, "%s: the agent speaks helper protocol "
		    "version %u, this helper version %u: install the tokagent "
		    "programs of one build", rt_name, version, IPC_VERSION);
}

/* Nothing queued or running: the loop may serve a quick request itself. */
static int
rt_idle(void)
{
	int idle;

	pthread_mutex_lock(&rt_lock);
	idle = !rt_busy && rt_nqueued == 0;
	pthread_mutex_unlock(&rt_lock);
	return idle;
}

/*
 * One message from the agent; m is owned from here on.  last: no more
 * input is waiting behind it.
 */
static int
rt_message(struct buf *m, int last, int *hellop)
{
	struct buf *ok;
	uint32_t id;
	uint8_t type;
	int r;

	if ((r = ipc_msg_header(m, &id, &type)) != 0) {
		error_fr(r, "%s: short message from the agent", rt_name);
		buf_free(m);
		return r;
	}
	if (!*hellop) {
		rt_check_hello(type, m);
		*hellop = 1;
		buf_free(m);
		return 0;
	}
	switch (type) {
	case IPC_PING:
		buf_free(m);
		if ((ok = buf_new()) == NULL || ipc_msg_start(ok, id,
		    IPC_OK) != 0)
			fatal_f("out of memory");
		token_send(ok);
		buf_free(ok);
		return 0;
	case IPC_CANCEL:
		rt_cancel(m);
		buf_free(m);
		return 0;
	default:
		/* Only the worker takes jobs from the queue, only the loop adds. */
		if (rt_ops->handle_on_loop || (last && rt_ops->quick != NULL &&
		    rt_idle() && rt_ops->quick(rt_ctx, type, m))) {
			struct rt_job job = { .id = id, .type = type, .m = m };

			rt_serve(&job);
			buf_free(m);
			return 0;
		}
		if ((r = rt_enqueue(id, type, m)) != 0) {
			buf_free(m);
			token_send_failure(id, r, "too many requests queued");
		}
		return 0;
	}
}

int
token_helper_run(const struct token_ops *ops, void *ctx)
{
	struct pollfd pfd[3];
	struct buf *in = NULL, *m = NULL;
	struct rt_job *job;
	pthread_t worker;
	u_char rbuf[RT_READ_CHUNK];
	char drain[64];
	ssize_t n;
	nfds_t nfds;
	int r = TOK_ERR_INTERNAL, hello = 0, efd;

	rt_ops = ops;
	rt_ctx = ctx;
	if (pipe2(rt_wake, O_CLOEXEC | O_NONBLOCK) != 0)
		fatal_f("pipe: %s", strerror(errno));
	if ((in = buf_new()) == NULL ||
	    buf_set_max_size(in, IPC_MSG_MAX + 2 * RT_READ_CHUNK) != 0)
		fatal_f("out of memory");
	if (pthread_create(&worker, NULL, rt_worker, NULL) != 0)
		fatal_f("cannot start the worker thread");
	for (;;) {
		pthread_mutex_lock(&rt_lock);
		efd = rt_event_pending ? -1 : rt_event_fd;
		pthread_mutex_unlock(&rt_lock);
		pfd[0].fd = TOKEN_IPC_FD;
		pfd[0].events = POLLIN;
		pfd[1].fd = rt_wake[0];
		pfd[1].events = POLLIN;
		pfd[2].fd = efd;
		pfd[2].events = POLLIN;
		nfds = efd == -1 ? 2 : 3;
		if (poll(pfd, nfds, -1) == -1) {
			if (errno == EINTR)
				continue;
			r = TOK_ERR_SYSTEM;
			error_fr(r, "%s: poll", rt_name);
			goto out;
		}
		if (pfd[1].revents & POLLIN)
			while (read(rt_wake[0], drain, sizeof(drain)) > 0)
				;
		if (nfds == 3 && (pfd[2].revents & (POLLIN | POLLHUP))) {
			pthread_mutex_lock(&rt_lock);
			rt_event_pending = 1;
			pthread_mutex_unlock(&rt_lock);
			if ((r = rt_enqueue(0, 0, NULL)) != 0)
				fatal_fr(r, "event");
		}
		if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
			continue;
		n = read(TOKEN_IPC_FD, rbuf, sizeof(rbuf));
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			r = n == 0 ? 0 : TOK_ERR_SYSTEM;
			if (r != 0)
				error_fr(r, "%s: read", rt_name);
			goto out;
		}
		r = buf_put(in, rbuf, (size_t)n);
		explicit_bzero(rbuf, (size_t)n);	/* may hold a PIN */
		if (r != 0) {
			error_fr(r, "%s: input", rt_name);
			goto out;
		}
		for (;;) {
			if ((r = frame_take(in, IPC_MSG_MAX, &m)) != 0) {
				error_fr(r, "%s: bad frame from the agent",
				    rt_name);
				goto out;
			}
			if (m == NULL)
				break;
			if ((r = rt_message(m, buf_len(in) == 0, &hello)) != 0)
				goto out;
			m = NULL;
		}
		if (buf_len(in) == 0)
			buf_reset(in);	/* zeroes what was read */
	}
 out:
	pthread_mutex_lock(&rt_lock);
	rt_stop = 1;
	while ((job = TAILQ_FIRST(&rt_queue)) != NULL) {
		TAILQ_REMOVE(&rt_queue, job, entry);
		rt_job_free(job);
	}
	rt_nqueued = 0;
	pthread_cond_broadcast(&rt_cond);
	pthread_mutex_unlock(&rt_lock);
	if (ops->cancel != NULL)
		debug_f("%s: the agent is gone", rt_name);
	pthread_join(worker, NULL);
	buf_free(in);
	close(rt_wake[0]);
	close(rt_wake[1]);
	rt_wake[0] = rt_wake[1] = -1;
	return r;
}

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The agent's event loop (see loop.h).  epoll(7), level-triggered, so a
 * round costs what is ready, not what is open (1,000 idle clients cost
 * nothing); removed entries are tombstoned until the round ends so
 * callbacks may add and remove freely.
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/queue.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/loop.h"
#include "common/log.h"

struct loop_fd {
	int fd;
	int events;
	int dead;
	loop_fd_cb *cb;
	void *arg;
	TAILQ_ENTRY(loop_fd) entry;
};

struct loop_timer {
	uint64_t when;			/* deferred: the round it was added in */
	int deferred;
	loop_timer_cb *cb;
	void *arg;
	TAILQ_ENTRY(loop_timer) entry;
};

#define LOOP_MAX_EVENTS	256	/* per round; the rest come next round */

/* Every registration, live or removed this round (freed when it ends). */
static TAILQ_HEAD(, loop_fd) loop_fds = TAILQ_HEAD_INITIALIZER(loop_fds);
static TAILQ_HEAD(, loop_fd) loop_dead = TAILQ_HEAD_INITIALIZER(loop_dead);
static TAILQ_HEAD(, loop_timer) loop_timers =
    TAILQ_HEAD_INITIALIZER(loop_timers);
static TAILQ_HEAD(, loop_timer) loop_deferred =
    TAILQ_HEAD_INITIALIZER(loop_deferred);
static uint64_t loop_round;
static int loop_epfd = -1;
static volatile sig_atomic_t loop_stopped;

static void
loop_epoll_open(void)
{
	if (loop_epfd == -1 &&
	    (loop_epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal_f("epoll_create1: %s", strerror(errno));
}

void
loop_init(void)
{
	loop_stopped = 0;
	loop_epoll_open();
}

/* Hang-ups and errors are reported by epoll whatever is asked. */
static uint32_t
loop_epoll_events(int events)
{
	return ((events & LOOP_READ) ? EPOLLIN : 0) |
	    ((events & LOOP_WRITE) ? EPOLLOUT : 0);
}

uint64_t
loop_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		fatal_f("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct loop_fd *
loop_add_fd(int fd, int events, loop_fd_cb *cb, void *arg)
{
	struct epoll_event ev;
	struct loop_fd *lf;

	loop_epoll_open();
	if ((lf = calloc(1, sizeof(*lf))) == NULL)
		return NULL;
	lf->fd = fd;
	lf->events = events;
	lf->cb = cb;
	lf->arg = arg;
	memset(&ev, 0, sizeof(ev));
	ev.events = loop_epoll_events(events);
	ev.data.ptr = lf;
	if (epoll_ctl(loop_epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		error_f("epoll_ctl add fd %d: %s", fd, strerror(errno));
		free(lf);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&loop_fds, lf, entry);
	return lf;
}

void
loop_set_events(struct loop_fd *lf, int events)
{
	struct epoll_event ev;

	if (lf->events == events || lf->dead)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = loop_epoll_events(events);
	ev.data.ptr = lf;
	if (epoll_ctl(loop_epfd, EPOLL_CTL_MOD, lf->fd, &ev) == -1)
		fatal_f("epoll_ctl mod fd %d: %s", lf->fd, strerror(errno));
	lf->events = events;
}

void
loop_remove_fd(struct loop_fd *lf)
{
	if (lf == NULL || lf->dead)
		return;
	(void)epoll_ctl(loop_epfd, EPOLL_CTL_DEL, lf->fd, NULL);
	/* Freed when the round ends: its results may still point at it. */
	lf->dead = 1;
	lf->events = 0;
	TAILQ_REMOVE(&loop_fds, lf, entry);
	TAILQ_INSERT_TAIL(&loop_dead, lf, entry);
}

struct loop_timer *
loop_add_timer(uint64_t ms, loop_timer_cb *cb, void *arg)
{
	struct loop_timer *lt, *t;

	if ((lt = calloc(1, sizeof(*lt))) == NULL)
		return NULL;
	lt->when = loop_now_ms() + ms;
	lt->cb = cb;
	lt->arg = arg;
	TAILQ_FOREACH(t, &loop_timers, entry) {
		if (t->when > lt->when) {
			TAILQ_INSERT_BEFORE(t, lt, entry);
			return lt;
		}
	}
	TAILQ_INSERT_TAIL(&loop_timers, lt, entry);
	return lt;
}

struct loop_timer *
loop_defer(loop_timer_cb *cb, void *arg)
{
	struct loop_timer *lt;

	if ((lt = calloc(1, sizeof(*lt))) == NULL)
		return NULL;
	lt->when = loop_round;
	lt->deferred = 1;
	lt->cb = cb;
	lt->arg = arg;
	TAILQ_INSERT_TAIL(&loop_deferred, lt, entry);
	return lt;
}

void
loop_cancel_timer(struct loop_timer *lt)
{
	if (lt == NULL)
		return;
	if (lt->deferred)
		TAILQ_REMOVE(&loop_deferred, lt, entry);
	else
		TAILQ_REMOVE(&loop_timers, lt, entry);
	free(lt);
}

static void
loop_run_timers(void)
{
	struct loop_timer *lt;
	uint64_t now = loop_now_ms();

	while ((lt = TAILQ_FIRST(&loop_timers)) != NULL && lt->when <= now) {
		TAILQ_REMOVE(&loop_timers, lt, entry);
		lt->cb(lt->arg);
		free(lt);
	}
}

/* Deferred calls added before this round's poll (not those they add). */
static void
loop_run_deferred(uint64_t round)
{
	struct loop_timer *lt;

	while ((lt = TAILQ_FIRST(&loop_deferred)) != NULL && lt->when < round) {
		TAILQ_REMOVE(&loop_deferred, lt, entry);
		lt->cb(lt->arg);
		free(lt);
	}
}

void
loop_run_once(void)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	struct loop_timer *lt;
	struct loop_fd *lf;
	int timeout = -1, n, ev, i;
	uint64_t now, round;

	if ((lt = TAILQ_FIRST(&loop_timers)) != NULL) {
		now = loop_now_ms();
		timeout = lt->when <= now ? 0 :
		    (lt->when - now > 60000 ? 60000 : (int)(lt->when - now));
	}
	if (!TAILQ_EMPTY(&loop_deferred))
		timeout = 0;
	loop_epoll_open();
	n = epoll_wait(loop_epfd, evs, LOOP_MAX_EVENTS, timeout);
	round = ++loop_round;
	if (n == -1) {
		if (errno != EINTR)
			fatal_f("epoll_wait: %s", strerror(errno));
		n = 0;
	}
	for (i = 0; i < n; i++) {
		lf = evs[i].data.ptr;
		if (lf->dead)
			continue;
		ev = 0;
		/* Not what a callback of this round stopped asking for. */
		if ((evs[i].events & EPOLLIN) && (lf->events & LOOP_READ))
			ev |= LOOP_READ;
		if (evs[i].events & (EPOLLHUP | EPOLLERR))
			ev |= LOOP_HUP;
		if ((evs[i].events & EPOLLOUT) && (lf->events & LOOP_WRITE))
			ev |= LOOP_WRITE;
		if (ev != 0)
			lf->cb(lf->fd, ev, lf->arg);
	}
	loop_run_timers();
	loop_run_deferred(round);
	while ((lf = TAILQ_FIRST(&loop_dead)) != NULL) {
		TAILQ_REMOVE(&loop_dead, lf, entry);
		free(lf);
	}
}

void
loop_stop(void)
{
	loop_stopped = 1;
}

int
loop_running(void)
{
	return !loop_stopped;
}

/* ---- Signals, through a self-pipe ---------------------------------------- */

#define LOOP_NSIG	65

static int loop_sig_pipe[2] = { -1, -1 };
static loop_signal_cb *loop_sig_cb[LOOP_NSIG];

static void
loop_sig_handler(int sig)
{
	int saved_errno = errno;
	u_char c = (u_char)sig;

	/* A full pipe drops the byte: the same signal is pending anyway. */
	(void)!write(loop_sig_pipe[1], &c, 1);
	errno = saved_errno;
}

static void
loop_sig_read(int fd, int events, void *arg)
{
	u_char sigs[64];
	ssize_t n, i;

	(void)events;
	(void)arg;
	while ((n = read(fd, sigs, sizeof(sigs))) > 0) {
		for (i = 0; i < n; i++) {
			if (sigs[i] < LOOP_NSIG && loop_sig_cb[sigs[i]] != NULL)
				loop_sig_cb[sigs[i]](sigs[i]);
		}
	}
}

void
loop_on_signal(int sig, loop_signal_cb *cb)
{
	struct sigaction sa;

	if (sig <= 0 || sig >= LOOP_NSIG)
		fatal_f("signal %d out of range", sig);
	if (loop_sig_pipe[0] == -1) {
		if (pipe2(loop_sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
			fatal_f("pipe2");
		if (loop_add_fd(loop_sig_pipe[0], LOOP_READ, loop_sig_read,
		    NULL) == NULL)
			fatal_f("out of memory");
	}
	loop_sig_cb[sig] = cb;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = cb != NULL ? loop_sig_handler : SIG_DFL;
	if (sigaction(sig, &sa, NULL) != 0)
		fatal_f("sigaction(%d)", sig);
}

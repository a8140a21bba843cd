/*
 * The agent's event loop (see loop.h).  poll(2) over a dense array that is
 * rebuilt only when registrations change; removed entries are tombstoned
 * during dispatch so callbacks may add and remove freely.
 */
#include "config.h"

#include <sys/queue.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
	uint64_t when;
	loop_timer_cb *cb;
	void *arg;
	TAILQ_ENTRY(loop_timer) entry;
};

static TAILQ_HEAD(, loop_fd) loop_fds = TAILQ_HEAD_INITIALIZER(loop_fds);
static TAILQ_HEAD(, loop_timer) loop_timers =
    TAILQ_HEAD_INITIALIZER(loop_timers);
static struct pollfd *loop_pfds;
static struct loop_fd **loop_pfd_owner;
static size_t loop_npfd, loop_pfd_alloc;
static int loop_dirty = 1;
static volatile sig_atomic_t loop_stopped;

void
loop_init(void)
{
	loop_stopped = 0;
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
	struct loop_fd *lf;

	if ((lf = calloc(1, sizeof(*lf))) == NULL)
		return NULL;
	lf->fd = fd;
	lf->events = events;
	lf->cb = cb;
	lf->arg = arg;
	TAILQ_INSERT_TAIL(&loop_fds, lf, entry);
	loop_dirty = 1;
	return lf;
}

void
loop_set_events(struct loop_fd *lf, int events)
{
	if (lf->events == events)
		return;
	lf->events = events;
	loop_dirty = 1;
}

void
loop_remove_fd(struct loop_fd *lf)
{
	if (lf == NULL)
		return;
	/* Freed after dispatch: poll results may still point at it. */
	lf->dead = 1;
	lf->events = 0;
	loop_dirty = 1;
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

void
loop_cancel_timer(struct loop_timer *lt)
{
	if (lt == NULL)
		return;
	TAILQ_REMOVE(&loop_timers, lt, entry);
	free(lt);
}

static void
loop_rebuild(void)
{
	struct loop_fd *lf, *tmp;
	size_t n = 0;
	void *p;

	TAILQ_FOREACH_SAFE(lf, &loop_fds, entry, tmp) {
		if (lf->dead) {
			TAILQ_REMOVE(&loop_fds, lf, entry);
			free(lf);
			continue;
		}
		n++;
	}
	if (n > loop_pfd_alloc) {
		if ((p = reallocarray(loop_pfds, n, sizeof(*loop_pfds))) == NULL)
			fatal_f("out of memory");
		loop_pfds = p;
		if ((p = reallocarray(loop_pfd_owner, n,
		    sizeof(*loop_pfd_owner))) == NULL)
			fatal_f("out of memory");
		loop_pfd_owner = p;
		loop_pfd_alloc = n;
	}
	n = 0;
	TAILQ_FOREACH(lf, &loop_fds, entry) {
		/* Polled even with no events: hang-ups are always reported. */
		loop_pfds[n].fd = lf->fd;
		loop_pfds[n].events = ((lf->events & LOOP_READ) ? POLLIN : 0) |
		    ((lf->events & LOOP_WRITE) ? POLLOUT : 0);
		loop_pfds[n].revents = 0;
		loop_pfd_owner[n] = lf;
		n++;
	}
	loop_npfd = n;
	loop_dirty = 0;
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

void
loop_run_once(void)
{
	struct loop_timer *lt;
	struct loop_fd *lf;
	int timeout = -1, n, ev;
	uint64_t now;
	size_t i;

	if (loop_dirty)
		loop_rebuild();
	if ((lt = TAILQ_FIRST(&loop_timers)) != NULL) {
		now = loop_now_ms();
		timeout = lt->when <= now ? 0 :
		    (lt->when - now > 60000 ? 60000 : (int)(lt->when - now));
	}
	n = poll(loop_pfds, loop_npfd, timeout);
	if (n == -1) {
		if (errno != EINTR && errno != EAGAIN)
			fatal_f("poll");
		n = 0;
	}
	for (i = 0; n > 0 && i < loop_npfd; i++) {
		if (loop_pfds[i].revents == 0)
			continue;
		n--;
		lf = loop_pfd_owner[i];
		if (lf->dead)
			continue;
		ev = 0;
		if (loop_pfds[i].revents & POLLIN)
			ev |= LOOP_READ;
		if (loop_pfds[i].revents & (POLLHUP | POLLERR | POLLNVAL))
			ev |= LOOP_HUP;
		if (loop_pfds[i].revents & POLLOUT)
			ev |= LOOP_WRITE;
		if (ev != 0)
			lf->cb(lf->fd, ev, lf->arg);
	}
	loop_run_timers();
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

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Reaping children from the event loop via a self-pipe (see child.h). */
#include "config.h"

#include <sys/queue.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent/child.h"
#include "agent/loop.h"
#include "common/err.h"
#include "common/log.h"

struct child {
	pid_t pid;
	child_exit_cb *cb;
	void *arg;
	LIST_ENTRY(child) entry;
};

static LIST_HEAD(, child) children = LIST_HEAD_INITIALIZER(children);
static int child_pipe[2] = { -1, -1 };

static void
child_sigchld(int sig)
{
	int saved_errno = errno;
	char c = 0;

	(void)sig;
	/* A full pipe means a wake-up is pending anyway. */
	(void)!write(child_pipe[1], &c, 1);
	errno = saved_errno;
}

static void
child_reap(int fd, int events, void *arg)
{
	struct child *c, *tmp;
	char drain[64];
	pid_t pid;
	int status;

	(void)events;
	(void)arg;
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		LIST_FOREACH_SAFE(c, &children, entry, tmp) {
			if (c->pid != pid)
				continue;
			LIST_REMOVE(c, entry);
			if (c->cb != NULL)
				c->cb(pid, status, c->arg);
			free(c);
			break;
		}
	}
}

void
child_init(void)
{
	struct sigaction sa;

	if (pipe2(child_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		fatal_f("pipe2");
	if (loop_add_fd(child_pipe[0], LOOP_READ, child_reap, NULL) == NULL)
		fatal_f("out of memory");
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sa.sa_handler = child_sigchld;
	if (sigaction(SIGCHLD, &sa, NULL) != 0)
		fatal_f("sigaction(SIGCHLD)");
}

int
child_watch(pid_t pid, child_exit_cb *cb, void *arg)
{
	struct child *c;

	/* Watched already: the new callback replaces the old one. */
	LIST_FOREACH(c, &children, entry) {
		if (c->pid == pid) {
			c->cb = cb;
			c->arg = arg;
			return 0;
		}
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return TOK_ERR_ALLOC;
	c->pid = pid;
	c->cb = cb;
	c->arg = arg;
	LIST_INSERT_HEAD(&children, c, entry);
	return 0;
}

void
child_forget(pid_t pid)
{
	struct child *c;

	LIST_FOREACH(c, &children, entry) {
		if (c->pid == pid) {
			c->cb = NULL;
			c->arg = NULL;
		}
	}
}

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Asynchronous askpass children (see askpass.h). */
#include "config.h"

#include <sys/queue.h>
#include <sys/wait.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/askpass.h"
#include "agent/child.h"
#include "agent/loop.h"
#include "agent/pinentry.h"
#include "agent/procinfo.h"
#include "common/err.h"
#include "common/log.h"
#include "common/secmem.h"

#define ASKPASS_DEFAULT		"/usr/bin/ssh-askpass"

static struct askpass *askpass_start_askpass(enum askpass_kind,
    const char *, uint64_t, askpass_cb *, void *);
#define ASKPASS_ANSWER_MAX	1024

struct askpass {
	LIST_ENTRY(askpass) entry;	/* in askpass_all */
	enum askpass_kind kind;
	pid_t pid;
	int fd;
	struct loop_fd *lf;
	struct loop_timer *timer;
	char *answer;		/* secure memory, ASKPASS_ANSWER_MAX + 1 */
	size_t len;
	int eof, exited, status, overflow;
	askpass_cb *cb;
	void *arg;
	struct pinentry *pe;	/* the prompt is a pinentry dialog instead */
};

static LIST_HEAD(, askpass) askpass_all = LIST_HEAD_INITIALIZER(askpass_all);

const char *
askpass_program(void)
{
	const char *p = getenv("SSH_ASKPASS");

	return (p != NULL && *p != '\0') ? p : ASKPASS_DEFAULT;
}

static void
askpass_free(struct askpass *ap)
{
	pinentry_cancel(ap->pe);
	LIST_REMOVE(ap, entry);
	loop_remove_fd(ap->lf);
	loop_cancel_timer(ap->timer);
	if (ap->fd != -1)
		close(ap->fd);
	if (ap->pid > 0 && !ap->exited) {
		kill(ap->pid, SIGTERM);
		child_forget(ap->pid);
	}
	secmem_free(ap->answer);
	free(ap);
}

static void
askpass_finish(struct askpass *ap, int r)
{
	askpass_cb *cb = ap->cb;
	void *arg = ap->arg;
	char *secret = NULL;

	if (r == 0 && ap->kind == ASKPASS_SECRET) {
		ap->answer[ap->len] = '\0';
		ap->answer[strcspn(ap->answer, "\r\n")] = '\0';
		secret = ap->answer;
		ap->answer = NULL;
	}
	askpass_free(ap);
	if (cb != NULL)
		cb(r, secret, arg);
	else
		secmem_free(secret);
}

/*
 * A notice that ended by itself (see askpass_cb): 0 for status 0 (taken
 * down), TOK_ERR_CANCELLED for 1..125 (the user chose Cancel), else
 * TOK_ERR_SYSTEM (could not run: 126, 127, a signal).
 */
static int
askpass_notice_status(int status)
{
	if (!WIFEXITED(status))
		return TOK_ERR_SYSTEM;
	if (WEXITSTATUS(status) == 0)
		return 0;
	return WEXITSTATUS(status) <= 125 ? TOK_ERR_CANCELLED :
	    TOK_ERR_SYSTEM;
}

/* The user's word: exit status 0 and, for confirm, an empty or "yes" answer. */
static void
askpass_maybe_done(struct askpass *ap)
{
	char *a;
	int r;

	if (!ap->eof || !ap->exited)
		return;
	if (ap->kind == ASKPASS_NOTIFY) {
		askpass_finish(ap, askpass_notice_status(ap->status));
		return;
	}
	r = TOK_ERR_CONFIRM_DENIED;
	if (WIFEXITED(ap->status) && WEXITSTATUS(ap->status) == 0 &&
	    !ap->overflow) {
		r = 0;
		if (ap->kind == ASKPASS_CONFIRM) {
			ap->answer[ap->len] = '\0';
			a = ap->answer + strspn(ap->answer, " \t");
			a[strcspn(a, " \t\r\n")] = '\0';
			if (*a != '\0' && strcasecmp(a, "yes") != 0)
				r = TOK_ERR_CONFIRM_DENIED;
		}
	}
	askpass_finish(ap, r);
}

static void
askpass_exited(pid_t pid, int status, void *arg)
{
	struct askpass *ap = arg;

	(void)pid;
	ap->exited = 1;
	ap->status = status;
	askpass_maybe_done(ap);
}

static void
askpass_read(int fd, int events, void *arg)
{
	struct askpass *ap = arg;
	char tmp[256];
	ssize_t n;
	size_t take;

	(void)events;
	n = read(fd, tmp, sizeof(tmp));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		loop_remove_fd(ap->lf);
		ap->lf = NULL;
		close(ap->fd);
		ap->fd = -1;
		ap->eof = 1;
		askpass_maybe_done(ap);
		return;
	}
	take = (size_t)n;
	if (take > ASKPASS_ANSWER_MAX - ap->len) {
		take = ASKPASS_ANSWER_MAX - ap->len;
		ap->overflow = 1;
	}
	memcpy(ap->answer + ap->len, tmp, take);
	ap->len += take;
	explicit_bzero(tmp, sizeof(tmp));
}

static void
askpass_timeout(void *arg)
{
	struct askpass *ap = arg;

	ap->timer = NULL;
	verbose_f("prompt timed out");
	askpass_finish(ap, TOK_ERR_TIMEOUT);
}

/*
 * askpass_spawn: run prog with argv (argv[0] first, NULL-terminated) with
 * stdin on /dev/null, stdout on a pipe we read and SSH_ASKPASS_PROMPT set
 * for kind.  See askpass_start.
 */
static struct askpass *
askpass_spawn(enum askpass_kind kind, const char *prog,
    char *const argv[], uint64_t timeout_ms, askpass_cb *cb, void *arg)
{
	struct askpass *ap = NULL;
	int p[2] = { -1, -1 }, devnull;
	pid_t pid;

	if (access(prog, X_OK) != 0) {
		error("askpass %s not executable: %s", prog, strerror(errno));
		return NULL;
	}
	if ((ap = calloc(1, sizeof(*ap))) == NULL ||
	    (ap->answer = secmem_alloc(ASKPASS_ANSWER_MAX + 1)) == NULL)
		goto fail;
	LIST_INSERT_HEAD(&askpass_all, ap, entry);
	ap->kind = kind;
	ap->fd = -1;
	ap->cb = cb;
	ap->arg = arg;
	if (pipe2(p, O_CLOEXEC) != 0)
		goto fail;
	if ((pid = fork()) == -1)
		goto fail;
	if (pid == 0) {
		if ((devnull = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(devnull, 0) == -1 || dup2(p[1], 1) == -1)
			_exit(127);
		closefrom(3);
		signal(SIGPIPE, SIG_DFL);
		setenv("SSH_ASKPASS_PROMPT", kind == ASKPASS_CONFIRM ?
		    "confirm" : (kind == ASKPASS_NOTIFY ? "none" : ""), 1);
		if (kind == ASKPASS_SECRET)
			unsetenv("SSH_ASKPASS_PROMPT");
		execvp(prog, argv);
		_exit(127);
	}
	close(p[1]);
	p[1] = -1;
	ap->pid = pid;
	ap->fd = p[0];
	if (fcntl(ap->fd, F_SETFL, O_NONBLOCK) == -1 ||
	    child_watch(pid, askpass_exited, ap) != 0 ||
	    (ap->lf = loop_add_fd(ap->fd, LOOP_READ, askpass_read, ap)) == NULL ||
	    (timeout_ms != 0 && (ap->timer = loop_add_timer(timeout_ms,
	    askpass_timeout, ap)) == NULL)) {
		askpass_free(ap);
		return NULL;
	}
	return ap;
 fail:
	error_f("could not start askpass: %s", strerror(errno));
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	if (ap != NULL && ap->answer != NULL) {
		LIST_REMOVE(ap, entry);	/* listed once both allocations worked */
		secmem_free(ap->answer);
	}
	free(ap);
	return NULL;
}

/* The pinentry dialog answered: pass it on as askpass's answer. */
static void
askpass_pinentry_done(int r, char *secret, void *arg)
{
	struct askpass *ap = arg;
	askpass_cb *cb = ap->cb;
	void *cbarg = ap->arg;

	ap->pe = NULL;		/* freed by pinentry */
	askpass_free(ap);
	if (cb != NULL)
		cb(r, secret, cbarg);
	else
		secmem_free(secret);
}

/*
 * askpass_pinentry_wanted: 1 when a PIN or confirm prompt for the client
 * pid goes through pinentry (*ttyp: the terminal to use, or NULL), 0 when
 * through SSH_ASKPASS, -1 when nothing can ask.  With a display the askpass
 * (as OpenSSH does) unless it is missing; without one, pinentry on the
 * requester's terminal; with neither, an askpass only if one was named.
 */
static int
askpass_pinentry_wanted(pid_t pid, char **ttyp)
{
	int display = (getenv("DISPLAY") != NULL && *getenv("DISPLAY")) ||
	    (getenv("WAYLAND_DISPLAY") != NULL && *getenv("WAYLAND_DISPLAY"));
	char *prog;

	*ttyp = NULL;
	if (agent_opts.prompt_mode == AGENT_PROMPT_ASKPASS)
		return 0;
	if (!display || agent_opts.prompt_mode == AGENT_PROMPT_PINENTRY)
		*ttyp = pid > 0 ? procinfo_tty(pid, getuid()) : NULL;
	if (agent_opts.prompt_mode == AGENT_PROMPT_PINENTRY)
		return 1;
	if (display && access(askpass_program(), X_OK) == 0)
		return 0;
	/* AUTO, and no usable askpass: pinentry if there is one for this. */
	if ((prog = pinentry_default_program(display, *ttyp != NULL)) == NULL) {
		free(*ttyp);
		*ttyp = NULL;
		if (!display && getenv("SSH_ASKPASS") == NULL) {
			error("no display and no terminal for the prompt: set "
			    "DISPLAY or SSH_ASKPASS, or ask from a terminal");
			return -1;
		}
		return 0;
	}
	free(prog);
	return 1;
}

struct askpass *
askpass_start(enum askpass_kind kind, const char *prompt, uint64_t timeout_ms,
    askpass_cb *cb, void *arg)
{
	return askpass_start_for(kind, prompt, 0, timeout_ms, cb, arg);
}

struct askpass *
askpass_start_for(enum askpass_kind kind, const char *prompt, pid_t pid,
    uint64_t timeout_ms, askpass_cb *cb, void *arg)
{
	struct askpass *ap;
	char *tty = NULL;
	int pe = 0;

	if (kind != ASKPASS_NOTIFY &&
	    (pe = askpass_pinentry_wanted(pid, &tty)) == -1)
		return NULL;
	if (pe == 1) {
		if ((ap = calloc(1, sizeof(*ap))) == NULL) {
			free(tty);
			return NULL;
		}
		LIST_INSERT_HEAD(&askpass_all, ap, entry);
		ap->kind = kind;
		ap->fd = -1;
		ap->cb = cb;
		ap->arg = arg;
		ap->pe = pinentry_start(kind, agent_opts.pinentry_program,
		    prompt, tty, timeout_ms, askpass_pinentry_done, ap);
		free(tty);
		if (ap->pe == NULL) {
			LIST_REMOVE(ap, entry);
			free(ap);
			return NULL;
		}
		return ap;
	}
	return askpass_start_askpass(kind, prompt, timeout_ms, cb, arg);
}

static struct askpass *
askpass_start_askpass(enum askpass_kind kind, const char *prompt,
    uint64_t timeout_ms, askpass_cb *cb, void *arg)
{
	const char *prog = kind == ASKPASS_NOTIFY &&
	    agent_opts.notify_command != NULL ? agent_opts.notify_command :
	    askpass_program();
	char *argv[3];

	argv[0] = (char *)prog;
	argv[1] = (char *)prompt;
	argv[2] = NULL;
	return askpass_spawn(kind, prog, argv, timeout_ms, cb, arg);
}

struct askpass *
askpass_start_notifier(const char *prog, char *const argv[], askpass_cb *cb,
    void *arg)
{
	return askpass_spawn(ASKPASS_NOTIFY, prog, argv, 0, cb, arg);
}

void
askpass_cancel(struct askpass *ap)
{
	if (ap != NULL)
		askpass_free(ap);
}

int
askpass_dismiss_all(void)
{
	struct askpass *ap, *next;
	int n = 0;

	for (ap = LIST_FIRST(&askpass_all); ap != NULL; ap = next) {
		next = LIST_NEXT(ap, entry);
		if (ap->kind == ASKPASS_NOTIFY)
			continue;
		/* A callback may cancel other prompts: start over. */
		askpass_finish(ap, TOK_ERR_CANCELLED);
		n++;
		next = LIST_FIRST(&askpass_all);
		while (next != NULL && next->kind == ASKPASS_NOTIFY)
			next = LIST_NEXT(next, entry);
	}
	return n;
}

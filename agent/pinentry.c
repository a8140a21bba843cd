/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Prompts through pinentry programs (see pinentry.h). */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/askpass.h"
#include "agent/assuan.h"
#include "agent/child.h"
#include "agent/loop.h"
#include "agent/pinentry.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/secmem.h"

struct pinentry {
	enum askpass_kind kind;
	pid_t pid;
	int fd;			/* its stdout */
	struct loop_fd *lf;
	struct loop_timer *timer;
	struct assuan *as;
	int done, exited;
	askpass_cb *cb;
	void *arg;
};

static const char *const pinentry_dirs[] = {
	"/usr/bin", "/usr/local/bin", "/bin", NULL,
};

/* The path of name in the usual places, or NULL. */
static char *
pinentry_find(const char *name)
{
	char *path;
	int i;

	for (i = 0; pinentry_dirs[i] != NULL; i++) {
		if (asprintf(&path, "%s/%s", pinentry_dirs[i], name) < 0)
			return NULL;
		if (access(path, X_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

char *
pinentry_default_program(int display, int tty)
{
	char *p;

	/* Debian's "pinentry" alternative picks a graphical one if any. */
	if (display && (p = pinentry_find("pinentry")) != NULL)
		return p;
	if (!tty)
		return NULL;
	/* On a terminal that ssh also writes to: a line, not a screen. */
	if ((p = pinentry_find("pinentry-tty")) != NULL ||
	    (p = pinentry_find("pinentry-curses")) != NULL)
		return p;
	return pinentry_find("pinentry");
}

static void
pinentry_free(struct pinentry *pe)
{
	loop_remove_fd(pe->lf);
	loop_cancel_timer(pe->timer);
	if (pe->fd != -1)
		close(pe->fd);
	if (pe->pid > 0 && !pe->exited) {
		kill(pe->pid, SIGTERM);
		child_forget(pe->pid);
	}
	assuan_free(pe->as);
	free(pe);
}

static void
pinentry_finish(struct pinentry *pe, int r, char *secret)
{
	askpass_cb *cb = pe->cb;
	void *arg = pe->arg;

	pinentry_free(pe);
	if (cb != NULL)
		cb(r, secret, arg);
	else
		secmem_free(secret);
}

static void
pinentry_exited(pid_t pid, int status, void *arg)
{
	struct pinentry *pe = arg;

	(void)pid;
	(void)status;
	pe->exited = 1;
	/* Gone before its answer: the dialog failed. */
	if (!pe->done)
		debug_f("pinentry exited before it answered");
}

static void
pinentry_read(int fd, int events, void *arg)
{
	struct pinentry *pe = arg;
	u_char tmp[1024];
	char *secret = NULL;
	uint32_t code;
	ssize_t n;
	int r;

	(void)events;
	n = read(fd, tmp, sizeof(tmp));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		pinentry_finish(pe, TOK_ERR_CONFIRM_DENIED, NULL);
		return;
	}
	r = assuan_feed(pe->as, tmp, (size_t)n);
	explicit_bzero(tmp, sizeof(tmp));
	if (r == 0)
		return;
	if (r < 0) {
		error("pinentry broke the Assuan protocol: %s",
		    tok_strerror(r));
		pinentry_finish(pe, TOK_ERR_PROTOCOL, NULL);
		return;
	}
	pe->done = 1;
	if (pe->kind != ASKPASS_SECRET && assuan_data_len(pe->as) != 0) {
		error("pinentry broke the Assuan protocol: data with CONFIRM");
		pinentry_finish(pe, TOK_ERR_PROTOCOL, NULL);
		return;
	}
	if ((code = assuan_result(pe->as)) != 0) {
		debug_f("pinentry: error %u (cancelled or not confirmed)",
		    code & 0xffff);
		pinentry_finish(pe, TOK_ERR_CONFIRM_DENIED, NULL);
		return;
	}
	if (pe->kind == ASKPASS_SECRET &&
	    (secret = assuan_take_data(pe->as)) == NULL) {
		/* An empty PIN, or one with a NUL in it: no PIN. */
		pinentry_finish(pe, TOK_ERR_CONFIRM_DENIED, NULL);
		return;
	}
	pinentry_finish(pe, 0, secret);
}

static void
pinentry_timeout(void *arg)
{
	struct pinentry *pe = arg;

	pe->timer = NULL;
	verbose_f("pinentry timed out");
	pinentry_finish(pe, TOK_ERR_TIMEOUT, NULL);
}

/* The conversation, all at once; *finalp: the index of the reply we want. */
static int
pinentry_script(enum askpass_kind kind, const char *text, const char *tty,
    struct buf *b, u_int *finalp)
{
	const char *ttytype = getenv("TERM");
	char opt[128];
	u_int cmds = 0;
	int r;

#define CMD(c, a) do { \
	if ((r = assuan_put_command(b, c, a)) != 0) \
		return r; \
	cmds++; \
} while (0)
	if (tty != NULL) {
		snprintf(opt, sizeof(opt), "ttyname=%s", tty);
		CMD("OPTION", opt);
		if (ttytype != NULL && *ttytype != '\0' &&
		    strlen(ttytype) < 64) {
			snprintf(opt, sizeof(opt), "ttytype=%s", ttytype);
			CMD("OPTION", opt);
		}
	}
	CMD("SETTITLE", "tokagent");
	/* The first line asks; the details follow, as in every prompt. */
	CMD("SETDESC", text);
	if (kind == ASKPASS_SECRET) {
		CMD("SETPROMPT", "PIN:");
		CMD("GETPIN", NULL);
	} else {
		CMD("SETOK", "Allow");
		CMD("SETCANCEL", "Deny");
		CMD("CONFIRM", NULL);
	}
	*finalp = cmds;		/* reply 0 is the greeting */
	CMD("BYE", NULL);
#undef CMD
	return 0;
}

struct pinentry *
pinentry_start(enum askpass_kind kind, const char *prog, const char *text,
    const char *tty, uint64_t timeout_ms, askpass_cb *cb, void *arg)
{
	struct pinentry *pe = NULL;
	struct buf *script = NULL;
	char *def = NULL, *argv[2];
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, devnull;
	u_int final = 0;
	pid_t pid;

	if (kind == ASKPASS_NOTIFY)
		return NULL;	/* pinentry has no self-closing notice */
	if (prog == NULL) {
		if ((def = pinentry_default_program(getenv("DISPLAY") != NULL ||
		    getenv("WAYLAND_DISPLAY") != NULL, tty != NULL)) == NULL) {
			error("no pinentry program for this prompt (no "
			    "display, no terminal)");
			return NULL;
		}
		prog = def;
	}
	if ((script = buf_new()) == NULL ||
	    pinentry_script(kind, text, tty, script, &final) != 0 ||
	    (pe = calloc(1, sizeof(*pe))) == NULL ||
	    (pe->as = assuan_new(final)) == NULL)
		goto fail;
	pe->kind = kind;
	pe->fd = -1;
	pe->cb = cb;
	pe->arg = arg;
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		goto fail;
	/*
	 * The whole conversation goes in before it starts: a few KiB, far
	 * below a pipe's capacity, so the write never waits.
	 */
	if (buf_len(script) > 16384 || fcntl(in[1], F_SETFL, O_NONBLOCK) ||
	    write(in[1], buf_ptr(script), buf_len(script)) !=
	    (ssize_t)buf_len(script))
		goto fail;
	close(in[1]);
	in[1] = -1;
	if ((pid = fork()) == -1)
		goto fail;
	if (pid == 0) {
		if ((devnull = open("/dev/null", O_WRONLY)) == -1 ||
		    dup2(in[0], 0) == -1 || dup2(out[1], 1) == -1 ||
		    dup2(devnull, 2) == -1)
			_exit(127);
		closefrom(3);
		signal(SIGPIPE, SIG_DFL);
		argv[0] = (char *)prog;
		argv[1] = NULL;
		execv(prog, argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	pe->pid = pid;
	pe->fd = out[0];
	out[0] = -1;
	buf_free(script);
	script = NULL;
	if (fcntl(pe->fd, F_SETFL, O_NONBLOCK) == -1 ||
	    child_watch(pid, pinentry_exited, pe) != 0 ||
	    (pe->lf = loop_add_fd(pe->fd, LOOP_READ, pinentry_read,
	    pe)) == NULL ||
	    (timeout_ms != 0 && (pe->timer = loop_add_timer(timeout_ms,
	    pinentry_timeout, pe)) == NULL)) {
		pinentry_free(pe);
		free(def);
		return NULL;
	}
	debug_f("pinentry %s pid %ld%s%s", prog, (long)pid,
	    tty ? " on " : "", tty ? tty : "");
	free(def);
	return pe;
 fail:
	error_f("could not start pinentry %s: %s", prog, strerror(errno));
	if (in[0] != -1)
		close(in[0]);
	if (in[1] != -1)
		close(in[1]);
	if (out[0] != -1)
		close(out[0]);
	if (out[1] != -1)
		close(out[1]);
	if (pe != NULL)
		assuan_free(pe->as);
	free(pe);
	buf_free(script);
	free(def);
	return NULL;
}

void
pinentry_cancel(struct pinentry *pe)
{
	if (pe != NULL)
		pinentry_free(pe);
}

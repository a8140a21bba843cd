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
#include "common/err.h"
#include "common/log.h"
#include "common/secmem.h"

#define ASKPASS_DEFAULT		"/usr/bin/ssh-askpass"
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

/* The user's word: exit status 0 and, for confirm, an empty or "yes" answer. */
static void
askpass_maybe_done(struct askpass *ap)
{
	char *a;
	int r;

	if (!ap->eof || !ap->exited)
		return;
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

struct askpass *
askpass_start(enum askpass_kind kind, const char *prompt, uint64_t timeout_ms,
    askpass_cb *cb, void *arg)
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

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/* Screen lock and suspend (see session.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/askpass.h"
#include "agent/audit.h"
#include "agent/child.h"
#include "agent/helper-sk.h"
#include "agent/helper-piv.h"
#include "agent/helper.h"
#include "agent/idtab.h"
#include "agent/keys.h"
#include "agent/lock.h"
#include "agent/loop.h"
#include "agent/policy-stage.h"
#include "agent/session.h"
#include "common/log.h"

static pid_t session_pid = -1;
static int session_fd = -1;
static struct loop_fd *session_lf;
static struct loop_timer *session_restart;
static char session_line[SESSION_LINE_MAX];
static size_t session_len;
static int session_off;			/* the watcher said "off": no restart */
static int session_locked_us;		/* we locked the agent for the screen */

static const char *
session_action_name(enum policy_on_lock a)
{
	switch (a) {
	case POLICY_ON_LOCK_FORGET:
		return "forget";
	case POLICY_ON_LOCK_LOCK:
		return "lock";
	case POLICY_ON_LOCK_REMOVE:
		return "remove";
	case POLICY_ON_LOCK_NOTHING:
		return "nothing";
	}
	return "?";
}

/* Remove the keys whose rule says remove-on-lock. */
static int
session_remove_keys(void)
{
	struct policy *pol = policy_stage_current();
	struct identity *id, *next;
	struct policy_query q;
	int n = 0;

	for (id = idtab_first(agent_idtab); id != NULL; id = next) {
		next = idtab_next(id);
		memset(&q, 0, sizeof(q));
		policy_stage_query_key(id, &q);
		if (policy_remove_on_lock(pol, &q)) {
			keys_drop(id, NULL, "removed on screen lock or suspend");
			n++;
		}
	}
	return n;
}

static void
session_apply(const char *event, enum policy_on_lock action)
{
	char reason[128];
	int prompts = 0, removed = 0;

	if (action != POLICY_ON_LOCK_NOTHING) {
		helper_sk_forget_pins();
		helper_piv_forget_pins();
		prompts = askpass_dismiss_all();
	}
	if (action == POLICY_ON_LOCK_LOCK && !lock_is_locked()) {
		lock_session(1);
		session_locked_us = 1;
	}
	if (action == POLICY_ON_LOCK_REMOVE)
		removed = session_remove_keys();
	snprintf(reason, sizeof(reason), "%s: %d prompt%s dismissed, %d key%s "
	    "removed", session_action_name(action), prompts,
	    prompts == 1 ? "" : "s", removed, removed == 1 ? "" : "s");
	audit_event(event, NULL, NULL, "ok", reason);
}

void
session_event(const char *line)
{
	struct policy *pol = policy_stage_current();

	if (strcmp(line, "lock") == 0)
		session_apply("screen-lock", policy_on_lock(pol));
	else if (strcmp(line, "sleep") == 0)
		session_apply("suspend", policy_on_suspend(pol));
	else if (strcmp(line, "unlock") == 0 || strcmp(line, "wake") == 0) {
		if (session_locked_us && strcmp(line, "unlock") == 0) {
			lock_session(0);
			session_locked_us = 0;
		}
		audit_event(strcmp(line, "unlock") == 0 ? "screen-unlock" :
		    "resume", NULL, NULL, "ok", NULL);
	} else if (strncmp(line, "off ", 4) == 0) {
		session_off = 1;
		logit("screen lock and suspend are not watched: %s", line + 4);
	} else if (strncmp(line, "watching ", 9) == 0)
		logit("session: %s", line + 9);
	else
		error("session watcher said \"%.64s\"", line);
}

static void session_spawn(void *arg);

static void
session_close(void)
{
	loop_remove_fd(session_lf);
	session_lf = NULL;
	if (session_fd != -1)
		close(session_fd);
	session_fd = -1;
	session_len = 0;
}

static void
session_exited(pid_t pid, int status, void *arg)
{
	(void)pid;
	(void)arg;
	session_pid = -1;
	session_close();
	if (session_off || !loop_running())
		return;
	error("session watcher exited (status %d); restarting in %d s",
	    status, SESSION_RESTART_MS / 1000);
	session_restart = loop_add_timer(SESSION_RESTART_MS, session_spawn,
	    NULL);
}

static void
session_read(int fd, int events, void *arg)
{
	ssize_t n;
	char *nl;

	(void)events;
	(void)arg;
	n = read(fd, session_line + session_len,
	    sizeof(session_line) - 1 - session_len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		session_close();
		return;
	}
	session_len += (size_t)n;
	session_line[session_len] = '\0';
	while ((nl = memchr(session_line, '\n', session_len)) != NULL) {
		*nl = '\0';
		session_event(session_line);
		session_len -= (size_t)(nl + 1 - session_line);
		memmove(session_line, nl + 1, session_len);
		session_line[session_len] = '\0';
	}
	if (session_len == sizeof(session_line) - 1) {
		/* A line this long is not the protocol: stop listening. */
		error("session watcher sent a line over %zu bytes",
		    sizeof(session_line));
		session_close();
		if (session_pid > 0)
			kill(session_pid, SIGTERM);
	}
}

static void
session_spawn(void *arg)
{
	char *prog;
	int p[2], devnull;
	pid_t pid;

	(void)arg;
	session_restart = NULL;
	if ((prog = helper_find_program(SESSION_WATCH_PROGRAM)) == NULL) {
		logit("screen lock and suspend are not watched: %s was not "
		    "built (needs libsystemd)", SESSION_WATCH_PROGRAM);
		return;
	}
	if (pipe2(p, O_CLOEXEC) != 0) {
		error_f("pipe2: %s", strerror(errno));
		free(prog);
		return;
	}
	if ((pid = fork()) == -1) {
		error_f("fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		free(prog);
		return;
	}
	if (pid == 0) {
		if ((devnull = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(devnull, 0) == -1 || dup2(p[1], 1) == -1)
			_exit(127);
		closefrom(3);
		execl(prog, prog, (char *)NULL);
		_exit(127);
	}
	free(prog);
	close(p[1]);
	session_pid = pid;
	session_fd = p[0];
	if (fcntl(session_fd, F_SETFL, O_NONBLOCK) == -1 ||
	    child_watch(pid, session_exited, NULL) != 0 ||
	    (session_lf = loop_add_fd(session_fd, LOOP_READ, session_read,
	    NULL)) == NULL) {
		error_f("could not watch the session watcher");
		session_close();
		kill(pid, SIGTERM);
	}
}

void
session_watch_start(void)
{
	session_spawn(NULL);
}

void
session_watch_stop(void)
{
	loop_cancel_timer(session_restart);
	session_restart = NULL;
	session_off = 1;
	session_close();
	if (session_pid > 0) {
		child_forget(session_pid);
		kill(session_pid, SIGTERM);
	}
	session_pid = -1;
}

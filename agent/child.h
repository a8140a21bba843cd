/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Child processes of the agent (helpers, askpass): reaped from the event
 * loop when SIGCHLD arrives, each exit reported to whoever watches it.
 */
#ifndef AGENT_CHILD_H
#define AGENT_CHILD_H

#include <sys/types.h>

/* Called once with the wait(2) status when pid has exited. */
typedef void child_exit_cb(pid_t pid, int status, void *arg);

/* child_init: install the SIGCHLD handler and its loop watch (fatal on failure). */
void child_init(void);
/*
 * child_watch: report pid's exit to cb(arg); cb NULL just reaps it.  For a
 * pid watched already, cb and arg replace the old ones.
 * Returns 0 or TOK_ERR_ALLOC (then the child is reaped silently later).
 */
int child_watch(pid_t pid, child_exit_cb *cb, void *arg);
/* child_forget: stop reporting pid to its callback; it is still reaped. */
void child_forget(pid_t pid);

#endif /* AGENT_CHILD_H */

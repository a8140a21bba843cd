/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The agent's one event loop: non-blocking fds and monotonic timers.
 * Nothing in the agent blocks; everything that waits is a callback here.
 */
#ifndef AGENT_LOOP_H
#define AGENT_LOOP_H

#include <stdint.h>

struct loop_fd;
struct loop_timer;

#define LOOP_READ	0x01
#define LOOP_WRITE	0x02
#define LOOP_HUP	0x04	/* peer gone or fd error; reported even when not asked */

/* Called with the LOOP_* events that are ready. */
typedef void loop_fd_cb(int fd, int events, void *arg);
typedef void loop_timer_cb(void *arg);

/* loop_init: set up the loop (fatal on failure).  Call once. */
void loop_init(void);
/* loop_now_ms: the monotonic clock in milliseconds. */
uint64_t loop_now_ms(void);
/*
 * loop_add_fd: watch fd for events (LOOP_*), calling cb(fd, ready, arg).
 * The fd is not owned; remove it before closing.  Returns NULL on no memory.
 */
struct loop_fd *loop_add_fd(int fd, int events, loop_fd_cb *cb, void *arg);
/* loop_set_events: change what is watched (0: nothing, the fd stays registered). */
void loop_set_events(struct loop_fd *lf, int events);
/* loop_remove_fd: stop watching; lf is freed (safe from inside callbacks). NULL ok. */
void loop_remove_fd(struct loop_fd *lf);
/* loop_add_timer: call cb(arg) once, ms milliseconds from now.  NULL on no memory. */
struct loop_timer *loop_add_timer(uint64_t ms, loop_timer_cb *cb, void *arg);
/*
 * loop_defer: call cb(arg) once, after the fd events of the next round (the
 * poll then does not wait).  Work split into turns this way lets every
 * ready fd be served in between.  Cancel with loop_cancel_timer.  NULL on
 * no memory.
 */
struct loop_timer *loop_defer(loop_timer_cb *cb, void *arg);
/* loop_cancel_timer: cancel a timer (or deferred call) that has not fired; NULL ok. */
void loop_cancel_timer(struct loop_timer *lt);
/*
 * loop_on_signal: call cb(sig) from the loop (not from the signal handler)
 * when signal sig arrives; cb NULL restores the default action.  Fatal on
 * failure.  Signals that arrive together may be reported once.
 */
typedef void loop_signal_cb(int sig);
void loop_on_signal(int sig, loop_signal_cb *cb);
/* loop_run_once: wait for and dispatch one round of events and timers. */
void loop_run_once(void);
/* loop_stop: make loop_running() return 0 (from a signal handler too). */
void loop_stop(void);
int loop_running(void);

#endif /* AGENT_LOOP_H */

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * The user's session: screen lock and suspend, as told by the
 * tokagent-session-watch child (agent/session-watch.c), and what the
 * policy says to do then (tokagent-policy(5) on-screen-lock, on-suspend):
 * forget cached PINs and pending prompts, lock the agent until the screen
 * unlocks, or remove the keys marked remove-on-lock.
 */
#ifndef AGENT_SESSION_H
#define AGENT_SESSION_H

#define SESSION_WATCH_PROGRAM	"tokagent-session-watch"
#define SESSION_RESTART_MS	(30 * 1000)	/* after the watcher died */
#define SESSION_LINE_MAX	512

/*
 * session_watch_start: run the watcher (when it was built); events arrive
 * through the loop.  Failures are logged once; the agent works without it.
 */
void session_watch_start(void);
/* session_watch_stop: stop the watcher (at exit). */
void session_watch_stop(void);
/*
 * session_event: act on one line of the watcher's protocol ("lock",
 * "unlock", "sleep", "wake"); other lines are logged.
 */
void session_event(const char *line);

#endif /* AGENT_SESSION_H */

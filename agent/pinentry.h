/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * PIN and confirm prompts through GnuPG's pinentry programs (pinentry-gnome3,
 * -qt, -gtk2, -curses, -tty), spoken to over the Assuan protocol as a
 * non-blocking child, like askpass: the agent never waits on it.
 *
 * Which program: --prompt=pinentry:PROGRAM, else "pinentry" (Debian's
 * alternative: a graphical one where a display is set) when DISPLAY or
 * WAYLAND_DISPLAY is set, else pinentry-tty or pinentry-curses on the
 * requesting client's terminal (its controlling tty from /proc, checked to
 * belong to the agent's user), given to the program with OPTION ttyname.
 */
#ifndef AGENT_PINENTRY_H
#define AGENT_PINENTRY_H

#include <sys/types.h>
#include <stdint.h>

#include "agent/askpass.h"

struct pinentry;

/*
 * pinentry_start: ask through prog (NULL: the default for the situation,
 * see above) with text (first line and details), for kind ASKPASS_SECRET
 * (GETPIN) or ASKPASS_CONFIRM (CONFIRM); tty (may be NULL) is the
 * terminal to use.  cb as for askpass_start: called once, from the event
 * loop, unless pinentry_cancel comes first.  Returns NULL when it can not
 * start (no program, no display and no terminal).
 */
struct pinentry *pinentry_start(enum askpass_kind kind, const char *prog,
    const char *text, const char *tty, uint64_t timeout_ms, askpass_cb *cb,
    void *arg);
/* pinentry_cancel: end the dialog; its callback is not called.  NULL ok. */
void pinentry_cancel(struct pinentry *pe);
/*
 * pinentry_default_program: the program pinentry_start uses for prog NULL,
 * given whether a display is usable and a terminal is known (new string
 * or NULL when none is installed).
 */
char *pinentry_default_program(int display, int tty);

#endif /* AGENT_PINENTRY_H */

/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * Touch notices: "touch your security key to allow …", shown while a
 * token waits for presence and closed when the touch arrives, the request
 * is cancelled or it times out.  A notice goes to every channel the user
 * has: SSH_ASKPASS with SSH_ASKPASS_PROMPT=none (the OpenSSH convention)
 * or the --notify-command program instead of it, and, when
 * DBUS_SESSION_BUS_ADDRESS is set, a desktop notification through the
 * tokagent-notify-desktop program (so the agent links no D-Bus library).
 */
#ifndef AGENT_NOTICE_H
#define AGENT_NOTICE_H

struct notice;

/* The user chose Cancel on the notice (see notice_start). */
typedef void notice_cancel_cb(void *arg);

/*
 * notice_start: show text (one line, no markup) until notice_close.
 * summary is a short title for channels that have one.  When the user
 * chooses Cancel on any channel (an askpass or --notify-command program
 * that exits 1..125 by itself, the desktop notification's Cancel action),
 * cancel(arg) is called once, from the event loop, if not NULL; the
 * caller still closes the notice.  A program that exits 0 only takes its
 * notice down.  Never blocks.  Returns NULL when no channel could show it
 * (the agent's log still says what it waits for).
 */
struct notice *notice_start(const char *summary, const char *text,
    notice_cancel_cb *cancel, void *arg);
/* notice_set_desktop: 0 turns desktop notifications off (default on). */
void notice_set_desktop(int on);
/*
 * notice_flash: tell the user of something that happened (a failure they
 * can act on, keys lost): a notice that goes away by itself after ten
 * seconds, replacing the previous such notice.  Never blocks.
 */
void notice_flash(const char *summary, const char *text);
/* notice_close: take the notice down everywhere and free it.  NULL ok. */
void notice_close(struct notice *n);

#endif /* AGENT_NOTICE_H */

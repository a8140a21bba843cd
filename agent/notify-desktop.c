/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * tokagent-notify-desktop SUMMARY BODY: a desktop notification for the
 * agent's touch notices.
 *
 * The agent starts this program, like an SSH_ASKPASS notifier, while a
 * token waits for a touch, and closes the notice by sending SIGTERM.  The
 * program sends org.freedesktop.Notifications.Notify on the session bus
 * ($DBUS_SESSION_BUS_ADDRESS) with one action, "cancel" labelled "Cancel"
 * (a server without the "actions" capability shows none), then waits for
 * SIGTERM, SIGINT or SIGHUP (the agent is done), for the server's
 * NotificationClosed (the user dismissed it), for its ActionInvoked with
 * "cancel" (the user chose Cancel) or for a hard time limit.
 *
 * The exit status is what the agent reads, as from an askpass notice:
 *
 *	0	the notice is over: closed by the agent's signal (taken down
 *		with CloseNotification), by the server, or by the time limit;
 *		the request goes on
 *	1	the user chose Cancel: the notification is taken down
 *		(CloseNotification, sent without waiting for an answer, as the
 *		server may have closed it already) and the agent cancels the
 *		request on the token at once
 *	126	the notifier could not work: wrong usage, no bus, no server, a
 *		call not answered within NOTIFY_CALL_TIMEOUT_US, the server or
 *		the bus gone; one line on stderr
 *
 * The agent reads every status from 1 to 125 as the user's Cancel, so a
 * failure must never exit with one of them: it uses 126, which the agent
 * reads, like 127 and death by a signal, as "no notice", not as a cancel.
 *
 * It lives in its own process so the agent links no D-Bus library and
 * never waits on the bus.
 */
#include "config.h"

#include <sys/prctl.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "common/harden.h"
#include "common/log.h"

#define NOTIFY_PROGNAME		"tokagent-notify-desktop"
#define NOTIFY_NAME		"org.freedesktop.Notifications"
#define NOTIFY_PATH		"/org/freedesktop/Notifications"
#define NOTIFY_IFACE		"org.freedesktop.Notifications"
#define NOTIFY_APP		"tokagent"
#define NOTIFY_ICON		"security-high"
#define NOTIFY_URGENCY_CRITICAL	2
/* The one action offered: the user's Cancel (key, label). */
#define NOTIFY_ACTION_CANCEL	"cancel"
#define NOTIFY_ACTION_CANCEL_LABEL	"Cancel"
/* Exit statuses (see above). */
#define NOTIFY_EXIT_DONE	0
#define NOTIFY_EXIT_CANCEL	1
#define NOTIFY_EXIT_FAILED	126
/* Every bus call, including connecting and Hello, is bounded by this. */
#define NOTIFY_CALL_TIMEOUT_US	(2ULL * 1000 * 1000)
#define NOTIFY_OWNER_MATCH	"type='signal',sender='org.freedesktop.DBus'," \
	"path='/org/freedesktop/DBus',interface='org.freedesktop.DBus'," \
	"member='NameOwnerChanged',arg0='" NOTIFY_NAME "'"
/* A notice outlives no touch: if the agent vanished, go anyway. */
#define NOTIFY_MAX_LIFE_US	(600ULL * 1000 * 1000)
/* Longer input is cut; the agent's notices are a line or two. */
#define NOTIFY_TEXT_MAX		4096

enum notify_end {
	NOTIFY_END_NONE,
	NOTIFY_END_SIGNAL,	/* the agent closed the notice */
	NOTIFY_END_EXPIRED,	/* NOTIFY_MAX_LIFE_US passed */
	NOTIFY_END_SERVER,	/* the server closed it (dismissed, expired) */
	NOTIFY_END_CANCEL,	/* the user chose the action "cancel" */
	NOTIFY_END_LOST,	/* the bus went away */
};

struct notify {
	sd_bus *bus;
	sd_event *ev;
	uint32_t id;
	char *server;		/* unique name of the server that owns id */
	enum notify_end end;
};

/*
 * notify_utf8_len: length of the valid UTF-8 sequence at s (left bytes
 * available), or 0 when it is not one (overlong, surrogate, > U+10FFFF,
 * truncated).
 */
static size_t
notify_utf8_len(const unsigned char *s, size_t left)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n > left || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return n;
}

/*
 * notify_clean_text: in as text a bus and a server accept: valid UTF-8
 * (other bytes become '?'), no control characters but newline and tab, at
 * most NOTIFY_TEXT_MAX input bytes and, when markup is set, '&', '<' and
 * '>' escaped so a server that renders body markup shows them as typed.
 * Returns a string the caller frees, or NULL when out of memory.
 */
static char *
notify_clean_text(const char *in, int markup)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t len = strnlen(in, NOTIFY_TEXT_MAX), i = 0, o = 0, n;
	const char *esc;
	char *out;

	/* "&amp;" is the longest replacement of one input byte. */
	if ((out = malloc(len * 5 + 1)) == NULL)
		return NULL;
	while (i < len) {
		esc = NULL;
		if (markup && s[i] == '&')
			esc = "&amp;";
		else if (markup && s[i] == '<')
			esc = "&lt;";
		else if (markup && s[i] == '>')
			esc = "&gt;";
		if (esc != NULL) {
			memcpy(out + o, esc, strlen(esc));
			o += strlen(esc);
			i++;
			continue;
		}
		if ((s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') ||
		    s[i] == 0x7f || (n = notify_utf8_len(s + i, len - i)) == 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}

/* notify_has_markup: the server renders body markup (GetCapabilities). */
static int
notify_has_markup(struct notify *nt)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char **caps = NULL, **cp;
	int r, markup = 1;	/* unknown: escape, the safe side */

	r = sd_bus_call_method(nt->bus, NOTIFY_NAME, NOTIFY_PATH,
	    NOTIFY_IFACE, "GetCapabilities", &err, &reply, NULL);
	if (r < 0 || sd_bus_message_read_strv(reply, &caps) < 0)
		goto out;
	markup = 0;
	for (cp = caps; *cp != NULL; cp++) {
		if (strcmp(*cp, "body-markup") == 0)
			markup = 1;
	}
 out:
	if (caps != NULL) {
		for (cp = caps; *cp != NULL; cp++)
			free(*cp);
		free(caps);
	}
	sd_bus_message_unref(reply);
	sd_bus_error_free(&err);
	return markup;
}

/* notify_take_down: CloseNotification(id).  0 or -errno. */
static int
notify_take_down(struct notify *nt)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call_method(nt->bus, NOTIFY_NAME, NOTIFY_PATH,
	    NOTIFY_IFACE, "CloseNotification", &err, NULL, "u", nt->id);
	if (r < 0)
		error("CloseNotification: %s", err.message != NULL ?
		    err.message : strerror(-r));
	sd_bus_error_free(&err);
	return r < 0 ? r : 0;
}

/*
 * notify_take_down_quietly: CloseNotification(id) sent without waiting for
 * the answer.  After an action the server has normally closed the
 * notification already (so the call would fail, and rightly), and the
 * agent must learn of the Cancel without a server's delay.  Best effort:
 * a failure to queue it changes nothing; the message is flushed when the
 * connection is closed.
 */
static void
notify_take_down_quietly(struct notify *nt)
{
	sd_bus_message *m = NULL;

	if (sd_bus_message_new_method_call(nt->bus, &m, NOTIFY_NAME,
	    NOTIFY_PATH, NOTIFY_IFACE, "CloseNotification") < 0 ||
	    sd_bus_message_set_expect_reply(m, 0) < 0 ||
	    sd_bus_message_append(m, "u", nt->id) < 0 ||
	    sd_bus_send(nt->bus, m, NULL) < 0)
		error("CloseNotification after Cancel not sent");
	sd_bus_message_unref(m);
}

/*
 * notify_finish: the notice ends for reason end: take it down if it is
 * still shown and leave the event loop.  The bus must be used before the
 * loop exits: sd-event closes an attached bus on its way out.
 */
static int
notify_finish(struct notify *nt, enum notify_end end)
{
	if (nt->end != NOTIFY_END_NONE)
		return 0;
	nt->end = end;
	if ((end == NOTIFY_END_SIGNAL || end == NOTIFY_END_EXPIRED) &&
	    notify_take_down(nt) != 0)
		nt->end = NOTIFY_END_LOST;
	if (end == NOTIFY_END_CANCEL)
		notify_take_down_quietly(nt);
	return sd_event_exit(nt->ev, 0);
}

static int
notify_signal(sd_event_source *src, const struct signalfd_siginfo *si,
    void *arg)
{
	struct notify *nt = arg;

	(void)src;
	(void)si;
	return notify_finish(nt, NOTIFY_END_SIGNAL);
}

static int
notify_expired(sd_event_source *src, uint64_t usec, void *arg)
{
	struct notify *nt = arg;

	(void)src;
	(void)usec;
	return notify_finish(nt, NOTIFY_END_EXPIRED);
}

/* NotificationClosed(u id, u reason) from the server that owns our id. */
static int
notify_closed(sd_bus_message *m, void *arg, sd_bus_error *errp)
{
	struct notify *nt = arg;
	const char *sender = sd_bus_message_get_sender(m);
	uint32_t id, reason;

	(void)errp;
	if (nt->id == 0 || sender == NULL || nt->server == NULL ||
	    strcmp(sender, nt->server) != 0 ||
	    sd_bus_message_read(m, "uu", &id, &reason) < 0 || id != nt->id)
		return 0;
	return notify_finish(nt, NOTIFY_END_SERVER);
}

/*
 * ActionInvoked(u id, s action_key) from the server that owns our id: the
 * user chose an action; only "cancel" is ours (others are ignored: the
 * server closes the notification after them if it is done with it).
 */
static int
notify_action(sd_bus_message *m, void *arg, sd_bus_error *errp)
{
	struct notify *nt = arg;
	const char *sender = sd_bus_message_get_sender(m);
	const char *key;
	uint32_t id;

	(void)errp;
	if (nt->id == 0 || sender == NULL || nt->server == NULL ||
	    strcmp(sender, nt->server) != 0 ||
	    sd_bus_message_read(m, "us", &id, &key) < 0 || id != nt->id ||
	    strcmp(key, NOTIFY_ACTION_CANCEL) != 0)
		return 0;
	return notify_finish(nt, NOTIFY_END_CANCEL);
}

/* The server left the bus (its name lost its owner): nothing to close. */
static int
notify_owner_changed(sd_bus_message *m, void *arg, sd_bus_error *errp)
{
	struct notify *nt = arg;
	const char *name, *old_owner, *new_owner;

	(void)errp;
	if (nt->server == NULL ||
	    sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 ||
	    strcmp(name, NOTIFY_NAME) != 0 || strcmp(old_owner, nt->server) != 0)
		return 0;
	error("notification server left the bus");
	return notify_finish(nt, NOTIFY_END_LOST);
}

/*
 * notify_show: Notify(app, replaces 0, icon, summary, body, actions
 * [cancel, Cancel], hints, expire 0 = never); sets nt->id and nt->server.
 * 0 or -errno.
 */
static int
notify_show(struct notify *nt, const char *summary, const char *body)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *sender;
	uint32_t id;
	int r;

	r = sd_bus_call_method(nt->bus, NOTIFY_NAME, NOTIFY_PATH,
	    NOTIFY_IFACE, "Notify", &err, &reply, "susssasa{sv}i",
	    NOTIFY_APP, (uint32_t)0, NOTIFY_ICON, summary, body,
	    2, NOTIFY_ACTION_CANCEL, NOTIFY_ACTION_CANCEL_LABEL,
	    2, "urgency", "y", (int)NOTIFY_URGENCY_CRITICAL,
	    "transient", "b", 1,
	    (int32_t)0);
	if (r < 0) {
		error("Notify: %s", err.message != NULL ? err.message :
		    strerror(-r));
		goto out;
	}
	if ((r = sd_bus_message_read(reply, "u", &id)) < 0) {
		error("Notify: bad reply: %s", strerror(-r));
		goto out;
	}
	if ((sender = sd_bus_message_get_sender(reply)) == NULL ||
	    (nt->server = strdup(sender)) == NULL) {
		r = -ENOMEM;
		error("Notify: reply without a sender");
		goto out;
	}
	nt->id = id;
	r = 0;
 out:
	sd_bus_message_unref(reply);
	sd_bus_error_free(&err);
	return r;
}

/* notify_close_requested: SIGTERM, SIGINT or SIGHUP is already pending. */
static int
notify_close_requested(void)
{
	sigset_t pending;

	if (sigpending(&pending) != 0)
		return 0;
	return sigismember(&pending, SIGTERM) == 1 ||
	    sigismember(&pending, SIGINT) == 1 ||
	    sigismember(&pending, SIGHUP) == 1;
}

int
main(int argc, char **argv)
{
	struct notify nt = { .end = NOTIFY_END_NONE };
	char *summary = NULL, *body = NULL;
	sigset_t sigs;
	int r, ret = NOTIFY_EXIT_FAILED;

	log_init(NOTIFY_PROGNAME, LOG_LEVEL_ERROR, 1);
	harden_process();
	if (argc != 3) {
		fprintf(stderr, "usage: %s summary body\n", NOTIFY_PROGNAME);
		return NOTIFY_EXIT_FAILED;
	}
	/* Held from here on, so a close that comes early is not lost. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) != 0) {
		error("sigprocmask: %s", strerror(errno));
		goto out;
	}
	/* The agent's death closes the notice too (Linux). */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);

	if ((r = sd_bus_open_user(&nt.bus)) < 0) {
		error("no session bus: %s", strerror(-r));
		goto out;
	}
	if ((r = sd_bus_set_method_call_timeout(nt.bus,
	    NOTIFY_CALL_TIMEOUT_US)) < 0 ||
	    (r = sd_bus_set_exit_on_disconnect(nt.bus, 1)) < 0 ||
	    (r = sd_event_default(&nt.ev)) < 0 ||
	    (r = sd_bus_attach_event(nt.bus, nt.ev, 0)) < 0 ||
	    (r = sd_event_add_signal(nt.ev, NULL, SIGTERM, notify_signal,
	    &nt)) < 0 ||
	    (r = sd_event_add_signal(nt.ev, NULL, SIGINT, notify_signal,
	    &nt)) < 0 ||
	    (r = sd_event_add_signal(nt.ev, NULL, SIGHUP, notify_signal,
	    &nt)) < 0 ||
	    (r = sd_event_add_time_relative(nt.ev, NULL, CLOCK_MONOTONIC,
	    NOTIFY_MAX_LIFE_US, 0, notify_expired, &nt)) < 0) {
		error("event loop setup: %s", strerror(-r));
		goto out;
	}
	/* Before Notify, so a close that follows it at once is seen. */
	if ((r = sd_bus_match_signal(nt.bus, NULL, NULL, NOTIFY_PATH,
	    NOTIFY_IFACE, "NotificationClosed", notify_closed, &nt)) < 0 ||
	    (r = sd_bus_match_signal(nt.bus, NULL, NULL, NOTIFY_PATH,
	    NOTIFY_IFACE, "ActionInvoked", notify_action, &nt)) < 0 ||
	    (r = sd_bus_add_match(nt.bus, NULL, NOTIFY_OWNER_MATCH,
	    notify_owner_changed, &nt)) < 0) {
		error("session bus: %s", strerror(-r));
		goto out;
	}
	if (notify_close_requested()) {
		ret = NOTIFY_EXIT_DONE;
		goto out;
	}
	if ((summary = notify_clean_text(argv[1], 0)) == NULL ||
	    (body = notify_clean_text(argv[2], notify_has_markup(&nt))) ==
	    NULL) {
		error("out of memory");
		goto out;
	}
	if (notify_show(&nt, summary, body) != 0)
		goto out;
	if ((r = sd_event_loop(nt.ev)) < 0)
		error("event loop: %s", strerror(-r));
	else if (nt.end == NOTIFY_END_NONE)
		error("session bus connection lost");
	if (r < 0 || nt.end == NOTIFY_END_NONE || nt.end == NOTIFY_END_LOST)
		goto out;
	ret = nt.end == NOTIFY_END_CANCEL ? NOTIFY_EXIT_CANCEL :
	    NOTIFY_EXIT_DONE;
 out:
	free(summary);
	free(body);
	free(nt.server);
	sd_bus_flush_close_unref(nt.bus);
	sd_event_unref(nt.ev);
	return ret;
}

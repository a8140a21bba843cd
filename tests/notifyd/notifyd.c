/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * notifyd: a desktop notification server for the tests.
 *
 *	notifyd [-HM] [-a key[:ms]] [-c ms] LOG
 *
 * Owns org.freedesktop.Notifications on the session bus
 * ($DBUS_SESSION_BUS_ADDRESS, normally a private dbus-daemon a test
 * started) and implements the calls of the Desktop Notifications
 * Specification 1.2 a client makes: Notify (ids 1, 2, ...),
 * CloseNotification (emits NotificationClosed with reason 3),
 * GetCapabilities and GetServerInformation; with -a it emits ActionInvoked
 * as if the user had chosen an action.  Every call and every action
 * appends one line to LOG, so a test can grep what was shown, chosen and
 * taken down:
 *
 *	ready
 *	caps
 *	info
 *	notify ID app=APP icon=ICON urgency=U expire=MS actions=N
 *	    [action=KEY:LABEL ...] summary=SUMMARY body=BODY
 *				(one line; newlines as \n; N key/label
 *				pairs, each then listed; an odd actions
 *				array is refused with InvalidArgs, unlogged)
 *	close ID		a client closed it
 *	close ID unknown	a client closed an id that is not shown
 *	expired ID		-c closed it by itself
 *	hang			-H left a Notify unanswered
 *	action ID KEY		-a chose KEY on it (then closed it)
 *
 *	-M	no "body-markup" capability ("actions" is always announced)
 *	-H	hang: never answer Notify (a server that does not reply)
 *	-a key[:ms]
 *		ms (default 300) after each notification is shown, emit
 *		ActionInvoked(ID, key), whether the notification offered
 *		key or not, then close it as a server does after an action
 *		on a notification that is not resident: NotificationClosed
 *		with reason 2 (dismissed by the user)
 *	-c ms	close every notification by itself after ms (reason 1)
 *
 * Exits 0 on SIGTERM or SIGINT.
 */
#include "config.h"

#include <sys/queue.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#define NOTIFYD_NAME	"org.freedesktop.Notifications"
#define NOTIFYD_PATH	"/org/freedesktop/Notifications"
#define NOTIFYD_IFACE	"org.freedesktop.Notifications"
#define NOTIFYD_LINE_MAX	8192
#define NOTIFYD_ACTION_MS	300

enum notifyd_reason {
	NOTIFYD_REASON_EXPIRED = 1,
	NOTIFYD_REASON_DISMISSED = 2,
	NOTIFYD_REASON_CLOSED = 3,
};

struct notifyd_shown {
	uint32_t id;
	sd_event_source *timer;		/* -c */
	sd_event_source *action;	/* -a */
	LIST_ENTRY(notifyd_shown) entry;
};

static LIST_HEAD(, notifyd_shown) notifyd_list =
    LIST_HEAD_INITIALIZER(notifyd_list);
static sd_bus *notifyd_bus;
static sd_event *notifyd_ev;
static int notifyd_log = -1;
static int notifyd_markup = 1;
static int notifyd_hang;
static uint64_t notifyd_close_after_ms;
static char *notifyd_action_key;	/* -a */
static uint64_t notifyd_action_ms = NOTIFYD_ACTION_MS;
static uint32_t notifyd_next_id = 1;

static void __attribute__((format(printf, 1, 2)))
notifyd_logf(const char *fmt, ...)
{
	char line[NOTIFYD_LINE_MAX], out[NOTIFYD_LINE_MAX];
	va_list ap;
	size_t i, o = 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	for (i = 0; line[i] != '\0' && o < sizeof(out) - 3; i++) {
		if (line[i] == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else
			out[o++] = line[i];
	}
	out[o++] = '\n';
	/* One write per line: the tests read the log while we append. */
	if (write(notifyd_log, out, o) != (ssize_t)o)
		fprintf(stderr, "notifyd: log write: %s\n", strerror(errno));
}

static struct notifyd_shown *
notifyd_find(uint32_t id)
{
	struct notifyd_shown *s;

	LIST_FOREACH(s, &notifyd_list, entry) {
		if (s->id == id)
			return s;
	}
	return NULL;
}

/* notifyd_take_down: forget s and tell every client with NotificationClosed. */
static void
notifyd_take_down(struct notifyd_shown *s, enum notifyd_reason reason)
{
	int r;

	r = sd_bus_emit_signal(notifyd_bus, NOTIFYD_PATH, NOTIFYD_IFACE,
	    "NotificationClosed", "uu", s->id, (uint32_t)reason);
	if (r < 0)
		fprintf(stderr, "notifyd: emit: %s\n", strerror(-r));
	LIST_REMOVE(s, entry);
	sd_event_source_disable_unref(s->timer);
	sd_event_source_disable_unref(s->action);
	free(s);
}

static int
notifyd_expire(sd_event_source *src, uint64_t usec, void *arg)
{
	struct notifyd_shown *s = arg;

	(void)src;
	(void)usec;
	notifyd_logf("expired %u", s->id);
	notifyd_take_down(s, NOTIFYD_REASON_EXPIRED);
	return 0;
}

/* -a: the user chose notifyd_action_key on s; a server then closes it. */
static int
notifyd_act(sd_event_source *src, uint64_t usec, void *arg)
{
	struct notifyd_shown *s = arg;
	int r;

	(void)src;
	(void)usec;
	notifyd_logf("action %u %s", s->id, notifyd_action_key);
	r = sd_bus_emit_signal(notifyd_bus, NOTIFYD_PATH, NOTIFYD_IFACE,
	    "ActionInvoked", "us", s->id, notifyd_action_key);
	if (r < 0)
		fprintf(stderr, "notifyd: emit: %s\n", strerror(-r));
	notifyd_take_down(s, NOTIFYD_REASON_DISMISSED);
	return 0;
}

/* notifyd_action_list: " action=KEY:LABEL" for each pair, or NULL. */
static char *
notifyd_action_list(char **actions, size_t n)
{
	char *list, *more;
	size_t i;

	if ((list = strdup("")) == NULL)
		return NULL;
	for (i = 0; i + 1 < n; i += 2) {
		if (asprintf(&more, "%s action=%s:%s", list, actions[i],
		    actions[i + 1]) == -1) {
			free(list);
			return NULL;
		}
		free(list);
		list = more;
	}
	return list;
}

/* Notify(s app, u replaces, s icon, s summary, s body, as actions,
 * a{sv} hints, i expire) -> u id */
static int
notifyd_notify(sd_bus_message *m, void *arg, sd_bus_error *errp)
{
	const char *app, *icon, *summary, *body, *key;
	char **actions = NULL, *list = NULL;
	struct notifyd_shown *s = NULL;
	uint32_t replaces;
	uint8_t urgency = 1;
	int32_t expire;
	size_t nactions = 0;
	int r;

	(void)arg;
	if ((r = sd_bus_message_read(m, "susss", &app, &replaces, &icon,
	    &summary, &body)) < 0 ||
	    (r = sd_bus_message_read_strv(m, &actions)) < 0 ||
	    (r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0)
		goto out;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if ((r = sd_bus_message_read(m, "s", &key)) < 0)
			goto out;
		if (strcmp(key, "urgency") == 0)
			r = sd_bus_message_read(m, "v", "y", &urgency);
		else
			r = sd_bus_message_skip(m, "v");
		if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
			goto out;
	}
	if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0 ||
	    (r = sd_bus_message_read(m, "i", &expire)) < 0)
		goto out;
	while (actions != NULL && actions[nactions] != NULL)
		nactions++;
	if (nactions % 2 != 0) {
		r = sd_bus_error_set(errp, SD_BUS_ERROR_INVALID_ARGS,
		    "actions: an odd number of strings, not key/label pairs");
		goto out;
	}
	if (notifyd_hang) {
		notifyd_logf("hang");
		r = 1;		/* no reply, ever */
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	s->id = notifyd_next_id++;
	if (notifyd_close_after_ms != 0 &&
	    (r = sd_event_add_time_relative(notifyd_ev, &s->timer,
	    CLOCK_MONOTONIC, notifyd_close_after_ms * 1000, 0,
	    notifyd_expire, s)) < 0)
		goto out;
	if (notifyd_action_key != NULL &&
	    (r = sd_event_add_time_relative(notifyd_ev, &s->action,
	    CLOCK_MONOTONIC, notifyd_action_ms * 1000, 0,
	    notifyd_act, s)) < 0)
		goto out;
	if ((list = notifyd_action_list(actions, nactions)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	LIST_INSERT_HEAD(&notifyd_list, s, entry);
	notifyd_logf("notify %u app=%s icon=%s urgency=%u expire=%d "
	    "actions=%zu%s summary=%s body=%s", s->id, app, icon,
	    (unsigned)urgency, (int)expire, nactions / 2, list, summary,
	    body);
	r = sd_bus_reply_method_return(m, "u", s->id);
	s = NULL;
 out:
	free(list);
	if (s != NULL) {
		sd_event_source_disable_unref(s->timer);
		sd_event_source_disable_unref(s->action);
		free(s);
	}
	if (actions != NULL) {
		for (nactions = 0; actions[nactions] != NULL; nactions++)
			free(actions[nactions]);
		free(actions);
	}
	return r;
}

static int
notifyd_close(sd_bus_message *m, void *arg, sd_bus_error *errp)
{
	struct notifyd_shown *s;
	uint32_t id;
	int r;

	(void)arg;
	if ((r = sd_bus_message_read(m, "u", &id)) < 0)
		return r;
	if ((s = notifyd_find(id)) == NULL) {
		notifyd_logf("close %u unknown", id);
		return sd_bus_error_set(errp, NOTIFYD_IFACE ".Error.NotFound",
		    "no such notification");
	}
	notifyd_logf("close %u", id);
	notifyd_take_down(s, NOTIFYD_REASON_CLOSED);
	return sd_bus_reply_method_return(m, NULL);
}

static int
notifyd_caps(sd_bus_message *m, void *arg, sd_bus_error *errp)
{
	(void)arg;
	(void)errp;
	notifyd_logf("caps");
	if (notifyd_markup)
		return sd_bus_reply_method_return(m, "as", 4, "actions",
		    "body", "body-markup", "icon-static");
	return sd_bus_reply_method_return(m, "as", 3, "actions", "body",
	    "icon-static");
}

static int
notifyd_info(sd_bus_message *m, void *arg, sd_bus_error *errp)
{
	(void)arg;
	(void)errp;
	notifyd_logf("info");
	return sd_bus_reply_method_return(m, "ssss", "notifyd", "tokagent",
	    "1.0", "1.2");
}

static const sd_bus_vtable notifyd_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Notify", "susssasa{sv}i", "u", notifyd_notify, 0),
	SD_BUS_METHOD("CloseNotification", "u", "", notifyd_close, 0),
	SD_BUS_METHOD("GetCapabilities", "", "as", notifyd_caps, 0),
	SD_BUS_METHOD("GetServerInformation", "", "ssss", notifyd_info, 0),
	SD_BUS_SIGNAL("NotificationClosed", "uu", 0),
	SD_BUS_SIGNAL("ActionInvoked", "us", 0),
	SD_BUS_VTABLE_END
};

static int
notifyd_signal(sd_event_source *src, const struct signalfd_siginfo *si,
    void *arg)
{
	(void)src;
	(void)si;
	(void)arg;
	return sd_event_exit(notifyd_ev, 0);
}

static void __attribute__((noreturn))
notifyd_usage(void)
{
	fprintf(stderr, "usage: notifyd [-HM] [-a key[:ms]] [-c ms] log\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct notifyd_shown *s;
	sigset_t sigs;
	char *end, *colon;
	int ch, r;

	while ((ch = getopt(argc, argv, "HMa:c:")) != -1) {
		switch (ch) {
		case 'a':
			free(notifyd_action_key);
			if ((notifyd_action_key = strdup(optarg)) == NULL) {
				fprintf(stderr, "notifyd: out of memory\n");
				return 1;
			}
			if ((colon = strchr(notifyd_action_key, ':')) != NULL) {
				*colon++ = '\0';
				errno = 0;
				notifyd_action_ms = strtoull(colon, &end, 10);
				if (errno != 0 || *end != '\0' ||
				    *colon == '\0')
					notifyd_usage();
			}
			if (*notifyd_action_key == '\0')
				notifyd_usage();
			break;
		case 'H':
			notifyd_hang = 1;
			break;
		case 'M':
			notifyd_markup = 0;
			break;
		case 'c':
			errno = 0;
			notifyd_close_after_ms = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || *optarg == '\0')
				notifyd_usage();
			break;
		default:
			notifyd_usage();
		}
	}
	if (argc - optind != 1)
		notifyd_usage();
	if ((notifyd_log = open(argv[optind],
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		fprintf(stderr, "notifyd: %s: %s\n", argv[optind],
		    strerror(errno));
		return 1;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) != 0 ||
	    (r = sd_event_default(&notifyd_ev)) < 0 ||
	    (r = sd_event_add_signal(notifyd_ev, NULL, SIGTERM,
	    notifyd_signal, NULL)) < 0 ||
	    (r = sd_event_add_signal(notifyd_ev, NULL, SIGINT,
	    notifyd_signal, NULL)) < 0) {
		fprintf(stderr, "notifyd: event loop setup failed\n");
		return 1;
	}
	if ((r = sd_bus_open_user(&notifyd_bus)) < 0 ||
	    (r = sd_bus_add_object_vtable(notifyd_bus, NULL, NOTIFYD_PATH,
	    NOTIFYD_IFACE, notifyd_vtable, NULL)) < 0 ||
	    (r = sd_bus_request_name(notifyd_bus, NOTIFYD_NAME, 0)) < 0 ||
	    (r = sd_bus_attach_event(notifyd_bus, notifyd_ev, 0)) < 0 ||
	    (r = sd_bus_set_exit_on_disconnect(notifyd_bus, 1)) < 0) {
		fprintf(stderr, "notifyd: session bus: %s\n", strerror(-r));
		return 1;
	}
	notifyd_logf("ready");
	r = sd_event_loop(notifyd_ev);
	while ((s = LIST_FIRST(&notifyd_list)) != NULL) {
		LIST_REMOVE(s, entry);
		sd_event_source_disable_unref(s->timer);
		sd_event_source_disable_unref(s->action);
		free(s);
	}
	free(notifyd_action_key);
	sd_bus_flush_close_unref(notifyd_bus);
	sd_event_unref(notifyd_ev);
	close(notifyd_log);
	return r < 0 ? 1 : 0;
}

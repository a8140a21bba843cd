/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * tokagent-session-watch: tells the agent when the user's screen locks or
 * unlocks and when the machine is about to suspend or has resumed, so that
 * the agent (which links no D-Bus library) can forget PINs, lock or drop
 * keys as its policy says.
 *
 * It watches logind on the system bus: the Manager's PrepareForSleep(b),
 * and the user's session's Lock and Unlock signals and LockedHint
 * property.  The session is $XDG_SESSION_ID's, else the agent's (the
 * parent's pid), else the user's display session.  Without logind it
 * watches the desktop screensaver on the session bus
 * (org.freedesktop.ScreenSaver and org.gnome.ScreenSaver ActiveChanged).
 *
 * Protocol: one line per event on stdout, nothing on stdin:
 *	watching TEXT	what is watched (once, first)
 *	lock | unlock	the screen locked or unlocked
 *	sleep | wake	suspend is about to happen, or is over
 *	off TEXT	nothing can be watched (then it exits 0)
 * It exits when the agent closes the pipe or sends SIGTERM.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "common/harden.h"

#define LOGIN1		"org.freedesktop.login1"
#define LOGIN1_PATH	"/org/freedesktop/login1"
#define LOGIN1_MANAGER	"org.freedesktop.login1.Manager"
#define LOGIN1_SESSION	"org.freedesktop.login1.Session"
#define LOGIN1_USER	"org.freedesktop.login1.User"
#define BUS_TIMEOUT_US	(2 * 1000 * 1000)

static int last_locked = -1;

static void
say(const char *line)
{
	/* The agent is gone when its pipe is: then so are we. */
	if (printf("%s\n", line) < 0 || fflush(stdout) != 0)
		exit(0);
}

static void
say_locked(int locked)
{
	/* Lock and LockedHint both arrive for one lock: say it once. */
	if (locked == last_locked)
		return;
	last_locked = locked;
	say(locked ? "lock" : "unlock");
}

static int
on_sleep(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	int start;

	(void)arg;
	(void)err;
	if (sd_bus_message_read(m, "b", &start) >= 0)
		say(start ? "sleep" : "wake");
	return 0;
}

static int
on_lock(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	(void)arg;
	(void)err;
	say_locked(strcmp(sd_bus_message_get_member(m), "Lock") == 0);
	return 0;
}

/* PropertiesChanged(s interface, a{sv} changed, as invalidated). */
static int
on_props(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	const char *iface, *name;
	int r, b;

	(void)arg;
	(void)err;
	if (sd_bus_message_read(m, "s", &iface) < 0 ||
	    strcmp(iface, LOGIN1_SESSION) != 0 ||
	    sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
		return 0;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if (sd_bus_message_read(m, "s", &name) < 0)
			return 0;
		if (strcmp(name, "LockedHint") == 0) {
			if (sd_bus_message_read(m, "v", "b", &b) < 0)
				return 0;
			say_locked(b);
		} else if (sd_bus_message_skip(m, "v") < 0)
			return 0;
		if (sd_bus_message_exit_container(m) < 0)
			return 0;
	}
	return 0;
}

static int
on_screensaver(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	int active;

	(void)arg;
	(void)err;
	if (sd_bus_message_read(m, "b", &active) >= 0)
		say_locked(active);
	return 0;
}

/* The logind session object to watch, as a new string, or NULL. */
static char *
find_session(sd_bus *bus)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *id = getenv("XDG_SESSION_ID"), *path = NULL, *sid;
	char *user = NULL, *out = NULL;
	int r;

	if (id != NULL && *id != '\0')
		r = sd_bus_call_method(bus, LOGIN1, LOGIN1_PATH,
		    LOGIN1_MANAGER, "GetSession", &err, &reply, "s", id);
	else
		r = sd_bus_call_method(bus, LOGIN1, LOGIN1_PATH,
		    LOGIN1_MANAGER, "GetSessionByPID", &err, &reply, "u",
		    (uint32_t)getppid());
	if (r >= 0 && sd_bus_message_read(reply, "o", &path) >= 0 &&
	    (out = strdup(path)) != NULL)
		goto done;
	sd_bus_error_free(&err);
	reply = sd_bus_message_unref(reply);
	/* A user service is in no session: the user's display session. */
	if (sd_bus_call_method(bus, LOGIN1, LOGIN1_PATH, LOGIN1_MANAGER,
	    "GetUser", &err, &reply, "u", (uint32_t)getuid()) < 0 ||
	    sd_bus_message_read(reply, "o", &path) < 0 ||
	    (user = strdup(path)) == NULL)
		goto done;
	reply = sd_bus_message_unref(reply);
	if (sd_bus_get_property(bus, LOGIN1, user, LOGIN1_USER, "Display",
	    &err, &reply, "(so)") < 0 ||
	    sd_bus_message_read(reply, "(so)", &sid, &path) < 0 ||
	    strcmp(path, "/") == 0)
		goto done;
	out = strdup(path);
 done:
	free(user);
	sd_bus_error_free(&err);
	sd_bus_message_unref(reply);
	return out;
}

static int
watch_logind(sd_bus *bus, char *line, size_t len)
{
	char *session;
	int locked;

	if ((session = find_session(bus)) == NULL)
		return -1;
	if (sd_bus_match_signal(bus, NULL, LOGIN1, LOGIN1_PATH,
	    LOGIN1_MANAGER, "PrepareForSleep", on_sleep, NULL) < 0 ||
	    sd_bus_match_signal(bus, NULL, LOGIN1, session, LOGIN1_SESSION,
	    "Lock", on_lock, NULL) < 0 ||
	    sd_bus_match_signal(bus, NULL, LOGIN1, session, LOGIN1_SESSION,
	    "Unlock", on_lock, NULL) < 0 ||
	    sd_bus_match_signal(bus, NULL, LOGIN1, session,
	    "org.freedesktop.DBus.Properties", "PropertiesChanged", on_props,
	    NULL) < 0) {
		free(session);
		return -1;
	}
	/* The state now, so that the first change is told as one. */
	if (sd_bus_get_property_trivial(bus, LOGIN1, session, LOGIN1_SESSION,
	    "LockedHint", NULL, 'b', &locked) >= 0)
		last_locked = locked;
	snprintf(line, len, "watching logind session %s", session);
	free(session);
	return 0;
}

static int
watch_screensaver(sd_bus *bus, char *line, size_t len)
{
	if (sd_bus_match_signal(bus, NULL, NULL, "/org/freedesktop/ScreenSaver",
	    "org.freedesktop.ScreenSaver", "ActiveChanged", on_screensaver,
	    NULL) < 0 ||
	    sd_bus_match_signal(bus, NULL, NULL, "/org/gnome/ScreenSaver",
	    "org.gnome.ScreenSaver", "ActiveChanged", on_screensaver,
	    NULL) < 0)
		return -1;
	snprintf(line, len, "watching the desktop screensaver (no logind)");
	return 0;
}

int
main(void)
{
	sd_bus *bus = NULL;
	char line[512];
	int r;

	harden_process();
	signal(SIGPIPE, SIG_DFL);
	if (sd_bus_open_system(&bus) >= 0) {
		(void)sd_bus_set_method_call_timeout(bus, BUS_TIMEOUT_US);
		if (watch_logind(bus, line, sizeof(line)) == 0)
			goto run;
		bus = sd_bus_flush_close_unref(bus);
	}
	if (getenv("DBUS_SESSION_BUS_ADDRESS") != NULL &&
	    sd_bus_open_user(&bus) >= 0) {
		if (watch_screensaver(bus, line, sizeof(line)) == 0)
			goto run;
		bus = sd_bus_flush_close_unref(bus);
	}
	say("off no logind session on the system bus and no session bus");
	return 0;
 run:
	say(line);
	for (;;) {
		if ((r = sd_bus_process(bus, NULL)) < 0)
			break;
		if (r > 0)
			continue;
		if ((r = sd_bus_wait(bus, UINT64_MAX)) < 0 && r != -EINTR)
			break;
	}
	say("off the bus went away");
	sd_bus_flush_close_unref(bus);
	return 0;
}

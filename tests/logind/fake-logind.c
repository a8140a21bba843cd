/* Copyright (c) 2026 tokagent authors.  ISC licence: see LICENSE. */
/*
 * fake-logind: just enough of systemd-logind's D-Bus interface, on a
 * private bus, for the tests of tokagent-session-watch and of the agent's
 * screen-lock and suspend policy: the Manager's GetSession, GetSessionByPID
 * and GetUser and its PrepareForSleep signal; one session (id "c1") with the
 * Lock and Unlock signals and the LockedHint property; one user whose
 * Display is that session.
 *
 * Tests drive it through a test-only method on the same object:
 *	org.tokagent.TestLogind.Emit(s what): what is "lock", "unlock" (the
 *	session's signals and LockedHint), "sleep" or "wake"
 *	(PrepareForSleep(true/false)).
 * It logs every call on stdout and prints "ready" once it owns its name.
 *
 * usage: fake-logind   (the bus is DBUS_SYSTEM_BUS_ADDRESS)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#define MANAGER_PATH	"/org/freedesktop/login1"
#define SESSION_PATH	"/org/freedesktop/login1/session/c1"
#define USER_PATH	"/org/freedesktop/login1/user/_1000"

static int locked_hint;

static int
get_session(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	const char *id;

	(void)arg;
	if (sd_bus_message_read(m, "s", &id) < 0)
		return -EINVAL;
	printf("GetSession %s\n", id);
	if (strcmp(id, "c1") != 0)
		return sd_bus_error_set(err, "org.freedesktop.login1.NoSuchSession",
		    "no such session");
	return sd_bus_reply_method_return(m, "o", SESSION_PATH);
}

static int
get_session_by_pid(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	uint32_t pid;

	(void)arg;
	if (sd_bus_message_read(m, "u", &pid) < 0)
		return -EINVAL;
	printf("GetSessionByPID %u\n", pid);
	/* Like a user service: in no session. */
	return sd_bus_error_set(err, "org.freedesktop.login1.NoSessionForPID",
	    "not in a session");
}

static int
get_user(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	uint32_t uid;

	(void)arg;
	(void)err;
	if (sd_bus_message_read(m, "u", &uid) < 0)
		return -EINVAL;
	printf("GetUser %u\n", uid);
	return sd_bus_reply_method_return(m, "o", USER_PATH);
}

static int
prop_locked(sd_bus *bus, const char *path, const char *iface,
    const char *prop, sd_bus_message *reply, void *arg, sd_bus_error *err)
{
	(void)bus;
	(void)path;
	(void)iface;
	(void)prop;
	(void)arg;
	(void)err;
	return sd_bus_message_append(reply, "b", locked_hint);
}

static int
prop_display(sd_bus *bus, const char *path, const char *iface,
    const char *prop, sd_bus_message *reply, void *arg, sd_bus_error *err)
{
	(void)bus;
	(void)path;
	(void)iface;
	(void)prop;
	(void)arg;
	(void)err;
	return sd_bus_message_append(reply, "(so)", "c1", SESSION_PATH);
}

static int
emit(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	sd_bus *bus = sd_bus_message_get_bus(m);
	const char *what;
	int r;

	(void)arg;
	if (sd_bus_message_read(m, "s", &what) < 0)
		return -EINVAL;
	printf("Emit %s\n", what);
	if (strcmp(what, "lock") == 0 || strcmp(what, "unlock") == 0) {
		locked_hint = strcmp(what, "lock") == 0;
		r = sd_bus_emit_signal(bus, SESSION_PATH,
		    "org.freedesktop.login1.Session",
		    locked_hint ? "Lock" : "Unlock", "");
		if (r >= 0)
			r = sd_bus_emit_properties_changed(bus, SESSION_PATH,
			    "org.freedesktop.login1.Session", "LockedHint",
			    NULL);
	} else if (strcmp(what, "sleep") == 0 || strcmp(what, "wake") == 0)
		r = sd_bus_emit_signal(bus, MANAGER_PATH,
		    "org.freedesktop.login1.Manager", "PrepareForSleep", "b",
		    strcmp(what, "sleep") == 0);
	else
		return sd_bus_error_set(err, SD_BUS_ERROR_INVALID_ARGS,
		    "want lock, unlock, sleep or wake");
	if (r < 0)
		return r;
	fflush(stdout);
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("GetSession", "s", "o", get_session,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("GetSessionByPID", "u", "o", get_session_by_pid,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("GetUser", "u", "o", get_user,
	    SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL("PrepareForSleep", "b", 0),
	SD_BUS_VTABLE_END
};

static const sd_bus_vtable session_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("LockedHint", "b", prop_locked, 0,
	    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_SIGNAL("Lock", "", 0),
	SD_BUS_SIGNAL("Unlock", "", 0),
	SD_BUS_VTABLE_END
};

static const sd_bus_vtable user_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Display", "(so)", prop_display, 0,
	    SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_VTABLE_END
};

static const sd_bus_vtable test_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Emit", "s", "", emit, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

int
main(void)
{
	sd_bus *bus = NULL;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((r = sd_bus_open_system(&bus)) < 0 ||
	    (r = sd_bus_add_object_vtable(bus, NULL, MANAGER_PATH,
	    "org.freedesktop.login1.Manager", manager_vtable, NULL)) < 0 ||
	    (r = sd_bus_add_object_vtable(bus, NULL, MANAGER_PATH,
	    "org.tokagent.TestLogind", test_vtable, NULL)) < 0 ||
	    (r = sd_bus_add_object_vtable(bus, NULL, SESSION_PATH,
	    "org.freedesktop.login1.Session", session_vtable, NULL)) < 0 ||
	    (r = sd_bus_add_object_vtable(bus, NULL, USER_PATH,
	    "org.freedesktop.login1.User", user_vtable, NULL)) < 0 ||
	    (r = sd_bus_request_name(bus, "org.freedesktop.login1", 0)) < 0) {
		fprintf(stderr, "fake-logind: %s\n", strerror(-r));
		return 1;
	}
	printf("ready\n");
	for (;;) {
		if ((r = sd_bus_process(bus, NULL)) < 0)
			break;
		if (r > 0)
			continue;
		if ((r = sd_bus_wait(bus, UINT64_MAX)) < 0)
			break;
	}
	sd_bus_flush_close_unref(bus);
	return 0;
}

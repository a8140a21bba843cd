# tests/notifyd/: a test desktop notification server on a private session
# bus, and the tests of tokagent-notify-desktop against it.  The tests are
# registered even without libsystemd: they skip then (and fail under CI).
if HAVE_SYSTEMD
check_PROGRAMS += tests/notifyd/notifyd
tests_notifyd_notifyd_SOURCES = tests/notifyd/notifyd.c
tests_notifyd_notifyd_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS)
tests_notifyd_notifyd_LDADD = $(SYSTEMD_LIBS) $(LIBBSD_LIBS)
endif
NOTIFYD_TESTS = tests/notifyd/notify-desktop.sh
TESTS += $(NOTIFYD_TESTS)
dist_check_SCRIPTS += $(NOTIFYD_TESTS)
EXTRA_DIST += tests/notifyd/notifyd-lib.sh

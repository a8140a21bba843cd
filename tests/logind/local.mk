# tests/logind/: a stand-in for systemd-logind on a private bus, for the
# screen-lock and suspend tests (tests/integ/session-lock.sh).  The test is
# registered even without libsystemd: it skips then (and fails under CI).
if HAVE_SYSTEMD
check_PROGRAMS += tests/logind/fake-logind
tests_logind_fake_logind_SOURCES = tests/logind/fake-logind.c
tests_logind_fake_logind_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS)
tests_logind_fake_logind_LDADD = $(SYSTEMD_LIBS)
endif

# agent/: the tokagent daemon.  No private keys and no device libraries
# here: those live in the helpers (token/, sk/, pkcs/).  Everything but
# main() is a convenience library, so unit tests and fuzzers link the same
# code the daemon runs.
noinst_LTLIBRARIES += agent/libagent.la
agent_libagent_la_SOURCES = \
	agent/agent.h agent/state.c \
	agent/askpass.c agent/askpass.h \
	agent/assuan.c agent/assuan.h \
	agent/pinentry.c agent/pinentry.h \
	agent/audit.c agent/audit.h \
	agent/backend.h \
	agent/child.c agent/child.h \
	agent/client.c agent/client.h \
	agent/conn.c agent/conn.h \
	agent/constraints.c agent/constraints.h \
	agent/dest.c agent/dest.h \
	agent/dispatch.c agent/dispatch.h \
	agent/helper.c agent/helper.h \
	agent/helper-p11.c agent/helper-p11.h \
	agent/helper-piv.c agent/helper-piv.h \
	agent/helper-sk.c agent/helper-sk.h \
	agent/helper-soft.c agent/helper-soft.h \
	agent/idtab.c agent/idtab.h \
	agent/keys.c agent/keys.h \
	agent/lock.c agent/lock.h \
	agent/loop.c agent/loop.h \
	agent/notice.c agent/notice.h \
	agent/pin.c agent/pin.h \
	agent/policy.c agent/policy.h \
	agent/policy-stage.c agent/policy-stage.h \
	agent/procinfo.c agent/procinfo.h \
	agent/prompt.c agent/prompt.h \
	agent/provider.c agent/provider.h \
	agent/purpose.c agent/purpose.h \
	agent/session.c agent/session.h \
	agent/resident.c agent/resident.h \
	agent/sign.c agent/sign.h \
	agent/sockdir.c agent/sockdir.h \
	agent/status.c agent/status.h \
	agent/tokstate.c agent/tokstate.h \
	agent/userauth.c agent/userauth.h
# Helpers are found in one place: see agent/progdir.h.
agent_libagent_la_SOURCES += agent/progdir.c agent/progdir.h
agent_libagent_la_CPPFLAGS = $(AM_CPPFLAGS) -DLIBEXECDIR='"$(pkglibexecdir)"' \
	-DBINDIR='"$(bindir)"' -DSYSCONFDIR='"$(sysconfdir)"'
agent_libagent_la_CFLAGS = $(AM_CFLAGS) -pthread
agent_libagent_la_LIBADD = -lpthread

bin_PROGRAMS += agent/tokagent
agent_tokagent_SOURCES = agent/tokagent.c
agent_tokagent_CPPFLAGS = $(AM_CPPFLAGS) -DSYSCONFDIR='"$(sysconfdir)"'
agent_tokagent_LDADD = agent/libagent.la common/libcommon.la \
	$(OPENSSL_LIBS) $(LIBBSD_LIBS)
# The listening socket: socket activation (sd_listen_fds) when libsystemd
# has it, stale-socket replacement.
agent_tokagent_SOURCES += agent/agentsock.c agent/agentsock.h
if HAVE_SD_LISTEN_FDS
agent_tokagent_CPPFLAGS += $(SYSTEMD_CFLAGS)
agent_tokagent_LDADD += $(SYSTEMD_LIBS)
endif

# Desktop touch notices: a small program on sd-bus the agent runs per notice,
# so the agent itself links no D-Bus library.  Built when libsystemd is found.
if HAVE_SYSTEMD
pkglibexec_PROGRAMS += agent/tokagent-notify-desktop agent/tokagent-session-watch
agent_tokagent_session_watch_SOURCES = agent/session-watch.c
agent_tokagent_session_watch_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS)
agent_tokagent_session_watch_LDADD = common/libcommon.la $(SYSTEMD_LIBS) \
	$(OPENSSL_LIBS) $(LIBBSD_LIBS)
agent_tokagent_notify_desktop_SOURCES = agent/notify-desktop.c
agent_tokagent_notify_desktop_CPPFLAGS = $(AM_CPPFLAGS) $(SYSTEMD_CFLAGS)
agent_tokagent_notify_desktop_LDADD = common/libcommon.la $(SYSTEMD_LIBS) \
	$(OPENSSL_LIBS) $(LIBBSD_LIBS)
endif

# tests/integ/pkg.mk: the agent as a user runs it every day: version, the
# fixed socket path (stale socket replaced, live agent kept), systemd socket
# activation with the shipped units, the shell snippets, and where helpers
# come from.  `make installcheck` runs these and a few integration tests
# again against the installed tree (tests/integ/lib.sh: TI_INSTALLCHECK).
PKG_INTEG_TESTS = \
	tests/integ/pkg-version.sh \
	tests/integ/pkg-socket.sh \
	tests/integ/pkg-activate.sh \
	tests/integ/pkg-snippets.sh \
	tests/integ/pkg-installed.sh
TESTS += $(PKG_INTEG_TESTS)
dist_check_SCRIPTS += $(PKG_INTEG_TESTS)

# What the tests need to know of the build and of the install.
AM_TESTS_ENVIRONMENT += \
	TI_PACKAGE_VERSION='$(PACKAGE_VERSION)'; \
	SYSTEMD_SOCKET_ACTIVATE='$(SYSTEMD_SOCKET_ACTIVATE)'; \
	TI_UNIT_DIR='$(abs_top_builddir)/contrib/systemd'; \
	TI_SNIPPET_DIR='$(abs_top_builddir)/contrib/shell'; \
	TI_ENVD_FILE='$(abs_top_srcdir)/contrib/systemd/60-tokagent.conf'; \
	TI_HELPER_DIR='$(abs_top_builddir)'; \
	if test 'x$(TI_INSTALLCHECK)' = xyes; then \
	    TEST_AGENT='$(DESTDIR)$(bindir)/tokagent'; \
	    TI_SK_MODULE='$(DESTDIR)$(pkglibdir)/tokagent-sk.so'; \
	    TI_HELPER_DIR='$(DESTDIR)$(pkglibexecdir)'; \
	    TI_UNIT_DIR='$(TI_INSTALLED_UNIT_DIR)'; \
	    TI_SNIPPET_DIR='$(DESTDIR)$(pkgdatadir)'; \
	    TI_ENVD_FILE='$(DESTDIR)$(pkgdatadir)/environment.d/60-tokagent.conf'; \
	    TI_INSTALL_ROOT='$(DESTDIR)$(prefix)'; \
	    TI_INSTALLED_FILES='$(TI_INSTALLED_FILES)'; \
	    export TEST_AGENT TI_SK_MODULE TI_INSTALL_ROOT TI_INSTALLED_FILES; \
	fi; \
	export TI_PACKAGE_VERSION SYSTEMD_SOCKET_ACTIVATE TI_UNIT_DIR \
	    TI_SNIPPET_DIR TI_ENVD_FILE TI_HELPER_DIR;

# Every file make install puts in place, helpers by name: a file missing or
# in another place fails tests/integ/pkg-installed.sh.
TI_INSTALLED_FILES = \
	$(DESTDIR)$(bindir)/tokagent \
	$(DESTDIR)$(pkglibexecdir)/tokagent-soft-helper \
	$(DESTDIR)$(pkglibexecdir)/tokagent-sk-helper \
	$(DESTDIR)$(pkglibexecdir)/tokagent-p11-helper \
	$(DESTDIR)$(pkglibexecdir)/tokagent-pcsc-watcher \
	$(DESTDIR)$(pkglibexecdir)/tokagent-piv-helper \
	$(DESTDIR)$(pkglibexecdir)/tokagent-piv-setup \
	$(DESTDIR)$(pkglibdir)/tokagent-sk.so \
	$(DESTDIR)$(man1dir)/tokagent.1 \
	$(DESTDIR)$(man5dir)/tokagent-policy.5 \
	$(DESTDIR)$(pkgdatadir)/tokagent.sh \
	$(DESTDIR)$(pkgdatadir)/tokagent.fish \
	$(DESTDIR)$(pkgdatadir)/environment.d/60-tokagent.conf \
	$(DESTDIR)$(docdir)/LICENSE \
	$(DESTDIR)$(docdir)/NEWS \
	$(DESTDIR)$(docdir)/README.md
if HAVE_SYSTEMD
TI_INSTALLED_FILES += $(DESTDIR)$(pkglibexecdir)/tokagent-notify-desktop \
	$(DESTDIR)$(pkglibexecdir)/tokagent-session-watch
endif
if INSTALL_SYSTEMD_UNITS
TI_INSTALLED_FILES += $(DESTDIR)$(systemduserunitdir)/tokagent.socket \
	$(DESTDIR)$(systemduserunitdir)/tokagent.service
TI_INSTALLED_UNIT_DIR = $(DESTDIR)$(systemduserunitdir)
else
# --with-systemduserunitdir=no: the built units are tested instead.
TI_INSTALLED_UNIT_DIR = $(abs_top_builddir)/contrib/systemd
endif

# The installed tree, tested: the files above, then the agent installed
# with its helpers through real OpenSSH tools -- a login, ssh-add -s on a
# SoftHSM token, a FIDO key on vfido, a native PIV card on vcard, a vcard
# set up by tokagent piv-setup -- and socket activation and the snippets as
# installed.
INSTALLCHECK_TESTS = \
	tests/integ/pkg-installed.sh \
	tests/integ/pkg-version.sh \
	tests/integ/pkg-activate.sh \
	tests/integ/pkg-snippets.sh \
	tests/integ/core-login.sh \
	tests/integ/p11-agent.sh \
	tests/integ/fido-login.sh \
	tests/integ/piv-native.sh \
	tests/integ/piv-setup.sh
# Its logs, also when make check ran another TESTS (make distcheck in CI).
CLEANFILES += test-suite-installed.log $(INSTALLCHECK_TESTS:.sh=.log) \
	$(INSTALLCHECK_TESTS:.sh=.trs)
installcheck-local:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(INSTALLCHECK_TESTS)' \
	    TEST_SUITE_LOG=test-suite-installed.log TI_INSTALLCHECK=yes

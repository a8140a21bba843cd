# tests/p11/: PKCS#11 test material: SoftHSM2 and pcscd set-up scripts, the
# probe that drives tokagent-p11-helper over its IPC socket, and a test
# module in front of SoftHSM2 that can unplug its token.
EXTRA_DIST += tests/p11/softhsm.sh tests/p11/lsan.supp

# Test driver: spawns the helper like the agent does (fd 3) and checks it.
check_PROGRAMS += tests/p11/p11-probe
tests_p11_p11_probe_SOURCES = tests/p11/p11-probe.c
tests_p11_p11_probe_LDADD = common/libcommon.la

# A test-only module in front of SoftHSM2 that can unplug its token.
noinst_LTLIBRARIES += tests/p11/libp11shim.la
tests_p11_libp11shim_la_SOURCES = tests/p11/p11-shim.c pkcs/pkcs11.h
tests_p11_libp11shim_la_CFLAGS = $(AM_CFLAGS) -pthread
tests_p11_libp11shim_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere
tests_p11_libp11shim_la_LIBADD = -ldl -lpthread

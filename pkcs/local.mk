# pkcs/: the PKCS#11 helper, one process per provider (see pkcs/p11-helper.c).
noinst_LTLIBRARIES += pkcs/libp11.la
pkcs_libp11_la_SOURCES = \
	pkcs/pkcs11.h \
	pkcs/p11-elf.c pkcs/p11-elf.h \
	pkcs/p11-err.c pkcs/p11-err.h \
	pkcs/p11-ipc.h \
	pkcs/p11-provider.c pkcs/p11-provider.h \
	pkcs/p11-pubkey.c pkcs/p11-pubkey.h
pkcs_libp11_la_CFLAGS = $(AM_CFLAGS) -pthread
pkcs_libp11_la_LIBADD = common/libcommon.la -ldl -lpthread

pkglibexec_PROGRAMS += pkcs/tokagent-p11-helper
pkcs_tokagent_p11_helper_SOURCES = pkcs/p11-helper.c
pkcs_tokagent_p11_helper_CFLAGS = $(AM_CFLAGS) -pthread
pkcs_tokagent_p11_helper_LDADD = pkcs/libp11.la

# Test driver: spawns the helper like the agent does (fd 3) and checks it.
check_PROGRAMS += pkcs/p11-probe
pkcs_p11_probe_SOURCES = pkcs/p11-probe.c
pkcs_p11_probe_LDADD = common/libcommon.la

EXTRA_DIST += tests/p11/softhsm.sh tests/p11/lsan.supp

# Unit tests of the parsers of module output (cmocka).
check_PROGRAMS += tests/unit/test_p11
tests_unit_test_p11_SOURCES = tests/unit/test_p11.c
tests_unit_test_p11_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_p11_LDADD = pkcs/libp11.la $(UNIT_LDADD) $(OPENSSL_LIBS) -ldl
TESTS += tests/unit/test_p11

# A test-only module in front of SoftHSM2 that can unplug its token.
noinst_LTLIBRARIES += pkcs/libp11shim.la
pkcs_libp11shim_la_SOURCES = pkcs/p11-shim.c pkcs/pkcs11.h
pkcs_libp11shim_la_CFLAGS = $(AM_CFLAGS) -pthread
pkcs_libp11shim_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
pkcs_libp11shim_la_LIBADD = -ldl -lpthread

# The libFuzzer harness over the parsers of module output, pkcs/fuzz_p11.c,
# is built with the other harnesses by tests/fuzz/p11.mk (--enable-fuzzing).

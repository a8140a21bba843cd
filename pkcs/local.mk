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
pkcs_tokagent_p11_helper_LDADD = pkcs/libp11.la token/libtoken.la \
	common/libcommon.la -lpthread

# Its tests live under tests/: the probe and the test module in
# tests/p11/local.mk, the unit tests in tests/unit/p11.mk, the fuzzer in
# tests/fuzz/p11.mk.

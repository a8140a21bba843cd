# tests/fuzz/p11.mk: the PKCS#11 helper's parsers of module output (public
# keys from attributes, X.509 certificates, the ELF export check on provider
# files).  The harness lives beside them in pkcs/; the parsers are compiled
# into it so that they are instrumented for coverage.
noinst_PROGRAMS += tests/fuzz/fuzz_p11
tests_fuzz_fuzz_p11_SOURCES = tests/fuzz/fuzz_p11.c pkcs/p11-pubkey.c pkcs/p11-elf.c
tests_fuzz_fuzz_p11_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_p11_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_p11_LDADD = common/libcommon.la $(OPENSSL_LIBS)

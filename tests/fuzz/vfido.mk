# tests/fuzz/vfido.mk: vfido's CTAPHID framing, CTAP2 requests and state
# file parser (include from tests/fuzz/fuzzers.mk, inside "if FUZZING").
noinst_PROGRAMS += tests/fuzz/fuzz_vfido
tests_fuzz_fuzz_vfido_SOURCES = tests/fuzz/fuzz_vfido.c $(VFIDO_CORE)
tests_fuzz_fuzz_vfido_CFLAGS = $(FUZZ_CFLAGS) $(CBOR_CFLAGS)
tests_fuzz_fuzz_vfido_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_vfido_LDADD = common/libcommon.la $(CBOR_LIBS) \
	$(OPENSSL_LIBS) $(LIBBSD_LIBS)

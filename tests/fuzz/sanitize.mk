# tests/fuzz/sanitize.mk: harness over the sanitiser of prompt fields.
noinst_PROGRAMS += tests/fuzz/fuzz_sanitize
tests_fuzz_fuzz_sanitize_SOURCES = tests/fuzz/fuzz_sanitize.c
tests_fuzz_fuzz_sanitize_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_sanitize_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_sanitize_LDADD = common/libcommon.la

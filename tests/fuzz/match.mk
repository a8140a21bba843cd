# tests/fuzz/match.mk: differential harness over common/match.c.
noinst_PROGRAMS += tests/fuzz/fuzz_match
tests_fuzz_fuzz_match_SOURCES = tests/fuzz/fuzz_match.c
tests_fuzz_fuzz_match_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_match_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_match_LDADD = common/libcommon.la

# tests/fuzz/: libFuzzer harnesses, built with --enable-fuzzing (clang).
if FUZZING
FUZZ_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address,undefined
FUZZ_LINKFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
include tests/fuzz/fuzzers.mk
endif
# Seed corpora (tests/fuzz/seeds/<harness>/, read by .ci/run) and the
# scripts that made them.
EXTRA_DIST += tests/fuzz/seeds

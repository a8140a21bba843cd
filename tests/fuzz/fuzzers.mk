# tests/fuzz/fuzzers.mk: one block per harness
include tests/fuzz/dest.mk
include tests/fuzz/key.mk

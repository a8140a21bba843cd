# tests/fuzz/fuzzers.mk: one block per harness
include tests/fuzz/dest.mk

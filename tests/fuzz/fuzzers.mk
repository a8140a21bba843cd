# tests/fuzz/fuzzers.mk: one block per harness

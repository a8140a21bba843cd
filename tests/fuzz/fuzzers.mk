# tests/fuzz/fuzzers.mk: one fragment per harness family.
include tests/fuzz/agent.mk
include tests/fuzz/dest.mk
include tests/fuzz/key.mk
include tests/fuzz/match.mk
include tests/fuzz/p11.mk
include tests/fuzz/vcard.mk
include tests/fuzz/vfido.mk
include tests/fuzz/policy.mk

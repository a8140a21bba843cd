# tests/fuzz/policy.mk: the policy file parser and its decisions.
noinst_PROGRAMS += tests/fuzz/fuzz_policy
tests_fuzz_fuzz_policy_SOURCES = tests/fuzz/fuzz_policy.c
tests_fuzz_fuzz_policy_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_policy_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_policy_LDADD = agent/libagent.la common/libcommon.la \
	$(OPENSSL_LIBS) $(LIBBSD_LIBS)

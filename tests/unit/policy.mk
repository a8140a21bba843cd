# tests/unit/policy.mk: the policy language and the JSON writer.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_policy
TESTS += tests/unit/test_policy
tests_unit_test_policy_SOURCES = tests/unit/test_policy.c
tests_unit_test_policy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_LDADD = agent/libagent.la $(UNIT_LDADD) $(OPENSSL_LIBS)
endif

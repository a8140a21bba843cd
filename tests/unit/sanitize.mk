# tests/unit/sanitize.mk: the sanitiser of peer-controlled prompt text
# (common/sanitize.c) and the prompt texts built with it (agent/prompt.c).
check_PROGRAMS += tests/unit/test_sanitize
tests_unit_test_sanitize_SOURCES = tests/unit/test_sanitize.c
tests_unit_test_sanitize_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_sanitize_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_sanitize
check_PROGRAMS += tests/unit/test_prompt
tests_unit_test_prompt_SOURCES = tests/unit/test_prompt.c
tests_unit_test_prompt_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_prompt_LDADD = agent/libagent.la $(UNIT_LDADD) $(OPENSSL_LIBS)
TESTS += tests/unit/test_prompt

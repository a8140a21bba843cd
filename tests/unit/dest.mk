# tests/unit/dest.mk: destination constraints, session binding, userauth
# request parsing.  The two modules are compiled in (not linked from
# agent/libagent.la), so the test carries no other agent code.
check_PROGRAMS += tests/unit/test_dest
TESTS += tests/unit/test_dest
tests_unit_test_dest_SOURCES = tests/unit/test_dest.c \
	agent/dest.c agent/dest.h agent/userauth.c agent/userauth.h
tests_unit_test_dest_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dest_LDADD = $(UNIT_LDADD)

# tests/unit/dest.mk: destination constraints, session binding, userauth
# request parsing.  agent/ has no library: the module is compiled in.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_dest
TESTS += tests/unit/test_dest
tests_unit_test_dest_SOURCES = tests/unit/test_dest.c \
	agent/dest.c agent/dest.h agent/userauth.c agent/userauth.h
tests_unit_test_dest_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dest_LDADD = $(UNIT_LDADD)
endif

# tests/fuzz/dest.mk: harnesses over the destination-constraint parser, the
# session-bind parser and the userauth request parser.
noinst_PROGRAMS += tests/fuzz/fuzz_dest_constraints tests/fuzz/fuzz_dest_bind \
	tests/fuzz/fuzz_dest_userauth
tests_fuzz_fuzz_dest_constraints_SOURCES = tests/fuzz/fuzz_dest_constraints.c \
	agent/dest.c agent/userauth.c
tests_fuzz_fuzz_dest_constraints_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_dest_constraints_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_dest_constraints_LDADD = common/libcommon.la
tests_fuzz_fuzz_dest_bind_SOURCES = tests/fuzz/fuzz_dest_bind.c \
	agent/dest.c agent/userauth.c
tests_fuzz_fuzz_dest_bind_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_dest_bind_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_dest_bind_LDADD = common/libcommon.la
tests_fuzz_fuzz_dest_userauth_SOURCES = tests/fuzz/fuzz_dest_userauth.c \
	agent/userauth.c
tests_fuzz_fuzz_dest_userauth_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_dest_userauth_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_dest_userauth_LDADD = common/libcommon.la

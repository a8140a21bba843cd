# tests/fuzz/sanitize.mk: harness over the sanitiser of prompt fields.
noinst_PROGRAMS += tests/fuzz/fuzz_sanitize
tests_fuzz_fuzz_sanitize_SOURCES = tests/fuzz/fuzz_sanitize.c
tests_fuzz_fuzz_sanitize_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_sanitize_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_sanitize_LDADD = common/libcommon.la
# The client's parser of the agent's status reply (tokagent status).
noinst_PROGRAMS += tests/fuzz/fuzz_status
tests_fuzz_fuzz_status_SOURCES = tests/fuzz/fuzz_status.c
tests_fuzz_fuzz_status_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_status_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_status_LDADD = agent/libagent.la common/libcommon.la \
	$(OPENSSL_LIBS) $(LIBBSD_LIBS)
# The Assuan reply reader for pinentry programs.
noinst_PROGRAMS += tests/fuzz/fuzz_assuan
tests_fuzz_fuzz_assuan_SOURCES = tests/fuzz/fuzz_assuan.c agent/assuan.c
tests_fuzz_fuzz_assuan_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_assuan_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_assuan_LDADD = common/libcommon.la $(OPENSSL_LIBS) \
	$(LIBBSD_LIBS)

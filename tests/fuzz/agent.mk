# tests/fuzz/agent.mk: the agent's message decoding and dispatch.
noinst_PROGRAMS += tests/fuzz/fuzz_agent
tests_fuzz_fuzz_agent_SOURCES = tests/fuzz/fuzz_agent.c
tests_fuzz_fuzz_agent_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_agent_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_agent_LDADD = agent/libagent.la common/libcommon.la \
	$(OPENSSL_LIBS) $(LIBBSD_LIBS)

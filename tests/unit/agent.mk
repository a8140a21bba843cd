# tests/unit/agent.mk: the agent's identity table, constraints and dispatch.
check_PROGRAMS += tests/unit/test_agent
tests_unit_test_agent_SOURCES = tests/unit/test_agent.c
tests_unit_test_agent_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_agent_LDADD = agent/libagent.la $(UNIT_LDADD) $(OPENSSL_LIBS)
TESTS += tests/unit/test_agent

# Where an installed, staged or build-tree agent finds its helpers.
check_PROGRAMS += tests/unit/test_progdir
tests_unit_test_progdir_SOURCES = tests/unit/test_progdir.c
tests_unit_test_progdir_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_progdir_LDADD = agent/libagent.la $(UNIT_LDADD)
TESTS += tests/unit/test_progdir

# tests/integ/hostile.mk: the agent under hostile load -- clients that flood,
# guess, pipeline without reading, or exhaust descriptors (tokagent only).
# Kept out of CORE_INTEG_TESTS: they measure the agent's own behaviour
# (rates, CPU time), which the valgrind pass would distort.
check_PROGRAMS += tests/integ/hostile
tests_integ_hostile_SOURCES = tests/integ/hostile.c \
	tests/integ/agentio.c tests/integ/agentio.h
tests_integ_hostile_LDADD = common/libcommon.la $(OPENSSL_LIBS)

HOSTILE_INTEG_TESTS = \
	tests/integ/core-hostile-lock.sh \
	tests/integ/core-hostile-pipeline.sh \
	tests/integ/core-hostile-fair.sh \
	tests/integ/core-hostile-fdlimit.sh
TESTS += $(HOSTILE_INTEG_TESTS)
EXTRA_DIST += $(HOSTILE_INTEG_TESTS)

# tests/integ/core.mk: core integration tests (real ssh, ssh-add, ssh-keygen,
# sshd against the agent named by TEST_AGENT) and their helper programs.
check_PROGRAMS += tests/integ/badframes tests/integ/agentcli
tests_integ_badframes_SOURCES = tests/integ/badframes.c \
	tests/integ/agentio.c tests/integ/agentio.h
tests_integ_badframes_LDADD = common/libcommon.la $(OPENSSL_LIBS)
tests_integ_agentcli_SOURCES = tests/integ/agentcli.c \
	tests/integ/agentio.c tests/integ/agentio.h
tests_integ_agentcli_LDADD = common/libcommon.la

CORE_INTEG_TESTS = \
	tests/integ/core-helper-death.sh \
	tests/integ/core-keys.sh \
	tests/integ/core-login.sh \
	tests/integ/core-sshsig.sh \
	tests/integ/core-mldsa.sh \
	tests/integ/core-confirm.sh \
	tests/integ/core-lifetime.sh \
	tests/integ/core-lock.sh \
	tests/integ/core-cmdmode.sh \
	tests/integ/core-badinput.sh \
	tests/integ/core-query.sh \
	tests/integ/core-nosoft.sh
TESTS += $(CORE_INTEG_TESTS)
EXTRA_DIST += $(CORE_INTEG_TESTS)

# tests/integ/p11.mk: PKCS#11 tests (SoftHSM2 tokens from tests/p11/softhsm.sh).
P11_INTEG_TESTS = \
	tests/integ/p11-helper.sh \
	tests/integ/p11-replug.sh \
	tests/integ/p11-agent.sh \
	tests/integ/p11-agent-replug.sh
TESTS += $(P11_INTEG_TESTS)
dist_check_SCRIPTS += $(P11_INTEG_TESTS)

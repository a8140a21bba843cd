# tests/integ/policy.mk: per-key policy and the audit trail, with real
# OpenSSH tools, a private sshd and the virtual FIDO token.
policy_integ_tests = \
	tests/integ/policy-rules.sh \
	tests/integ/policy-dest.sh \
	tests/integ/audit.sh \
	tests/integ/session-lock.sh
TESTS += $(policy_integ_tests)
dist_check_SCRIPTS += $(policy_integ_tests)
EXTRA_DIST += tests/integ/policy-lib.sh

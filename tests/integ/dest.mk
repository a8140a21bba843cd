# tests/integ/dest.mk: destination constraints and session binding on real
# multi-hop ssh paths (private sshd instances on loopback).
dest_integ_tests = \
	tests/integ/dest-hops.sh \
	tests/integ/dest-cert.sh \
	tests/integ/dest-prompt.sh
TESTS += $(dest_integ_tests)
dist_check_SCRIPTS += $(dest_integ_tests)

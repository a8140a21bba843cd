# tests/integ/ossh10.mk: OpenSSH 10 parity.  The ossh10-*.sh tests run with
# the tool set of TI_TOOLS (Debian's 9.2 by default).  Each DIR/NAME.o10
# runs tests/integ/NAME.sh again (tests/integ/variant-run):
#   o10/        with OpenSSH 10.5's ssh, ssh-add, ssh-keygen and sshd
#               (OPENSSH10_BIN) against tokagent: the core tests that use
#               the tools (keys, login, SSHSIG, lock, confirm, lifetime),
#               the destination tests, PKCS#11 (with associated
#               certificates), FIDO enrolment and login, and the new ones;
#   o10-agent/  the new tests and the ML-DSA test (core-mldsa.sh, which
#               drives the 10.5 tools itself) against OpenSSH 10.5's own
#               ssh-agent, which proves they test OpenSSH's behaviour.
OSSH10_INTEG_TESTS = \
	tests/integ/ossh10-sigusr1.sh \
	tests/integ/ossh10-p11-certs.sh \
	tests/integ/ossh10-allowlist.sh \
	tests/integ/ossh10-lock-bind.sh \
	tests/integ/ossh10-cmdline.sh
OSSH10_VARIANT_TESTS = \
	tests/integ/o10/core-keys.o10 \
	tests/integ/o10/core-login.o10 \
	tests/integ/o10/core-sshsig.o10 \
	tests/integ/o10/core-lock.o10 \
	tests/integ/o10/core-confirm.o10 \
	tests/integ/o10/core-lifetime.o10 \
	tests/integ/o10/dest-cert.o10 \
	tests/integ/o10/dest-hops.o10 \
	tests/integ/o10/dest-prompt.o10 \
	tests/integ/o10/p11-agent.o10 \
	tests/integ/o10/p11-agent-opts.o10 \
	tests/integ/o10/sk-enroll.o10 \
	tests/integ/o10/sk-login.o10 \
	tests/integ/o10/fido-login.o10 \
	tests/integ/o10/ossh10-sigusr1.o10 \
	tests/integ/o10/ossh10-p11-certs.o10 \
	tests/integ/o10/ossh10-allowlist.o10 \
	tests/integ/o10/ossh10-lock-bind.o10 \
	tests/integ/o10-agent/core-mldsa.o10 \
	tests/integ/o10-agent/ossh10-sigusr1.o10 \
	tests/integ/o10-agent/ossh10-p11-certs.o10 \
	tests/integ/o10-agent/ossh10-allowlist.o10 \
	tests/integ/o10-agent/ossh10-lock-bind.o10 \
	tests/integ/o10-agent/ossh10-cmdline.o10
TESTS += $(OSSH10_INTEG_TESTS) $(OSSH10_VARIANT_TESTS)
dist_check_SCRIPTS += $(OSSH10_INTEG_TESTS)
EXTRA_DIST += $(OSSH10_VARIANT_TESTS)
# Builds the OpenSSH 10.5 tools (contrib/bootstrap test and CI call it;
# `make openssh10` does it into this build directory).
EXTRA_DIST += tests/openssh10/build.sh
.PHONY: openssh10
openssh10:
	$(top_srcdir)/tests/openssh10/build.sh $(abs_top_builddir)/openssh10

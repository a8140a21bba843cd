# tests/integ/sk.mk: FIDO2 through the OpenSSH middleware tokagent-sk.so and
# the virtual authenticator tests/vfido/vfido.
SK_INTEG_TESTS = \
	tests/integ/sk-enroll.sh \
	tests/integ/sk-login.sh \
	tests/integ/sk-touch.sh \
	tests/integ/sk-pin.sh \
	tests/integ/sk-resident.sh \
	tests/integ/sk-multi.sh
TESTS += $(SK_INTEG_TESTS)
dist_check_SCRIPTS += $(SK_INTEG_TESTS)
EXTRA_DIST += tests/integ/sk-lib.sh

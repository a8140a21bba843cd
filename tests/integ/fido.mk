# tests/integ/fido.mk: tokagent's own FIDO2 support (the sk helper signing
# through libfido2) driven by real OpenSSH tools, on vfido tokens.
FIDO_INTEG_TESTS = \
	tests/integ/fido-login.sh \
	tests/integ/fido-touch.sh \
	tests/integ/fido-multi.sh \
	tests/integ/fido-replug.sh \
	tests/integ/fido-pin.sh \
	tests/integ/fido-resident.sh \
	tests/integ/fido-resident-mw.sh \
	tests/integ/fido-nonblock.sh \
	tests/integ/fido-constraints.sh \
	tests/integ/fido-notify.sh \
	tests/integ/fido-concurrent.sh \
	tests/integ/fido-websafe.sh \
	tests/integ/fido-autoimport.sh \
	tests/integ/fido-desktop.sh \
	tests/integ/status.sh \
	tests/integ/fido-notice-x11.sh \
	tests/integ/pinentry.sh \
	tests/integ/demo.sh \
	tests/integ/fido-select.sh \
	tests/integ/fido-idle.sh \
	tests/integ/fido-why.sh \
	tests/integ/fido-helper-death.sh \
	tests/integ/fido-cancel.sh
TESTS += $(FIDO_INTEG_TESTS)
dist_check_SCRIPTS += $(FIDO_INTEG_TESTS)
EXTRA_DIST += tests/integ/fido-lib.sh
EXTRA_DIST += tests/integ/fakepinentry

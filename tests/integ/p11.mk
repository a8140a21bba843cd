# tests/integ/p11.mk: PKCS#11 tests (SoftHSM2 tokens from tests/p11/softhsm.sh,
# the vcard PIV card through a private pcscd from tests/p11/pcscd.sh).
P11_INTEG_TESTS = \
	tests/integ/p11-helper.sh \
	tests/integ/p11-replug.sh \
	tests/integ/p11-agent.sh \
	tests/integ/p11-agent-remove.sh \
	tests/integ/p11-agent-replug.sh \
	tests/integ/p11-agent-opts.sh \
	tests/integ/p11-vcard.sh \
	tests/integ/p11-crash.sh \
	tests/integ/p11-hostile-providers.sh \
	tests/integ/piv-native.sh \
	tests/integ/piv-cards.sh \
	tests/integ/piv-setup.sh
TESTS += $(P11_INTEG_TESTS)
dist_check_SCRIPTS += $(P11_INTEG_TESTS)

# A test-only module in front of SoftHSM2 whose C_Sign aborts or sleeps on
# request (tests/integ/p11-crash.sh).
noinst_LTLIBRARIES += tests/p11/libp11faulty.la
tests_p11_libp11faulty_la_SOURCES = tests/p11/p11-faulty.c pkcs/pkcs11.h
tests_p11_libp11faulty_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere
tests_p11_libp11faulty_la_LIBADD = -ldl

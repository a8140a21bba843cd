# tests/vcard/: a virtual PIV smartcard plugged into pcscd through vpcd.
check_PROGRAMS += tests/vcard/vcard
tests_vcard_vcard_SOURCES = \
	tests/vcard/vcard.c \
	tests/vcard/piv.c tests/vcard/piv.h \
	tests/vcard/state.c tests/vcard/state.h \
	tests/vcard/crypto.c tests/vcard/crypto.h \
	tests/vcard/tlv.c tests/vcard/tlv.h \
	tests/vfido/control.c tests/vfido/control.h
tests_vcard_vcard_LDADD = common/libcommon.la $(OPENSSL_LIBS) $(LIBBSD_LIBS)

# yubikey.sh: the YubiKey extensions at the APDU level; ykpiv.sh, ykcs11.sh,
# yubikey-agent.sh: Yubico's tools and yubikey-agent as the judges.
VCARD_TESTS = tests/vcard/basic.sh tests/vcard/pin.sh tests/vcard/admin.sh \
	tests/vcard/yubikey.sh tests/vcard/ykpiv.sh tests/vcard/ykcs11.sh \
	tests/vcard/yubikey-agent.sh
TESTS += $(VCARD_TESTS)
EXTRA_DIST += $(VCARD_TESTS) \
	tests/vcard/lib.sh tests/p11/pcscd.sh

# The agent with Yubico's PKCS#11 module on the vcard YubiKey.
TESTS += tests/integ/p11-ykcs11.sh
dist_check_SCRIPTS += tests/integ/p11-ykcs11.sh

# tests/vfido/: the virtual FIDO2 authenticator, its libfido2 test driver
# and their tests.
VFIDO_CORE = \
	tests/vfido/control.c tests/vfido/control.h \
	tests/vfido/ctap2.c tests/vfido/ctap2.h \
	tests/vfido/ctaphid.c tests/vfido/ctaphid.h \
	tests/vfido/pinproto.c tests/vfido/pinproto.h \
	tests/vfido/request.c tests/vfido/request.h \
	tests/vfido/state.c tests/vfido/state.h \
	tests/vfido/vkey.c tests/vfido/vkey.h

check_PROGRAMS += tests/vfido/vfido tests/vfido/fidotool
tests_vfido_vfido_SOURCES = tests/vfido/vfido.c $(VFIDO_CORE)
tests_vfido_vfido_CFLAGS = $(AM_CFLAGS) $(CBOR_CFLAGS)
tests_vfido_vfido_LDADD = common/libcommon.la $(CBOR_LIBS) $(OPENSSL_LIBS) \
	$(LIBBSD_LIBS)

tests_vfido_fidotool_SOURCES = tests/vfido/fidotool.c
tests_vfido_fidotool_CFLAGS = $(AM_CFLAGS) $(FIDO2_CFLAGS)
tests_vfido_fidotool_LDADD = sk/libsk.la common/libcommon.la $(FIDO2_LIBS) \
	$(CBOR_LIBS) \
	$(OPENSSL_LIBS) $(LIBBSD_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/vfido/test_vfido_units
TESTS += tests/vfido/test_vfido_units
tests_vfido_test_vfido_units_SOURCES = tests/vfido/test_vfido_units.c \
	$(VFIDO_CORE)
tests_vfido_test_vfido_units_CFLAGS = $(UNIT_CFLAGS) $(CBOR_CFLAGS)
tests_vfido_test_vfido_units_LDADD = $(UNIT_LDADD) $(CBOR_LIBS) \
	$(OPENSSL_LIBS) $(LIBBSD_LIBS)
endif

VFIDO_TESTS = \
	tests/vfido/info.sh \
	tests/vfido/cred.sh \
	tests/vfido/resident.sh \
	tests/vfido/pin.sh \
	tests/vfido/touch.sh \
	tests/vfido/persist.sh \
	tests/vfido/frames.sh \
	tests/vfido/conform.sh
TESTS += $(VFIDO_TESTS)
dist_check_SCRIPTS += $(VFIDO_TESTS)
EXTRA_DIST += tests/vfido/lib.sh tests/vfido/conform.py

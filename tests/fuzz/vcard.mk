# tests/fuzz/vcard.mk: the virtual PIV card's APDU/TLV parsers and command
# handler.  Included from tests/fuzz/fuzzers.mk (inside if FUZZING).
noinst_PROGRAMS += tests/fuzz/fuzz_vcard
tests_fuzz_fuzz_vcard_SOURCES = tests/fuzz/fuzz_vcard.c \
	tests/vcard/tlv.c tests/vcard/piv.c tests/vcard/state.c \
	tests/vcard/crypto.c
tests_fuzz_fuzz_vcard_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_vcard_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_vcard_LDADD = common/libcommon.la $(OPENSSL_LIBS) $(LIBBSD_LIBS)

# token/piv.mk: the native PIV driver's first layer: token/piv.c (a PIV
# client over a struct card_ops, with its parsers) and token/piv-pcsc.c
# (the card through pcsc-lite); its unit test, its fuzz harness and an
# integration probe used against vcard through pcscd; and the
# helper (tokagent-piv-helper).
noinst_LTLIBRARIES += token/libpiv.la
token_libpiv_la_SOURCES = token/piv.c token/piv.h token/piv-admin.c \
	token/piv-impl.h

check_PROGRAMS += tests/unit/test_piv
tests_unit_test_piv_SOURCES = tests/unit/test_piv.c
tests_unit_test_piv_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_piv_LDADD = token/libpiv.la $(UNIT_LDADD) $(OPENSSL_LIBS) \
	$(LIBBSD_LIBS)
TESTS += tests/unit/test_piv

check_PROGRAMS += tests/vcard/piv-probe
tests_vcard_piv_probe_SOURCES = tests/vcard/piv-probe.c token/piv-pcsc.c \
	token/piv-pcsc.h
tests_vcard_piv_probe_CFLAGS = $(AM_CFLAGS) $(PCSC_CFLAGS)
tests_vcard_piv_probe_LDADD = token/libpiv.la common/libcommon.la \
	$(PCSC_LIBS) $(OPENSSL_LIBS) $(LIBBSD_LIBS)
TESTS += tests/vcard/native-piv.sh
EXTRA_DIST += tests/vcard/native-piv.sh

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_piv
tests_fuzz_fuzz_piv_SOURCES = tests/fuzz/fuzz_piv.c token/piv.c \
	token/piv-admin.c
tests_fuzz_fuzz_piv_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_piv_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_piv_LDADD = common/libcommon.la $(OPENSSL_LIBS) \
	$(LIBBSD_LIBS)
endif

# The PIV helper: every PIV card's slot keys, to the agent (token/piv-ipc.h).
pkglibexec_PROGRAMS += token/tokagent-piv-helper
token_tokagent_piv_helper_SOURCES = token/piv-helper.c token/piv-ipc.h \
	token/piv-pcsc.c token/piv-pcsc.h token/pcsc-watch.c \
	token/pcsc-watch.h
token_tokagent_piv_helper_CFLAGS = $(AM_CFLAGS) $(PCSC_CFLAGS) -pthread
token_tokagent_piv_helper_LDADD = token/libpiv.la token/libtoken.la \
	common/libcommon.la $(PCSC_LIBS) $(OPENSSL_LIBS) $(LIBBSD_LIBS) \
	-lpthread

# The set-up command ("tokagent piv-setup" runs it): a key, its
# certificate and new PIN, PUK and management key on a PIV card.
pkglibexec_PROGRAMS += token/tokagent-piv-setup
token_tokagent_piv_setup_SOURCES = token/piv-setup.c token/piv-pcsc.c \
	token/piv-pcsc.h
token_tokagent_piv_setup_CFLAGS = $(AM_CFLAGS) $(PCSC_CFLAGS)
token_tokagent_piv_setup_LDADD = token/libpiv.la common/libcommon.la \
	$(PCSC_LIBS) $(OPENSSL_LIBS) $(LIBBSD_LIBS)

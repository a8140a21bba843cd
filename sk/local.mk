# sk/: FIDO2 through libfido2.  libsk.la is the core (device selection,
# enroll, sign, resident keys) shared by the OpenSSH middleware module
# tokagent-sk.so and the agent's sk helper.
SK_CPPFLAGS = $(AM_CPPFLAGS) $(FIDO2_CFLAGS) $(CBOR_CFLAGS)

noinst_LTLIBRARIES += sk/libsk.la
sk_libsk_la_SOURCES = \
	sk/sk.c sk/sk.h \
	sk/devpool.c sk/devpool.h \
	sk/devwatch.c sk/devwatch.h \
	sk/fido_err.c sk/fido_err.h \
	sk/fido_ops.c \
	sk/fido_unix.c sk/fido_unix.h
sk_libsk_la_CPPFLAGS = $(SK_CPPFLAGS) $(UDEV_CFLAGS)
sk_libsk_la_LIBADD = $(FIDO2_LIBS) $(CBOR_LIBS) $(UDEV_LIBS) \
	$(OPENSSL_LIBS) $(LIBBSD_LIBS)

# The OpenSSH SecurityKeyProvider middleware.  Only the four sk-api
# functions are exported.
pkglib_LTLIBRARIES += sk/tokagent-sk.la
sk_tokagent_sk_la_SOURCES = sk/middleware.c sk/sk-api.h
sk_tokagent_sk_la_CPPFLAGS = $(SK_CPPFLAGS)
sk_tokagent_sk_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-export-symbols-regex '^sk_(api_version|enroll|sign|load_resident_keys)$$'
sk_tokagent_sk_la_LIBADD = sk/libsk.la common/libcommon.la

# Its unit test (tests/unit/sk.mk) runs the core over a fake struct sk_devops.

# The agent's long-lived FIDO2 helper.
pkglibexec_PROGRAMS += sk/tokagent-sk-helper
sk_tokagent_sk_helper_SOURCES = sk/sk-helper.c sk/sk-ipc.h \
	sk/sk-helper-mw.c sk/sk-helper-mw.h sk/sk-api.h
sk_tokagent_sk_helper_CPPFLAGS = $(SK_CPPFLAGS)
sk_tokagent_sk_helper_CFLAGS = $(AM_CFLAGS) -pthread
sk_tokagent_sk_helper_LDADD = sk/libsk.la token/libtoken.la \
	common/libcommon.la $(FIDO2_LIBS) $(CBOR_LIBS) $(OPENSSL_LIBS) \
	$(LIBBSD_LIBS) -lpthread

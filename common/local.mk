# common/: what every tokagent program links.  Keys, certificates and
# signatures are described in common/key.mk.
noinst_LTLIBRARIES += common/libcommon.la
common_libcommon_la_SOURCES = \
	common/buf.c common/buf.h \
	common/err.c common/err.h \
	common/frame.c common/frame.h \
	common/harden.c common/harden.h \
	common/ipc.c common/ipc.h \
	common/json.c common/json.h \
	common/log.c common/log.h \
	common/match.c common/match.h \
	common/secmem.c common/secmem.h
common_libcommon_la_LIBADD = $(OPENSSL_LIBS) $(LIBBSD_LIBS)
include common/key.mk

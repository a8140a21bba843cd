# tests/unit/: cmocka unit tests.  Each topic lists its tests in its own
# fragment.  Without cmocka none is built, and make check runs the rest.
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LDADD = common/libcommon.la $(CMOCKA_LIBS)
if HAVE_CMOCKA
include tests/unit/buf.mk
include tests/unit/key.mk
include tests/unit/match.mk
include tests/unit/dest.mk
include tests/unit/agent.mk
include tests/unit/sk.mk
include tests/unit/p11.mk
include tests/unit/sanitize.mk
include tests/unit/policy.mk
endif

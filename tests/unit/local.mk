# tests/unit/: cmocka unit tests.  Each topic lists its tests in its own fragment.
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LDADD = common/libcommon.la $(CMOCKA_LIBS)
include tests/unit/buf.mk
include tests/unit/key.mk
include tests/unit/match.mk
include tests/unit/dest.mk
include tests/unit/agent.mk
include tests/unit/policy.mk

# tests/unit/sk.mk: the FIDO2 core (sk/): FIDO_ERR translation and response
# building over a fake struct sk_devops.
check_PROGRAMS += tests/unit/test_sk
TESTS += tests/unit/test_sk
tests_unit_test_sk_SOURCES = tests/unit/test_sk.c
tests_unit_test_sk_CPPFLAGS = $(SK_CPPFLAGS)
tests_unit_test_sk_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_sk_LDADD = sk/libsk.la $(UNIT_LDADD)

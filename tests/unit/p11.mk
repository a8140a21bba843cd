# tests/unit/p11.mk: the parsers of PKCS#11 module output (pkcs/).
check_PROGRAMS += tests/unit/test_p11
tests_unit_test_p11_SOURCES = tests/unit/test_p11.c
tests_unit_test_p11_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_p11_LDADD = pkcs/libp11.la $(UNIT_LDADD) $(OPENSSL_LIBS) -ldl
TESTS += tests/unit/test_p11

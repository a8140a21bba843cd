# tests/unit/buf.mk: the buffer / wire codec and frames (common/).
check_PROGRAMS += tests/unit/test_buf
tests_unit_test_buf_SOURCES = tests/unit/test_buf.c
tests_unit_test_buf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_buf_LDADD = $(UNIT_LDADD) $(OPENSSL_LIBS)
TESTS += tests/unit/test_buf

# tests/unit/key.mk: keys, certificates, signatures (common/key*).
# Vectors come from OpenSSH (tests/unit/vectors/gen_key_vectors.py).
check_PROGRAMS += tests/unit/test_key
tests_unit_test_key_SOURCES = tests/unit/test_key.c
tests_unit_test_key_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_key_LDADD = $(UNIT_LDADD) $(OPENSSL_LIBS)
TESTS += tests/unit/test_key
EXTRA_DIST += tests/unit/vectors

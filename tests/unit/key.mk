# tests/unit/key.mk: keys, certificates, signatures (common/key*).
# Vectors come from OpenSSH (tests/unit/vectors/gen_key_vectors.py).
check_PROGRAMS += tests/unit/test_key
tests_unit_test_key_SOURCES = tests/unit/test_key.c
tests_unit_test_key_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_key_LDADD = $(UNIT_LDADD) $(OPENSSL_LIBS)
TESTS += tests/unit/test_key
EXTRA_DIST += tests/unit/vectors

# ML-DSA-44 and ssh-mldsa44-ed25519@openssh.com, against OpenSSH 10.5's data.
check_PROGRAMS += tests/unit/test_mldsa
tests_unit_test_mldsa_SOURCES = tests/unit/test_mldsa.c
tests_unit_test_mldsa_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mldsa_LDADD = $(UNIT_LDADD) $(OPENSSL_LIBS)
TESTS += tests/unit/test_mldsa
EXTRA_DIST += tests/data/openssh-10.5

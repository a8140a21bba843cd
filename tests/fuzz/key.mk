# tests/fuzz/key.mk: harness over common/key* (blobs, certificates, private
# agent encodings, signatures, public key lines).  Seeds: the vectors in
# tests/unit/vectors (prefix 0x00 + blob, 0x01 + .add body without its type)
# and, for ML-DSA, tests/fuzz/seeds/fuzz_key (mkseeds-key-mldsa.sh).
noinst_PROGRAMS += tests/fuzz/fuzz_key
tests_fuzz_fuzz_key_SOURCES = tests/fuzz/fuzz_key.c
tests_fuzz_fuzz_key_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_key_LDFLAGS = $(FUZZ_LINKFLAGS)
tests_fuzz_fuzz_key_LDADD = common/libcommon.la $(OPENSSL_LIBS)

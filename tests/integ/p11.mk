# tests/integ/p11.mk: PKCS#11 tests (SoftHSM2 tokens from tests/p11/softhsm.sh).
TESTS += tests/integ/p11-helper.sh tests/integ/p11-replug.sh
dist_check_SCRIPTS += tests/integ/p11-helper.sh tests/integ/p11-replug.sh

# tests/integ/: shell tests driving real OpenSSH tools against tokagent.
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
EXTRA_DIST += tests/integ/lib.sh
include tests/integ/core.mk
include tests/integ/hostile.mk
include tests/integ/sk.mk
include tests/integ/dest.mk
include tests/integ/p11.mk
include tests/integ/fido.mk
include tests/integ/policy.mk
include tests/integ/pkg.mk

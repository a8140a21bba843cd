# tests/integ/: shell tests driving real OpenSSH tools against tokagent.
TEST_EXTENSIONS = .sh .o10
SH_LOG_COMPILER = $(SHELL)
# DIR/NAME.o10 runs tests/integ/NAME.sh again with the settings in the file
# (OpenSSH 10.5's tools, OpenSSH 10.5's agent): tests/integ/ossh10.mk.
O10_LOG_COMPILER = $(top_srcdir)/tests/integ/variant-run
EXTRA_DIST += tests/integ/lib.sh tests/integ/variant-run
include tests/integ/core.mk
include tests/integ/hostile.mk
include tests/integ/sk.mk
include tests/integ/dest.mk
include tests/integ/p11.mk
include tests/integ/fido.mk
include tests/integ/policy.mk
include tests/integ/ossh10.mk
include tests/integ/pkg.mk

# tests/bench: tokagent against OpenSSH's ssh-agent (not part of make check).
# Run: make tests/bench/bench && tests/bench/bench [--duration 2]
# PIV on vcard: tests/bench/piv-bench.sh [SECONDS] (from the build tree).
noinst_PROGRAMS += tests/bench/bench
tests_bench_bench_SOURCES = tests/bench/bench.c \
	tests/integ/agentio.c tests/integ/agentio.h
tests_bench_bench_CFLAGS = $(AM_CFLAGS) -pthread
tests_bench_bench_LDADD = common/libcommon.la $(OPENSSL_LIBS) -lpthread
EXTRA_DIST += tests/bench/piv-bench.sh

#!/bin/bash
# pkg-version: tokagent -V, --version and "tokagent version" print
# "tokagent VERSION" (the version configure was given) on stdout and exit
# 0; the usage names -V.
# Copyright (c) 2026 tokagent authors; see LICENSE.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "tokagent's own version option"
[ -n "${TI_PACKAGE_VERSION:-}" ] || ti_fail "TI_PACKAGE_VERSION not set (run through make check)"

for opt in -V --version; do
	out=$("$TEST_AGENT" "$opt" 2>"$TI_DIR/err") || ti_fail "$opt: exit $?"
	ti_assert_eq "tokagent $TI_PACKAGE_VERSION" "$out" "$opt output"
	[ -s "$TI_DIR/err" ] && ti_fail "$opt wrote to stderr: $(cat "$TI_DIR/err")"
done
ti_assert_eq "tokagent $TI_PACKAGE_VERSION" "$("$TEST_AGENT" version)" \
    "tokagent version"
# Options after -V are not looked at; -V does not start an agent.
ti_assert_eq "tokagent $TI_PACKAGE_VERSION" "$("$TEST_AGENT" -V -a "$TI_DIR/s")" \
    "-V with more options"
[ -e "$TI_DIR/s" ] && ti_fail "-V created a socket"
"$TEST_AGENT" --help | grep -q -- '-V, --version' || ti_fail "usage lacks -V"
exit 0

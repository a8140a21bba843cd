#!/bin/bash
# core-query: the "query" extension lists what the agent supports
# (tokagent); OpenSSH 9.2's agent does not know it and must say FAILURE.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup

cli=$TI_BUILD/tests/integ/agentcli
[ -x "$cli" ] || ti_fail "$cli not built (make check builds it)"
ti_start_agent
out=$("$cli" query 2>&1)
rc=$?
if ti_is_openssh_agent; then
	ti_assert_eq 3 "$rc" "OpenSSH's agent refuses query ($out)"
	ti_assert_contains "$out" "refused 5" "query refused with FAILURE"
else
	ti_assert_eq 0 "$rc" "query answered ($out)"
	for ext in query session-bind@openssh.com; do
		printf '%s\n' "$out" | grep -qx "$ext" ||
		    ti_fail "query does not list $ext: $out"
	done
fi
# An unknown extension is refused with FAILURE (not EXTENSION_FAILURE).
name=nonexistent@example.com
hex=1b$(printf '%08x' ${#name})$(printf '%s' "$name" | od -An -tx1 | tr -d ' \n')
out=$("$cli" raw "$hex") || ti_fail "raw unknown extension"
ti_assert_eq "5 " "$out" "unknown extension answered with FAILURE"
ti_agent_alive || ti_fail "agent died"
exit 0

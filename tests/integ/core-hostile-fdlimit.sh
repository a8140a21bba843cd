#!/bin/bash
# core-hostile-fdlimit: at the descriptor limit the agent neither spins nor
# floods its log.  It raises its soft RLIMIT_NOFILE to the hard limit at
# start.  Flooded with connections beyond its limit -- (a) started with a
# low limit, where it stops accepting before descriptors run out, and (b)
# with the limit lowered under it (prlimit), where accept fails with
# EMFILE -- it stops polling the listener: over 5 s of flood its CPU time
# stays small, its log has a line or two, a client connected before the
# flood is still answered, and new clients are served once the flood goes.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "descriptor limit handling"
ti_require_cmd prlimit
HOSTILE=$TI_BUILD/tests/integ/hostile
[ -x "$HOSTILE" ] || ti_fail "$HOSTILE not built"
ti_keygen ed25519 - "$TI_DIR/k1"

# cpu_ticks PID: user + system time of PID in clock ticks.
cpu_ticks()
{
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# flood WHAT: 300 connections held for 5 s; checks CPU and log.
flood()
{
	local what=$1 t0 t1 out lines hz
	hz=$(getconf CLK_TCK)
	lines=$(grep -c "new clients wait" "$TI_AGENT_LOG")
	t0=$(cpu_ticks "$TI_AGENT_PID")
	out=$("$HOSTILE" connflood 300 5000) || ti_fail "$what: flood: $out"
	t1=$(cpu_ticks "$TI_AGENT_PID")
	lines=$(($(grep -c "new clients wait" "$TI_AGENT_LOG") - lines))
	ti_log "$what: $out; agent CPU $((t1 - t0)) ticks (${hz}/s) in 5 s;" \
	    "$lines limit log lines; log $(wc -l <"$TI_AGENT_LOG") lines"
	ti_assert_contains "$out" "observer=ok" "$what: client connected before the flood"
	# Spinning costs ~5 s of CPU here; allow 1 s for a loaded machine.
	[ $((t1 - t0)) -le "$hz" ] ||
	    ti_fail "$what: agent used $((t1 - t0)) ticks of CPU in 5 s of flood"
	[ "$lines" -ge 1 ] || ti_fail "$what: the limit was never logged"
	[ "$lines" -le 5 ] || ti_fail "$what: $lines log lines about the limit"
	[ "$(wc -l <"$TI_AGENT_LOG")" -le 50 ] || ti_fail "$what: log grew"
	# The flood is gone: new clients are served.
	ti_assert_eq 1 "$(ti_agent_count)" "$what: a new client after the flood"
}

# (a) A low limit from the start: soft and hard 64.
TI_AGENT_WRAPPER_SAVED=${TI_AGENT_WRAPPER:-}
TI_AGENT_WRAPPER="prlimit --nofile=64:64 $TI_AGENT_WRAPPER_SAVED"
ti_start_agent
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k1"
flood "limit 64 from start"
ti_stop_agent

# (b) The soft limit is raised to the hard one at start; then lowered.
TI_AGENT_WRAPPER="prlimit --nofile=256:4096 $TI_AGENT_WRAPPER_SAVED"
ti_start_agent
soft=$(awk '/^Max open files/ { print $4 }' "/proc/$TI_AGENT_PID/limits")
ti_assert_eq 4096 "$soft" "soft RLIMIT_NOFILE raised to the hard limit"
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k1"
prlimit --pid "$TI_AGENT_PID" --nofile=64:64 || ti_fail "prlimit --pid"
flood "limit lowered to 64"
ti_agent_alive || ti_fail "agent died"
exit 0

#!/bin/bash
# core-cmdmode: the ssh-agent command line outside -D: `AGENT COMMAND`
# (agent lives as long as the command), -s / -c output (and the $SHELL
# guess without them), -k, and -a.
# OpenSSH's agent notices its command's exit only every 10 s, so this test
# waits up to 15 s for that; tokagent should be prompt.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup

[ -x "$TEST_AGENT" ] || ti_fail "agent $TEST_AGENT not built"
ti_keygen ed25519 - "$TI_DIR/k"

# register_pid PID: make sure a daemonised agent dies with the test.
register_pid()
{
	case $1 in
	''|*[!0-9]*) ti_fail "not a pid: '$1'" ;;
	esac
	echo "$1" >>"$TI_DIR/pids"
}

wait_gone()
{
	local pid=$1 n=$(($2 * 10))
	while [ $n -gt 0 ]; do
		ti_alive "$pid" || return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# --- -s: Bourne shell output; eval it, use the agent, then -k.
out=$(unset SSH_AUTH_SOCK SSH_AGENT_PID; "$TEST_AGENT" -s -a "$TI_DIR/s.sock" \
    2>"$TI_DIR/s.err") || ti_fail "$TEST_AGENT -s failed"
pid=$(printf '%s\n' "$out" | sed -n 's/^SSH_AGENT_PID=\([0-9]*\); export SSH_AGENT_PID;$/\1/p')
register_pid "$pid"
ti_assert_contains "$out" \
    "SSH_AUTH_SOCK=$TI_DIR/s.sock; export SSH_AUTH_SOCK;" "-s socket line"
ti_assert_contains "$out" "echo Agent pid $pid;" "-s echo line"
(
	eval "$out" >/dev/null
	[ "$SSH_AUTH_SOCK" = "$TI_DIR/s.sock" ] || exit 1
	ssh-add "$TI_DIR/k" >/dev/null 2>&1 || exit 2
	[ "$(ssh-add -l | grep -c ED25519)" = 1 ] || exit 3
	kout=$("$TEST_AGENT" -k) || exit 4
	printf '%s\n' "$kout" >"$TI_DIR/k.out"
) || ti_fail "using the -s agent failed (step $?)"
kout=$(cat "$TI_DIR/k.out")
ti_assert_contains "$kout" "unset SSH_AUTH_SOCK;" "-k output"
ti_assert_contains "$kout" "unset SSH_AGENT_PID;" "-k output"
ti_assert_contains "$kout" "echo Agent pid $pid killed;" "-k output"
wait_gone "$pid" 5 || ti_fail "agent $pid still alive after -k"
[ -e "$TI_DIR/s.sock" ] && ti_fail "socket left behind after -k"

# -k without SSH_AGENT_PID fails.
ti_expect_fail "-k without SSH_AGENT_PID" \
    env -u SSH_AGENT_PID "$TEST_AGENT" -k

# --- -c: csh output, and -c -k.
out=$("$TEST_AGENT" -c -a "$TI_DIR/c.sock" 2>"$TI_DIR/c.err") ||
    ti_fail "$TEST_AGENT -c failed"
pid=$(printf '%s\n' "$out" | sed -n 's/^setenv SSH_AGENT_PID \([0-9]*\);$/\1/p')
register_pid "$pid"
ti_assert_contains "$out" "setenv SSH_AUTH_SOCK $TI_DIR/c.sock;" "-c socket line"
ti_assert_contains "$out" "echo Agent pid $pid;" "-c echo line"
ti_wait_for_socket "$TI_DIR/c.sock" 5 || ti_fail "-c agent has no socket"
kout=$(SSH_AGENT_PID=$pid "$TEST_AGENT" -c -k) || ti_fail "-c -k"
ti_assert_contains "$kout" "unsetenv SSH_AUTH_SOCK;" "-c -k output"
ti_assert_contains "$kout" "unsetenv SSH_AGENT_PID;" "-c -k output"
wait_gone "$pid" 5 || ti_fail "agent $pid still alive after -c -k"

# --- neither -s nor -c: the format follows $SHELL.
out=$(SHELL=/bin/csh "$TEST_AGENT" -a "$TI_DIR/g1.sock" 2>/dev/null) ||
    ti_fail "agent with SHELL=csh"
pid=$(printf '%s\n' "$out" | sed -n 's/^setenv SSH_AGENT_PID \([0-9]*\);$/\1/p')
register_pid "$pid"
ti_assert_contains "$out" "setenv SSH_AUTH_SOCK" "csh format guessed from SHELL"
SSH_AGENT_PID=$pid "$TEST_AGENT" -k >/dev/null 2>&1 || ti_fail "-k (csh agent)"
out=$(SHELL=/bin/bash "$TEST_AGENT" -a "$TI_DIR/g2.sock" 2>/dev/null) ||
    ti_fail "agent with SHELL=bash"
pid=$(printf '%s\n' "$out" | sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*$/\1/p')
register_pid "$pid"
ti_assert_contains "$out" "export SSH_AUTH_SOCK;" "sh format guessed from SHELL"
SSH_AGENT_PID=$pid "$TEST_AGENT" -k >/dev/null 2>&1 || ti_fail "-k (sh agent)"

# --- COMMAND mode: the command sees the agent, its exit status is the
# agent's, and the agent goes away when the command exits.  Default socket
# location (no -a).
out=$(env -u SSH_AUTH_SOCK -u SSH_AGENT_PID "$TEST_AGENT" sh -c \
    'echo "sock=$SSH_AUTH_SOCK"; echo "pid=$SSH_AGENT_PID";
     ssh-add -l >/dev/null 2>&1; echo "list=$?";
     ssh-add "$1" >/dev/null 2>&1; echo "add=$?";
     ssh-add -l | grep -c ED25519 | sed "s/^/count=/";
     exit 7' sh "$TI_DIR/k" 2>"$TI_DIR/cmd.err")
rc=$?
ti_assert_eq 7 "$rc" "exit status of the command"
sock=$(printf '%s\n' "$out" | sed -n 's/^sock=//p')
pid=$(printf '%s\n' "$out" | sed -n 's/^pid=//p')
register_pid "$pid"
[ -n "$sock" ] || ti_fail "command saw no SSH_AUTH_SOCK: $out"
ti_assert_contains "$out" "list=1" "empty agent in command mode"
ti_assert_contains "$out" "add=0" "ssh-add in command mode"
ti_assert_contains "$out" "count=1" "listing in command mode"
wait_gone "$pid" 15 || ti_fail "agent $pid outlived its command"
[ -e "$sock" ] && ti_fail "socket $sock left behind"

# COMMAND mode with -a.
out=$("$TEST_AGENT" -a "$TI_DIR/cmd.sock" sh -c \
    'echo "$SSH_AUTH_SOCK"; echo "$SSH_AGENT_PID"') ||
    ti_fail "command mode with -a"
register_pid "$(printf '%s\n' "$out" | sed -n 2p)"
ti_assert_eq "$TI_DIR/cmd.sock" "$(printf '%s\n' "$out" | sed -n 1p)" \
    "command mode with -a"

exit 0

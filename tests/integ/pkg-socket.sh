#!/bin/bash
# pkg-socket: an agent on a fixed -a path.  A socket left by an agent that
# died (SIGKILL) is replaced, in the foreground and the daemonising modes;
# a live agent's socket is not (clear message, exit 1, the running agent
# untouched), also when two agents start on the same stale socket at once;
# a path that is not a socket is never removed.
# Copyright (c) 2026 tokagent authors; see LICENSE.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "stale socket replacement is tokagent's"
sock=$TI_DIR/agent.sock

# can_connect PATH: 0 when an agent answers on PATH (ssh-add -l: 2 = no agent)
can_connect()
{
	local rc
	SSH_AUTH_SOCK=$1 ssh-add -l >/dev/null 2>&1
	rc=$?
	[ $rc != 2 ]
}

ti_log "a live agent is kept"
ti_start_agent
ti_keygen ed25519 - "$TI_DIR/k"
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k"
ti_expect_fail "second agent on a live socket" \
    timeout 10 "$TEST_AGENT" -D -a "$sock"
ti_assert_contains "$(cat "$TI_DIR/last.out")" \
    "an agent is already listening on $sock" "message"
ti_expect_fail "second agent, daemonising" timeout 10 "$TEST_AGENT" -s -a "$sock"
ti_assert_not_contains "$(cat "$TI_DIR/last.out")" "SSH_AUTH_SOCK=" \
    "variables printed for an agent that did not start"
ti_agent_alive || ti_fail "the first agent died"
ti_assert_eq 1 "$(ti_agent_count)" "keys of the first agent"

ti_log "a dead agent's socket is replaced (foreground)"
kill -KILL "$TI_AGENT_PID"
for i in $(seq 1 100); do ti_agent_alive || break; sleep 0.05; done
[ -S "$sock" ] || ti_fail "SIGKILL removed the socket (nothing to test)"
can_connect "$sock" && ti_fail "a dead agent's socket answers"
pid=$(TI_BG_LOG=$TI_DIR/agent2.log ti_bg "$TEST_AGENT" -D -a "$sock")
for i in $(seq 1 200); do can_connect "$sock" && break; sleep 0.05; done
can_connect "$sock" || ti_fail "no agent on the replaced socket"
ti_alive "$pid" || ti_fail "the new agent exited"
grep -q "replacing the stale socket $sock" "$TI_DIR/agent2.log" ||
    ti_fail "no log line about the stale socket"
ti_assert_eq 0 "$(ti_agent_count)" "keys of the new agent"

ti_log "a dead agent's socket is replaced (daemonising, eval'ed)"
kill -KILL "$pid"
for i in $(seq 1 100); do ti_alive "$pid" || break; sleep 0.05; done
[ -S "$sock" ] || ti_fail "SIGKILL removed the socket"
out=$(timeout 10 "$TEST_AGENT" -s -a "$sock") || ti_fail "daemonising start: exit $?"
ti_assert_contains "$out" "SSH_AUTH_SOCK=$sock; export SSH_AUTH_SOCK;" "printed"
dpid=$(printf '%s\n' "$out" | sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p')
[ -n "$dpid" ] || ti_fail "no SSH_AGENT_PID in: $out"
echo "$dpid" >>"$TI_DIR/pids"
can_connect "$sock" || ti_fail "no agent after the daemonising start"
SSH_AGENT_PID=$dpid "$TEST_AGENT" -k >/dev/null || ti_fail "tokagent -k"
for i in $(seq 1 100); do ti_alive "$dpid" || break; sleep 0.05; done
ti_alive "$dpid" && ti_fail "tokagent -k did not stop the agent"
[ -e "$sock" ] && ti_fail "a cleanly stopped agent left its socket"

ti_log "two agents start at once on a stale socket: exactly one stays"
pid=$(TI_BG_LOG=$TI_DIR/agent3.log ti_bg "$TEST_AGENT" -D -a "$sock")
for i in $(seq 1 200); do can_connect "$sock" && break; sleep 0.05; done
kill -KILL "$pid"
for i in $(seq 1 100); do ti_alive "$pid" || break; sleep 0.05; done
a=$(TI_BG_LOG=$TI_DIR/race-a.log ti_bg "$TEST_AGENT" -D -a "$sock")
b=$(TI_BG_LOG=$TI_DIR/race-b.log ti_bg "$TEST_AGENT" -D -a "$sock")
# The loser exits at once; wait for that (bounded), then count.
for i in $(seq 1 200); do
	ti_alive "$a" && ti_alive "$b" || break
	sleep 0.05
done
alive=0
for p in "$a" "$b"; do ti_alive "$p" && alive=$((alive + 1)); done
ti_assert_eq 1 "$alive" "agents alive after a racing start"
can_connect "$sock" || ti_fail "no agent answers after the race"
cat "$TI_DIR/race-a.log" "$TI_DIR/race-b.log" >"$TI_DIR/race.log"
grep -q "an agent is already listening on $sock" "$TI_DIR/race.log" ||
    ti_fail "the loser did not say why"
# The winner's socket is the one on the path: a key added is listed.
ti_expect_ok "ssh-add to the winner" env SSH_AUTH_SOCK="$sock" ssh-add "$TI_DIR/k"
ti_assert_eq 1 "$(SSH_AUTH_SOCK=$sock ti_agent_count)" "winner's keys"
ti_kill "$a"
ti_kill "$b"

ti_log "not a socket: never removed"
printf 'precious\n' >"$TI_DIR/file"
ti_expect_fail "agent on a regular file" timeout 10 "$TEST_AGENT" -D -a "$TI_DIR/file"
ti_assert_contains "$(cat "$TI_DIR/last.out")" "is not a socket" "message"
ti_assert_eq precious "$(cat "$TI_DIR/file")" "the file"
mkdir "$TI_DIR/dir"
ti_expect_fail "agent on a directory" timeout 10 "$TEST_AGENT" -D -a "$TI_DIR/dir"
[ -d "$TI_DIR/dir" ] || ti_fail "the directory went away"
ti_expect_fail "agent in a missing directory" timeout 10 \
    "$TEST_AGENT" -D -a "$TI_DIR/nodir/s"

# Someone else's dead socket is not ours to remove (needs root to make one).
if [ "$(id -u)" = 0 ]; then
	ti_log "another user's stale socket: never removed"
	/usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])' "$TI_DIR/other.sock" || ti_fail "could not make a socket"
	chown 65534 "$TI_DIR/other.sock"
	ti_expect_fail "agent on another user's socket" timeout 10 \
	    "$TEST_AGENT" -D -a "$TI_DIR/other.sock"
	ti_assert_contains "$(cat "$TI_DIR/last.out")" \
	    "belongs to uid 65534: not replaced" "message"
	[ -S "$TI_DIR/other.sock" ] || ti_fail "another user's socket removed"
fi
exit 0

#!/bin/bash
# notify-desktop: tokagent-notify-desktop against the test notification
# server on a private session bus: the notification is shown with the
# agent's summary and body (markup escaped, bad bytes replaced) and one
# action, "cancel" labelled "Cancel"; taken down with CloseNotification on
# SIGTERM (exit 0), left alone when the server closed it (exit 0); the
# user's Cancel (ActionInvoked "cancel"): exit 1 at once, which the agent
# reads as "cancel the request"; another action: ignored.  No bus, no
# server, a server that never answers or goes away: exit 126 (never 1..125,
# which the agent would take for a Cancel) with one line on stderr, within
# the ~2 s call timeout.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/notifyd/notifyd-lib.sh"
nd_setup

# nd_run_bg ARGS...: the program in the background (our child, so `wait`
# gives its status); sets ND_PID.
nd_run_bg()
{
	"$ND_PROG" "$@" </dev/null >"$TI_DIR/prog.out" 2>"$TI_DIR/prog.err" &
	ND_PID=$!
	echo "$ND_PID" >>"$TI_DIR/pids"
}

# nd_wait_pid PID S: the background program PID has exited within S
# seconds (a bound for a hang, not a measure); returns its status.
nd_wait_pid()
{
	local n=$(($2 * 20))
	while ti_alive "$1"; do
		[ $n -gt 0 ] || ti_fail "process $1 still running after $2 s"
		sleep 0.05
		n=$((n - 1))
	done
	wait "$1"
}

# nd_wait_exec PID: the background shell has become the program (a signal
# sent before that would hit the forked test shell, which runs our traps).
nd_wait_exec()
{
	local n=200 exe
	exe=$(readlink -f "$ND_PROG")
	while [ $n -gt 0 ]; do
		[ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$exe" ] && return 0
		sleep 0.01
		n=$((n - 1))
	done
	ti_fail "process $1 did not start $ND_PROG"
}

# nd_expect_fail_fast WHAT MAX_MS: the program fails (126, "could not
# work") within MAX_MS with exactly one line on stderr.
nd_expect_fail_fast()
{
	local what=$1 max=$2 t0 t1 rc lines
	t0=$(date +%s%N)
	"$ND_PROG" "Touch" "body" </dev/null >/dev/null 2>"$TI_DIR/prog.err"
	rc=$?
	t1=$(date +%s%N)
	[ $rc = 126 ] || ti_fail "$what: exit $rc, not 126"
	lines=$(wc -l <"$TI_DIR/prog.err")
	ti_log "$what: exit $rc after $(((t1 - t0) / 1000000)) ms:" \
	    "$(cat "$TI_DIR/prog.err")"
	[ "$lines" = 1 ] || ti_fail "$what: $lines lines on stderr"
	[ $(((t1 - t0) / 1000000)) -lt "$max" ] || ti_fail "$what: too slow"
}

ti_log "usage"
"$ND_PROG" only-one >/dev/null 2>&1
rc=$?
[ $rc = 126 ] || ti_fail "one argument: exit $rc, not 126"

ti_log "no session bus at all"
DBUS_SESSION_BUS_ADDRESS=unix:path=$TI_DIR/nobus \
    nd_expect_fail_fast "no bus" 1500

nd_start_bus

ti_log "a bus without a notification server"
nd_expect_fail_fast "no server" 1500

nd_start_server
ti_log "shown, then closed by SIGTERM"
nd_run_bg "Touch your security key" \
    "key <a> & \"b\" ünï $(printf '\001')x$(printf '\377')y"
nd_wait '^notify 1 ' 5 || ti_fail "no notification"
line=$(grep '^notify 1 ' "$ND_LOG")
ti_log "$line"
ti_assert_contains "$line" "app=tokagent" "app name"
ti_assert_contains "$line" "urgency=2" "critical urgency"
ti_assert_contains "$line" "expire=0" "never expires by itself"
ti_assert_contains "$line" "actions=1 action=cancel:Cancel summary=" \
    "one action: cancel, labelled Cancel"
ti_assert_contains "$line" "summary=Touch your security key body=" "summary"
ti_assert_contains "$line" \
    "body=key &lt;a&gt; &amp; \"b\" ünï ?x?y" "body escaped and cleaned"
sleep 0.2
ti_alive "$ND_PID" || ti_fail "notifier exited while shown"
[ "$(nd_count '^close')" = 0 ] || ti_fail "closed too early"
kill -TERM "$ND_PID"
wait "$ND_PID"
rc=$?
[ $rc = 0 ] || { cat "$TI_DIR/prog.err" >&2; ti_fail "exit $rc after SIGTERM"; }
nd_wait '^close 1$' 2 || ti_fail "not closed after SIGTERM"

ti_log "SIGTERM at once: closed or never shown, never left behind"
nd_run_bg "Touch" "quick"
nd_wait_exec "$ND_PID"
kill -TERM "$ND_PID"
wait "$ND_PID"
rc=$?
# 143: the signal came before the program could hold it (so it showed nothing).
[ $rc = 0 ] || [ $rc = 143 ] || ti_fail "exit $rc after an early SIGTERM"
[ "$(nd_count '^notify ')" = "$(nd_count '^close [0-9]+$')" ] ||
    ti_fail "a notification was left open: $(cat "$ND_LOG")"

ti_log "SIGHUP closes it too"
nd_run_bg "Touch" "hup"
nd_wait 'body=hup$' 5 || ti_fail "no notification"
kill -HUP "$ND_PID"
wait "$ND_PID" || ti_fail "exit $? after SIGHUP"
id=$(sed -n 's/^notify \([0-9]*\) .*body=hup$/\1/p' "$ND_LOG")
nd_wait "^close $id\$" 2 || ti_fail "not closed after SIGHUP"

ti_log "a server without body markup gets the text as is"
nd_stop_server
nd_start_server -M
nd_run_bg "Touch" "a <b> & c"
nd_wait '^notify 1 ' 5 || ti_fail "no notification"
ti_assert_contains "$(cat "$ND_LOG")" "body=a <b> & c" "plain body"
kill -TERM "$ND_PID"
wait "$ND_PID" || ti_fail "exit $?"
nd_wait '^close 1$' 2 || ti_fail "not closed"

ti_log "closed by the server (dismissed): exits 0, no CloseNotification"
nd_stop_server
nd_start_server -c 300
nd_run_bg "Touch" "dismissed"
wait "$ND_PID" || ti_fail "exit $? after the server closed it"
nd_wait '^expired 1$' 1 || ti_fail "not expired"
[ "$(nd_count '^close')" = 0 ] || ti_fail "closed a closed notification"

ti_log "the user chooses Cancel: exits 1 (the agent cancels the request)"
nd_stop_server
nd_start_server -a cancel:200
nd_run_bg "Touch" "cancel me"
nd_wait '^notify 1 ' 5 || ti_fail "no notification"
nd_wait_pid "$ND_PID" 5
rc=$?
ti_log "exit $rc; $(tr '\n' ';' <"$ND_LOG")"
[ $rc = 1 ] || { cat "$TI_DIR/prog.err" >&2; ti_fail "exit $rc after Cancel"; }
[ "$(nd_count '^action 1 cancel$')" = 1 ] || ti_fail "no Cancel in the log"
[ -s "$TI_DIR/prog.err" ] && ti_fail "stderr after Cancel: $(cat "$TI_DIR/prog.err")"
# The CloseNotification sent without waiting after the action reaches the
# server (which had closed the notification already).
nd_wait '^close 1 unknown$' 2 || ti_fail "no CloseNotification after Cancel"

ti_log "another action is not a Cancel: the server closes it, exit 0"
nd_stop_server
nd_start_server -a other:200
nd_run_bg "Touch" "other action"
nd_wait '^notify 1 ' 5 || ti_fail "no notification"
nd_wait_pid "$ND_PID" 5
rc=$?
[ $rc = 0 ] || ti_fail "exit $rc after an action that is not cancel"
[ "$(nd_count '^action 1 other$')" = 1 ] || ti_fail "no action in the log"

ti_log "Cancel after SIGTERM: the agent's close wins, exit 0"
nd_stop_server
nd_start_server -a cancel:10000
nd_run_bg "Touch" "closed first"
nd_wait '^notify 1 ' 5 || ti_fail "no notification"
kill -TERM "$ND_PID"
wait "$ND_PID" || ti_fail "exit $? after SIGTERM"
nd_wait '^close 1$' 2 || ti_fail "not closed after SIGTERM"
[ "$(nd_count '^action ')" = 0 ] || ti_fail "action on a closed notification"

ti_log "the server goes away while shown: exits 126"
nd_stop_server
nd_start_server
nd_run_bg "Touch" "server dies"
nd_wait '^notify 1 ' 5 || ti_fail "no notification"
nd_stop_server
wait "$ND_PID"
rc=$?
[ $rc = 126 ] || ti_fail "exit $rc after the server left, not 126"
ti_log "$(cat "$TI_DIR/prog.err")"

ti_log "a server that never answers: given up after the call timeout"
nd_start_server -H
nd_expect_fail_fast "hung server" 4000
nd_stop_server

exit 0

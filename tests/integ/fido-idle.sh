#!/bin/bash
# fido-idle: an idle agent makes no system call, in any of its processes,
# with a token plugged in and a FIDO key loaded (so the sk helper runs),
# yet a token pulled or plugged in is still seen.  The agent runs under
# strace -f from its start (strace is its ancestor, so this works where
# attaching to a running process is not allowed); every system call is a
# line in the trace, and an idle window of 10 s must add none.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup
ti_require_cmd strace

sk_start_vfido tok
sk_use tok
ti_expect_ok "enroll" sk_keygen "$TI_DIR/k" ed25519-sk
pub=$(fido_pub "$TI_DIR/k")
# hidraw discovery on as well: it must wait for udev events, not poll
unset TOKAGENT_FIDO_NO_DISCOVERY
trace=$TI_DIR/trace
TI_AGENT_WRAPPER="strace -f -qq -o $trace" fido_start_agent tok
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k"
ti_expect_ok "-Y sign" fido_sign "$pub"
ti_expect_ok "-Y verify" fido_verify "$pub"

# settle: handles closed after their idle time, the trace stops growing
lines()
{
	wc -l <"$trace"
}
# (a call shows in the trace when it returns: the helper's 2 s idle timer
# for open handles is seen only when it fires, so wait for 3 quiet seconds)
prev=-1
quiet=0
n=0
while [ $quiet -lt 3 ]; do
	cur=$(lines)
	if [ "$cur" = "$prev" ]; then
		quiet=$((quiet + 1))
	else
		quiet=0
	fi
	prev=$cur
	n=$((n + 1))
	[ $n -lt 60 ] || break
	sleep 1
done

ti_log "idle for 10 s"
before=$(lines)
sleep 10
after=$(lines)
if [ "$after" != "$before" ]; then
	echo "--- system calls while idle:" >&2
	tail -n "+$((before + 1))" "$trace" | head -40 >&2
	ti_fail "$((after - before)) system calls in 10 s of idle"
fi
ti_log "no system call in 10 s of idle (trace: $before lines)"

ti_log "a token pulled and plugged in again is still seen"
: >"$TI_AGENT_LOG.mark"
kill -KILL "$SK_VFIDO_PID_tok"
fido_log_wait "tok.sock) pulled" 10 || ti_fail "pulled token not seen"
sk_start_vfido tok
n=$(grep -c "tok.sock) plugged in" "$TI_AGENT_LOG")
fido_log_wait_count()
{
	local i=0
	while [ "$(grep -c "$1" "$TI_AGENT_LOG")" -lt "$2" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || return 1
		sleep 0.05
	done
}
fido_log_wait_count "tok.sock) plugged in" 2 ||
    ti_fail "token plugged in again not seen"
ti_expect_ok "-Y sign after the replug" fido_sign "$pub"
ti_agent_alive || ti_fail "agent died"
exit 0

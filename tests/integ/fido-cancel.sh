#!/bin/bash
# fido-cancel: Cancel on the touch notice cancels the request.  The notice
# program (here --notify-command; SSH_ASKPASS notices work the same) that
# exits by itself with a status of 1..125 is the user choosing Cancel: the
# token gets a CTAPHID CANCEL and stops waiting, the client fails at once
# (long before the token's own time-out), the key stays loaded and signs
# again.  A notice program that exits 0 only takes its notice down, and
# one that could not run (127) cancels nothing: those requests still wait
# for the touch.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

# The notifier: records its start, waits as a person would, then exits
# with the status in $TI_DIR/notify.status.
cat >"$TI_DIR/notify" <<EOF2
#!/bin/sh
echo start >>'$TI_DIR/notify.log'
sleep 0.3
s=\$(cat '$TI_DIR/notify.status')
echo "end \$s" >>'$TI_DIR/notify.log'
exit \$s
EOF2
chmod 700 "$TI_DIR/notify"
: >"$TI_DIR/notify.log"

sk_start_vfido tok
sk_use tok
ti_expect_ok "enroll" sk_keygen "$TI_DIR/k" ed25519-sk -C cancel-key
# The token's own time-out is far away: only the cancel can end it soon.
TOKAGENT_FIDO_TIMEOUT_MS=30000
export TOKAGENT_FIDO_TIMEOUT_MS
fido_start_agent tok -- --notify-command="$TI_DIR/notify"
unset TOKAGENT_FIDO_TIMEOUT_MS
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k"
pub=$(fido_pub "$TI_DIR/k")

# sign_in_bg: ssh-add -T in the background, its exit status in sign.rc.
sign_in_bg()
{
	rm -f "$TI_DIR/sign.rc"
	(ssh-add -T "$pub" >/dev/null 2>&1; echo $? >"$TI_DIR/sign.rc") &
	SIGN_PID=$!
}
# notice_ended: the notifier ran and exited.
notice_ended()
{
	local n=0
	until grep -q '^end' "$TI_DIR/notify.log"; do
		n=$((n + 1))
		[ $n -lt 200 ] || ti_fail "the notifier did not run and end"
		sleep 0.05
	done
}

ti_log "Cancel: the notifier exits 1 while the token waits"
echo 1 >"$TI_DIR/notify.status"
sk_ctl tok "touch manual" >/dev/null
sk_ctl tok log >/dev/null
start=$(fido_now_ms)
sign_in_bg
fido_pending_wait tok 10 || ti_fail "no touch pending on the token"
notice_ended
wait "$SIGN_PID"
took=$(($(fido_now_ms) - start))
ti_log "the client failed ${took} ms after asking (notifier: 250 ms delay + 300 ms)"
[ "$(cat "$TI_DIR/sign.rc")" != 0 ] || ti_fail "ssh-add -T signed"
[ "$took" -lt 10000 ] ||
    ti_fail "the client waited ${took} ms: the cancel did not end it"
fido_pending_gone tok || ti_fail "the token still waits after Cancel"
ti_assert_contains "$(sk_ctl tok log)" "cancel" "token got a CTAPHID CANCEL"
fido_log_wait "cancelled from the notice" 5 ||
    ti_fail "the agent log does not say the notice cancelled it"
ti_assert_eq 1 "$(ti_agent_count)" "the key is still loaded"

ti_log "and the key signs again"
sk_ctl tok "touch approve" >/dev/null
ti_expect_ok "ssh-add -T after the cancel" ssh-add -T "$pub"

for status in 0 127; do
	ti_log "a notifier that exits $status cancels nothing"
	echo "$status" >"$TI_DIR/notify.status"
	: >"$TI_DIR/notify.log"
	sk_ctl tok "touch manual" >/dev/null
	sign_in_bg
	fido_pending_wait tok 10 || ti_fail "no touch pending on the token"
	notice_ended
	sleep 0.5
	[ -e "$TI_DIR/sign.rc" ] &&
	    ti_fail "exit $status ended the request: $(cat "$TI_DIR/sign.rc")"
	case $(sk_ctl tok pending) in
	yes*) ;;
	*) ti_fail "exit $status: the token no longer waits" ;;
	esac
	sk_ctl tok "touch approve" >/dev/null
	wait "$SIGN_PID"
	ti_assert_eq 0 "$(cat "$TI_DIR/sign.rc")" \
	    "signed with the touch after a notifier exited $status"
done
ti_agent_alive || ti_fail "agent died"
exit 0

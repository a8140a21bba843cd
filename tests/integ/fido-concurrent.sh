#!/bin/bash
# fido-concurrent: the sk helper runs requests for different tokens at the
# same time and keeps PINs per token.
#	- a touch held on token A does not delay a signature on token B (well
#	  under a second), and a second request for A queues behind the first
#	  and is answered after the next touch: nothing is dropped;
#	- two tokens with different PINs and a verify-required key on each,
#	  --pin-cache: each token gets only its own PIN (the prompt names the
#	  token; no token ever sees a wrong PIN: its retry counter stays full).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

FIDOTOOL=$TI_BUILD/tests/vfido/fidotool
[ -x "$FIDOTOOL" ] || ti_fail "fidotool not built: $FIDOTOOL"

# bg_sign PUB TAG: ssh-add -T PUB in the background; its exit status goes
# to $TI_DIR/TAG.rc.  Prints the pid.
bg_sign()
{
	rm -f "$TI_DIR/$2.rc"
	( ssh-add -T "$1" >"$TI_DIR/$2.out" 2>&1; echo $? >"$TI_DIR/$2.rc" ) \
	    </dev/null &
	echo $! >>"$TI_DIR/pids"
	echo $!
}

# rc_wait TAG [S=10]: wait for TAG's exit status, print it.
rc_wait()
{
	local n=$((${2:-10} * 20))
	while [ ! -s "$TI_DIR/$1.rc" ]; do
		n=$((n - 1))
		[ $n -gt 0 ] || { echo timeout; return 1; }
		sleep 0.05
	done
	cat "$TI_DIR/$1.rc"
}


ti_log "two tokens, a key on each"
sk_start_vfido tokA --serial a
sk_start_vfido tokB --serial b
sk_use tokA
ti_expect_ok "enroll on tokA" sk_keygen "$TI_DIR/ka" ed25519-sk
sk_use tokB
ti_expect_ok "enroll on tokB" sk_keygen "$TI_DIR/kb" ecdsa-sk
fido_start_agent tokA tokB
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/ka" "$TI_DIR/kb"
pa=$(fido_pub "$TI_DIR/ka")
pb=$(fido_pub "$TI_DIR/kb")
# Warm up: both tokens known to the helper.
ti_expect_ok "ka signs" ssh-add -T "$pa"
ti_expect_ok "kb signs" ssh-add -T "$pb"

ti_log "a touch held on tokA"
sk_ctl tokA "touch manual" >/dev/null
sk_ctl tokA log >/dev/null
sk_ctl tokB log >/dev/null
bg_sign "$pa" first >/dev/null
fido_pending_wait tokA 10 || ti_fail "no touch pending on tokA"
ti_log "a second request for tokA queues"
bg_sign "$pa" second >/dev/null
sleep 0.3

ti_log "meanwhile kb on tokB signs at once"
start=$(fido_now_ms)
ti_expect_ok "-Y sign with kb while tokA waits" fido_sign "$pb"
took=$(($(fido_now_ms) - start))
ti_log "kb signed in ${took} ms while tokA waited for a touch"
ti_expect_ok "-Y verify kb" fido_verify "$pb"
[ "$took" -lt 700 ] || ti_fail "tokB's signature took ${took} ms"
ti_assert_contains "$(sk_ctl tokB log)" "getAssertion up=1" "tokB signed"
[ -s "$TI_DIR/first.rc" ] && ti_fail "first tokA request ended before the touch"
[ -s "$TI_DIR/second.rc" ] && ti_fail "second tokA request ended early"

ti_log "touch tokA: the first request is answered"
sk_ctl tokA touch >/dev/null
ti_assert_eq 0 "$(rc_wait first 10)" "first tokA request signed"
ti_log "the queued request now waits for its own touch"
fido_pending_wait tokA 10 || ti_fail "second tokA request not at the token"
[ -s "$TI_DIR/second.rc" ] && ti_fail "second tokA request ended early"
sk_ctl tokA touch >/dev/null
ti_assert_eq 0 "$(rc_wait second 10)" "second tokA request signed"

ti_log "cancel: a client leaving stops only its own request"
bg_sign "$pa" third >/dev/null
fido_pending_wait tokA 10 || ti_fail "no touch pending on tokA"
sk_ctl tokA log >/dev/null
TI_BG_LOG=$TI_DIR/fourth.out ti_bg ssh-add -T "$pa" >/dev/null
cpid=$TI_LAST_PID
sleep 0.3
ti_kill "$cpid"
sleep 0.3
ti_log "tokA: $(sk_ctl tokA log)"
ti_assert_contains "$(sk_ctl tokA pending)" "yes" "third still waits"
sk_ctl tokA touch >/dev/null
ti_assert_eq 0 "$(rc_wait third 10)" "third tokA request signed"
sleep 0.5
ti_assert_eq no "$(sk_ctl tokA pending)" "the cancelled request never reached tokA"
sk_ctl tokA "touch approve" >/dev/null
ti_expect_ok "ka signs after all that" ssh-add -T "$pa"
ti_agent_alive || ti_fail "agent died"
ti_stop_agent

ti_log "per-token PINs"
sk_start_vfido tokC --serial c --pin 1111
sk_start_vfido tokD --serial d --pin 2222
ti_askpass_setup pass:1111
sk_use tokC
ti_expect_ok "enroll verify-required on tokC" sk_keygen "$TI_DIR/kc" \
    ed25519-sk -O verify-required
ti_askpass_answer pass:2222
sk_use tokD
ti_expect_ok "enroll verify-required on tokD" sk_keygen "$TI_DIR/kd" \
    ed25519-sk -O verify-required
# An askpass answering each token's PIN by the token the prompt names.
cat >"$TI_DIR/pin-by-token" <<EOF
#!/bin/sh
case "\$1" in
*tokC.sock*) echo 1111 ;;
*tokD.sock*) echo 2222 ;;
*) echo 0000 ;;
esac
EOF
chmod 700 "$TI_DIR/pin-by-token"
ti_askpass_answer "$TI_DIR/pin-by-token"
fido_start_agent tokC tokD -- --pin-cache=60
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/kc" "$TI_DIR/kd"
pc=$(fido_pub "$TI_DIR/kc")
pd=$(fido_pub "$TI_DIR/kd")
: >"$TI_DIR/askpass.log"
for i in 1 2; do
	ti_expect_ok "-Y sign with kc ($i)" fido_sign "$pc"
	ti_expect_ok "-Y verify kc" fido_verify "$pc"
	ti_expect_ok "-Y sign with kd ($i)" fido_sign "$pd"
	ti_expect_ok "-Y verify kd" fido_verify "$pd"
done
log=$(cat "$TI_DIR/askpass.log")
ti_log "prompts: $log"
ti_assert_eq 2 "$(grep -c "Enter PIN" "$TI_DIR/askpass.log")" \
    "one PIN prompt per token with --pin-cache"
ti_assert_contains "$(grep tokC.sock "$TI_DIR/askpass.log")" \
    "$(ti_fp "$pc")" "tokC's prompt names kc"
ti_assert_contains "$(grep tokD.sock "$TI_DIR/askpass.log")" \
    "$(ti_fp "$pd")" "tokD's prompt names kd"
ti_assert_not_contains "$log" "Wrong PIN" "a token saw a wrong PIN"
for t in tokC tokD; do
	out=$("$FIDOTOOL" retries "unix:$TI_DIR/$t.sock" 2>&1)
	ti_assert_contains "$out" "retries=8" "$t's PIN retries untouched"
done
grep -q "incorrect PIN" "$TI_AGENT_LOG" && ti_fail "a token refused a PIN"

ti_log "a wrong PIN says how many tries are left"
ti_askpass_answer pass:9999
ti_stop_agent
fido_start_agent tokC -- --pin-cache=60
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/kc"
: >"$TI_DIR/askpass.log"
ti_expect_fail "-Y sign with wrong PINs" fido_sign "$pc"
ti_assert_contains "$(cat "$TI_DIR/askpass.log")" "tries left" \
    "the retry prompt says how many tries are left"
ti_agent_alive || ti_fail "agent died"
exit 0

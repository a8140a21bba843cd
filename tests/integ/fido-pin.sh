#!/bin/bash
# fido-pin: a verify-required key gets its PIN through askpass with a prompt
# naming the key; a wrong PIN is asked again ("Wrong PIN"), and the right
# one then signs; three wrong PINs block the token until it is power-cycled
# (vfido restarted on the same state); --pin-cache keeps the PIN.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

sk_start_vfido tok --pin 1234
sk_use tok
ti_askpass_setup pass:1234
ti_expect_ok "enroll verify-required" sk_keygen "$TI_DIR/k" ed25519-sk \
    -O verify-required
fido_start_agent tok
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k"
pub=$(fido_pub "$TI_DIR/k")
fp=$(ti_fp "$pub")

# pin_asks: the PIN prompts seen since the askpass log was last cleared.
pin_asks()
{
	grep -c "Enter PIN\|Wrong PIN" "$TI_DIR/askpass.log"
}

ti_log "right PIN"
: >"$TI_DIR/askpass.log"
sk_ctl tok log >/dev/null
ti_expect_ok "-Y sign, right PIN" fido_sign "$pub"
ti_expect_ok "-Y verify" fido_verify "$pub"
ti_assert_eq 1 "$(pin_asks)" "PIN asked once"
ti_assert_contains "$(cat "$TI_DIR/askpass.log")" \
    "Key: \"sk-test\" sk-ssh-ed25519@openssh.com $fp" \
    "PIN prompt names the key"
ti_assert_contains "$(cat "$TI_DIR/askpass.log")" \
    "	Enter PIN for your security key|" "PIN prompt asks in its first line"
ti_assert_contains "$(sk_ctl tok log)" "getAssertion up=1 uv=1" \
    "signature user-verified"

ti_log "wrong PIN, then the right one, in one request"
# An askpass that answers 9999 first, then 1234 (rewrites its own answer).
cat >"$TI_DIR/wrong-then-right" <<EOF
#!/bin/sh
printf 'pass:1234\n' >'$TI_DIR/askpass.answer'
echo 9999
EOF
chmod 700 "$TI_DIR/wrong-then-right"
ti_askpass_answer "$TI_DIR/wrong-then-right"
: >"$TI_DIR/askpass.log"
ti_expect_ok "-Y sign, wrong then right PIN" fido_sign "$pub"
ti_expect_ok "-Y verify" fido_verify "$pub"
ti_assert_eq 2 "$(pin_asks)" "PIN asked twice"
ti_assert_contains "$(grep 'Wrong PIN' "$TI_DIR/askpass.log")" "$fp" \
    "second prompt says the PIN was wrong and names the key"

ti_log "three wrong PINs: blocked"
ti_askpass_answer pass:4321
: >"$TI_DIR/askpass.log"
ti_expect_fail "-Y sign, wrong PINs" fido_sign "$pub"
ti_assert_eq 3 "$(pin_asks)" "PIN asked three times, then given up"
ti_askpass_answer pass:1234
ti_expect_fail "-Y sign, right PIN on a blocked token" fido_sign "$pub"
fido_log_wait "PIN blocked" 5 || ti_fail "agent log does not say PIN blocked"
ti_agent_alive || ti_fail "agent died"

ti_log "token power-cycled: the right PIN works again"
ti_kill "$SK_VFIDO_PID_tok"
sk_start_vfido tok --pin 1234
: >"$TI_DIR/askpass.log"
ti_expect_ok "-Y sign after the power cycle" fido_sign "$pub"
ti_expect_ok "-Y verify" fido_verify "$pub"

ti_log "--pin-cache keeps the PIN"
ti_stop_agent
fido_start_agent tok -- --pin-cache=60
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k"
: >"$TI_DIR/askpass.log"
ti_expect_ok "-Y sign (1)" fido_sign "$pub"
ti_expect_ok "-Y sign (2)" fido_sign "$pub"
ti_expect_ok "-Y verify" fido_verify "$pub"
ti_assert_eq 1 "$(pin_asks)" "PIN asked once with --pin-cache"
exit 0

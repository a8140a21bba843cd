#!/bin/bash
# PIN / user verification: verify-required keys ask for the PIN (through
# askpass), a wrong PIN is reported as such, and the token's lockout (3
# wrong PINs per power cycle, 8 in all) is reported as a blocked PIN.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/sk-lib.sh"
sk_setup

sk_start_vfido tok --pin 1234
sk_use tok
ti_askpass_setup pass:1234

ti_log "enroll verify-required (PIN through askpass)"
ti_expect_ok "enroll verify-required" sk_keygen "$TI_DIR/k" ed25519-sk \
    -O verify-required
ti_assert_contains "$(cat "$TI_DIR/askpass.log")" "PIN" "asked for the PIN"
ti_expect_ok "enroll plain key on a PIN token" sk_keygen "$TI_DIR/kp" \
    ecdsa-sk

ti_log "sign with the right PIN"
sk_ctl tok log >/dev/null
ti_expect_ok "sign verify-required" sk_sign_verify "$TI_DIR/k"
ti_assert_contains "$(sk_ctl tok log)" "uv=1" "signature was user-verified"
ti_expect_ok "sign plain key (no PIN)" sk_sign_verify "$TI_DIR/kp"

ti_log "wrong PIN"
ti_askpass_answer pass:9999
ti_expect_fail "sign with a wrong PIN" sk_sign_verify "$TI_DIR/k"
ti_assert_contains "$(cat "$TI_DIR/last.out")" "incorrect PIN" \
    "wrong PIN reported"
ti_expect_fail "sign with a wrong PIN (2)" sk_sign_verify "$TI_DIR/k"
ti_expect_fail "sign with a wrong PIN (3)" sk_sign_verify "$TI_DIR/k"

ti_log "3 wrong PINs: blocked until the token is replugged"
ti_askpass_answer pass:1234
ti_expect_fail "right PIN after 3 wrong ones" sk_sign_verify "$TI_DIR/k"
ti_assert_contains "$(cat "$TI_DIR/last.out")" "PIN blocked" \
    "lockout reported"
pid=$SK_VFIDO_PID_tok
ti_kill "$pid"
sk_start_vfido tok --pin 1234
ti_expect_ok "right PIN after replug" sk_sign_verify "$TI_DIR/k"

ti_log "8 wrong PINs in all: blocked for good"
ti_askpass_answer pass:0000
for round in 1 2 3; do
	for i in 1 2 3; do
		sk_sign_verify "$TI_DIR/k" >/dev/null 2>&1 &&
		    ti_fail "wrong PIN accepted"
	done
	ti_kill "$SK_VFIDO_PID_tok"
	sk_start_vfido tok --pin 1234
done
ti_askpass_answer pass:1234
ti_expect_fail "right PIN once blocked" sk_sign_verify "$TI_DIR/k"
ti_assert_contains "$(cat "$TI_DIR/last.out")" "PIN blocked" \
    "permanent lockout reported"
exit 0

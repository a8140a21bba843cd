#!/bin/bash
# Two tokens at once: the key lives on the second; signing finds it by a
# silent probe and never asks the first token for a touch.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/sk-lib.sh"
sk_setup

sk_start_vfido one
sk_start_vfido two
sk_use two
ti_expect_ok "enroll on the second token" sk_keygen "$TI_DIR/k" ed25519-sk
ti_expect_ok "enroll ecdsa on the second token" sk_keygen "$TI_DIR/ke" \
    ecdsa-sk
sk_use one
ti_expect_ok "enroll on the first token" sk_keygen "$TI_DIR/k1" ecdsa-sk

sk_use one two
sk_ctl one log >/dev/null
sk_ctl two log >/dev/null
for k in k ke; do
	ti_expect_ok "sign $k with both tokens present" \
	    sk_sign_verify "$TI_DIR/$k"
done
log1=$(sk_ctl one log)
log2=$(sk_ctl two log)
ti_assert_not_contains "$log1" "up=1" "first token asked for a touch"
ti_assert_contains "$log1" "getAssertion up=0" "first token probed silently"
ti_assert_contains "$log2" "getAssertion up=1" "second token signed"

ti_log "a key on the first token"
ti_expect_ok "sign k1 (first token)" sk_sign_verify "$TI_DIR/k1"
ti_assert_contains "$(sk_ctl one log)" "getAssertion up=1" "first token signed"

ti_log "-O device= picks the token to enroll on"
sk_ctl one log >/dev/null
ti_expect_ok "enroll with device=" sk_keygen "$TI_DIR/kd" ed25519-sk \
    -O device="unix:$TI_DIR/two.sock"
ti_assert_not_contains "$(sk_ctl one log)" "makeCredential" \
    "first token not used for device=two"
sk_use two
ti_expect_ok "key made with device= is on the second token" \
    sk_sign_verify "$TI_DIR/kd"
sk_use one two

ti_log "first token unplugged: the second still works"
ti_kill "$SK_VFIDO_PID_one"
ti_expect_ok "sign with the first token gone" sk_sign_verify "$TI_DIR/k"
exit 0

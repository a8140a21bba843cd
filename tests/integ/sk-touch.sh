#!/bin/bash
# Touch denied and touch timed out: enrollment and signing fail fast with a
# clear error naming the cause.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/sk-lib.sh"
sk_setup

sk_start_vfido tok
sk_use tok
ti_expect_ok "enroll" sk_keygen "$TI_DIR/k" ed25519-sk

ti_log "touch deny"
sk_ctl tok "touch deny" >/dev/null
ti_expect_fail "enroll with touch denied" sk_keygen "$TI_DIR/k2" ed25519-sk
ti_assert_contains "$(cat "$TI_DIR/last.out")" "touch denied" \
    "enroll error names the cause"
ti_expect_fail "sign with touch denied" sk_sign_verify "$TI_DIR/k"
ti_assert_contains "$(cat "$TI_DIR/last.out")" "touch denied" \
    "sign error names the cause"

ti_log "touch never, bounded by TOKAGENT_FIDO_TIMEOUT_MS"
sk_ctl tok "touch never" >/dev/null
sk_ctl tok log >/dev/null
TOKAGENT_FIDO_TIMEOUT_MS=1500
export TOKAGENT_FIDO_TIMEOUT_MS
start=$SECONDS
ti_expect_fail "sign with no touch coming" sk_sign_verify "$TI_DIR/k"
ti_assert_contains "$(cat "$TI_DIR/last.out")" "timed out" \
    "sign error says it timed out"
[ $((SECONDS - start)) -lt 10 ] || ti_fail "timeout took too long"
# the token was told to stop waiting
sleep 0.3
ti_assert_contains "$(sk_ctl tok log)" "cancel" "token got a cancel"
unset TOKAGENT_FIDO_TIMEOUT_MS

ti_log "touch delayed: still works"
sk_ctl tok "touch delay=300" >/dev/null
ti_expect_ok "sign with a slow touch" sk_sign_verify "$TI_DIR/k"
exit 0

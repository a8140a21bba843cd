#!/bin/bash
# fido-multi: two tokens plugged in, a key on each.  The agent finds the
# token that holds a key handle by asking silently (no touch): a signature
# with the second token's key never asks the first for a touch, and the
# other way round; both keys log in.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

sk_start_vfido tok1 --serial one
sk_start_vfido tok2 --serial two
sk_use tok2
ti_expect_ok "enroll on tok2" sk_keygen "$TI_DIR/k2" ed25519-sk
sk_use tok1
ti_expect_ok "enroll on tok1" sk_keygen "$TI_DIR/k1" ecdsa-sk
for k in k1 k2; do
	ti_authorize srv "$TI_DIR/$k.pub"
done
ti_start_sshd srv
fido_start_agent tok1 tok2
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k1" "$TI_DIR/k2"
p1=$(fido_pub "$TI_DIR/k1")
p2=$(fido_pub "$TI_DIR/k2")

ti_log "key on the second token"
sk_ctl tok1 log >/dev/null
sk_ctl tok2 log >/dev/null
ti_expect_ok "-Y sign with k2" fido_sign "$p2"
ti_expect_ok "-Y verify k2" fido_verify "$p2"
out=$(ti_ssh srv -o IdentitiesOnly=yes -i "$p2" echo in-k2 2>&1) ||
    { echo "$out" >&2; ti_fail "login with k2"; }
ti_assert_eq in-k2 "$out" "login with k2"
log1=$(sk_ctl tok1 log)
log2=$(sk_ctl tok2 log)
ti_log "tok1: $log1"
ti_log "tok2: $log2"
ti_assert_not_contains "$log1" "up=1" "tok1 was asked for a touch"
ti_assert_contains "$log2" "getAssertion up=1" "tok2 signed"

ti_log "key on the first token"
ti_expect_ok "-Y sign with k1" fido_sign "$p1"
ti_expect_ok "-Y verify k1" fido_verify "$p1"
out=$(ti_ssh srv -o IdentitiesOnly=yes -i "$p1" echo in-k1 2>&1) ||
    { echo "$out" >&2; ti_fail "login with k1"; }
ti_assert_eq in-k1 "$out" "login with k1"
log1=$(sk_ctl tok1 log)
log2=$(sk_ctl tok2 log)
ti_assert_contains "$log1" "getAssertion up=1" "tok1 signed"
ti_assert_not_contains "$log2" "up=1" "tok2 was asked for a touch"

ti_log "the token holding k2 unplugged: a clear error naming the key"
ti_kill "$SK_VFIDO_PID_tok2"
ti_expect_fail "-Y sign with k2 unplugged" fido_sign "$p2"
grep "refused" "$TI_AGENT_LOG" | grep -qF "$(ti_fp "$p2")" ||
    ti_fail "the refusal does not name the key"
ti_assert_not_contains "$(sk_ctl tok1 log)" "up=1" \
    "tok1 asked for a touch for a key it does not hold"
ti_expect_ok "k1 still signs" fido_sign "$p1"
ti_agent_alive || ti_fail "agent died"
exit 0

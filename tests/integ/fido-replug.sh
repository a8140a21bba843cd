#!/bin/bash
# fido-replug: the token is pulled while a signature waits for its touch:
# that request fails fast, the agent carries on; plugged in again (vfido
# restarted on the same state), the key signs again without being re-added.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

sk_start_vfido tok
sk_use tok
ti_expect_ok "enroll" sk_keygen "$TI_DIR/k" ecdsa-sk
ti_authorize srv "$TI_DIR/k.pub"
ti_start_sshd srv
fido_start_agent tok
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k"
pub=$(fido_pub "$TI_DIR/k")
ti_expect_ok "signs before the replug" ssh-add -T "$pub"

ti_log "pull the token while a touch is pending"
sk_ctl tok "touch manual" >/dev/null
ssh-add -T "$pub" >"$TI_DIR/pulled.log" 2>&1 &
cpid=$!
echo "$cpid" >>"$TI_DIR/pids"
fido_pending_wait tok 10 || ti_fail "no touch pending on the token"
ti_kill "$SK_VFIDO_PID_tok"
start=$(fido_now_ms)
# the client must be answered fast; give it 5 s before calling it hung
n=0
while kill -0 "$cpid" 2>/dev/null && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
kill -0 "$cpid" 2>/dev/null && ti_fail "request still pending 5 s after the pull"
wait "$cpid" && ti_fail "sign succeeded with the token pulled"
took=$(($(fido_now_ms) - start))
ti_log "request failed ${took} ms after the pull"
ti_agent_alive || ti_fail "agent died when the token was pulled"
ti_assert_contains "$(ssh-add -l)" "(ECDSA-SK)" "key still listed"
ti_expect_fail "sign with the token away" ssh-add -T "$pub"

ti_log "plug it in again (same state): signs without re-adding"
sk_start_vfido tok
sk_ctl tok log >/dev/null
ti_expect_ok "ssh-add -T after the replug" ssh-add -T "$pub"
ti_assert_contains "$(sk_ctl tok log)" "getAssertion up=1" "token signed"
out=$(ti_ssh srv -o IdentitiesOnly=yes -i "$pub" echo in 2>&1) ||
    { echo "$out" >&2; ti_fail "login after the replug"; }
ti_assert_eq in "$out" "login after the replug"
exit 0

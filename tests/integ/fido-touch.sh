#!/bin/bash
# fido-touch: what the token does with the touch decides the request, and a
# client that goes away mid-touch cancels the token operation.
#	approve	-> ssh logs in, the agent logs "waiting for touch on ..."
#	deny	-> ssh fails, the agent logs "touch denied"
#	never	-> bounded by the token's own time-out (vfido --timeout), the
#		   request fails fast with "timed out"
#	manual	-> ssh-add -T killed while the touch is pending: the token gets
#		   a CTAPHID CANCEL, and the agent carries on
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

# The token gives up on a touch after 1.5 s (the sk helper would wait 60 s).
sk_start_vfido tok --timeout 1500
sk_use tok
ti_expect_ok "enroll" sk_keygen "$TI_DIR/k" ed25519-sk
ti_authorize srv "$TI_DIR/k.pub"
ti_start_sshd srv
fido_start_agent tok
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k"
pub=$(fido_pub "$TI_DIR/k")

login()
{
	ti_ssh srv -o IdentitiesOnly=yes -i "$pub" true
}

ti_log "touch approved"
sk_ctl tok log >/dev/null
ti_expect_ok "login, touch approved" login
ti_assert_contains "$(sk_ctl tok log)" "getAssertion up=1" "token signed"
fido_log_wait "waiting for touch on unix:$TI_DIR/tok.sock" 5 ||
    ti_fail "agent did not log the touch wait"

ti_log "touch denied"
sk_ctl tok "touch deny" >/dev/null
ti_expect_fail "login with touch denied" login
ti_expect_fail "-Y sign with touch denied" fido_sign "$pub"
fido_log_wait "touch denied" 5 || ti_fail "agent log does not say touch denied"
ti_agent_alive || ti_fail "agent died after a denied touch"

ti_log "touch never comes: the token times out"
sk_ctl tok "touch never" >/dev/null
sk_ctl tok log >/dev/null
start=$(fido_now_ms)
ti_expect_fail "-Y sign with no touch" fido_sign "$pub"
took=$(($(fido_now_ms) - start))
ti_log "timed-out sign took ${took} ms"
[ "$took" -ge 1000 ] || ti_fail "sign failed before the token timed out"
[ "$took" -lt 10000 ] || ti_fail "time-out took ${took} ms"
fido_log_wait "timed out" 5 || ti_fail "agent log does not say timed out"

ti_log "touch never comes: the sk helper's own bound (TOKAGENT_FIDO_TIMEOUT_MS)"
ti_kill "$SK_VFIDO_PID_tok"
sk_start_vfido tok --touch never --timeout 30000
ti_stop_agent
TOKAGENT_FIDO_TIMEOUT_MS=1500
export TOKAGENT_FIDO_TIMEOUT_MS
fido_start_agent tok
unset TOKAGENT_FIDO_TIMEOUT_MS
ti_expect_ok "ssh-add again" ssh-add "$TI_DIR/k"
start=$(fido_now_ms)
ti_expect_fail "-Y sign with no touch" fido_sign "$pub"
took=$(($(fido_now_ms) - start))
ti_log "sign bounded by the sk helper failed after ${took} ms"
[ "$took" -ge 1000 ] || ti_fail "sign failed before the time-out"
[ "$took" -lt 10000 ] || ti_fail "time-out took ${took} ms"
fido_log_wait "timed out" 5 || ti_fail "agent log does not say timed out"
fido_pending_gone tok || ti_fail "token still waits after the time-out"
ti_assert_contains "$(sk_ctl tok log)" "cancel" \
    "the token was told to stop waiting"

ti_log "client disconnects while the token waits for a touch"
sk_ctl tok "touch manual" >/dev/null
sk_ctl tok log >/dev/null
cpid=$(ti_bg ssh-add -T "$pub")
fido_pending_wait tok 10 || ti_fail "no touch pending on the token"
ti_assert_contains "$(sk_ctl tok pending)" "getAssertion" "a sign is pending"
ti_kill "$cpid"
fido_pending_gone tok || ti_fail "token still waits after the client left"
ti_assert_contains "$(sk_ctl tok log)" "cancel" "token got a CTAPHID CANCEL"

ti_log "and the agent carries on"
sk_ctl tok "touch approve" >/dev/null
ti_expect_ok "ssh-add -T after the cancel" ssh-add -T "$pub"
ti_expect_ok "login after the cancel" login
ti_agent_alive || ti_fail "agent died"
exit 0

#!/bin/bash
# fido-helper-death: the sk helper holds no secret, so losing it costs no
# key.  A touch that takes many heartbeat periods is not held against the
# helper (it answers its heartbeat while the token waits); after the sk
# helper is killed, the agent gives the new one back the key handles it
# holds, those added with ssh-add and the resident ones the agent imported
# itself: the FIDO keys stay listed and sign as before.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

sk_start_vfido tok --pin 1234
sk_use tok
ti_askpass_setup pass:1234
ti_expect_ok "enroll ed25519-sk" sk_keygen "$TI_DIR/k_ed" ed25519-sk
ti_expect_ok "enroll ecdsa-sk" sk_keygen "$TI_DIR/k_ec" ecdsa-sk
ti_expect_ok "enroll resident ed25519-sk" sk_keygen "$TI_DIR/k_res" \
    ed25519-sk -O resident -O application=ssh:death
pub_ed=$(fido_pub "$TI_DIR/k_ed")
pub_ec=$(fido_pub "$TI_DIR/k_ec")
pub_res=$(fido_pub "$TI_DIR/k_res")

# A short heartbeat period: a slow touch spans many of them.
export TOKAGENT_HELPER_PING_MS=200
fido_start_agent tok
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k_ed" "$TI_DIR/k_ec"
ti_expect_ok "import the resident key" "$TEST_AGENT" --import-resident
ti_assert_eq 3 "$(ti_agent_count)" "three FIDO keys listed"
helper=$(pgrep -P "$TI_AGENT_PID" -f tokagent-sk-helper | head -n 1)
[ -n "$helper" ] || ti_fail "no sk helper under agent pid $TI_AGENT_PID"

ti_log "a slow touch is not a hung helper"
sk_ctl tok "touch delay=2000" >/dev/null
ti_expect_ok "sign with a slow touch" fido_sign "$pub_ed"
ti_expect_ok "verify" fido_verify "$pub_ed"
sk_ctl tok "touch approve" >/dev/null
ti_assert_eq "$helper" \
    "$(pgrep -P "$TI_AGENT_PID" -f tokagent-sk-helper | head -n 1)" \
    "the sk helper was kept"
ti_assert_not_contains "$(cat "$TI_AGENT_LOG")" "heartbeat" \
    "no missed heartbeat"

ti_log "kill the sk helper: the keys are given back"
kill -9 "$helper"
for i in $(seq 100); do
	h2=$(pgrep -P "$TI_AGENT_PID" -f tokagent-sk-helper | head -n 1)
	[ -n "$h2" ] && [ "$h2" != "$helper" ] &&
	    [ "$(ti_agent_count)" = 3 ] && break
	sleep 0.1
done
[ -n "$h2" ] && [ "$h2" != "$helper" ] || ti_fail "sk helper not restarted"
ti_assert_eq 3 "$(ti_agent_count)" "FIDO keys still listed"
ti_assert_contains "$(ssh-add -L)" "$(cut -d' ' -f2 "$pub_res")" \
    "the imported resident key is still listed"
ti_expect_ok "sign ed25519-sk after the restart" fido_sign "$pub_ed"
ti_expect_ok "verify ed25519-sk" fido_verify "$pub_ed"
ti_expect_ok "sign ecdsa-sk after the restart" fido_sign "$pub_ec"
ti_expect_ok "verify ecdsa-sk" fido_verify "$pub_ec"
ti_expect_ok "sign with the resident key after the restart" fido_sign "$pub_res"
ti_expect_ok "verify the resident key" fido_verify "$pub_res"
ti_assert_not_contains "$(cat "$TI_AGENT_LOG")" "was lost" \
    "no key was lost"
ti_log "ok"
exit 0

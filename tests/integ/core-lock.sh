#!/bin/bash
# core-lock: `ssh-add -x` locks the agent with a passphrase (from askpass);
# a locked agent lists nothing and signs nothing; a wrong passphrase does not
# unlock; the right one does, and the keys are back.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup

ti_keygen ed25519 - "$TI_DIR/k1"
ti_keygen rsa 2048 "$TI_DIR/k2"
ti_keygen ecdsa 256 "$TI_DIR/k3"
ti_askpass_setup "pass:correct horse"
ti_start_agent
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k1" "$TI_DIR/k2"
ti_assert_eq 2 "$(ti_agent_count)" "keys before locking"

ti_expect_ok "ssh-add -x" ssh-add -x
ti_assert_eq 0 "$(ti_agent_count)" "locked agent lists nothing"
ti_expect_fail "locked agent signs nothing" ssh-add -T "$TI_DIR/k1.pub"
ti_expect_fail "locked agent adds nothing" ssh-add "$TI_DIR/k3"
ti_expect_fail "locking a locked agent" ssh-add -x

ti_askpass_answer "pass:wrong horse"
ti_expect_fail "unlock with the wrong passphrase" ssh-add -X
ti_assert_eq 0 "$(ti_agent_count)" "still locked after a wrong passphrase"
ti_askpass_answer "pass:"
ti_expect_fail "unlock with an empty passphrase" ssh-add -X

ti_askpass_answer "pass:correct horse"
ti_expect_ok "unlock" ssh-add -X
ti_assert_eq 2 "$(ti_agent_count)" "keys back after unlocking"
ti_expect_ok "signs after unlocking" ssh-add -T "$TI_DIR/k1.pub"
ti_expect_ok "rsa signs after unlocking" ssh-add -T "$TI_DIR/k2.pub"
ti_expect_fail "unlocking an unlocked agent" ssh-add -X

# Lock and unlock again with another passphrase.
ti_askpass_answer "pass:second"
ti_expect_ok "second lock" ssh-add -x
ti_assert_eq 0 "$(ti_agent_count)" "locked again"
ti_askpass_answer "pass:correct horse"
ti_expect_fail "old passphrase does not unlock" ssh-add -X
ti_askpass_answer "pass:second"
ti_expect_ok "second unlock" ssh-add -X
ti_assert_eq 2 "$(ti_agent_count)" "keys back after the second unlock"

ti_agent_alive || ti_fail "agent died"
exit 0

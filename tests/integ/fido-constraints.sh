#!/bin/bash
# fido-constraints: constraints are checked before the token is touched.
# An sk key added with confirm (-c) and a destination (-h srv): a denied
# confirm, or a use outside the destination, fails without the token seeing
# any request at all; confirmed, ssh to the allowed destination logs in.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

sk_start_vfido tok
sk_use tok
ti_expect_ok "enroll" sk_keygen "$TI_DIR/k" ed25519-sk
ti_authorize srv "$TI_DIR/k.pub"
ti_authorize other "$TI_DIR/k.pub"
ti_start_sshd srv
ti_start_sshd other
ti_askpass_setup no
fido_start_agent tok
ti_expect_ok "ssh-add -c -h srv" ssh-add -c -H "$TI_DIR/known_hosts" \
    -h srv "$TI_DIR/k"
pub=$(fido_pub "$TI_DIR/k")

login()
{
	ti_ssh "$1" -o IdentitiesOnly=yes -i "$pub" echo "in-$1"
}

# confirm_asks: confirmation prompts shown so far.
confirm_asks()
{
	grep -c "^confirm	" "$TI_DIR/askpass.log"
}

ti_log "confirm denied: the token is never asked"
sk_ctl tok log >/dev/null
ti_expect_fail "login with confirm denied" login srv
ti_assert_eq 1 "$(confirm_asks)" "confirmation asked once"
ti_assert_contains "$(grep '^confirm' "$TI_DIR/askpass.log")" \
    "$(ti_fp "$pub")" "confirm prompt names the key"
ti_assert_eq "" "$(sk_ctl tok log)" "token requests after a denied confirm"

ti_log "another destination: refused before confirm and token"
ti_askpass_answer yes
ti_expect_fail "login to a host not in -h" login other
ti_expect_fail "-Y sign (no session: not a destination)" fido_sign "$pub"
ti_assert_eq 1 "$(confirm_asks)" "no confirmation asked for refused uses"
ti_assert_eq "" "$(sk_ctl tok log)" "token requests for refused uses"

ti_log "confirmed, to the allowed destination: logs in"
out=$(login srv 2>&1) || { echo "$out" >&2; ti_fail "login confirmed"; }
ti_assert_eq in-srv "$out" "login confirmed"
ti_assert_eq 2 "$(confirm_asks)" "confirmation asked"
ti_assert_contains "$(grep '^confirm' "$TI_DIR/askpass.log" | tail -n 1)" \
    "log in as \"$(id -un)\"@srv" "confirm prompt names the destination"
ti_assert_contains "$(sk_ctl tok log)" "getAssertion up=1" "token signed"

ti_log "confirm that times out in the askpass: no token request either"
ti_askpass_answer sleep:1:no
ti_expect_fail "login, confirm answered no after 1 s" login srv
ti_assert_eq "" "$(sk_ctl tok log)" "token requests after a late no"
ti_agent_alive || ti_fail "agent died"
exit 0

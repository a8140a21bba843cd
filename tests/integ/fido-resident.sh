#!/bin/bash
# fido-resident: resident keys enrolled on vfido by ssh-keygen are imported
# into tokagent with `tokagent --import-resident` (the agent asks for the PIN
# and reads the token through its sk helper) and log in through the agent;
# an external middleware outside the -P allowlist is refused.
# (ssh-add -K -S MIDDLEWARE: see fido-resident-mw.sh.)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

sk_start_vfido tok --pin 1234
sk_use tok
ti_askpass_setup pass:1234
ti_expect_ok "enroll resident ed25519-sk" sk_keygen "$TI_DIR/r1" ed25519-sk \
    -O resident -O application=ssh:res-one
ti_expect_ok "enroll resident ecdsa-sk" sk_keygen "$TI_DIR/r2" ecdsa-sk \
    -O resident -O application=ssh:res-two
ti_expect_ok "enroll non-resident" sk_keygen "$TI_DIR/nr" ed25519-sk
for k in r1 r2; do
	ti_authorize srv "$TI_DIR/$k.pub"
done
ti_start_sshd srv

ti_log "an external middleware outside the -P allowlist is refused"
fido_start_agent tok -- -P "/usr/lib*/*"
ti_expect_fail "ssh-add -K -S, not allowed" ssh-add -K -S "$SK_MOD"
ti_assert_eq 0 "$(ti_agent_count)" "nothing imported"
fido_log_wait "not in the allowlist" 5 ||
    ti_fail "agent log does not say why the provider was refused"

ti_log "tokagent --import-resident: the agent reads the token itself"
: >"$TI_DIR/askpass.log"
out=$("$TEST_AGENT" --import-resident 2>&1) ||
    { echo "$out" >&2; ti_fail "tokagent --import-resident"; }
ti_log "$out"
ti_assert_contains "$out" "Imported 2 resident keys" "import reports 2 keys"
ti_assert_contains "$(cat "$TI_DIR/askpass.log")" "PIN" \
    "the agent asked for the token's PIN"
ti_assert_eq 2 "$(ti_agent_count)" "the two resident keys imported"
for k in r1 r2; do
	ti_assert_contains "$(ssh-add -L)" "$(cut -d' ' -f2 "$TI_DIR/$k.pub")" \
	    "resident key $k imported"
done
ti_assert_not_contains "$(ssh-add -L)" "$(cut -d' ' -f2 "$TI_DIR/nr.pub")" \
    "non-resident key imported"

for k in r1 r2; do
	ti_log "login with imported $k"
	p=$(fido_pub "$TI_DIR/$k")
	sk_ctl tok log >/dev/null
	out=$(ti_ssh srv -o IdentitiesOnly=yes -i "$p" echo "in-$k" 2>&1) ||
	    { echo "$out" >&2; ti_fail "login with $k"; }
	ti_assert_eq "in-$k" "$out" "login with $k"
	ti_assert_contains "$(sk_ctl tok log)" "getAssertion up=1" \
	    "$k signed on the token"
	ti_expect_ok "-Y sign with $k" fido_sign "$p"
	ti_expect_ok "-Y verify $k" fido_verify "$p"
done
ti_agent_alive || ti_fail "agent died"
exit 0

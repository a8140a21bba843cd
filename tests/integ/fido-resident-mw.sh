#!/bin/bash
# fido-resident-mw: resident keys enrolled on vfido are imported into
# tokagent with `ssh-add -K -S MIDDLEWARE` (the keys then carry the
# sk-provider constraint MIDDLEWARE, to be loaded in the sk helper under the
# -P allowlist), and log in through the agent; a middleware outside the
# allowlist is refused.
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
modreal=$(readlink -f "$SK_MOD")

ti_log "middleware not allowed by -P: refused"
fido_start_agent tok -- -P "/usr/lib*/*"
ti_expect_fail "ssh-add -K -S, not allowed" ssh-add -K -S "$SK_MOD"
ti_assert_eq 0 "$(ti_agent_count)" "nothing imported"
ti_stop_agent

ti_log "ssh-add -K -S middleware"
fido_start_agent tok -- -P "$(dirname "$modreal")/*"
: >"$TI_DIR/askpass.log"
ti_expect_ok "ssh-add -K -S" ssh-add -K -S "$SK_MOD"
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
# The touch waits name the device the sk helper used: the middleware.
fido_log_wait "waiting for touch on $modreal" 5 || {
	cat "$TI_AGENT_LOG" >&2
	ti_fail "signatures not made through the middleware"
}
ti_agent_alive || ti_fail "agent died"
exit 0

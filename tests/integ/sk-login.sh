#!/bin/bash
# ssh logs in to a private sshd with ed25519-sk and ecdsa-sk keys made and
# used through tokagent-sk.so (SecurityKeyProvider), without any agent.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/sk-lib.sh"
sk_setup

sk_start_vfido tok
sk_use tok
for type in ed25519-sk ecdsa-sk; do
	ti_expect_ok "enroll $type" sk_keygen "$TI_DIR/k-$type" "$type"
	ti_authorize srv "$TI_DIR/k-$type.pub"
done
ti_start_sshd srv "PubkeyAcceptedAlgorithms +sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com"

for type in ed25519-sk ecdsa-sk; do
	ti_log "login with $type"
	sk_ctl tok log >/dev/null
	out=$(ti_ssh srv -o IdentitiesOnly=yes -o IdentityAgent=none \
	    -o SecurityKeyProvider="$SK_MOD" -i "$TI_DIR/k-$type" \
	    echo logged-in-$type 2>"$TI_DIR/ssh-$type.err") ||
	    { cat "$TI_DIR/ssh-$type.err" >&2; ti_fail "ssh with $type"; }
	ti_assert_eq "logged-in-$type" "$out" "ssh $type"
	ti_assert_contains "$(sk_ctl tok log)" "getAssertion up=1" \
	    "$type login signed on the token"
done

ti_log "touch denied: login refused"
sk_ctl tok "touch deny" >/dev/null
if ti_ssh srv -o IdentitiesOnly=yes -o IdentityAgent=none \
    -o SecurityKeyProvider="$SK_MOD" -i "$TI_DIR/k-ed25519-sk" true \
    2>"$TI_DIR/ssh-deny.err"; then
	ti_fail "login succeeded with touch denied"
fi
exit 0

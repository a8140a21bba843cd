#!/bin/bash
# core-badinput: a corpus of malformed frames (tests/integ/badframes), each
# on a fresh connection, gets FAILURE or a closed connection, never a crash
# or a hang, and the agent keeps its keys.  Against OpenSSH's agent the
# cases it does not check (trailing bytes...) are tolerated (-l).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup

bf=$TI_BUILD/tests/integ/badframes
[ -x "$bf" ] || ti_fail "$bf not built (make check builds it)"
ti_keygen ed25519 - "$TI_DIR/k1"
ti_keygen ecdsa 384 "$TI_DIR/k2"
ti_keygen rsa 2048 "$TI_DIR/k3"
ti_start_agent
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k1" "$TI_DIR/k2" "$TI_DIR/k3"
before=$(ssh-add -L)

opts=-v
ti_is_openssh_agent && opts="$opts -l"
"$bf" $opts "$SSH_AUTH_SOCK" >"$TI_DIR/badframes.log" 2>&1
rc=$?
cat "$TI_DIR/badframes.log" >&2
[ $rc = 0 ] || ti_fail "badframes failed (exit $rc)"

ti_agent_alive || ti_fail "agent died"
ti_assert_eq "$before" "$(ssh-add -L)" "keys after the corpus"
for k in k1 k2 k3; do
	ti_expect_ok "ssh-add -T $k after the corpus" ssh-add -T "$TI_DIR/$k.pub"
done

# The whole corpus again, on a SIGN key that is an RSA key this time.
ti_expect_ok "ssh-add -D" ssh-add -D
ti_expect_ok "ssh-add rsa" ssh-add "$TI_DIR/k3"
"$bf" $opts "$SSH_AUTH_SOCK" >"$TI_DIR/badframes2.log" 2>&1 ||
    { cat "$TI_DIR/badframes2.log" >&2; ti_fail "badframes (rsa) failed"; }
ti_agent_alive || ti_fail "agent died (second run)"
ti_expect_ok "ssh-add -T rsa after the corpus" ssh-add -T "$TI_DIR/k3.pub"
exit 0

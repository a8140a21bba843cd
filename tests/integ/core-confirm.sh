#!/bin/bash
# core-confirm: keys added with `ssh-add -c` ask through SSH_ASKPASS before
# every signature; "yes" signs, "no" refuses, and the prompt names the key.
# tokagent-only: the prompt also names the requesting process (pid and
# executable).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup

ti_keygen ed25519 - "$TI_DIR/kc"
ti_keygen ecdsa 256 "$TI_DIR/kplain"
mkdir "$TI_DIR/pub"
cp "$TI_DIR/kc.pub" "$TI_DIR/kplain.pub" "$TI_DIR/pub/"
echo "confirm me" >"$TI_DIR/msg"

ti_askpass_setup yes
ti_start_agent
ti_expect_ok "ssh-add -c" ssh-add -c "$TI_DIR/kc"
ti_expect_ok "ssh-add plain" ssh-add "$TI_DIR/kplain"
ti_assert_eq 0 "$(ti_askpass_count)" "no prompt while adding"

sign()
{
	rm -f "$TI_DIR/msg.sig"
	ssh-keygen -Y sign -n file -f "$TI_DIR/pub/$1.pub" "$TI_DIR/msg" \
	    >"$TI_DIR/sign.out" 2>&1
}

# Confirmed: signs, exactly one prompt, of the confirm kind, naming the key.
ti_askpass_answer yes
rm -f "$TI_DIR/msg.sig"
# A simple command in the background: $! is ssh-keygen's own pid.
ssh-keygen -Y sign -n file -f "$TI_DIR/pub/kc.pub" "$TI_DIR/msg" \
    >"$TI_DIR/sign.out" 2>&1 &
spid=$!
wait $spid || { cat "$TI_DIR/sign.out" >&2; ti_fail "confirmed signature"; }
ti_assert_eq 1 "$(ti_askpass_count)" "one prompt per signature"
line=$(tail -n 1 "$TI_DIR/askpass.log")
ti_assert_eq confirm "${line%%$'\t'*}" "SSH_ASKPASS_PROMPT=confirm"
fp=$(ti_fp "$TI_DIR/kc.pub")
case $line in
*"$fp"*|*"ti-ed25519@kc"*) ;;
*) ti_fail "prompt does not name the key: $line" ;;
esac
if ! ti_is_openssh_agent; then
	ti_assert_contains "$line" "$spid" "prompt names the requesting pid"
	ti_assert_contains "$line" "ssh-keygen" \
	    "prompt names the requesting executable"
fi

# Denied: no signature, one more prompt.
ti_askpass_answer no
sign kc && ti_fail "denied confirm still signed"
ti_assert_eq 2 "$(ti_askpass_count)" "prompt on the denied request"

# A key without -c never prompts.
sign kplain || ti_fail "plain key signature"
ti_assert_eq 2 "$(ti_askpass_count)" "no prompt for a key added without -c"

# Login through sshd with a confirm key: allowed, then denied.
ti_authorize c "$TI_DIR/kc.pub"
ti_start_sshd c
ssh-add -d "$TI_DIR/kplain" >/dev/null 2>&1
ti_askpass_answer yes
out=$(ti_ssh c -o IdentityFile=none echo ok) || ti_fail "confirmed login"
ti_assert_eq ok "$out" "confirmed login"
ti_assert_eq 3 "$(ti_askpass_count)" "login asked once"
ti_askpass_answer no
ti_expect_fail "denied login" ti_ssh c -o IdentityFile=none echo ok

# Re-adding without -c drops the confirm constraint.
ti_expect_ok "re-add without -c" ssh-add "$TI_DIR/kc"
n=$(ti_askpass_count)
sign kc || ti_fail "signature after re-add without -c"
ti_assert_eq "$n" "$(ti_askpass_count)" "no prompt after re-add without -c"

ti_agent_alive || ti_fail "agent died"
exit 0

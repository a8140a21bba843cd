#!/bin/bash
# Resident keys: ssh-keygen -O resident enrolls them (PIN through askpass),
# ssh-keygen -K and ssh-add -K (into OpenSSH's ssh-agent, which uses the
# middleware for signing) load them back, and they sign.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/sk-lib.sh"
sk_setup

sk_start_vfido tok --pin 1234
sk_use tok
ti_askpass_setup pass:1234

ti_expect_ok "enroll resident ed25519-sk" sk_keygen "$TI_DIR/r1" ed25519-sk \
    -O resident -O application=ssh:one
ti_expect_ok "enroll resident ecdsa-sk, verify-required" \
    sk_keygen "$TI_DIR/r2" ecdsa-sk -O resident -O verify-required \
    -O application=ssh:two
ti_expect_ok "enroll non-resident" sk_keygen "$TI_DIR/nr" ed25519-sk

ti_log "ssh-keygen -K"
mkdir "$TI_DIR/dl"
(cd "$TI_DIR/dl" && ssh-keygen -K -w "$SK_MOD" -N '' </dev/null) \
    >"$TI_DIR/dl.out" 2>&1 || { cat "$TI_DIR/dl.out" >&2; ti_fail "ssh-keygen -K"; }
n=$(ls "$TI_DIR/dl"/*.pub 2>/dev/null | wc -l)
ti_assert_eq 2 "$n" "downloaded resident keys"
for k in r1 r2; do
	found=0
	for p in "$TI_DIR"/dl/*.pub; do
		[ "$(cut -d' ' -f1,2 "$p")" = "$(cut -d' ' -f1,2 "$TI_DIR/$k.pub")" ] &&
		    found=1
	done
	[ $found = 1 ] || ti_fail "resident key $k not downloaded"
done
# a downloaded key signs; its file carries the verify-required flag
for p in "$TI_DIR"/dl/*.pub; do
	ti_expect_ok "sign with downloaded ${p##*/}" sk_sign_verify "${p%.pub}"
done

ti_log "wrong PIN for -K"
ti_askpass_answer pass:4321
(cd "$TI_DIR/dl" && ssh-keygen -K -w "$SK_MOD" -N '' </dev/null) \
    >"$TI_DIR/dl2.out" 2>&1 && ti_fail "ssh-keygen -K with a wrong PIN"
ti_askpass_answer pass:1234

ti_log "ssh-add -K into OpenSSH's ssh-agent"
agent=${SSH_AGENT_BIN:-/usr/bin/ssh-agent}
modreal=$(readlink -f "$SK_MOD")
apid=$(TI_BG_LOG=$TI_DIR/ssh-agent.log ti_bg "$agent" -D \
    -a "$TI_DIR/ssh-agent.sock" -P "$(dirname "$modreal")/*")
ti_wait_for_socket "$TI_DIR/ssh-agent.sock" 10 "$apid" ||
    ti_fail "ssh-agent did not start"
export SSH_AUTH_SOCK=$TI_DIR/ssh-agent.sock
ti_expect_ok "ssh-add -K" ssh-add -K -S "$modreal"
ti_assert_eq 2 "$(ti_agent_count)" "keys in the agent"
list=$(ssh-add -L)
ti_assert_contains "$list" "$(cut -d' ' -f2 "$TI_DIR/r1.pub")" "r1 in agent"
ti_assert_contains "$list" "$(cut -d' ' -f2 "$TI_DIR/r2.pub")" "r2 in agent"
ti_log "sign through the agent (the agent runs the middleware)"
msg=$TI_DIR/agentmsg
echo agent-signed >"$msg"
ti_expect_ok "agent sign r1" ssh-keygen -Y sign -f "$TI_DIR/r1.pub" -n file "$msg"
printf 'signer %s\n' "$(cat "$TI_DIR/r1.pub")" >"$TI_DIR/allowed_signers"
ti_expect_ok "verify agent signature" sh -c "ssh-keygen -Y verify \
    -f '$TI_DIR/allowed_signers' -I signer -n file -s '$msg.sig' <'$msg'"
exit 0

#!/bin/bash
# tests/integ/p11-agent.sh: PKCS#11 keys through the agent with OpenSSH's
# own tools: `ssh-add -s` (PIN via askpass) lists the SoftHSM2 token's keys
# exactly as `ssh-keygen -D` sees them, `ssh` logs in to a private sshd
# with each key type, `ssh-add -e` removes them, and a wrong PIN adds
# nothing.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/p11/softhsm.sh"

p11_softhsm_available || ti_skip "SoftHSM2 / pkcs11-tool not installed"
ti_require_cmd ssh ssh-add ssh-keygen
MODULE=$P11_SOFTHSM_MODULE
PIN=2468

p11_softhsm_init "$TI_DIR" || ti_fail "softhsm init"
p11_softhsm_token agent "$PIN" || ti_fail "token init"
p11_softhsm_standard_keys agent "$PIN" || ti_fail "key generation"

ssh-keygen -D "$MODULE" >"$TI_DIR/openssh-keys.txt" \
    2>"$TI_DIR/ssh-keygen.log" || ti_fail "ssh-keygen -D"
awk '{ print $1, $2 }' "$TI_DIR/openssh-keys.txt" | sort \
    >"$TI_DIR/openssh.sorted"

ti_askpass_setup "pass:$PIN"
ti_start_agent

# Wrong PIN: the add fails and lists nothing.
ti_askpass_answer "pass:0000"
ti_expect_fail "ssh-add -s with a wrong PIN" ssh-add -s "$MODULE"
ti_assert_eq 0 "$(ti_agent_count)" "keys after a wrong PIN"

ti_askpass_answer "pass:$PIN"
ti_expect_ok "ssh-add -s" ssh-add -s "$MODULE"
ssh-add -L >"$TI_DIR/agent-keys.txt" || ti_fail "ssh-add -L"
awk '{ print $1, $2 }' "$TI_DIR/agent-keys.txt" | sort >"$TI_DIR/agent.sorted"
# Everything OpenSSH sees, plus Ed25519 where the agent has it (OpenSSH
# 9.2 has no Ed25519 over PKCS#11).
grep -v '^ssh-ed25519 ' "$TI_DIR/agent.sorted" >"$TI_DIR/agent.noed"
grep -v '^ssh-ed25519 ' "$TI_DIR/openssh.sorted" >"$TI_DIR/openssh.noed"
cmp -s "$TI_DIR/agent.noed" "$TI_DIR/openssh.noed" ||
    ti_fail "agent keys differ from ssh-keygen -D"
if ! ti_is_openssh_agent && [ "$P11_HAVE_ED25519" = 1 ]; then
	grep -q '^ssh-ed25519 ' "$TI_DIR/agent.sorted" ||
	    ti_fail "Ed25519 token key not listed"
fi
ti_log "agent lists $(wc -l <"$TI_DIR/agent.sorted") token keys"

# Log in with each key, one at a time.
ti_start_sshd p11
i=0
while read -r line; do
	i=$((i + 1))
	echo "$line" >"$TI_DIR/key$i.pub"
	ti_authorize p11 "$TI_DIR/key$i.pub"
done <"$TI_DIR/agent-keys.txt"
for f in "$TI_DIR"/key*.pub; do
	what="login with $(awk '{ print $1, $3 }' "$f")"
	out=$(ti_ssh p11 -o IdentitiesOnly=yes -i "$f" echo p11-login-ok \
	    2>>"$TI_DIR/ssh.log") || ti_fail "$what"
	ti_assert_eq p11-login-ok "$out" "$what"
done
# RSA with each SHA-2 signature algorithm the server may pick.
for alg in rsa-sha2-256 rsa-sha2-512; do
	f=$(grep -l '^ssh-rsa ' "$TI_DIR"/key*.pub | head -n 1)
	out=$(ti_ssh p11 -o IdentitiesOnly=yes -i "$f" \
	    -o PubkeyAcceptedAlgorithms="$alg" echo ok-$alg \
	    2>>"$TI_DIR/ssh.log") || ti_fail "login with $alg"
	ti_assert_eq "ok-$alg" "$out" "login with $alg"
done

# ssh-add -e removes every key of the provider.
ti_expect_ok "ssh-add -e" ssh-add -e "$MODULE"
ti_assert_eq 0 "$(ti_agent_count)" "keys after ssh-add -e"
f=$(ls "$TI_DIR"/key*.pub | head -n 1)
ti_expect_fail "login after ssh-add -e" ti_ssh p11 -o IdentitiesOnly=yes \
    -o BatchMode=yes -i "$f" true

ti_log "ok"
exit 0

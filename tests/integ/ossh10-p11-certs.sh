#!/bin/bash
# tests/integ/ossh10-p11-certs.sh: `ssh-add -s MODULE FILE...` of OpenSSH
# 10.5 (associated-certs-v00@openssh.com; 9.2's ssh-add cannot send it)
# with a list that mixes certificates and plain public keys, as users type
# ~/.ssh/*.pub: the agent skips the plain keys, as OpenSSH's does, instead
# of refusing the token.  The certificate of a token key is listed beside
# it and logs in to an sshd that trusts only the CA; a certificate of a key
# not on the token is not attached; `ssh-add -C -s` lists the certificate
# only.  ssh and sshd are those of TI_TOOLS (Debian's or 10.5's).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/p11/softhsm.sh"

ti_require_openssh10
ADD10=$OPENSSH10_BIN/ssh-add
p11_softhsm_available || ti_skip "SoftHSM2 / pkcs11-tool not installed"
MODULE=$P11_SOFTHSM_MODULE
PIN=97531
p11_softhsm_init "$TI_DIR" || ti_fail "softhsm init"
p11_softhsm_token certs "$PIN" || ti_fail "token init"
p11_softhsm_keygen certs "$PIN" 01 EC:prime256v1 p256 || ti_fail "keygen p256"
p11_softhsm_keygen certs "$PIN" 02 RSA:2048 rsa2048 || ti_fail "keygen rsa"

ti_askpass_setup "pass:$PIN"
ti_start_agent

# wait_count N: until the agent lists N keys.
wait_count()
{
	local _
	for _ in $(seq 100); do
		[ "$(ti_agent_count)" = "$1" ] && return 0
		sleep 0.05
	done
	ti_fail "agent lists $(ti_agent_count) keys, expected $1"
}

# The token's public keys, as ssh-keygen -D reads them from the module.
ssh-keygen -D "$MODULE" >"$TI_DIR/token.txt" 2>/dev/null ||
    ti_fail "ssh-keygen -D"
grep '^ecdsa-' "$TI_DIR/token.txt" | head -1 >"$TI_DIR/tok-ec.pub"
grep '^ssh-rsa ' "$TI_DIR/token.txt" | head -1 >"$TI_DIR/tok-rsa.pub"
[ -s "$TI_DIR/tok-ec.pub" ] && [ -s "$TI_DIR/tok-rsa.pub" ] ||
    ti_fail "token keys not found: $(cat "$TI_DIR/token.txt")"

ti_make_user_ca cert
ti_start_sshd cert
cp "$TI_DIR/tok-ec.pub" "$TI_DIR/certkey.pub"
ti_certify "$TI_DIR/sshd-cert/user_ca" "$TI_DIR/certkey.pub"
ti_keygen ed25519 - "$TI_DIR/other"
ti_certify "$TI_DIR/sshd-cert/user_ca" "$TI_DIR/other.pub"
CERTB64=$(cut -d' ' -f2 "$TI_DIR/certkey-cert.pub")

# Certificates and plain keys mixed, in the order a glob gives them.
ti_expect_ok "ssh-add -s with certificates and plain keys" \
    "$ADD10" -s "$MODULE" "$TI_DIR/certkey-cert.pub" "$TI_DIR/certkey.pub" \
    "$TI_DIR/other-cert.pub" "$TI_DIR/other.pub" "$TI_DIR/tok-rsa.pub"
# The two token keys and the one certificate of a token key.
wait_count 3
ssh-add -L >"$TI_DIR/list.txt"
ti_assert_eq 1 "$(grep -c -- '-cert-v01@openssh.com ' "$TI_DIR/list.txt")" \
    "certificates listed"
grep -q "$CERTB64" "$TI_DIR/list.txt" ||
    ti_fail "the token key's certificate is not listed"
grep -q "$(cut -d' ' -f2 "$TI_DIR/other-cert.pub")" "$TI_DIR/list.txt" &&
    ti_fail "a certificate of a key not on the token is listed"
out=$(ti_ssh cert -o IdentitiesOnly=yes -i "$TI_DIR/certkey-cert.pub" \
    echo cert-login-ok 2>>"$TI_DIR/ssh.log") ||
    ti_fail "login with the token key's certificate"
ti_assert_eq cert-login-ok "$out" "login with the certificate"
grep -q 'Accepted publickey.*ECDSA-CERT' "$TI_DIR/sshd-cert/log" ||
    ti_fail "sshd did not accept a certificate"
ti_expect_ok "sign with the plain token key" ssh-add -T "$TI_DIR/tok-rsa.pub"
ti_expect_ok "ssh-add -e" "$ADD10" -e "$MODULE"
wait_count 0

# Only plain keys: nothing to attach, the token is added as without them.
ti_expect_ok "ssh-add -s with plain keys only" \
    "$ADD10" -s "$MODULE" "$TI_DIR/other.pub" "$TI_DIR/tok-rsa.pub"
wait_count 2
ti_expect_ok "ssh-add -e (plain only)" "$ADD10" -e "$MODULE"
wait_count 0

# -C: certificates only; the plain keys in the list are still skipped.
ti_expect_ok "ssh-add -C -s" "$ADD10" -C -s "$MODULE" \
    "$TI_DIR/tok-rsa.pub" "$TI_DIR/certkey-cert.pub" "$TI_DIR/other.pub"
wait_count 1
ssh-add -L >"$TI_DIR/certonly.txt"
grep -q "$CERTB64" "$TI_DIR/certonly.txt" ||
    ti_fail "-C: the certificate is not listed"
out=$(ti_ssh cert -o IdentitiesOnly=yes -i "$TI_DIR/certkey-cert.pub" \
    echo cert-only-ok 2>>"$TI_DIR/ssh.log") || ti_fail "login (-C)"
ti_assert_eq cert-only-ok "$out" "login (-C)"
ti_agent_alive || ti_fail "agent died"
ti_log "ok"
exit 0

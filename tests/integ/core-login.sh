#!/bin/bash
# core-login: real ssh logins to a private sshd through the agent with every
# software key type, with a certificate (TrustedUserCAKeys), and with RSA
# signatures made as rsa-sha2-256 and rsa-sha2-512 as the client asks.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup

specs="ed25519:- ecdsa:256 ecdsa:384 ecdsa:521 rsa:2048"
names=()
for s in $specs; do
	n="k_${s%%:*}_${s#*:}"
	n=${n%_-}
	names+=("$n")
	ti_keygen "${s%%:*}" "${s#*:}" "$TI_DIR/$n" &
done
ti_keygen ed25519 - "$TI_DIR/certkey" &
wait

ti_make_user_ca srv
ti_certify "$TI_DIR/sshd-srv/user_ca" "$TI_DIR/certkey.pub"
for n in "${names[@]}"; do
	ti_authorize srv "$TI_DIR/$n.pub"
done
ti_start_sshd srv
ti_start_agent
sshlog=$TI_DIR/sshd-srv/log

# login WHAT [SSH_OPTS...]: one login that must print "ok"; the private
# key files are never offered directly (IdentityFile none).
login()
{
	local what=$1 out
	shift
	out=$(ti_ssh srv -o IdentityFile=none "$@" echo ok 2>"$TI_DIR/ssh.err") ||
	    { cat "$TI_DIR/ssh.err" >&2; ti_fail "login with $what"; }
	ti_assert_eq ok "$out" "login output with $what"
}

# Before any key is added the login fails.
ti_expect_fail "login with an empty agent" \
    ti_ssh srv -o IdentityFile=none echo ok

for n in "${names[@]}"; do
	ssh-add -D >/dev/null 2>&1
	ti_expect_ok "ssh-add $n" ssh-add "$TI_DIR/$n"
	login "$n"
	fp=$(ti_fp "$TI_DIR/$n.pub")
	grep -q "Accepted publickey for $(id -un) .* $fp" "$sshlog" ||
	    ti_fail "sshd did not log the login with $n ($fp)"
done

# RSA: the agent must sign with the hash the client asked for.
ssh-add -D >/dev/null 2>&1
ti_expect_ok "ssh-add rsa" ssh-add "$TI_DIR/k_rsa_2048"
for alg in rsa-sha2-512 rsa-sha2-256; do
	before=$(grep -c "attempting public key $alg " "$sshlog")
	login "k_rsa_2048 as $alg" -o "PubkeyAcceptedAlgorithms=$alg"
	after=$(grep -c "attempting public key $alg " "$sshlog")
	[ "$after" -gt "$before" ] ||
	    ti_fail "sshd saw no $alg signature"
done

# Certificate: certkey is not in authorized_keys, only its CA is trusted.
ssh-add -D >/dev/null 2>&1
mkdir "$TI_DIR/nocert"
cp "$TI_DIR/certkey" "$TI_DIR/nocert/certkey"
ti_expect_ok "ssh-add certkey (no cert file)" ssh-add "$TI_DIR/nocert/certkey"
ti_expect_fail "login with an uncertified, unauthorized key" \
    ti_ssh srv -o IdentityFile=none echo ok
ssh-add -D >/dev/null 2>&1
ti_expect_ok "ssh-add certkey + certificate" ssh-add "$TI_DIR/certkey"
login "certificate"
grep -q "Accepted publickey for $(id -un) .*ED25519-CERT.*ti-cert-certkey" \
    "$sshlog" || ti_fail "sshd did not log a certificate login"

# Several keys at once: ssh tries them in turn and one of them works.
ssh-add -D >/dev/null 2>&1
ti_keygen ed25519 - "$TI_DIR/unauth1"
ti_keygen ecdsa 256 "$TI_DIR/unauth2"
ti_expect_ok "ssh-add several" ssh-add "$TI_DIR/unauth1" "$TI_DIR/unauth2" \
    "$TI_DIR/k_ecdsa_256"
login "the third of three keys"

ti_agent_alive || ti_fail "agent died"
exit 0

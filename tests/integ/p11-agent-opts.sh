#!/bin/bash
# tests/integ/p11-agent-opts.sh: a SoftHSM2 token through the agent with
# OpenSSH's tools, beyond plain login (tests/integ/p11-agent.sh does that):
# `ssh-keygen -Y sign` with token keys; the same provider added twice
# (refused, as by OpenSSH's agent: keys listed once); refusals that leave
# the agent serving (a provider outside the -P allowlist, a library that
# is no PKCS#11 module, a path that does not exist); lock and unlock;
# `ssh-add -c -s` (confirm denied -> no signature; a second add cannot
# drop the constraint); `ssh-add -t 2 -s` (the keys expire); certificates
# associated with the token keys (the associated-certs-v00@openssh.com
# constraint, which OpenSSH 9.2's ssh-add cannot send, so agentcli does)
# and a login with them, with and without certs_only.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/p11/softhsm.sh"

p11_softhsm_available || ti_skip "SoftHSM2 / pkcs11-tool not installed"
ti_require_cmd ssh ssh-add ssh-keygen od base64
MODULE=$P11_SOFTHSM_MODULE
CLI=$TI_BUILD/tests/integ/agentcli
[ -x "$CLI" ] || ti_fail "$CLI not built"
PIN=13579

p11_softhsm_init "$TI_DIR" || ti_fail "softhsm init"
p11_softhsm_token opts "$PIN" || ti_fail "token init"
p11_softhsm_keygen opts "$PIN" 01 EC:prime256v1 p256 || ti_fail "keygen p256"
p11_softhsm_keygen opts "$PIN" 02 RSA:2048 rsa2048 || ti_fail "keygen rsa"

# A software key, to check the agent keeps serving it through refusals.
ti_keygen ed25519 - "$TI_DIR/soft"

ti_askpass_setup "pass:$PIN"
ti_start_agent
ti_expect_ok "ssh-add soft key" ssh-add "$TI_DIR/soft"

# wait_count N [TENTHS=50]: until the agent lists N keys.
wait_count()
{
	local _
	for _ in $(seq "${2:-50}"); do
		[ "$(ti_agent_count)" = "$1" ] && return 0
		sleep 0.1
	done
	ti_fail "agent lists $(ti_agent_count) keys, expected $1"
}

# token_pubs: write the token keys' public keys to $TI_DIR/tok-*.pub.
token_pubs()
{
	rm -f "$TI_DIR"/tok-*.pub
	ssh-add -L | grep -v "$(cut -d' ' -f2 "$TI_DIR/soft.pub")" |
	    while read -r t b c; do
		case $t in
		ssh-rsa) echo "$t $b $c" >"$TI_DIR/tok-rsa.pub" ;;
		ecdsa-*) echo "$t $b $c" >"$TI_DIR/tok-ec.pub" ;;
		*) echo "$t $b $c" >"$TI_DIR/tok-other.pub" ;;
		esac
	    done
	if [ ! -f "$TI_DIR/tok-rsa.pub" ] || [ ! -f "$TI_DIR/tok-ec.pub" ]; then
		ti_fail "token keys not listed: $(ssh-add -L)"
	fi
}

# --- the same provider twice: refused, as by OpenSSH's agent (the second
# PIN would not be checked: the token is logged in); keys listed once.
ti_expect_ok "ssh-add -s" ssh-add -s "$MODULE"
wait_count 3
ti_expect_fail "ssh-add -s twice" ssh-add -s "$MODULE"
ti_agent_alive || ti_fail "agent died on a second ssh-add -s"
ti_askpass_answer "pass:0000"
ti_expect_fail "ssh-add -s again with a wrong PIN" ssh-add -s "$MODULE"
ti_askpass_answer "pass:$PIN"
wait_count 3
token_pubs
ti_assert_eq 3 "$(ssh-add -L | sort -u | wc -l | tr -d ' ')" \
    "distinct keys after adding the provider twice"
ti_expect_ok "sign after the refused re-adds" ssh-add -T "$TI_DIR/tok-ec.pub"

# --- ssh-keygen -Y sign with each token key; verify with OpenSSH.
echo "signed by a token key" >"$TI_DIR/msg"
for k in ec rsa; do
	rm -f "$TI_DIR/msg.sig"
	ti_expect_ok "ssh-keygen -Y sign ($k)" ssh-keygen -Y sign \
	    -f "$TI_DIR/tok-$k.pub" -n file "$TI_DIR/msg"
	printf 'tester %s\n' "$(cut -d' ' -f1,2 "$TI_DIR/tok-$k.pub")" \
	    >"$TI_DIR/allowed_signers"
	ti_expect_ok "ssh-keygen -Y verify ($k)" ssh-keygen -Y verify \
	    -f "$TI_DIR/allowed_signers" -I tester -n file \
	    -s "$TI_DIR/msg.sig" <"$TI_DIR/msg"
done
ti_expect_ok "ssh-add -T" ssh-add -T "$TI_DIR/tok-ec.pub" "$TI_DIR/tok-rsa.pub"

# --- refusals; the agent survives and keeps serving what it has.
refused()
{
	local what=$1 path=$2 n
	n=$(ti_agent_count)
	ti_expect_fail "$what" ssh-add -s "$path"
	ti_agent_alive || ti_fail "agent died: $what"
	ti_assert_eq "$n" "$(ti_agent_count)" "keys after: $what"
}
cp "$MODULE" "$TI_DIR/libcopied-softhsm2.so"
refused "a provider outside the allowlist" "$TI_DIR/libcopied-softhsm2.so"
NOTMOD=
for f in /usr/lib/x86_64-linux-gnu/libz.so.1 /lib/x86_64-linux-gnu/libz.so.1 \
    /usr/lib/x86_64-linux-gnu/libcbor.so.0.8 /usr/lib/libz.so.1; do
	[ -f "$f" ] && { NOTMOD=$f; break; }
done
[ -n "$NOTMOD" ] || ti_fail "no shared library to use as a non-module"
refused "a library that is no PKCS#11 module ($NOTMOD)" "$NOTMOD"
refused "a provider that does not exist" "/usr/lib/no-such-pkcs11-module.so"
ti_expect_ok "ssh-add -T after the refusals" ssh-add -T \
    "$TI_DIR/soft.pub" "$TI_DIR/tok-ec.pub"

# --- lock: nothing listed, no signature; unlock: the token keys are back.
ti_askpass_answer "pass:lock-secret"
ti_expect_ok "ssh-add -x" ssh-add -x
ti_assert_eq 0 "$(ti_agent_count)" "keys listed while locked"
ti_expect_fail "sign while locked" ssh-add -T "$TI_DIR/tok-ec.pub"
ti_expect_ok "ssh-add -X" ssh-add -X
ti_askpass_answer "pass:$PIN"
wait_count 3
ti_expect_ok "sign after unlock" ssh-add -T "$TI_DIR/tok-ec.pub"

# --- ssh-add -e removes the token keys, the software key stays.
ti_expect_ok "ssh-add -e" ssh-add -e "$MODULE"
wait_count 1
ti_expect_fail "ssh-add -T of a removed token key" \
    ssh-add -T "$TI_DIR/tok-ec.pub"

# --- confirm: denied -> no signature; allowed -> signature.
ti_expect_ok "ssh-add -c -s" ssh-add -c -s "$MODULE"
wait_count 3
asked=$(ti_askpass_count)
ti_askpass_answer no
ti_expect_fail "sign with confirm denied" ssh-add -T "$TI_DIR/tok-ec.pub"
[ "$(ti_askpass_count)" -gt "$asked" ] || ti_fail "no confirm prompt"
ti_log "confirm prompt: $(tail -n 1 "$TI_DIR/askpass.log")"
ti_askpass_answer yes
ti_expect_ok "sign with confirm allowed" ssh-add -T "$TI_DIR/tok-ec.pub"
# Adding the provider again without -c (and a wrong PIN) cannot drop it.
ti_askpass_answer "pass:0000"
ti_expect_fail "ssh-add -s over ssh-add -c -s" ssh-add -s "$MODULE"
ti_askpass_answer no
ti_expect_fail "confirm still required after a re-add" \
    ssh-add -T "$TI_DIR/tok-ec.pub"
# The software key was added without -c: no prompt for it.
asked=$(ti_askpass_count)
ti_askpass_answer no
ti_expect_ok "unconstrained software key" ssh-add -T "$TI_DIR/soft.pub"
ti_assert_eq "$asked" "$(ti_askpass_count)" "prompts for an unconstrained key"
ti_askpass_answer "pass:$PIN"
ti_expect_ok "ssh-add -e (confirm)" ssh-add -e "$MODULE"
wait_count 1

# --- lifetime: the token keys go away after 2 s, the provider can be
# added again afterwards.
ti_expect_ok "ssh-add -t 2 -s" ssh-add -t 2 -s "$MODULE"
wait_count 3
ti_expect_ok "sign before expiry" ssh-add -T "$TI_DIR/tok-rsa.pub"
sleep 2
wait_count 1 30
ti_expect_fail "sign after expiry" ssh-add -T "$TI_DIR/tok-rsa.pub"
ssh-add -e "$MODULE" >/dev/null 2>&1	# OpenSSH's agent still has it loaded
ti_expect_ok "ssh-add -s after expiry" ssh-add -s "$MODULE"
wait_count 3
ti_expect_ok "sign after re-adding" ssh-add -T "$TI_DIR/tok-rsa.pub"
ti_expect_ok "ssh-add -e (lifetime)" ssh-add -e "$MODULE"
wait_count 1

# --- certificates associated with token keys.
if ti_is_openssh_agent &&
    ! strings "$TEST_AGENT" | grep -q associated-certs-v00; then
	ti_log "skipping certificates: this ssh-agent has no associated-certs"
	ti_log "ok"
	exit 0
fi

# hexstr STRING: an SSH string (uint32 length + bytes) in hex.
hexstr()
{
	local h
	h=$(printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n')
	printf '%08x%s' $((${#h} / 2)) "$h"
}
# hexb64 BASE64: the decoded bytes as an SSH string, in hex.
hexb64()
{
	local h
	h=$(printf '%s' "$1" | base64 -d | od -An -tx1 -v | tr -d ' \n')
	printf '%08x%s' $((${#h} / 2)) "$h"
}
# add_with_certs CERTS_ONLY(0|1) CERTFILE...: ADD_SMARTCARD_KEY_CONSTRAINED
# with an associated-certs-v00@openssh.com constraint; prints the reply.
add_with_certs()
{
	local only=$1 blob='' f hex
	shift
	for f in "$@"; do
		blob=$blob$(hexb64 "$(cut -d' ' -f2 "$f")")
	done
	hex=1a$(hexstr "$MODULE")$(hexstr "$PIN")ff
	hex=$hex$(hexstr associated-certs-v00@openssh.com)0$only
	hex=$hex$(printf '%08x' $((${#blob} / 2)))$blob
	"$CLI" raw "$hex"
}

ti_make_user_ca cert
ti_start_sshd cert
cp "$TI_DIR/tok-ec.pub" "$TI_DIR/certkey.pub"
ti_certify "$TI_DIR/sshd-cert/user_ca" "$TI_DIR/certkey.pub"
[ -f "$TI_DIR/certkey-cert.pub" ] || ti_fail "no certificate made"
# A certificate for some other key must simply not be attached.
ti_keygen ed25519 - "$TI_DIR/other"
ti_certify "$TI_DIR/sshd-cert/user_ca" "$TI_DIR/other.pub"

reply=$(add_with_certs 0 "$TI_DIR/certkey-cert.pub" \
    "$TI_DIR/other-cert.pub") || ti_fail "agentcli"
ti_assert_eq 6 "${reply%% *}" "add with associated certificates"
wait_count 4
ssh-add -L >"$TI_DIR/with-certs.txt"
n=$(grep -c -- '-cert-v01@openssh.com ' "$TI_DIR/with-certs.txt")
ti_assert_eq 1 "$n" "certificates listed"
CERTB64=$(cut -d' ' -f2 "$TI_DIR/certkey-cert.pub")
grep -q "$CERTB64" "$TI_DIR/with-certs.txt" ||
    ti_fail "the token key's certificate is not listed"
# Log in with the certificate only: sshd trusts the CA, no authorized key.
out=$(ti_ssh cert -o IdentitiesOnly=yes -i "$TI_DIR/certkey-cert.pub" \
    echo cert-login-ok 2>>"$TI_DIR/ssh.log") ||
    ti_fail "login with the certificate"
ti_assert_eq cert-login-ok "$out" "login with the certificate"
grep -q 'Accepted publickey.*ECDSA-CERT' "$TI_DIR/sshd-cert/log" ||
    ti_fail "sshd did not accept a certificate"
ti_expect_ok "ssh-add -e (certs)" ssh-add -e "$MODULE"
wait_count 1

# certs_only: only the certificate is offered.
reply=$(add_with_certs 1 "$TI_DIR/certkey-cert.pub") || ti_fail "agentcli"
ti_assert_eq 6 "${reply%% *}" "add with certs_only"
wait_count 2
ssh-add -L >"$TI_DIR/certs-only.txt"
grep -q "$CERTB64" "$TI_DIR/certs-only.txt" ||
    ti_fail "certs_only: certificate not listed"
grep -q "$(cut -d' ' -f2 "$TI_DIR/tok-ec.pub")" "$TI_DIR/certs-only.txt" &&
    ti_fail "certs_only: the plain key is listed"
out=$(ti_ssh cert -o IdentitiesOnly=yes -i "$TI_DIR/certkey-cert.pub" \
    echo cert-only-ok 2>>"$TI_DIR/ssh.log") || ti_fail "login (certs_only)"
ti_assert_eq cert-only-ok "$out" "login (certs_only)"
ti_expect_ok "ssh-add -e (certs_only)" ssh-add -e "$MODULE"
wait_count 1

ti_log "ok"
exit 0

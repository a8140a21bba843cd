#!/bin/bash
# core-mldsa: OpenSSH 10's ssh-mldsa44-ed25519@openssh.com hybrid keys, with
# the OpenSSH 10.5 tools found in $OPENSSH10_BIN: ssh-add of the key and its
# certificate, ssh-add -l / -L, ssh-keygen -Y sign through the agent and
# -Y verify, logins to an OpenSSH 10.5 sshd with the key and with the
# certificate, an ML-DSA host key that sshd uses through HostKeyAgent, and
# malformed ML-DSA keys refused while the agent keeps serving its keys.
# Key, certificate and CA come from OpenSSH 10.5 (tests/data/openssh-10.5).
# Passes with TEST_AGENT=$OPENSSH10_BIN/ssh-agent too.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup

o10=${OPENSSH10_BIN:-}
[ -n "$o10" ] || ti_skip "OPENSSH10_BIN is not set (OpenSSH 10.5 tools)"
for t in ssh ssh-add ssh-keygen sshd sshd-session sshd-auth; do
	[ -x "$o10/$t" ] || ti_skip "no $o10/$t"
done
PATH=$o10:$PATH
export PATH
SSHD_BIN=$o10/sshd
ssh -V 2>&1 | grep -q 'OpenSSH_10' || ti_fail "ssh in $o10 is not OpenSSH 10"
# sshd as root needs its privilege separation directory.
if [ "$(id -u)" = 0 ] && [ ! -d /var/empty ]; then
	mkdir -p -m 0755 /var/empty || ti_fail "cannot create /var/empty"
fi

data=$TI_SRC/tests/data/openssh-10.5
alg=ssh-mldsa44-ed25519@openssh.com
certalg=ssh-mldsa44-ed25519-cert-v01@openssh.com
TI_SSHD_PUBKEY_ALGS=$alg,$certalg
sshd10=("SshdSessionPath $o10/sshd-session" "SshdAuthPath $o10/sshd-auth")
cli=$TI_BUILD/tests/integ/agentcli
user=$(id -un)

cp "$data/id_mldsa44_ed25519" "$TI_DIR/id"
chmod 600 "$TI_DIR/id"
cp "$data/id_mldsa44_ed25519.pub" "$TI_DIR/id.pub"
cp "$data/id_mldsa44_ed25519-cert.pub" "$TI_DIR/id-cert.pub"
fp=$(ti_fp "$TI_DIR/id.pub")

ti_start_agent

# ---- ssh-add, -l, -L -------------------------------------------------------
ti_expect_ok "ssh-add the ML-DSA key and its certificate" ssh-add "$TI_DIR/id"
list=$(ssh-add -l) || ti_fail "ssh-add -l"
ti_assert_eq 2 "$(printf '%s\n' "$list" | grep -c .)" "identities listed"
ti_assert_contains "$list" "$fp mldsa-test (MLDSA44-ED25519)" "ssh-add -l"
ti_assert_contains "$list" "(MLDSA44-ED25519-CERT)" "ssh-add -l"
pubs=$(ssh-add -L) || ti_fail "ssh-add -L"
ti_assert_contains "$pubs" "$(cut -d' ' -f1,2 "$TI_DIR/id.pub")" "ssh-add -L"
ti_assert_contains "$pubs" "$(cut -d' ' -f1,2 "$TI_DIR/id-cert.pub")" \
    "ssh-add -L certificate"
# Only the agent holds the private key from now on.
rm -f "$TI_DIR/id"

# ---- ssh-keygen -Y sign (through the agent) and -Y verify ------------------
echo "signed through the agent $RANDOM" >"$TI_DIR/msg"
printf 'tester %s\n' "$(cut -d' ' -f1,2 "$TI_DIR/id.pub")" \
    >"$TI_DIR/allowed_signers"
for i in 1 2; do
	rm -f "$TI_DIR/msg.sig"
	ti_expect_ok "ssh-keygen -Y sign ($i)" \
	    ssh-keygen -Y sign -f "$TI_DIR/id.pub" -n file "$TI_DIR/msg"
	ti_expect_ok "ssh-keygen -Y verify ($i)" sh -c \
	    "ssh-keygen -Y verify -f '$TI_DIR/allowed_signers' -I tester \
	    -n file -s '$TI_DIR/msg.sig' <'$TI_DIR/msg'"
	cp "$TI_DIR/msg.sig" "$TI_DIR/msg.sig$i"
done
cmp -s "$TI_DIR/msg.sig1" "$TI_DIR/msg.sig2" &&
    ti_fail "two ML-DSA signatures are identical (signing must be hedged)"
ti_expect_fail "ssh-keygen -Y verify, other namespace" sh -c \
    "ssh-keygen -Y verify -f '$TI_DIR/allowed_signers' -I tester \
    -n git -s '$TI_DIR/msg.sig' <'$TI_DIR/msg'"
echo tampered >>"$TI_DIR/msg"
ti_expect_fail "ssh-keygen -Y verify, changed message" sh -c \
    "ssh-keygen -Y verify -f '$TI_DIR/allowed_signers' -I tester \
    -n file -s '$TI_DIR/msg.sig' <'$TI_DIR/msg'"
# The agent's certificate signs too (SSHSIG with the certificate).
rm -f "$TI_DIR/msg.sig"
ti_expect_ok "ssh-keygen -Y sign with the certificate" \
    ssh-keygen -Y sign -f "$TI_DIR/id-cert.pub" -n file "$TI_DIR/msg"
printf 'tester cert-authority %s\n' "$(cut -d' ' -f1,2 "$data/ca.pub")" \
    >"$TI_DIR/allowed_cas"
ti_expect_ok "ssh-keygen -Y verify of the certificate's signature" sh -c \
    "ssh-keygen -Y verify -f '$TI_DIR/allowed_cas' -I tester \
    -n file -s '$TI_DIR/msg.sig' <'$TI_DIR/msg'"

# ---- Logins to OpenSSH 10.5's sshd -------------------------------------------
sshopts=(-o IdentityFile=none -o "PubkeyAcceptedAlgorithms=+$alg,$certalg")

ti_authorize plain "$TI_DIR/id.pub"
ti_start_sshd plain "${sshd10[@]}"
out=$(ti_ssh plain "${sshopts[@]}" echo ok 2>"$TI_DIR/ssh.err") ||
    { cat "$TI_DIR/ssh.err" >&2; ti_fail "login with the ML-DSA key"; }
ti_assert_eq ok "$out" "login output"
grep -q "Accepted publickey for $user .*MLDSA44-ED25519 $fp" \
    "$TI_DIR/sshd-plain/log" || ti_fail "sshd did not log the ML-DSA login"

d=$(ti_sshd_dir crt)
cp "$data/ca.pub" "$d/user_ca.pub"
echo tester >"$d/principals"
ti_start_sshd crt "${sshd10[@]}" "AuthorizedPrincipalsFile $d/principals"
out=$(ti_ssh crt "${sshopts[@]}" echo ok 2>"$TI_DIR/ssh.err") ||
    { cat "$TI_DIR/ssh.err" >&2; ti_fail "login with the ML-DSA certificate"; }
ti_assert_eq ok "$out" "certificate login output"
grep -q "Accepted publickey for $user .*MLDSA44-ED25519-CERT" "$d/log" ||
    ti_fail "sshd did not log the certificate login"

# ---- HostKeyAgent: sshd's ML-DSA host key lives in the agent ----
d=$(ti_sshd_dir hka)
cp "$TI_DIR/id.pub" "$d/host_mldsa.pub"
ti_authorize hka "$TI_DIR/id.pub"
ti_start_sshd hka "${sshd10[@]}" "HostKeyAgent $SSH_AUTH_SOCK" \
    "HostKey $d/host_mldsa.pub" "HostKeyAlgorithms +$alg"
echo "hka $(cut -d' ' -f1,2 "$TI_DIR/id.pub")" >>"$TI_DIR/known_hosts"
out=$(ti_ssh hka "${sshopts[@]}" -o "HostKeyAlgorithms=$alg" -v echo ok \
    2>"$TI_DIR/ssh.err") ||
    { cat "$TI_DIR/ssh.err" >&2; ti_fail "login to the HostKeyAgent sshd"; }
ti_assert_eq ok "$out" "HostKeyAgent login output"
grep -q "Server host key: $alg $fp" "$TI_DIR/ssh.err" ||
    ti_fail "the server did not prove the ML-DSA host key"

# Destination constraints with an ML-DSA host key and an ML-DSA user key
# made by ssh-keygen 10.5: ssh sends the agent session-bind@openssh.com with
# the host's ML-DSA signature, which the agent must verify, and the key
# restricted to that host signs only the matching userauth request.
ti_keygen mldsa44-ed25519 - "$TI_DIR/dest"
ti_authorize hka "$TI_DIR/dest.pub"
ti_expect_ok "ssh-add -h hka" ssh-add -H "$TI_DIR/known_hosts" -h hka \
    "$TI_DIR/dest"
out=$(ti_ssh hka "${sshopts[@]}" -o "HostKeyAlgorithms=$alg" \
    -o IdentitiesOnly=yes -o "IdentityFile=$TI_DIR/dest.pub" echo ok \
    2>"$TI_DIR/ssh.err") ||
    { cat "$TI_DIR/ssh.err" >&2; ti_fail "login with a key restricted to hka"; }
ti_assert_eq ok "$out" "destination-constrained login output"
destfp=$(ti_fp "$TI_DIR/dest.pub")
grep -q "Accepted publickey for $user .*MLDSA44-ED25519 $destfp" "$d/log" ||
    ti_fail "sshd did not log the destination-constrained login"
ti_authorize plain "$TI_DIR/dest.pub"
ti_expect_fail "the restricted key at another host" \
    ti_ssh plain "${sshopts[@]}" -o IdentitiesOnly=yes \
    -o "IdentityFile=$TI_DIR/dest.pub" echo ok
ti_expect_ok "ssh-add -d of the restricted key" ssh-add -d "$TI_DIR/dest.pub"

# ---- Malformed ML-DSA keys: FAILURE, and the agent keeps its keys ----
hex()
{
	od -An -v -tx1 | tr -d ' \n'
}
u32()
{
	printf '%08x' "$1"
}
blob=$(cut -d' ' -f2 "$TI_DIR/id.pub" | base64 -d | hex)
seed=$(head -c 64 /dev/urandom | hex)
name=$(printf %s "$alg" | hex)
pk=${blob:$((8 + ${#name} + 8))}	# the 1344-byte public key, in hex
bad=(
	"11$(u32 ${#alg})${name}$(u32 1343)${pk:0:2686}$(u32 64)${seed}00000000"
	"11${blob}$(u32 63)${seed:0:126}00000000"		# seed too short
	"11${blob}$(u32 65)${seed}0000000000"			# seed too long
	"11${blob}"						# no private part
	"11$(u32 ${#alg})${name}ffffffff${pk}"			# oversized length
)
# Seeds that do not yield the public key: OpenSSH 10.5's agent does not
# check this (it takes such a key and signs with garbage); tokagent must
# refuse it.  The public key with its Ed25519 half changed, too.
if ! ti_is_openssh_agent; then
	edbad=${pk:0:$((2 * 1312))}$(head -c 32 /dev/urandom | hex)
	bad+=("11${blob}$(u32 64)${seed}$(u32 1)78"
	    "11$(u32 ${#alg})${name}$(u32 1344)${edbad}$(u32 64)${seed}00000000")
fi
for m in "${bad[@]}"; do
	reply=$("$cli" raw "$m") || ti_fail "agentcli raw failed"
	ti_assert_eq 5 "${reply%% *}" "reply to a malformed ML-DSA key"
done
ti_agent_alive || ti_fail "the agent died on malformed ML-DSA keys"
ti_assert_eq 2 "$(ti_agent_count)" "identities after malformed keys"
if ! ti_is_openssh_agent; then
	grep -qi "invalid\|mismatch\|incomplete\|format" "$TI_AGENT_LOG" ||
	    ti_fail "no log line about the refused ML-DSA keys"
fi
rm -f "$TI_DIR/msg.sig"
ti_expect_ok "ssh-keygen -Y sign after malformed keys" \
    ssh-keygen -Y sign -f "$TI_DIR/id.pub" -n file "$TI_DIR/msg"
ti_expect_ok "ssh-add -d of the ML-DSA key" ssh-add -d "$TI_DIR/id.pub"
ti_assert_eq 1 "$(ti_agent_count)" "identities after ssh-add -d"
exit 0

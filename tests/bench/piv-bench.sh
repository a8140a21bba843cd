#!/bin/bash
# tests/bench/piv-bench.sh: ECDSA P-256 signatures with a PIV card's 9a key
# (vcard, a YubiKey 5 PIV applet, through a private pcscd), same card, same
# run: tokagent's native PIV helper; tokagent through OpenSC's PKCS#11
# module; OpenSSH's ssh-agent through OpenSC; Debian's yubikey-agent.
# Each signs one request after another for SECONDS (default 5), through
# the agent protocol (tests/integ/agentcli sign-bench); prints ops/s, p50
# and p99.  Then, for the native helper, identities listed one request
# after another (agentcli list-bench) while idle and while a signature
# with a touch-policy key (9d) waits 2 s for its touch.  Not part of make
# check.
# Behind vpcd every APDU costs about 42 ms whoever sends it: vpcd writes
# an APDU's length and its bytes in two writes on a socket with Nagle on,
# and vcard's delayed ACK holds the second.  A real USB reader has no such
# cost, so these figures mostly count APDUs per signature (native: one
# while PIV stays selected; OpenSC: a GET DATA and the signature, one
# GET DATA more through tokagent's PKCS#11 helper; yubikey-agent: eight,
# its certificate and an attestation read again each time).
# Usage (from the build tree): tests/bench/piv-bench.sh [SECONDS]
set -u
SECS=${1:-5}
top_builddir=${top_builddir:-$(pwd)}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/vcard/lib.sh"
vc_need ssh-add ssh-agent
vc_setup_yubikey --serial 24681357
cd "$VC_DIR" || exit 1
CLI=$top_builddir/tests/integ/agentcli
TOKAGENT=$top_builddir/agent/tokagent
export TOKAGENT_HELPER_PATH=$top_builddir/token:$top_builddir/sk:$top_builddir/pkcs
pids=()
# In front of the EXIT trap vc_setup left (pcscd, vcard, $VC_DIR).
eval "prev_trap=$(trap -p EXIT | sed "s/^trap -- //; s/ EXIT\$//")"
trap 'kill "${pids[@]}" 2>/dev/null; '"$prev_trap" EXIT
printf '#!/bin/sh\necho 123456\n' > askpass
chmod +x askpass
export SSH_ASKPASS=$VC_DIR/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:0

# 9a's public blob, as hex.
pkcs11-tool --module "$PCSCD_OPENSC_MODULE" -r --type cert --id 01 \
    -o cert9a.der >/dev/null 2>&1 || vc_fail "read 9a certificate"
openssl x509 -inform DER -in cert9a.der -noout -pubkey > pub9a.pem
ssh-keygen -i -m PKCS8 -f pub9a.pem > 9a.pub
BLOB=$(cut -d' ' -f2 9a.pub | base64 -d | od -An -tx1 | tr -d ' \n')
# 9d: P-256, touch always.
yubico-piv-tool -r "$VC_YK_READER" -a generate -s 9d -A ECCP256 \
    --touch-policy=always -o pub9d.pem >/dev/null 2>&1 ||
    vc_fail "generate 9d"
ssh-keygen -i -m PKCS8 -f pub9d.pem > 9d.pub
BLOB9D=$(cut -d' ' -f2 9d.pub | base64 -d | od -An -tx1 | tr -d ' \n')

wait_sock() {
	for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.1; done
	vc_fail "no socket $1"
}
bench() {
	local name=$1 sock=$2 out
	# Warm up (the PIN is asked once), then measure.
	"$CLI" -s "$sock" sign-bench 1 "$BLOB" >/dev/null ||
	    { echo "$name: sign failed"; return; }
	out=$("$CLI" -s "$sock" sign-bench "$SECS" "$BLOB") ||
	    { echo "$name: sign failed"; return; }
	printf '%-34s %s\n' "$name" "$out"
}
wait_keys() {
	for _ in $(seq 100); do
		SSH_AUTH_SOCK=$1 ssh-add -L 2>/dev/null | grep -qF \
		    "$(cut -d' ' -f2 9a.pub)" && return 0
		sleep 0.1
	done
	vc_fail "9a not listed by $1"
}

"$TOKAGENT" -D -a "$VC_DIR/native.sock" 2>native.log & pids+=($!)
wait_sock "$VC_DIR/native.sock"
wait_keys "$VC_DIR/native.sock"
bench "tokagent native PIV" "$VC_DIR/native.sock"
# The list, idle, then while a signature with 9d waits 2 s for its touch.
out=$("$CLI" -s "$VC_DIR/native.sock" list-bench 1000) || out="list failed"
printf '%-34s %s\n' "tokagent native: list, idle" "$out"
vc_ctl "touch delay=2000" >/dev/null
"$CLI" -s "$VC_DIR/native.sock" sign-bench 1 "$BLOB9D" >touch.out 2>&1 &
spid=$!
for _ in $(seq 100); do
	[ "$(vc_ctl pending)" = "yes 9d" ] && break
	sleep 0.02
done
if [ "$(vc_ctl pending)" = "yes 9d" ]; then
	out=$("$CLI" -s "$VC_DIR/native.sock" list-bench 1000) ||
	    out="list failed"
	[ "$(vc_ctl pending)" = "yes 9d" ] ||
	    out="$out (the touch wait ended first: not measured)"
else
	out="no touch wait seen"
fi
printf '%-34s %s\n' "tokagent native: list, touch wait" "$out"
wait "$spid" || echo "9d: sign with touch failed: $(cat touch.out)"
vc_ctl "touch approve" >/dev/null
kill "${pids[-1]}"

"$TOKAGENT" -D --no-piv -a "$VC_DIR/p11.sock" 2>p11.log & pids+=($!)
wait_sock "$VC_DIR/p11.sock"
SSH_AUTH_SOCK=$VC_DIR/p11.sock ssh-add -s "$PCSCD_OPENSC_MODULE" \
    >/dev/null 2>&1 || vc_fail "tokagent: ssh-add -s"
bench "tokagent + OpenSC PKCS#11" "$VC_DIR/p11.sock"
kill "${pids[-1]}"

ssh-agent -D -a "$VC_DIR/ossh.sock" >/dev/null 2>ossh.log & pids+=($!)
wait_sock "$VC_DIR/ossh.sock"
SSH_AUTH_SOCK=$VC_DIR/ossh.sock ssh-add -s "$PCSCD_OPENSC_MODULE" \
    >/dev/null 2>&1 || vc_fail "ssh-agent: ssh-add -s"
bench "ssh-agent $(ssh -V 2>&1 | cut -d, -f1) + OpenSC" "$VC_DIR/ossh.sock"
kill "${pids[-1]}"

if command -v yubikey-agent >/dev/null 2>&1; then
	mkdir bin
	cat > bin/pinentry <<'PE'
#!/bin/sh
echo "OK pinentry"
while read -r cmd rest; do
	case $cmd in
	GETPIN) echo "D 123456"; echo OK ;;
	BYE) echo OK; exit 0 ;;
	*) echo OK ;;
	esac
done
PE
	printf '#!/bin/sh\necho "pinentry:Passphrase Entry:%s/bin/pinentry"\n' \
	    "$VC_DIR" > bin/gpgconf
	chmod +x bin/pinentry bin/gpgconf
	PATH=$VC_DIR/bin:$PATH yubikey-agent -l "$VC_DIR/yk.sock" \
	    >yk.log 2>&1 & pids+=($!)
	wait_sock "$VC_DIR/yk.sock"
	bench "yubikey-agent" "$VC_DIR/yk.sock"
	kill "${pids[-1]}"
else
	echo "yubikey-agent: not installed"
fi

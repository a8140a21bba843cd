#!/bin/bash
# The native PIV client (token/piv.c over pcsc-lite, driven by
# tests/vcard/piv-probe) against vcard through pcscd: version, serial,
# PIN state, per-slot metadata and certificates, with the same public
# keys as OpenSC finds; ECDSA P-256 (9a), RSA (9c, PIN always) and
# P-384 (82, PIN always) signatures
# checked with the public key; another program between two signatures (an
# OpenPGP SELECT, which makes the card forget the PIN; yubico-piv-tool's
# status) while the client keeps its connection: the second signature
# works without the PIN being given again; a touch policy seen in the
# metadata and a refused touch reported as such; wrong and blocked PIN;
# the card pulled.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/vcard/lib.sh"
vc_need yubico-piv-tool ssh-keygen
vc_setup_yubikey --serial 31415926
cd "$VC_DIR" || exit 1
probe() {
	"$top_builddir/tests/vcard/piv-probe" "$@" 2>>probe.log
}

probe info > info.txt || vc_fail "info: $(cat info.txt probe.log)"
for want in "version 5.7.1" "serial 31415926" "pin unverified tries 3" \
    "pin-metadata tries 3/3 default 1" "slot 9a alg 11 pin 2 touch 1 origin 1" \
    "slot 9c alg 07 pin 3 touch 1 origin 1"; do
	grep -qx "$want" info.txt || vc_fail "info has no '$want': $(cat info.txt)"
done
# Metadata and certificate keys agree, and are the keys OpenSC finds.
ssh-keygen -D "$PCSCD_OPENSC_MODULE" 2>/dev/null | cut -d' ' -f1,2 |
    sort > opensc.keys
for s in 9a 9c; do
	k=$(sed -n "s/^cert $s //p" info.txt)
	[ -n "$k" ] || vc_fail "no certificate key for $s"
	[ "$(sed -n "s/^key $s //p" info.txt)" = "$k" ] ||
	    vc_fail "$s: metadata and certificate keys differ"
	grep -qxF "$k" opensc.keys || vc_fail "$s: not the key OpenSC finds"
done

echo "data to sign" > data
OPENPGP="opensc-tool -c default -s 00A4040006D27600012401 >/dev/null 2>&1"
STATUS="yubico-piv-tool -r '$VC_YK_READER' -a status >/dev/null 2>&1"
for s in 9a 9c; do
	for between in "$OPENPGP" "$STATUS"; do
		out=$(probe sign $s 123456 data "$between" | tr '\n' ' ')
		[ "$out" = "sign ok sign ok " ] ||
		    vc_fail "$s, then $between, then $s: $out $(tail -5 probe.log)"
	done
done
# Without the PIN (forgotten by the card: another application selected)
# the card refuses.
eval "$OPENPGP"
[ "$(probe sign 9a - data)" = "error PIN required" ] ||
    vc_fail "signed without a PIN: $(probe sign 9a - data)"

# Touch: 9d generated with touch always; refused, then given.
yubico-piv-tool -r "$VC_YK_READER" -a generate -s 9d -A ECCP256 \
    --touch-policy=always -o pub9d.pem >/dev/null 2>&1 || vc_fail "generate 9d"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -subj /CN=ca -out ca.pem -days 2 2>/dev/null || vc_fail "CA"
openssl x509 -new -subj "/CN=touch 9d" -CA ca.pem -CAkey ca.key \
    -force_pubkey pub9d.pem -out cert9d.pem -days 2 2>/dev/null ||
    vc_fail "certificate 9d"
yubico-piv-tool -r "$VC_YK_READER" -a import-certificate -s 9d \
    -i cert9d.pem >/dev/null 2>&1 || vc_fail "import certificate 9d"
probe info | grep -qx "slot 9d alg 11 pin 2 touch 2 origin 1" ||
    vc_fail "9d metadata"
vc_ctl "touch deny" log >/dev/null
out=$(probe sign 9d 123456 data)
[ "$out" = "error touch denied on token" ] || vc_fail "9d touch denied: $out"
vc_ctl "touch approve" >/dev/null
[ "$(probe sign 9d 123456 data)" = "sign ok" ] || vc_fail "9d touched"
[ "$(vc_ctl log)" = "touch 9d denied; touch 9d ok" ] || vc_fail "touch log"

# P-384 in a retired slot (82), PIN policy "always".
yubico-piv-tool -r "$VC_YK_READER" -a generate -s 82 -A ECCP384 \
    --pin-policy=always -o pub82.pem >/dev/null 2>&1 || vc_fail "generate 82"
openssl x509 -new -subj "/CN=p384 82" -CA ca.pem -CAkey ca.key \
    -force_pubkey pub82.pem -out cert82.pem -days 2 2>/dev/null ||
    vc_fail "certificate 82"
yubico-piv-tool -r "$VC_YK_READER" -a import-certificate -s 82 \
    -i cert82.pem >/dev/null 2>&1 || vc_fail "import certificate 82"
probe info | grep -qx "slot 82 alg 14 pin 3 touch 1 origin 1" ||
    vc_fail "82 metadata: $(probe info | grep 'slot 82')"
out=$(probe sign 82 123456 data "$OPENPGP" | tr '\n' ' ')
[ "$out" = "sign ok sign ok " ] || vc_fail "P-384 in 82: $out"

# PIN: wrong (tries left), right, blocked.
[ "$(probe verify 000000)" = "wrong 2" ] || vc_fail "wrong PIN"
[ "$(probe verify 123456)" = ok ] || vc_fail "right PIN"
probe verify 000000 >/dev/null
probe verify 000000 >/dev/null
[ "$(probe verify 000000)" = blocked ] || vc_fail "PIN not blocked"
[ "$(probe verify 123456)" = blocked ] || vc_fail "blocked PIN accepted"

# The card pulled.
vcard_stop || vc_fail "vcard_stop"
out=$(probe -r "$VC_YK_READER 00 00" info)
[ "$out" = "error token not present" ] || vc_fail "card pulled: $out"
echo PASS
exit 0

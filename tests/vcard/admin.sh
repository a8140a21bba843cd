#!/bin/bash
# vcard administration with OpenSC's piv-tool through pcscd: management key
# mutual authentication (3DES, the default key), a wrong key refused,
# GENERATE and PUT DATA refused without it; a key generated in 9e and a
# certificate loaded for it, then used for a signature through PKCS#11.
# (piv-tool 0.23's "-A A:..." external authentication and its -G output
# are broken on the host side with OpenSSL 3; mutual auth and raw APDUs
# are used instead.)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/vcard/lib.sh"
vc_setup
cd "$VC_DIR" || exit 1
command -v piv-tool >/dev/null 2>&1 || vc_skip "missing piv-tool"

GEN9E=0047009E05AC0380011100
vc_expect_sw 6982 "$GEN9E"
vc_expect_sw 6982 00DB3FFF0B5C035FC10153047000710000
vc_expect_sw 6982 00DB3FFF075C035FC1015300

echo "01:02:03:04:05:06:07:08:01:02:03:04:05:06:07:08:01:02:03:04:05:06:07:08" \
    > mgmt.key
echo "11:02:03:04:05:06:07:08:01:02:03:04:05:06:07:08:01:02:03:04:05:06:07:08" \
    > bad.key
PIV_EXT_AUTH_KEY=$VC_DIR/bad.key piv-tool -A M:9B:03 >/dev/null 2>&1 &&
    vc_fail "wrong management key accepted"
export PIV_EXT_AUTH_KEY=$VC_DIR/mgmt.key
piv-tool -A M:9B:03 >/dev/null 2>&1 || vc_fail "management key refused"

piv-tool -A M:9B:03 -s "$GEN9E" > gen.out 2>/dev/null ||
    vc_fail "generate in 9e"
grep -q 'SW1=0x90, SW2=0x00' gen.out || vc_fail "generate: $(cat gen.out)"
hex=$(sed -n '/^Received/,$p' gen.out | sed 1d | cut -c1-48 | tr -d ' \n')
[ "${hex:0:10}" = 7F49438641 ] || vc_fail "generate answered $hex"
# SubjectPublicKeyInfo prefix for a P-256 point, then the point.
echo "3059301306072a8648ce3d020106082a8648ce3d030107034200${hex:10}" |
    xxd -r -p | openssl pkey -pubin -inform DER -out gen9e.pem ||
    vc_fail "generated public key"

openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -subj /CN=ca -out ca.pem -days 2 2>/dev/null ||
    vc_fail "CA"
openssl x509 -new -subj "/CN=vcard card auth" -CA ca.pem -CAkey ca.key \
    -force_pubkey gen9e.pem -out cardauth.pem -days 2 2>/dev/null ||
    vc_fail "certificate for 9e"
# piv-tool's exit code after loading is not meaningful; check the result.
piv-tool -A M:9B:03 -C 9E -i cardauth.pem >/dev/null 2>&1
vc_p11 -O > objs.txt 2>&1
grep -q 'subject: *DN: CN=vcard card auth' objs.txt ||
    vc_fail "9e certificate not listed"

# 9e needs no PIN on the card (OpenSC still wants a PKCS#11 login).
echo "card auth" | openssl dgst -sha256 -binary > d.sha
vc_p11 --login --pin 123456 --sign --mechanism ECDSA --id 04 -i d.sha -o s.sig \
    --signature-format openssl >/dev/null 2>&1 || vc_fail "sign with 9e"
openssl pkeyutl -verify -pubin -inkey gen9e.pem -in d.sha -sigfile s.sig \
    >/dev/null || vc_fail "9e signature does not verify"

# The new key and certificate survive a restart.
vcard_stop && vcard_start "$VC_STATE" || vc_fail "vcard restart"
vc_p11 --login --pin 123456 --sign --mechanism ECDSA --id 04 -i d.sha -o s2.sig \
    --signature-format openssl >/dev/null 2>&1 || vc_fail "sign after restart"
openssl pkeyutl -verify -pubin -inkey gen9e.pem -in d.sha -sigfile s2.sig \
    >/dev/null || vc_fail "9e key lost in restart"
echo PASS
exit 0

#!/bin/bash
# vcard judged by Yubico's own yubico-piv-tool (Debian's), with a YubiKey
# 5's reader name and ATR: version, status
# (serial, slots, PIN tries), generate with PIN and touch policies, attest
# (the chain checked with openssl against the f9 certificate), import of
# EC and RSA keys with policies and their certificates, signatures made
# with them and checked, set-mgm-key (the old key refused after), PIN and
# PUK retries, and reset once PIN and PUK are blocked.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/vcard/lib.sh"
vc_need yubico-piv-tool
vc_setup_yubikey --serial 7654321
cd "$VC_DIR" || exit 1

ypt() {
	yubico-piv-tool -r "$VC_YK_READER" "$@"
}
MGMT=010203040506070801020304050607080102030405060708

[ "$(opensc-tool -a 2>/dev/null | tail -1)" = \
    3b:fd:13:00:00:81:31:fe:15:80:73:c0:21:c0:57:59:75:62:69:4b:65:79:40 ] ||
    vc_fail "not a YubiKey 5's ATR: $(opensc-tool -a 2>&1)"
out=$(ypt -a version 2>&1) || vc_fail "version: $out"
[ "$out" = "Application version 5.7.1 found." ] || vc_fail "version: $out"
ypt -a status > status.txt 2>&1 || vc_fail "status: $(cat status.txt)"
grep -q '^Version:	5.7.1$' status.txt || vc_fail "status version"
grep -q '^Serial Number:	7654321$' status.txt ||
    vc_fail "status serial: $(cat status.txt)"
grep -q '^Slot 9a:' status.txt || vc_fail "status: no 9a"
grep -q '^Slot 9c:' status.txt || vc_fail "status: no 9c"
grep -q '^PIN tries left:	3$' status.txt || vc_fail "status PIN tries"

# generate: 9d, P-256, PIN never, touch always (the card approves).
ypt -a generate -s 9d -A ECCP256 --pin-policy=never --touch-policy=always \
    -o pub9d.pem >gen.out 2>&1 || vc_fail "generate 9d: $(cat gen.out)"
openssl pkey -pubin -in pub9d.pem -noout 2>/dev/null ||
    vc_fail "generate 9d: no public key"
# (yubico-piv-tool 2.2's selfsign-certificate fails on the host side with
# OpenSSL 3: the certificate is made by openssl for the card's key.)
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -subj /CN=ca -out ca.pem -days 2 2>/dev/null || vc_fail "CA"
openssl x509 -new -subj "/CN=gen 9d" -CA ca.pem -CAkey ca.key \
    -force_pubkey pub9d.pem -out cert9d.pem -days 2 2>/dev/null ||
    vc_fail "certificate for 9d"
ypt -a import-certificate -s 9d -i cert9d.pem >/dev/null 2>&1 ||
    vc_fail "import certificate 9d"
vc_ctl log >/dev/null
ypt -a test-signature -s 9d < cert9d.pem >ts.out 2>&1 ||
    vc_fail "test-signature 9d (no PIN): $(cat ts.out)"
grep -q 'Successful' ts.out || vc_fail "test-signature 9d: $(cat ts.out)"
[ "$(vc_ctl log)" = "touch 9d ok" ] || vc_fail "no touch for the 9d signature"

# attest: signed by the f9 key, issued by f9's certificate's subject,
# with the slot's policies in Yubico's extension.
ypt -a attest -s 9d > att9d.pem 2>/dev/null || vc_fail "attest 9d"
ypt -a read-certificate -s f9 > f9.pem 2>/dev/null || vc_fail "read f9"
openssl verify -CAfile f9.pem att9d.pem >/dev/null 2>&1 ||
    vc_fail "the attestation does not verify against f9"
[ "$(openssl x509 -in att9d.pem -noout -pubkey)" = "$(cat pub9d.pem)" ] ||
    vc_fail "the attestation is not for 9d's key"
openssl x509 -in att9d.pem -noout -subject | grep -q 'YubiKey PIV Attestation 9d' ||
    vc_fail "attestation subject"
openssl x509 -in att9d.pem -noout -text > att.txt
grep -A1 '1.3.6.1.4.1.41482.3.8:' att.txt | tail -1 | grep -q '^ *\.\.$' ||
    vc_fail "no policy extension: $(cat att.txt)"
openssl asn1parse -in att9d.pem > att.asn1
grep -q '1.3.6.1.4.1.41482.3.3' att.asn1 || vc_fail "no firmware extension"
ypt -a attest -s 9a > att9a.pem 2>/dev/null || vc_fail "attest 9a"
openssl verify -CAfile f9.pem att9a.pem >/dev/null 2>&1 ||
    vc_fail "9a attestation does not verify"

# import: EC P-384 into 9e with PIN policy once, RSA-2048 into 82.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
    -out ec.key 2>/dev/null || vc_fail "EC key"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out rsa.key 2>/dev/null || vc_fail "RSA key"
ypt -a import-key -s 9e -i ec.key --pin-policy=once --touch-policy=never \
    >imp.out 2>&1 || vc_fail "import EC: $(cat imp.out)"
ypt -a import-key -s 82 -i rsa.key >imp.out 2>&1 ||
    vc_fail "import RSA: $(cat imp.out)"
for k in ec rsa; do
	openssl req -new -x509 -key $k.key -subj "/CN=imported $k" -days 2 \
	    -out $k.crt 2>/dev/null || vc_fail "$k certificate"
done
ypt -a import-certificate -s 9e -i ec.crt >/dev/null 2>&1 ||
    vc_fail "import certificate 9e"
ypt -a import-certificate -s 82 -i rsa.crt >/dev/null 2>&1 ||
    vc_fail "import certificate 82"
# test-signature signs with the slot and checks against the certificate.
for s in 9e 82; do
	ypt -a verify-pin -P 123456 -a test-signature -s $s \
	    < "$([ $s = 9e ] && echo ec.crt || echo rsa.crt)" >ts.out 2>&1 ||
	    vc_fail "test-signature $s: $(cat ts.out)"
	grep -q 'Successful' ts.out || vc_fail "test-signature $s: $(cat ts.out)"
done
# Imported keys cannot be attested.
ypt -a attest -s 9e >/dev/null 2>&1 && vc_fail "imported key attested"
ypt -a status > status.txt 2>&1
grep -q 'Subject DN:	CN=imported ec' status.txt || vc_fail "status: 9e"
grep -A1 '^Slot 82:' status.txt | grep -q 'RSA2048' ||
    vc_fail "status: 82 $(cat status.txt)"

# set-mgm-key: the new key works, the old one no longer.
NEW=0F0E0D0C0B0A09080706050403020100F0E0D0C0B0A09080
ypt -a set-mgm-key -n $NEW >/dev/null 2>&1 || vc_fail "set-mgm-key"
ypt -k$MGMT -a generate -s 9d -A ECCP256 -o /dev/null >/dev/null 2>&1 &&
    vc_fail "old management key still accepted"
ypt -k$NEW -a generate -s 9d -A ECCP256 -o new9d.pem >/dev/null 2>&1 ||
    vc_fail "new management key refused"
ypt -k$NEW -a set-mgm-key -n $MGMT >/dev/null 2>&1 ||
    vc_fail "set-mgm-key back"

# PIN and PUK retries (needs the PIN and the management key).
ypt -a verify-pin -P 123456 -a pin-retries --pin-retries 5 \
    --puk-retries 4 >/dev/null 2>&1 || vc_fail "pin-retries"
ypt -a status 2>&1 | grep -q '^PIN tries left:	5$' || vc_fail "5 PIN tries"

# reset: refused while the PIN works, then PIN and PUK blocked, reset.
ypt -a reset >/dev/null 2>&1 && vc_fail "reset with the PIN not blocked"
for _ in 1 2 3 4 5; do
	ypt -a verify-pin -P 000000 >/dev/null 2>&1
done
for _ in 1 2 3 4; do
	ypt -a unblock-pin -P 00000000 -N 999999 >/dev/null 2>&1
done
ypt -a verify-pin -P 123456 >/dev/null 2>&1 && vc_fail "PIN not blocked"
ypt -a reset > reset.out 2>&1 || vc_fail "reset: $(cat reset.out)"
ypt -a status > status.txt 2>&1
grep -q '^Slot' status.txt && vc_fail "slots left after reset: $(cat status.txt)"
grep -q '^PIN tries left:	3$' status.txt || vc_fail "PIN tries after reset"
grep -q '^Serial Number:	7654321$' status.txt || vc_fail "serial after reset"
ypt -a verify-pin -P 123456 >/dev/null 2>&1 || vc_fail "default PIN after reset"
ypt -a generate -s 9a -A ECCP256 -o /dev/null >/dev/null 2>&1 ||
    vc_fail "default management key after reset"
echo PASS
exit 0

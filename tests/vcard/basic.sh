#!/bin/bash
# vcard through pcscd and OpenSC: the card is seen, its keys and
# certificates are listed, both keys sign (verified with openssl against
# the certificates), ssh-keygen -D lists them, and a card removed and
# reinserted with the same state comes back with the same keys.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/vcard/lib.sh"
vc_setup
cd "$VC_DIR" || exit 1

opensc-tool -l | grep -q 'Yes .*Virtual PCD 00 00' ||
    vc_fail "card not in opensc-tool -l"
opensc-tool -n 2>/dev/null | grep -q 'Personal Identity Verification Card' ||
    vc_fail "OpenSC did not pick its PIV driver"
vc_p11 -L > list.txt 2>&1 || vc_fail "pkcs11-tool -L"
grep -q 'token label *: vcard PIV Authentication' list.txt ||
    vc_fail "no token in pkcs11-tool -L: $(cat list.txt)"

vc_p11 --login --pin 123456 -O > objs.txt 2>&1 || vc_fail "pkcs11-tool -O"
grep -q 'Private Key Object; EC' objs.txt || vc_fail "no EC key"
grep -q 'Private Key Object; RSA' objs.txt || vc_fail "no RSA key"
grep -q 'subject: *DN: CN=vcard PIV Authentication' objs.txt ||
    vc_fail "no 9a certificate"
grep -q 'subject: *DN: CN=vcard Digital Signature' objs.txt ||
    vc_fail "no 9c certificate"

echo "data to sign" > data
openssl dgst -sha256 -binary data > data.sha256

# 9a: ECDSA P-256 over a SHA-256 digest.
vc_p11 --login --pin 123456 --sign --mechanism ECDSA --id 01 \
    -i data.sha256 -o sig.ec --signature-format openssl >/dev/null 2>&1 ||
    vc_fail "ECDSA sign with 9a"
vc_p11 -r --type cert --id 01 -o cert01.der >/dev/null 2>&1 ||
    vc_fail "read 9a certificate"
openssl x509 -inform DER -in cert01.der -pubkey -noout > pub01.pem ||
    vc_fail "9a certificate"
openssl pkeyutl -verify -pubin -inkey pub01.pem -in data.sha256 \
    -sigfile sig.ec >/dev/null || vc_fail "9a signature does not verify"

# 9c: RSA-2048 PKCS#1 v1.5 (OpenSC pads, the card does the raw operation;
# 9c is PIN-always: pkcs11-tool logs in again for the operation).
vc_p11 --login --pin 123456 --sign --mechanism SHA256-RSA-PKCS --id 02 \
    -i data -o sig.rsa >/dev/null 2>&1 || vc_fail "RSA sign with 9c"
vc_p11 -r --type cert --id 02 -o cert02.der >/dev/null 2>&1 ||
    vc_fail "read 9c certificate"
openssl x509 -inform DER -in cert02.der -pubkey -noout > pub02.pem ||
    vc_fail "9c certificate"
openssl dgst -sha256 -verify pub02.pem -signature sig.rsa data >/dev/null ||
    vc_fail "9c signature does not verify"

if command -v ssh-keygen >/dev/null 2>&1; then
	ssh-keygen -D "$PCSCD_OPENSC_MODULE" > keys1.txt 2>/dev/null ||
	    vc_fail "ssh-keygen -D"
	grep -q '^ecdsa-sha2-nistp256 ' keys1.txt || vc_fail "no ECDSA key"
	grep -q '^ssh-rsa ' keys1.txt || vc_fail "no RSA key"
fi
vc_p11 --read-object --type pubkey --id 01 -o pub01.der >/dev/null 2>&1

# Removal: the token goes away.
vcard_stop || vc_fail "card still present after removal"
vc_p11 -L 2>&1 | grep -q 'token label *: vcard' &&
    vc_fail "token still listed after removal"

# Reinsertion with the same state: same keys.
vcard_start "$VC_STATE" || vc_fail "vcard restart"
vc_p11 -r --type cert --id 01 -o cert01b.der >/dev/null 2>&1 ||
    vc_fail "read 9a certificate after restart"
cmp -s cert01.der cert01b.der || vc_fail "9a certificate changed"
vc_p11 --login --pin 123456 --sign --mechanism ECDSA --id 01 \
    -i data.sha256 -o sig.ec2 --signature-format openssl >/dev/null 2>&1 ||
    vc_fail "ECDSA sign after restart"
openssl pkeyutl -verify -pubin -inkey pub01.pem -in data.sha256 \
    -sigfile sig.ec2 >/dev/null || vc_fail "9a key changed after restart"
if command -v ssh-keygen >/dev/null 2>&1; then
	ssh-keygen -D "$PCSCD_OPENSC_MODULE" > keys2.txt 2>/dev/null
	cmp -s keys1.txt keys2.txt || vc_fail "ssh-keygen -D differs"
fi
echo PASS
exit 0

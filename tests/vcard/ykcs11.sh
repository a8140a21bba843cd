#!/bin/bash
# vcard judged by Yubico's PKCS#11 module (Debian's ykcs11) through
# pkcs11-tool and OpenSSH's ssh-keygen -D: the token is the YubiKey with
# its serial, the keys and certificates of 9a (P-256) and 9c (RSA-2048,
# PIN always) are listed and sign (checked with openssl against the
# certificates), a key generated with a touch policy asks for its touch,
# and ssh-keygen -D finds the same keys as through OpenSC.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/vcard/lib.sh"
YKCS11=${YKCS11_MODULE:-/usr/lib/x86_64-linux-gnu/libykcs11.so}
[ -r "$YKCS11" ] || vc_skip "missing $YKCS11 (ykcs11)"
vc_need yubico-piv-tool ssh-keygen
vc_setup_yubikey --serial 24680
cd "$VC_DIR" || exit 1
yk() {
	pkcs11-tool --module "$YKCS11" "$@"
}

yk -L > list.txt 2>&1 || vc_fail "pkcs11-tool -L: $(cat list.txt)"
grep -q 'token label *: YubiKey PIV #24680' list.txt ||
    vc_fail "token: $(cat list.txt)"
yk --login --pin 123456 -O > objs.txt 2>&1 || vc_fail "-O: $(cat objs.txt)"
grep -q 'Private Key Object; EC' objs.txt || vc_fail "no EC key"
grep -q 'Private Key Object; RSA' objs.txt || vc_fail "no RSA key"
grep -q 'subject: *DN: CN=vcard PIV Authentication' objs.txt ||
    vc_fail "no 9a certificate"

echo "data to sign" > data
openssl dgst -sha256 -binary data > data.sha256
yk -r --type cert --id 01 -o cert01.der >/dev/null 2>&1 || vc_fail "read 9a cert"
openssl x509 -inform DER -in cert01.der -pubkey -noout > pub01.pem
yk --login --pin 123456 --sign --mechanism ECDSA --id 01 -i data.sha256 \
    -o sig.ec --signature-format openssl >/dev/null 2>&1 || vc_fail "sign 9a"
openssl pkeyutl -verify -pubin -inkey pub01.pem -in data.sha256 \
    -sigfile sig.ec >/dev/null || vc_fail "9a signature does not verify"
yk -r --type cert --id 02 -o cert02.der >/dev/null 2>&1 || vc_fail "read 9c cert"
openssl x509 -inform DER -in cert02.der -pubkey -noout > pub02.pem
yk --login --pin 123456 --sign --mechanism SHA256-RSA-PKCS --id 02 \
    -i data -o sig.rsa >/dev/null 2>&1 || vc_fail "sign 9c"
openssl dgst -sha256 -verify pub02.pem -signature sig.rsa data >/dev/null ||
    vc_fail "9c signature does not verify"
# A wrong PIN is refused.
yk --login --pin 999999 --sign --mechanism ECDSA --id 01 -i data.sha256 \
    -o /dev/null >/dev/null 2>&1 && vc_fail "wrong PIN accepted"

# 9d with touch always: ykcs11's signature waits for it.
yubico-piv-tool -r "$VC_YK_READER" -a generate -s 9d -A ECCP256 \
    --touch-policy=always -o pub9d.pem >/dev/null 2>&1 || vc_fail "generate 9d"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -subj /CN=ca -out ca.pem -days 2 2>/dev/null || vc_fail "CA"
openssl x509 -new -subj "/CN=touch 9d" -CA ca.pem -CAkey ca.key \
    -force_pubkey pub9d.pem -out cert9d.pem -days 2 2>/dev/null ||
    vc_fail "certificate 9d"
yubico-piv-tool -r "$VC_YK_READER" -a import-certificate -s 9d \
    -i cert9d.pem >/dev/null 2>&1 || vc_fail "import certificate 9d"
vc_ctl "touch deny" log >/dev/null
yk --login --pin 123456 --sign --mechanism ECDSA --id 03 -i data.sha256 \
    -o /dev/null >/dev/null 2>&1 && vc_fail "9d signed without a touch"
vc_ctl "touch approve" >/dev/null
yk --login --pin 123456 --sign --mechanism ECDSA --id 03 -i data.sha256 \
    -o sig9d --signature-format openssl >/dev/null 2>&1 || vc_fail "sign 9d"
openssl pkeyutl -verify -pubin -inkey pub9d.pem -in data.sha256 \
    -sigfile sig9d >/dev/null || vc_fail "9d signature does not verify"
# (ykcs11 tries a refused signature twice.)
log=$(vc_ctl log)
case $log in
"touch 9d denied; "*"touch 9d ok") ;;
*) vc_fail "touches: $log" ;;
esac

# ssh-keygen -D: the same keys through ykcs11 as through OpenSC.
ssh-keygen -D "$YKCS11" 2>/dev/null | cut -d' ' -f1,2 | sort > yk.keys
ssh-keygen -D "$PCSCD_OPENSC_MODULE" 2>/dev/null | cut -d' ' -f1,2 | sort > sc.keys
[ -s sc.keys ] || vc_fail "no keys through OpenSC"
for f in pub01.pem pub02.pem pub9d.pem; do
	k=$(ssh-keygen -i -m PKCS8 -f $f | cut -d' ' -f1,2)
	grep -qxF "$k" yk.keys || vc_fail "ykcs11: no key for $f"
	grep -qxF "$k" sc.keys || vc_fail "OpenSC: no key for $f"
done
echo PASS
exit 0

#!/bin/bash
# vcard judged by Debian's yubikey-agent (Go, piv-go over pcsc-lite): it
# finds the card by its reader name, lists the key of slot 9a (named with
# the card's serial) and signs with it through OpenSSH's tools (checked
# with ssh-keygen -Y verify); the PIN is asked once (PIN policy once,
# through pinentry: a script here answers it and counts the prompts), the
# next signature needs none.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/vcard/lib.sh"
vc_need yubikey-agent ssh-add ssh-keygen
vc_setup_yubikey --serial 13572468
cd "$VC_DIR" || exit 1

# yubikey-agent asks the PIN through the pinentry that gpgconf names.
mkdir bin
cat > bin/pinentry <<'PE'
#!/bin/sh
echo "OK vcard test pinentry"
while read -r cmd rest; do
	case $cmd in
	GETPIN)
		echo "GETPIN" >> "$PINENTRY_LOG"
		echo "D $(cat "$PINENTRY_PIN")"
		echo OK ;;
	SETDESC)
		echo "SETDESC $rest" >> "$PINENTRY_LOG"
		echo OK ;;
	BYE)
		echo OK
		exit 0 ;;
	*)
		echo OK ;;
	esac
done
PE
printf '#!/bin/sh\necho "pinentry:Passphrase Entry:%s/bin/pinentry"\n' \
    "$VC_DIR" > bin/gpgconf
chmod +x bin/pinentry bin/gpgconf
export PINENTRY_LOG=$VC_DIR/pinentry.log PINENTRY_PIN=$VC_DIR/pin
echo 123456 > pin
: > "$PINENTRY_LOG"

# 9a's certificate, read before yubikey-agent holds the card.
pkcs11-tool --module "$PCSCD_OPENSC_MODULE" -r --type cert --id 01 \
    -o cert9a.der >/dev/null 2>&1 || vc_fail "read 9a certificate"
openssl x509 -inform DER -in cert9a.der -noout -pubkey > pub9a.pem

# A private socket; PCSCLITE_CSOCK_NAME (from pcscd.sh) leads it to our pcscd.
PATH=$VC_DIR/bin:$PATH yubikey-agent -l "$VC_DIR/yk.sock" \
    >"$VC_DIR/yk.log" 2>&1 &
YK_PID=$!
eval "yk_prev=$(trap -p EXIT | sed "s/^trap -- //; s/ EXIT\$//")"
# shellcheck disable=SC2064,SC2154
trap "rc=\$?; kill $YK_PID 2>/dev/null; (exit \$rc); $yk_prev" EXIT
for _ in $(seq 1 100); do
	[ -S "$VC_DIR/yk.sock" ] && break
	sleep 0.1
done
[ -S "$VC_DIR/yk.sock" ] || vc_fail "yubikey-agent did not start: $(cat yk.log)"
export SSH_AUTH_SOCK=$VC_DIR/yk.sock

ssh-add -L > keys.txt 2>&1 || vc_fail "ssh-add -L: $(cat keys.txt) $(cat yk.log)"
[ "$(wc -l < keys.txt)" = 1 ] || vc_fail "keys: $(cat keys.txt)"
grep -q ' YubiKey #13572468 PIV Slot 9a$' keys.txt ||
    vc_fail "key name: $(cat keys.txt)"
# The key is 9a's (its certificate's public key).
[ "$(ssh-keygen -i -m PKCS8 -f pub9a.pem | cut -d' ' -f1,2)" = \
    "$(cut -d' ' -f1,2 keys.txt)" ] || vc_fail "listed key is not 9a's"

# Two signatures, checked; one PIN prompt (policy once).
cut -d' ' -f1,2 keys.txt > key.pub
echo "vcard@test $(cat key.pub)" > allowed
for i in 1 2; do
	echo "message $i" > msg$i
	ssh-keygen -Y sign -f key.pub -n test msg$i >sign.out 2>&1 ||
	    vc_fail "sign $i: $(cat sign.out) $(tail -3 yk.log)"
	ssh-keygen -Y verify -f allowed -I vcard@test -n test \
	    -s msg$i.sig < msg$i >/dev/null 2>&1 ||
	    vc_fail "signature $i does not verify"
done
[ "$(grep -c '^GETPIN' "$PINENTRY_LOG")" = 1 ] ||
    vc_fail "PIN prompts: $(cat "$PINENTRY_LOG")"
grep -q '^SETDESC .*13572468' "$PINENTRY_LOG" ||
    vc_fail "the prompt does not name the serial: $(cat "$PINENTRY_LOG")"
ssh-add -T key.pub >/dev/null 2>&1 || vc_fail "ssh-add -T"
echo PASS
exit 0

#!/bin/bash
# vcard as a YubiKey 5 PIV application, at the APDU level through pcscd:
# SELECT needed after power-up; SELECTing OTP, OATH, OpenPGP deselects PIV
# and forgets the PIN; GET VERSION, GET SERIAL (also through the OTP
# application), GET METADATA (PIN, PUK, management key, keys: algorithm,
# policies, origin, public key, default flags, retries); PIN and touch
# policies given to GENERATE, touches from the control socket (manual,
# cached for 15 s, deny, time out); a management key that wants a touch;
# MOVE and DELETE KEY; SET PIN RETRIES; RESET only with PIN and PUK blocked.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/vcard/lib.sh"
vc_need piv-tool
vc_setup --serial 12345678 --touch-timeout 1500
cd "$VC_DIR" || exit 1

PIN=0020008008313233343536FFFF		# 123456
LOGOUT=0020FF80
BAD=0020008008393939393939FFFF		# 999999
STATUS=00200080
zeros() { printf '00%.0s' $(seq 1 "$1"); }
# sign KEYREF: ECDSA P-256 over 32 zero bytes.
sign() { echo "00871$1267C2482008120$(zeros 32)00"; }
SIGN9A=$(sign 19A)
OTP=00A4040007A0000005272001
OATH=00A4040007A0000005272101
OPENPGP=00A4040006D27600012401
MD() { echo "00F700$1"; }

# --- selection: nothing is selected after power-up.
sws=$(vc_raw $STATUS 00FD0000 "$VC_PIV_SELECT" $STATUS | tr '\n' ' ')
[ "$sws" = "6D00 6D00 9000 63C3 " ] ||
    vc_fail "before/after SELECT after power-up: $sws"
# Another application's SELECT forgets the PIN; re-selecting PIV does not.
for app in $OTP $OATH $OPENPGP; do
	sws=$(vc_apdus $PIN "$VC_PIV_SELECT" $STATUS "$SIGN9A" $app $STATUS \
	    "$VC_PIV_SELECT" $STATUS "$SIGN9A" | tr '\n' ' ')
	[ "$sws" = "9000 9000 9000 9000 9000 9000 6D00 9000 63C3 6982 " ] ||
	    vc_fail "SELECT $app then PIV: $sws"
done
# Unknown AIDs leave PIV selected.
sws=$(vc_apdus $PIN 00A4040005A000000999 $STATUS | tr '\n' ' ')
[ "$sws" = "9000 9000 6A82 9000 " ] || vc_fail "unknown AID: $sws"

# --- version and serial.
[ "$(vc_data 00FD0000)" = 050701 ] || vc_fail "version $(vc_data 00FD0000)"
[ "$(vc_data 00F80000)" = 00BC614E ] || vc_fail "serial $(vc_data 00F80000)"
[ "$(vc_data $OTP 00011000)" = 00BC614E ] || vc_fail "serial through OTP"
[ "$(vc_data $OTP)" = 050701000000 ] || vc_fail "OTP select $(vc_data $OTP)"
case $(vc_data $OATH) in
79030507017108*) ;;
*) vc_fail "OATH select $(vc_data $OATH)" ;;
esac

# --- metadata.
want() {
	local got
	got=$(vc_data "$@")
	case $got in
	$WANT) ;;
	*) vc_fail "$* answered $got, want $WANT" ;;
	esac
}
WANT=0101FF05010106020303 want "$(MD 80)"
WANT=0101FF05010106020303 want "$(MD 81)"
WANT=0101FF05010106020302 want $BAD "$(MD 80)"
WANT=0101FF05010106020303 want $PIN "$(MD 80)"
WANT=01010302020001050101 want "$(MD 9B)"
# 9a: P-256, PIN once, no touch, generated, its point; 9c: RSA, PIN always.
WANT="010111020202010301010443864104*" want "$(MD 9A)"
WANT="0101070202030103010104820109818201*" want "$(MD 9C)"
[ "$(vc_sw "$(MD 9D)")" = 6A88 ] || vc_fail "metadata of an empty slot"
[ "$(vc_sw "$(MD 70)")" = 6A86 ] || vc_fail "metadata of a bad slot"
# The public key in the metadata is the certificate's.
pkcs11-tool --module "$PCSCD_OPENSC_MODULE" -r --type cert --id 01 \
    -o cert9a.der >/dev/null 2>&1 || vc_fail "read 9a certificate"
point=$(openssl x509 -inform DER -in cert9a.der -noout -pubkey |
    openssl pkey -pubin -outform DER | tail -c 65 | xxd -p -u | tr -d '\n')
WANT="0101110202020103010104438641$point" want "$(MD 9A)"

# --- GENERATE with policies: 82 PIN never, touch cached; 83 touch always.
gen() {	# gen KEYREF PINPOL TOUCHPOL
	echo "004700$1"0BAC098001"11"AA01"$2"AB01"$3"
}
[ "$(vc_admin "$(gen 82 01 03)" | tr '\n' ' ')" = "9000 " ] ||
    vc_fail "generate in 82"
[ "$(vc_admin "$(gen 83 02 02)" | tr '\n' ' ')" = "9000 " ] ||
    vc_fail "generate in 83"
WANT="0101110202010303010104*" want "$(MD 82)"
WANT="0101110202020203010104*" want "$(MD 83)"
[ "$(vc_admin "$(gen 82 04 01)")" = 6A80 ] || vc_fail "PIN policy 4 taken"
[ "$(vc_admin "$(gen 82 01 04)")" = 6A80 ] || vc_fail "touch policy 4 taken"

# --- touches.  manual: the signature waits until "touch" arrives.
[ "$(vc_ctl "touch manual" log)" = "ok
none" ] || vc_fail "control socket"
vc_apdus "$(sign 182)" > sign82.out &
sigpid=$!
for _ in $(seq 1 100); do
	[ "$(vc_ctl pending)" = "yes 82" ] && break
	sleep 0.1
done
[ "$(vc_ctl pending)" = "yes 82" ] || vc_fail "no touch pending for 82"
kill -0 $sigpid 2>/dev/null || vc_fail "signature did not wait for the touch"
vc_ctl touch >/dev/null
wait $sigpid
[ "$(tr '\n' ' ' < sign82.out)" = "9000 9000 " ] ||
    vc_fail "touched signature with 82 (PIN never): $(cat sign82.out)"
# cached: within 15 s the next signature needs no touch.
[ "$(vc_sw "$(sign 182)")" = 9000 ] || vc_fail "cached touch"
[ "$(vc_ctl pending log)" = "no
touch 82 ok" ] || vc_fail "touch log"
# always: every signature, after the PIN (policy once).
vc_ctl "touch approve" >/dev/null
[ "$(vc_sw $LOGOUT "$(sign 183)")" = 6982 ] || vc_fail "83 without the PIN"
[ "$(vc_sw $PIN "$(sign 183)")" = 9000 ] || vc_fail "83 with the PIN"
[ "$(vc_sw $PIN "$(sign 183)")" = 9000 ] || vc_fail "83 again"
vc_ctl "touch delay=300" >/dev/null
[ "$(vc_sw $PIN "$(sign 183)")" = 9000 ] || vc_fail "83 touch delayed"
vc_ctl "touch deny" >/dev/null
[ "$(vc_sw $PIN "$(sign 183)")" = 6982 ] || vc_fail "83 touch denied"
vc_ctl "touch never" >/dev/null
[ "$(vc_sw $PIN "$(sign 183)")" = 6982 ] || vc_fail "83 touch timed out"
log=$(vc_ctl log)
[ "$log" = "touch 83 ok; touch 83 ok; touch 83 ok; touch 83 denied; touch 83 timeout" ] ||
    vc_fail "touch log: $log"
vc_ctl "touch approve" >/dev/null

# --- a management key that wants a touch (same key, P2 FE).
MGMT=010203040506070801020304050607080102030405060708
[ "$(vc_admin 00FFFFFE1B039B18$MGMT)" = 9000 ] || vc_fail "SET MANAGEMENT KEY"
WANT=01010302020002050101 want "$(MD 9B)"
vc_ctl "touch deny" >/dev/null
[ -z "$(vc_admin "$(MD 9B)")" ] || vc_fail "management key without a touch"
vc_ctl "touch approve" >/dev/null
[ "$(vc_admin 00FFFFFF1B039B18$MGMT)" = 9000 ] ||
    vc_fail "SET MANAGEMENT KEY with a touch"
WANT=01010302020001050101 want "$(MD 9B)"
# An AES-128 key, then back.
AES=000102030405060708090A0B0C0D0E0F
[ "$(vc_admin 00FFFFFF13089B10$AES)" = 9000 ] || vc_fail "AES-128 key"
WANT=01010802020001050100 want "$(MD 9B)"
[ -z "$(vc_admin "$(MD 9B)")" ] || vc_fail "the old 3DES key still works"
[ "$(vc_apdus $OTP "$VC_PIV_SELECT" 00FFFFFF13089B10$AES | tail -1)" = 6982 ] ||
    vc_fail "SET MANAGEMENT KEY without authentication"
echo "00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F" > aes.key
PIV_EXT_AUTH_KEY=$VC_DIR/aes.key piv-tool -A M:9B:08 \
    -s 00FFFFFF1B039B18$MGMT 2>/dev/null | grep -q 'SW1=0x90, SW2=0x00' ||
    vc_fail "back to 3DES with the AES key"
WANT=01010302020001050101 want "$(MD 9B)"

# --- MOVE KEY 82 -> 84, DELETE KEY 84.
[ "$(vc_admin 00F68482)" = 9000 ] || vc_fail "MOVE KEY"
WANT="0101110202010303010104*" want "$(MD 84)"
[ "$(vc_sw "$(MD 82)")" = 6A88 ] || vc_fail "82 still there after the move"
[ "$(vc_admin 00F6FF84)" = 9000 ] || vc_fail "DELETE KEY"
[ "$(vc_sw "$(MD 84)")" = 6A88 ] || vc_fail "84 still there after delete"
[ "$(vc_admin 00F6FF84)" = 6A88 ] || vc_fail "DELETE KEY of an empty slot"

# --- SET PIN RETRIES: management key and PIN; PIN and PUK back to default.
[ "$(vc_admin $LOGOUT 00FA0504 | tail -1)" = 6982 ] ||
    vc_fail "SET PIN RETRIES without the PIN"
[ "$(vc_admin $PIN 00FA0504 | tr '\n' ' ')" = "9000 9000 " ] ||
    vc_fail "SET PIN RETRIES"
WANT=0101FF05010106020505 want "$(MD 80)"
WANT=0101FF05010106020404 want "$(MD 81)"

# --- RESET: refused until both PIN and PUK are blocked.
[ "$(vc_sw 00FB0000)" = 6985 ] || vc_fail "RESET with the PIN unblocked"
vc_apdus $BAD $BAD $BAD $BAD $BAD >/dev/null
[ "$(vc_sw 00FB0000)" = 6985 ] || vc_fail "RESET with the PUK unblocked"
BADPUK=002C0080103939393939393939363534333231FFFF
vc_apdus $BADPUK $BADPUK $BADPUK $BADPUK >/dev/null
WANT=0101FF05010106020400 want "$(MD 81)"
[ "$(vc_sw 00FB0000)" = 9000 ] || vc_fail "RESET"
WANT=0101FF05010106020303 want "$(MD 80)"
WANT=0101FF05010106020303 want "$(MD 81)"
[ "$(vc_sw "$(MD 9A)")" = 6A88 ] || vc_fail "9a kept after reset"
[ "$(vc_sw 00CB3FFF055C035FC105)" = 6A82 ] || vc_fail "9a certificate kept"
[ "$(vc_sw 00CB3FFF055C035FFF01)" = 9000 ] ||
    vc_fail "attestation certificate lost in reset"
[ "$(vc_data 00F80000)" = 00BC614E ] || vc_fail "serial changed by reset"
[ "$(vc_sw $PIN)" = 9000 ] || vc_fail "default PIN after reset"
# The reset card survives a restart.
vcard_stop && vcard_start "$VC_STATE" --control "$VC_CTL" ||
    vc_fail "vcard restart"
[ "$(vc_sw "$(MD 9A)")" = 6A88 ] || vc_fail "9a back after restart"
echo PASS
exit 0

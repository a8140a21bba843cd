#!/bin/bash
# vcard PIN handling through pcscd: retries counted down (63Cx) and kept
# across a card restart, lockout (6983) after three wrong PINs, unblock with
# the PUK, PIN change, and 9c's "PIN always" policy.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/vcard/lib.sh"
vc_setup
cd "$VC_DIR" || exit 1

LOGOUT=0020FF80
PIN=0020008008313233343536FFFF		# 123456
BAD=0020008008393939393939FFFF		# 999999
STATUS=00200080
zeros() { printf '00%.0s' $(seq 1 "$1"); }
SIGN9A="0087119A267C2482008120$(zeros 32)00"
# 266 bytes of data for 9c: command chaining (CLA 10), 255 + 11 bytes.
SIGN9C_DATA="7C8201068200818201000001$(zeros 254)"
SIGN9C_1="1087079CFF${SIGN9C_DATA:0:510}"
SIGN9C_2="0087079C0B${SIGN9C_DATA:510}00"

vc_expect_sw 63C3 $STATUS
vc_expect_sw 6982 "$SIGN9A"
vc_expect_sw 63C2 $BAD
# The retry counter survives a restart of the card.
vcard_stop && vcard_start "$VC_STATE" || vc_fail "vcard restart"
vc_expect_sw 63C2 $STATUS
# A right PIN resets it, and the card reports it verified.
[ "$(vc_apdus $PIN $STATUS | tr '\n' ' ')" = "9000 9000 9000 " ] ||
    vc_fail "VERIFY then status: $(vc_apdus $PIN $STATUS)"
# PC/SC sessions leave the card as it is; VERIFY P1=FF logs out.
vc_expect_sw 9000 $STATUS
vc_expect_sw 9000 0020FF80
vc_expect_sw 63C3 $STATUS

# 9a: once per session; 9c: the PIN right before each use.
sws=$(vc_apdus $LOGOUT $PIN "$SIGN9A" $SIGN9C_1 $SIGN9C_2 $SIGN9C_1 $SIGN9C_2 "$SIGN9A" | tr '\n' ' ')
[ "$sws" = "9000 9000 9000 9000 9000 9000 9000 6982 9000 " ] ||
    vc_fail "PIN-always sequence answered $sws"
# Wrong lengths and unknown instructions.
vc_expect_sw 6700 002000800431323334
vc_expect_sw 6D00 00E20000
vc_expect_sw 9000 00FD0000
vc_expect_sw 6A86 00CB0000035C017E

# Lockout after three wrong PINs, also for the right one.
sws=$(vc_apdus $LOGOUT $BAD $BAD $BAD $PIN $STATUS | tr '\n' ' ')
[ "$sws" = "9000 9000 63C2 63C1 6983 6983 6983 " ] ||
    vc_fail "lockout sequence answered $sws"
vc_p11 --login --pin 123456 --sign --mechanism ECDSA --id 01 \
    -i /dev/null -o /dev/null >/dev/null 2>&1 &&
    vc_fail "login worked with a blocked PIN"
# Unblock with the PUK and set PIN 654321; wrong PUK first.
vc_expect_sw 63C2 002C0080103939393939393939363534333231FFFF
vc_expect_sw 9000 002C0080103132333435363738363534333231FFFF
vc_expect_sw 63C3 $STATUS
# Change it back with CHANGE REFERENCE DATA.
vc_expect_sw 9000 0024008010363534333231FFFF313233343536FFFF
echo hello | openssl dgst -sha256 -binary > d.sha
vc_p11 --login --pin 123456 --sign --mechanism ECDSA --id 01 \
    -i d.sha -o s >/dev/null 2>&1 || vc_fail "login after unblock"
echo PASS
exit 0

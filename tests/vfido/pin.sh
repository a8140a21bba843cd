#!/bin/sh
# PIN: set, change, wrong PIN, retries, 3-per-boot and 8-total lockout,
# under PIN protocol 2 and protocol 1.
. "$(dirname "$0")/lib.sh"

for proto in 2 1; do
	n=p$proto
	vf_start $n --pin-protocols $proto
	D=$(dev $n)
	ko FIDO_ERR_PIN_POLICY_VIOLATION setpin "$D" pin=12
	ok setpin "$D" pin=1234
	ko FIDO_ERR_PIN_AUTH_INVALID setpin "$D" pin=9999
	ok retries "$D"
	has "retries=8"
	ok make "$D" alg=es256 pin=1234 out="$T/$n.cred"
	has "flags=0x45"
	ok assert "$D" cred="$T/$n.cred" pin=1234
	has "flags=0x05"
	ko FIDO_ERR_PIN_INVALID assert "$D" cred="$T/$n.cred" pin=0000
	ok retries "$D"
	has "retries=7"
	ok changepin "$D" pin=1234 new=56789
	ok retries "$D"
	has "retries=8"
	ko FIDO_ERR_PIN_INVALID changepin "$D" pin=1234 new=1111
	ok assert "$D" cred="$T/$n.cred" pin=56789
	# three wrong in one boot block until a power cycle
	ko FIDO_ERR_PIN_INVALID assert "$D" cred="$T/$n.cred" pin=0000
	ko FIDO_ERR_PIN_INVALID assert "$D" cred="$T/$n.cred" pin=0000
	ko FIDO_ERR_PIN_AUTH_BLOCKED assert "$D" cred="$T/$n.cred" pin=0000
	ko FIDO_ERR_PIN_AUTH_BLOCKED assert "$D" cred="$T/$n.cred" pin=56789
	ok retries "$D"
	has "retries=5"
	vf_stop $n
	vf_start $n --pin-protocols $proto
	ok assert "$D" cred="$T/$n.cred" pin=56789
	ok retries "$D"
	has "retries=8"
	# eight wrong in total block for good
	for boot in 1 2 3; do
		for i in 1 2 3; do
			"$FIDOTOOL" assert "$D" cred="$T/$n.cred" \
			    pin=0000 >/dev/null 2>&1
		done
		vf_stop $n
		vf_start $n --pin-protocols $proto
	done
	ko FIDO_ERR_PIN_BLOCKED assert "$D" cred="$T/$n.cred" pin=56789
	ok retries "$D"
	has "retries=0"
	ok reset "$D"
	ok setpin "$D" pin=1234
	ok retries "$D"
	has "retries=8"
done
exit 0

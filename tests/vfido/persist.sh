#!/bin/sh
# State survives unplug/replug: counter keeps growing, resident credentials
# and the PIN stay; two tokens at once are independent.
. "$(dirname "$0")/lib.sh"

vf_start a --pin 1234 --serial AAA
vf_start b
A=$(dev a)
B=$(dev b)
ok make "$A" alg=es256 rk=1 pin=1234 user=bob out="$T/bob"
ok make "$B" alg=eddsa out="$T/b"
ok assert "$A" cred="$T/bob"
c1=$(sigcount)
vf_stop a
ko "not present" info "$A"
ok assert "$B" cred="$T/b"
vf_start a
ok assert "$A" cred="$T/bob"
c2=$(sigcount)
[ "$c2" -gt "$c1" ] || fail "counter went $c1 -> $c2 across replug"
ok list "$A" pin=1234
has "user=bob"
ko FIDO_ERR_NO_CREDENTIALS assert "$A" cred="$T/b"
ko FIDO_ERR_NO_CREDENTIALS assert "$B" cred="$T/bob"
ok info "$A"
has "clientPin=true"
# a corrupt state file is refused, not replaced
vf_stop b
printf 'garbage' > "$T/b.state"
if "$VFIDO" --state "$T/b.state" --socket "$T/b.sock" 2>/dev/null; then
	fail "vfido accepted a corrupt state file"
fi
exit 0

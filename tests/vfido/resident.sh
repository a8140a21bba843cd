#!/bin/sh
# Resident credentials: PIN needed to create, enumeration by getAssertion
# and credential management, credProtect, deletion.
. "$(dirname "$0")/lib.sh"

vf_start a --pin 1234
D=$(dev a)
ko FIDO_ERR_PIN_REQUIRED make "$D" alg=es256 rk=1 out="$T/x"
ok make "$D" alg=es256 rk=1 pin=1234 user=bob out="$T/bob"
has "flags=0x45"
ok make "$D" alg=eddsa rk=1 pin=1234 user=carol prot=2 out="$T/carol"
has "prot=2"
ok make "$D" alg=eddsa rk=1 pin=1234 user=dave rp=ssh:other out="$T/dave"
# same user again replaces
ok make "$D" alg=es256 rk=1 pin=1234 user=bob out="$T/bob"

ok list "$D" pin=1234
has "existing=3"
has "rp ssh:"
has "rp ssh:other"
has "user=bob type=-7 prot=1"
has "user=carol type=-8 prot=2"

# discoverable without PIN: credProtect 2 hides carol
ok assert-rk "$D"
has "ok count=1"
ok assert-rk "$D" pin=1234
has "ok count=2"
has "user=carol"
has "user=bob"

ok assert "$D" cred="$T/bob" pin=1234
has "flags=0x05"
ok delete "$D" pin=1234 cred="$T/bob"
ko FIDO_ERR_NO_CREDENTIALS assert "$D" cred="$T/bob"
ko FIDO_ERR_NO_CREDENTIALS delete "$D" pin=1234 cred="$T/bob"
ok list "$D" pin=1234
has "existing=2"

# reset is allowed only soon after power-up
ctl a replug
ok reset "$D"
ok info "$D"
has "clientPin=false"
ko FIDO_ERR_NO_CREDENTIALS assert "$D" cred="$T/carol"
exit 0

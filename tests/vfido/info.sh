#!/bin/sh
# getInfo through libfido2: versions, options, protocols, algorithms.
. "$(dirname "$0")/lib.sh"

vf_start a
ok info "$(dev a)"
has "fido2: yes"
has "versions: FIDO_2_0 FIDO_2_1"
has "credProtect"
has "rk=true"
has "clientPin=false"
has "credMgmt=true"
has "pinUvAuthToken=true"
has "pin_protocols: 2 1"
has "algorithms: -7 -8"
has "credman: yes"

vf_start b --pin 4321 --pin-protocols 1
ok info "$(dev b)"
has "clientPin=true"
has "pin_protocols: 1"

# nothing listening
ko "not present" info "unix:$T/nothing.sock"
exit 0

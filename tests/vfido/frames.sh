#!/bin/sh
# Raw CTAPHID: channels, continuation, sequence/channel/length errors,
# busy, message timeout, U2F refusal, bad CBOR; vfido survives it all.
. "$(dirname "$0")/lib.sh"

vf_start a
"$FIDOTOOL" frames "$T/a.sock" || fail "frame checks"
ok info "$(dev a)"
has "fido2: yes"
exit 0

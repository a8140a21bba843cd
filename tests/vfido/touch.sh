#!/bin/sh
# Touch behaviour: deny, delay, manual touch, never + cancel by libfido2,
# a client that dies (cancels nothing), timeout, all visible in the
# control log.
. "$(dirname "$0")/lib.sh"

vf_start a --touch deny --timeout 1000
D=$(dev a)
ko FIDO_ERR_OPERATION_DENIED make "$D" alg=es256 out="$T/c"
ctl a log
[ "$OUT" = "makeCredential up=1 uv=0; denied" ] || fail "log: $OUT"
ctl a "touch approve"
ok make "$D" alg=es256 out="$T/c"
# up=0 needs no touch even when denying
ctl a "touch deny"
ok assert "$D" cred="$T/c" up=0

ctl a "touch delay=300"
start=$(date +%s%N)
ok assert "$D" cred="$T/c"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -ge 250 ] || fail "delay: answered after ${ms}ms"

ctl a "touch never" log
ko FIDO_ERR_KEEPALIVE_CANCEL assert "$D" cred="$T/c" cancel_after=200
ctl a log
[ "$OUT" = "getAssertion up=1 uv=0; cancel" ] || fail "log: $OUT"
ko FIDO_ERR_USER_ACTION_TIMEOUT assert "$D" cred="$T/c"
ctl a log
[ "$OUT" = "getAssertion up=1 uv=0; timeout" ] || fail "log: $OUT"

# a client killed while waiting cancels nothing (closing a hidraw fd does
# not either): the touch is still awaited, and a touch completes it
"$FIDOTOOL" assert "$D" cred="$T/c" >/dev/null 2>&1 &
cpid=$!
i=0
while :; do
	ctl a pending
	[ "$OUT" = "yes getAssertion up=1 uv=0" ] && break
	i=$((i + 1))
	[ $i -gt 40 ] && fail "request never pending"
	sleep 0.05
done
kill -9 $cpid
wait $cpid 2>/dev/null
sleep 0.3
ctl a pending
[ "$OUT" = "yes getAssertion up=1 uv=0" ] || fail "dead client cancelled: $OUT"
ctl a log
[ -z "$OUT" ] || fail "log after the client died: $OUT"
ctl a touch
ctl a pending
[ "$OUT" = "no" ] || fail "still pending after the touch: $OUT"
ctl a log
[ "$OUT" = "getAssertion up=1 uv=0" ] || fail "log: $OUT"

# manual: the touch arrives from the control socket
ctl a "touch manual"
"$FIDOTOOL" assert "$D" cred="$T/c" >"$T/manual.out" 2>&1 &
cpid=$!
i=0
while :; do
	ctl a pending
	[ "$OUT" != "no" ] && break
	i=$((i + 1))
	[ $i -gt 40 ] && fail "manual request never pending"
	sleep 0.05
done
ctl a touch
wait $cpid || fail "manual touch: $(cat "$T/manual.out")"
# a touch given in advance is used by the next request
ctl a touch
ok assert "$D" cred="$T/c"
exit 0

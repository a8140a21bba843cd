#!/bin/bash
# fido-nonblock: while one client waits 2 s for a touch (vfido delay=2000),
# another client's list request is answered at once (OpenSSH's agent is
# blocked for the whole touch), and the waiting signature then completes.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

sk_start_vfido tok --touch delay=2000
sk_use tok
ti_expect_ok "enroll" sk_keygen "$TI_DIR/k" ed25519-sk
ti_keygen ed25519 - "$TI_DIR/soft"
fido_start_agent tok
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k" "$TI_DIR/soft"
pub=$(fido_pub "$TI_DIR/k")
softpub=$(fido_pub "$TI_DIR/soft")

ti_log "sign waiting 2 s for a touch, meanwhile: list and a software sign"
ssh-add -T "$pub" >"$TI_DIR/slow.log" 2>&1 &
spid=$!
echo "$spid" >>"$TI_DIR/pids"
fido_pending_wait tok 10 || ti_fail "no touch pending on the token"
start=$(fido_now_ms)
out=$(ssh-add -l 2>&1) || ti_fail "ssh-add -l during the touch: $out"
took=$(($(fido_now_ms) - start))
ti_log "ssh-add -l took ${took} ms while a touch was pending"
ti_assert_contains "$out" "(ED25519-SK)" "list has the sk key"
[ "$took" -lt 1000 ] || ti_fail "list blocked by the touch (${took} ms)"
start=$(fido_now_ms)
ti_expect_ok "software key signs during the touch" ssh-add -T "$softpub"
took=$(($(fido_now_ms) - start))
ti_log "ssh-add -T soft took ${took} ms while a touch was pending"
[ "$took" -lt 1000 ] || ti_fail "software sign blocked by the touch"
case $(sk_ctl tok pending) in
yes*) ;;
*) ti_log "(touch already done: the checks above ran late)" ;;
esac
wait "$spid" || { cat "$TI_DIR/slow.log" >&2; ti_fail "the slow sign failed"; }
ti_agent_alive || ti_fail "agent died"
exit 0

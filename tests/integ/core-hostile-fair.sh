#!/bin/bash
# core-hostile-fair: one client cannot fill the soft helper's queue.  A
# process opens 64 connections that each ask for a slow signature (RSA-4096)
# at once; then another process asks for one.  The agent lets one client
# process have only a few requests in flight (the rest wait their turn in
# the agent), so the second client's signature completes after at most
# that many of the flood's, not after all 64.  Every key is still listed.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "per-client in-flight budget"
HOSTILE=$TI_BUILD/tests/integ/hostile
[ -x "$HOSTILE" ] || ti_fail "$HOSTILE not built"

ti_keygen rsa 4096 "$TI_DIR/slow"
ti_keygen ed25519 - "$TI_DIR/k1"
ti_start_agent
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/slow" "$TI_DIR/k1"

out=$("$HOSTILE" signflood 64 "$(cut -d' ' -f2 "$TI_DIR/slow.pub")") ||
    ti_fail "sign flood: $out"
ti_log "$out"
before=$(printf '%s\n' "$out" | sed -n 's/.*before=\([0-9]*\).*/\1/p')
ok=$(printf '%s\n' "$out" | sed -n 's/.*ok=\([0-9]*\).*/\1/p')
ti_assert_eq 64 "$ok" "flood signatures answered"
# The budget is 8 per client process; allow some slack, far below 64.
[ "${before:-64}" -le 16 ] ||
    ti_fail "the second client waited for $before of the flood's 64 signatures"

ti_assert_eq 2 "$(ti_agent_count)" "keys after the flood"
ti_expect_ok "a normal signature" ssh-add -T "$TI_DIR/k1.pub"
ti_agent_alive || ti_fail "agent died"
exit 0

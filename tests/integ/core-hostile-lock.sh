#!/bin/bash
# core-hostile-lock: guessing the lock passphrase in parallel gains nothing.
# 200 connections (one process) each send a wrong UNLOCK at once: the agent
# tries them one at a time for the whole agent, with a growing delay after
# each failure, so within a 3 s window only a handful are evaluated (one
# "unlock failed ... answering in" log line each; before, every guess was
# evaluated at once).  Meanwhile another client lists keys every 20 ms and
# is answered; afterwards the right passphrase still unlocks.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "agent-wide unlock rate"
HOSTILE=$TI_BUILD/tests/integ/hostile
[ -x "$HOSTILE" ] || ti_fail "$HOSTILE not built"

ti_keygen ed25519 - "$TI_DIR/k1"
ti_askpass_setup "pass:right"
ti_start_agent
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k1"
ti_expect_ok "ssh-add -x" ssh-add -x

before=$(grep -c "unlock failed.*answering in" "$TI_AGENT_LOG")
out=$("$HOSTILE" unlock-flood 200 3000) || ti_fail "unlock flood: $out"
after=$(grep -c "unlock failed.*answering in" "$TI_AGENT_LOG")
evaluated=$((after - before))
ti_log "$out"
ti_log "guesses evaluated in 3 s: $evaluated of 200"
# Delays of 100, 200, 300... ms: 8 fit in 3 s.  Generous both ways.
[ "$evaluated" -le 15 ] ||
    ti_fail "$evaluated unlock guesses evaluated in 3 s (agent-wide rate not held)"
[ "$evaluated" -ge 2 ] ||
    ti_fail "only $evaluated unlock guesses evaluated in 3 s (stuck?)"
case $out in
*"failed=0"*) ;;
*) ti_fail "the other client was not answered during the flood: $out" ;;
esac
lists=$(printf '%s\n' "$out" | sed -n 's/.*lists=\([0-9]*\).*/\1/p')
[ "${lists:-0}" -ge 20 ] || ti_fail "the other client got only $lists lists"

# The flood's connections are gone: the right passphrase unlocks (after at
# most the last failure's delay).
ti_expect_ok "unlock after the flood" ssh-add -X
ti_assert_eq 1 "$(ti_agent_count)" "keys back after unlocking"
ti_agent_alive || ti_fail "agent died"
exit 0

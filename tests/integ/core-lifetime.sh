#!/bin/bash
# core-lifetime: `ssh-add -t` expiry and the agent's -t default lifetime.
# Agent started with -t 3: k1 added with -t 1, k2 with the default, k3 with
# -t 60.  At ~1.8 s only k1 is gone; at ~3.8 s k2 is gone too; k3 stays.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup

for k in k1 k2 k3; do
	ti_keygen ed25519 - "$TI_DIR/$k"
done
ti_start_agent -t 3
t0=$(date +%s.%N)
ti_expect_ok "ssh-add -t 1 k1" ssh-add -t 1 "$TI_DIR/k1"
ti_expect_ok "ssh-add k2 (agent default -t 3)" ssh-add "$TI_DIR/k2"
ti_expect_ok "ssh-add -t 60 k3" ssh-add -t 60 "$TI_DIR/k3"
ti_assert_eq 3 "$(ti_agent_count)" "all three listed at first"
ti_expect_ok "k1 signs before it expires" ssh-add -T "$TI_DIR/k1.pub"

listed()
{
	ssh-add -l 2>/dev/null | grep -c "$(ti_fp "$TI_DIR/$1.pub")"
}

sleep_until()
{
	local left
	left=$(awk -v t0="$t0" -v d="$1" -v now="$(date +%s.%N)" \
	    'BEGIN { l = t0 + d - now; if (l < 0) l = 0; printf "%.3f", l }')
	sleep "$left"
}

sleep_until 1.8
ti_assert_eq 0 "$(listed k1)" "k1 (-t 1) expired"
ti_assert_eq 1 "$(listed k2)" "k2 (agent -t 3) still there at 1.8 s"
ti_assert_eq 1 "$(listed k3)" "k3 (-t 60) still there"
ti_expect_fail "expired k1 can not sign" ssh-add -T "$TI_DIR/k1.pub"

sleep_until 3.8
ti_assert_eq 0 "$(listed k2)" "k2 expired by the agent's default lifetime"
ti_assert_eq 1 "$(listed k3)" "k3 (-t 60) still there at 3.8 s"
ti_expect_fail "expired k2 can not sign" ssh-add -T "$TI_DIR/k2.pub"
ti_expect_ok "k3 still signs" ssh-add -T "$TI_DIR/k3.pub"

# Re-adding an expired key with a new lifetime brings it back.
ti_expect_ok "re-add k1" ssh-add -t 30 "$TI_DIR/k1"
ti_assert_eq 1 "$(listed k1)" "re-added k1"

# Bad lifetimes are refused by ssh-add itself (sanity of the harness).
ti_expect_fail "ssh-add -t garbage" ssh-add -t nonsense "$TI_DIR/k2"

ti_agent_alive || ti_fail "agent died"
exit 0

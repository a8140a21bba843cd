#!/bin/bash
# core-lifetime: `ssh-add -t` expiry and the agent's -t default lifetime.
# Agent started with -t 3: k1 added with -t 1, k2 with the default, k3 with
# -t 60.  About 1.6 s after k1 went in only k1 is gone; about 3.6 s after k2
# went in k2 is gone too; k3 stays.  Deadlines are taken from the moment
# each ssh-add finished, so a slow machine does not make the test flaky.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup

for k in k1 k2 k3; do
	ti_keygen ed25519 - "$TI_DIR/$k"
done
ti_start_agent -t 3

now() { date +%s.%N; }

# sleep_until T: sleep until the clock reads T (seconds since the epoch).
sleep_until()
{
	sleep "$(awk -v t="$1" -v now="$(now)" \
	    'BEGIN { l = t - now; if (l < 0) l = 0; printf "%.3f", l }')"
}

# before T: true while the clock reads less than T.
before()
{
	awk -v t="$1" -v now="$(now)" 'BEGIN { exit !(now < t) }'
}

listed()
{
	ssh-add -l 2>/dev/null | grep -c "$(ti_fp "$TI_DIR/$1.pub")"
}

ti_expect_ok "ssh-add -t 1 k1" ssh-add -t 1 "$TI_DIR/k1"
k1_added=$(now)
k2_start=$(now)
ti_expect_ok "ssh-add k2 (agent default -t 3)" ssh-add "$TI_DIR/k2"
k2_added=$(now)
ti_expect_ok "ssh-add -t 60 k3" ssh-add -t 60 "$TI_DIR/k3"
if before "$(awk -v t="$k1_added" 'BEGIN { printf "%.3f", t + 0.8 }')"; then
	ti_assert_eq 1 "$(listed k1)" "k1 listed right after adding it"
fi
ti_assert_eq 1 "$(listed k2)" "k2 listed right after adding it"

sleep_until "$(awk -v t="$k1_added" 'BEGIN { printf "%.3f", t + 1.6 }')"
ti_assert_eq 0 "$(listed k1)" "k1 (-t 1) expired"
ti_expect_fail "expired k1 can not sign" ssh-add -T "$TI_DIR/k1.pub"
# k2 was added after k1, with 3 s: it must still be there.
if before "$(awk -v t="$k2_start" 'BEGIN { printf "%.3f", t + 2.9 }')"; then
	ti_assert_eq 1 "$(listed k2)" "k2 (agent -t 3) still there"
fi
ti_assert_eq 1 "$(listed k3)" "k3 (-t 60) still there"

sleep_until "$(awk -v t="$k2_added" 'BEGIN { printf "%.3f", t + 3.6 }')"
ti_assert_eq 0 "$(listed k2)" "k2 expired by the agent's default lifetime"
ti_expect_fail "expired k2 can not sign" ssh-add -T "$TI_DIR/k2.pub"
ti_assert_eq 1 "$(listed k3)" "k3 (-t 60) still there"
ti_expect_ok "k3 still signs" ssh-add -T "$TI_DIR/k3.pub"

# Re-adding an expired key with a new lifetime brings it back.
ti_expect_ok "re-add k1" ssh-add -t 30 "$TI_DIR/k1"
ti_assert_eq 1 "$(listed k1)" "re-added k1"

ti_agent_alive || ti_fail "agent died"
exit 0

#!/bin/bash
# tests/integ/p11-crash.sh: a PKCS#11 provider that is slow or crashes
# (tests/p11/p11-faulty.c in front of SoftHSM2).  While a token signature
# takes 3 s, listing and software-key signatures are answered at once; a
# provider that aborts in C_Sign fails that signature only, the agent
# restarts its helper, keeps serving the software key, and the token key
# comes back and signs again (after asking the PIN: the new helper has no
# login) -- twice in a row.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "helper supervision is a tokagent feature"
. "$TI_SRC/tests/p11/softhsm.sh"

p11_softhsm_available || ti_skip "SoftHSM2 / pkcs11-tool not installed"
ti_require_cmd ssh-add
FAULTY=$TI_BUILD/tests/p11/.libs/libp11faulty.so
[ -f "$FAULTY" ] || ti_fail "$FAULTY not built"
PIN=1122

p11_softhsm_init "$TI_DIR" || ti_fail "softhsm init"
p11_softhsm_token crash "$PIN" || ti_fail "token init"
p11_softhsm_keygen crash "$PIN" 01 EC:prime256v1 p256 || ti_fail "keygen"
export P11_FAULTY_TARGET=$P11_SOFTHSM_MODULE
export P11_FAULTY_CTL=$TI_DIR/faulty.ctl

ti_keygen ed25519 - "$TI_DIR/soft"

# wait_count N [TENTHS=50]: until the agent lists N keys.
wait_count()
{
	local _
	for _ in $(seq "${2:-50}"); do
		[ "$(ti_agent_count)" = "$1" ] && return 0
		sleep 0.1
	done
	ti_fail "agent lists $(ti_agent_count) keys, expected $1"
}

ms()
{
	echo $(($(date +%s%N) / 1000000))
}
# Time limits stretch under a slow agent wrapper (valgrind).
SLOW=1
[ -n "${TI_AGENT_WRAPPER:-}" ] && SLOW=10

ti_askpass_setup "pass:$PIN"
ti_start_agent -P "$(dirname "$(realpath "$FAULTY")")/*,/usr/lib*/*"
ti_expect_ok "ssh-add soft key" ssh-add "$TI_DIR/soft"
ti_expect_ok "ssh-add -s faulty" ssh-add -s "$FAULTY"
wait_count 2
ssh-add -L | grep '^ecdsa-sha2-nistp256 ' >"$TI_DIR/tok.pub" ||
    ti_fail "token key not listed"
ti_expect_ok "token signature" ssh-add -T "$TI_DIR/tok.pub"

# --- a slow token: everything else is answered meanwhile.
echo "sleep 3" >"$P11_FAULTY_CTL"
ssh-add -T "$TI_DIR/tok.pub" >"$TI_DIR/slow.out" 2>&1 &
slow=$!
sleep 0.5
t0=$(ms)
ti_assert_eq 2 "$(ti_agent_count)" "keys listed during a slow signature"
ti_expect_ok "software key during a slow signature" \
    ssh-add -T "$TI_DIR/soft.pub"
t1=$(ms)
[ $((t1 - t0)) -lt $((1000 * SLOW)) ] ||
    ti_fail "list + software signature took $((t1 - t0)) ms during a slow token"
ti_log "list + software signature during a slow token: $((t1 - t0)) ms"
wait "$slow" || { cat "$TI_DIR/slow.out" >&2; ti_fail "slow signature"; }
rm -f "$P11_FAULTY_CTL"

# --- the provider crashes in C_Sign, twice.
for round in 1 2; do
	echo abort >"$P11_FAULTY_CTL"
	t0=$(ms)
	ti_expect_fail "signature with a crashing provider ($round)" \
	    ssh-add -T "$TI_DIR/tok.pub"
	t1=$(ms)
	[ $((t1 - t0)) -lt $((5000 * SLOW)) ] ||
	    ti_fail "a crashed signature took $((t1 - t0)) ms"
	ti_log "crash $round: signature failed in $((t1 - t0)) ms"
	rm -f "$P11_FAULTY_CTL"
	ti_agent_alive || ti_fail "agent died with its provider"
	ti_expect_ok "software key after crash $round" \
	    ssh-add -T "$TI_DIR/soft.pub"
	# XXX the keys stay listed while the helper waits to be restarted
	# (200 ms, doubling on each quick death) and a signature then fails:
	# give the restart time.
	sleep 1
	wait_count 2
	asked=$(ti_askpass_count)
	ti_expect_ok "token signature after crash $round" \
	    ssh-add -T "$TI_DIR/tok.pub"
	ti_log "crash $round: PIN prompts since: $(($(ti_askpass_count) - asked))"
done
grep -q 'restart' "$TI_AGENT_LOG" || ti_fail "no helper restart logged"

ti_expect_ok "ssh-add -e" ssh-add -e "$FAULTY"
wait_count 1
ti_log "ok"
exit 0

#!/bin/bash
# tests/integ/p11-agent-remove.sh: keys the user removed stay removed when
# their token comes back.  After `ssh-add -d` of one PKCS#11 key, pulling
# and plugging the token back (tests/p11/p11-shim.c in front of SoftHSM2) brings
# back only the others; after `ssh-add -D`, nothing comes back until the
# provider is added again with `ssh-add -s`, which brings back all of them.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "token events are tokagent features"
. "$TI_SRC/tests/p11/softhsm.sh"

p11_softhsm_available || ti_skip "SoftHSM2 / pkcs11-tool not installed"
ti_require_cmd ssh-add ssh-keygen
SHIM=$TI_BUILD/tests/p11/.libs/libp11shim.so
[ -f "$SHIM" ] || ti_fail "shim module not built"
PIN=86420

p11_softhsm_init "$TI_DIR" || ti_fail "softhsm init"
p11_softhsm_token remove "$PIN" || ti_fail "token init"
p11_softhsm_keygen remove "$PIN" 01 EC:prime256v1 first || ti_fail "keygen"
p11_softhsm_keygen remove "$PIN" 02 EC:prime256v1 second || ti_fail "keygen"
export P11_SHIM_TARGET=$P11_SOFTHSM_MODULE
export P11_SHIM_STATE=$TI_DIR/shim-state
echo present >"$P11_SHIM_STATE"

# wait_count N: until the agent lists N keys (5 s).
wait_count()
{
	local i
	for i in $(seq 50); do
		[ "$(ti_agent_count)" = "$1" ] && return 0
		sleep 0.1
	done
	ti_fail "agent lists $(ti_agent_count) keys, expected $1"
}

# replug: pull the token, wait until its keys are gone, plug it back.
replug()
{
	echo absent >"$P11_SHIM_STATE"
	wait_count 0
	echo present >"$P11_SHIM_STATE"
}

ti_askpass_setup "pass:$PIN"
ti_start_agent -P "$(dirname "$(realpath "$SHIM")")/*,/usr/lib*/*"
ti_expect_ok "ssh-add -s" ssh-add -s "$SHIM" </dev/null
wait_count 2
ssh-add -L >"$TI_DIR/both.pub" || ti_fail "ssh-add -L"
head -n 1 "$TI_DIR/both.pub" >"$TI_DIR/gone.pub"
tail -n 1 "$TI_DIR/both.pub" >"$TI_DIR/kept.pub"

ti_expect_ok "ssh-add -d one key" ssh-add -d "$TI_DIR/gone.pub"
wait_count 1
replug
wait_count 1
sleep 1.5	# a second card event must not bring it back either
wait_count 1
ti_assert_eq "$(cut -d' ' -f2 "$TI_DIR/kept.pub")" \
    "$(ssh-add -L | cut -d' ' -f2)" "the kept key is the one listed"

ti_expect_ok "ssh-add -D" ssh-add -D
wait_count 0
echo absent >"$P11_SHIM_STATE"
sleep 1.5
echo present >"$P11_SHIM_STATE"
sleep 2.5	# the card watcher and the rescan have had their chance
wait_count 0

ti_expect_ok "ssh-add -s again" ssh-add -s "$SHIM" </dev/null
wait_count 2
ti_log "ok"
exit 0

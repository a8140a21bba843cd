#!/bin/bash
# tests/integ/p11-agent-replug.sh: a PKCS#11 token pulled and plugged back
# while the agent holds its keys (the test module tests/p11/p11-shim.c in front
# of SoftHSM2 does the pulling).  While it is out its keys are not listed;
# when it is back they are listed again without any ssh-add, and the first
# login asks for the PIN through askpass (naming the token key) and works.
# The same after the helper is killed (the agent restarts it).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "token events and re-login are tokagent features"
. "$TI_SRC/tests/p11/softhsm.sh"

p11_softhsm_available || ti_skip "SoftHSM2 / pkcs11-tool not installed"
ti_require_cmd ssh ssh-add
SHIM=$TI_BUILD/tests/p11/.libs/libp11shim.so
[ -f "$SHIM" ] || ti_fail "shim module not built"
PIN=97531

p11_softhsm_init "$TI_DIR" || ti_fail "softhsm init"
p11_softhsm_token replug "$PIN" || ti_fail "token init"
p11_softhsm_keygen replug "$PIN" 01 EC:prime256v1 p256 || ti_fail "keygen"
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

ti_askpass_setup "pass:$PIN"
ti_start_agent -P "$(dirname "$(realpath "$SHIM")")/*,/usr/lib*/*"
ti_expect_ok "ssh-add -s" ssh-add -s "$SHIM"
wait_count 1
ssh-add -L >"$TI_DIR/key.pub" || ti_fail "ssh-add -L"
ti_start_sshd p11
ti_authorize p11 "$TI_DIR/key.pub"
login()
{
	ti_ssh p11 -o IdentitiesOnly=yes -o BatchMode=yes -i "$TI_DIR/key.pub" \
	    echo login-ok 2>>"$TI_DIR/ssh.log"
}
ti_assert_eq login-ok "$(login)" "login before unplug"
asked=$(ti_askpass_count)

echo absent >"$P11_SHIM_STATE"
wait_count 0
ti_expect_fail "login while unplugged" login

echo present >"$P11_SHIM_STATE"
wait_count 1
ti_assert_eq login-ok "$(login)" "login after replug"
[ "$(ti_askpass_count)" -gt "$asked" ] ||
    ti_fail "no PIN was asked for after the replug"
ti_log "PIN prompt: $(tail -n 1 "$TI_DIR/askpass.log")"

# A helper that dies is restarted; its keys come back and the next login
# asks for the PIN again (the new helper never had it).
helper=$(pgrep -P "$TI_AGENT_PID" -f tokagent-p11-helper | head -n 1)
[ -n "$helper" ] || ti_fail "no p11 helper under agent pid $TI_AGENT_PID"
asked=$(ti_askpass_count)
kill -9 "$helper"
for i in $(seq 50); do
	h2=$(pgrep -P "$TI_AGENT_PID" -f tokagent-p11-helper | head -n 1)
	[ -n "$h2" ] && [ "$h2" != "$helper" ] && break
	sleep 0.1
done
[ -n "$h2" ] && [ "$h2" != "$helper" ] || ti_fail "p11 helper not restarted"
wait_count 1
ti_assert_eq login-ok "$(login)" "login after a helper restart"
[ "$(ti_askpass_count)" -gt "$asked" ] ||
    ti_fail "no PIN was asked for after the helper restart"
ti_log "ok"
exit 0

#!/bin/bash
# tests/integ/ossh10-sigusr1.sh: SIGUSR1 deletes every loaded key and the
# agent keeps serving (OpenSSH 10's ssh-agent(1) behaviour): software keys,
# a certificate and a SoftHSM token's keys are gone, ssh-add -l lists
# nothing, the same socket still answers, keys can be added and used
# again, and a second SIGUSR1 while empty changes nothing.  make check
# runs it with Debian's tools, OpenSSH 10.5's tools, and against OpenSSH
# 10.5's own agent (tests/integ/ossh10.mk).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/p11/softhsm.sh"

if ti_is_openssh_agent && ! strings "$TEST_AGENT" | grep -q "removing all keys"; then
	# Before 10.0 SIGUSR1 kills ssh-agent.
	ti_skip "$TEST_AGENT predates SIGUSR1 key deletion (OpenSSH 10.0)"
fi
p11_softhsm_available || ti_skip "SoftHSM2 / pkcs11-tool not installed"
PIN=24680
p11_softhsm_init "$TI_DIR" || ti_fail "softhsm init"
p11_softhsm_token usr1 "$PIN" || ti_fail "token init"
p11_softhsm_keygen usr1 "$PIN" 01 EC:prime256v1 p256 || ti_fail "keygen"

ti_keygen ed25519 - "$TI_DIR/k1"
ti_keygen ecdsa 256 "$TI_DIR/k2"
ti_keygen ed25519 - "$TI_DIR/ca"
ti_certify "$TI_DIR/ca" "$TI_DIR/k1.pub"

ti_askpass_setup "pass:$PIN"
ti_start_agent
ti_expect_ok "ssh-add keys" ssh-add "$TI_DIR/k1" "$TI_DIR/k2"
ti_expect_ok "ssh-add -s" ssh-add -s "$P11_SOFTHSM_MODULE"
# k1, its certificate, k2, the token key.
ti_assert_eq 4 "$(ti_agent_count)" "keys before SIGUSR1"

# wait_count N: until the agent lists N keys (the signal is asynchronous).
wait_count()
{
	local _
	for _ in $(seq 100); do
		[ "$(ti_agent_count)" = "$1" ] && return 0
		sleep 0.05
	done
	ti_fail "agent lists $(ti_agent_count) keys, expected $1"
}

kill -USR1 "$TI_AGENT_PID" || ti_fail "kill -USR1"
wait_count 0
ti_agent_alive || ti_fail "the agent died on SIGUSR1"
[ -S "$TI_AGENT_SOCK" ] || ti_fail "the socket is gone after SIGUSR1"
out=$(ssh-add -l 2>&1)
ti_assert_eq 1 $? "ssh-add -l exits 1 after SIGUSR1"
ti_assert_contains "$out" "no identities" "listing after SIGUSR1"
ti_expect_fail "no signature with a deleted key" ssh-add -T "$TI_DIR/k2.pub"

# Empty agent: a second signal is harmless.
kill -USR1 "$TI_AGENT_PID" || ti_fail "kill -USR1 (empty)"
sleep 0.2
ti_agent_alive || ti_fail "the agent died on SIGUSR1 while empty"

# Still an agent: keys can be added and used again.
ti_expect_ok "ssh-add after SIGUSR1" ssh-add "$TI_DIR/k2"
ti_expect_ok "sign after SIGUSR1" ssh-add -T "$TI_DIR/k2.pub"
ti_start_sshd usr1
ti_authorize usr1 "$TI_DIR/k2.pub"
out=$(ti_ssh usr1 -o IdentitiesOnly=yes -i "$TI_DIR/k2.pub" echo usr1-ok) ||
    ti_fail "login after SIGUSR1"
ti_assert_eq usr1-ok "$out" "login after SIGUSR1"
# The token's provider can be added again (OpenSSH keeps it loaded: it
# refuses the add; remove it first there).
ssh-add -e "$P11_SOFTHSM_MODULE" >/dev/null 2>&1
ti_expect_ok "ssh-add -s after SIGUSR1" ssh-add -s "$P11_SOFTHSM_MODULE"
wait_count 2
kill -USR1 "$TI_AGENT_PID" || ti_fail "kill -USR1 (again)"
wait_count 0
ti_agent_alive || ti_fail "the agent died on the third SIGUSR1"
ti_log "ok"
exit 0

#!/bin/bash
# tests/integ/ossh10-lock-bind.sh: a locked agent still accepts
# session-bind@openssh.com, as OpenSSH 10.5's does (ssh binds every new
# connection to the agent, locked or not): ssh logging in with a key file
# says "bound agent to hostkey" while the agent is locked.  Everything
# else stays refused while locked: listing is empty, signatures, adds and
# other extensions (query, an unknown one) get FAILURE; after unlocking the
# agent's key logs in through the agent again.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup

if ti_is_openssh_agent && ! strings "$TEST_AGENT" | grep -q "removing all keys"; then
	ti_skip "$TEST_AGENT predates session-bind while locked (OpenSSH 10)"
fi
CLI=$TI_BUILD/tests/integ/agentcli
[ -x "$CLI" ] || ti_fail "$CLI not built"
ti_keygen ed25519 - "$TI_DIR/agentkey"
ti_keygen ed25519 - "$TI_DIR/filekey"
ti_keygen ed25519 - "$TI_DIR/other"
ti_askpass_setup "pass:lock-secret"
ti_start_agent
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/agentkey"
ti_start_sshd lb
ti_authorize lb "$TI_DIR/agentkey.pub"
ti_authorize lb "$TI_DIR/filekey.pub"

# login WHAT ARGS...: ssh -v to lb; its debug output in $TI_DIR/ssh.out.
login()
{
	local what=$1 out
	shift
	out=$(ti_ssh lb -v "$@" echo login-ok 2>"$TI_DIR/ssh.out") ||
	    { cat "$TI_DIR/ssh.out" >&2; ti_fail "login: $what"; }
	ti_assert_eq login-ok "$out" "login: $what"
}
hexstr()
{
	local h
	h=$(printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n')
	printf '%08x%s' $((${#h} / 2)) "$h"
}

login "unlocked, agent key" -o IdentitiesOnly=yes -i "$TI_DIR/agentkey.pub"
grep -q "bound agent to hostkey" "$TI_DIR/ssh.out" ||
    ti_fail "no session binding while unlocked"

ti_expect_ok "ssh-add -x" ssh-add -x
login "locked, key file" -o IdentitiesOnly=yes -i "$TI_DIR/filekey"
grep -q "bound agent to hostkey" "$TI_DIR/ssh.out" ||
    ti_fail "the locked agent refused session-bind"
grep -q "Server accepts key.*filekey\|Authenticated.*using \"publickey\"" \
    "$TI_DIR/ssh.out" || ti_fail "login did not use the key file"

ti_assert_eq 0 "$(ti_agent_count)" "keys listed while locked"
ti_expect_fail "sign while locked" ssh-add -T "$TI_DIR/agentkey.pub"
ti_expect_fail "add while locked" ssh-add "$TI_DIR/other"
out=$("$CLI" raw "1b$(hexstr query)") || ti_fail "agentcli query"
ti_assert_eq "5 " "$out" "query while locked"
out=$("$CLI" raw "1b$(hexstr nonexistent@example.com)") ||
    ti_fail "agentcli unknown extension"
ti_assert_eq "5 " "$out" "unknown extension while locked"
ti_expect_fail "agent key login while locked" \
    ti_ssh lb -o IdentitiesOnly=yes -i "$TI_DIR/agentkey.pub" true

ti_expect_ok "ssh-add -X" ssh-add -X
login "unlocked again, agent key" -o IdentitiesOnly=yes \
    -i "$TI_DIR/agentkey.pub"
ti_agent_alive || ti_fail "agent died"
ti_log "ok"
exit 0

#!/bin/bash
# tests/integ/ossh10-allowlist.sh: the -P allowlist follows OpenSSH's
# pattern-list rules with a real ssh-add -s and SoftHSM: a negated entry
# refuses the module even when a later entry allows it, whichever path
# (symlink or real) ssh-add names, because both agents match the realpath;
# '?' and '*' patterns; an allowlist with only a negation allows nothing.
# Also -P '!/usr/lib/softhsm/libsofthsm2.so,/usr/lib/*' (a negation of a
# symlink's name, as typed by users): the decision is the realpath's.
# make check runs it with Debian's and OpenSSH 10.5's tools and against
# OpenSSH 10.5's agent, which must decide alike.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/p11/softhsm.sh"

p11_softhsm_available || ti_skip "SoftHSM2 / pkcs11-tool not installed"
MODULE=$P11_SOFTHSM_MODULE
REAL=$(readlink -f "$MODULE") || ti_fail "readlink -f $MODULE"
PIN=11223
p11_softhsm_init "$TI_DIR" || ti_fail "softhsm init"
p11_softhsm_token allow "$PIN" || ti_fail "token init"
p11_softhsm_keygen allow "$PIN" 01 EC:prime256v1 p256 || ti_fail "keygen"
ti_keygen ed25519 - "$TI_DIR/soft"
ti_askpass_setup "pass:$PIN"

# try ALLOWLIST PATH ok|refused: a fresh agent with -P ALLOWLIST; ssh-add -s
# PATH must succeed (and list the token key) or be refused (agent alive,
# still serving its software key).
try()
{
	local list=$1 path=$2 want=$3
	ti_log "-P '$list', ssh-add -s $path: want $want"
	ti_start_agent -P "$list"
	ti_expect_ok "ssh-add soft" ssh-add "$TI_DIR/soft"
	if [ "$want" = ok ]; then
		ti_expect_ok "-P '$list' allows $path" ssh-add -s "$path"
		ti_assert_eq 2 "$(ti_agent_count)" "keys with -P '$list'"
	else
		ti_expect_fail "-P '$list' refuses $path" ssh-add -s "$path"
		ti_agent_alive || ti_fail "agent died: -P '$list'"
		ti_assert_eq 1 "$(ti_agent_count)" "keys with -P '$list'"
		ti_expect_ok "still signing (-P '$list')" \
		    ssh-add -T "$TI_DIR/soft.pub"
	fi
	ti_stop_agent
}

dir=$(dirname "$REAL")
try "!$REAL,/usr/lib/*" "$MODULE" refused
try "!$REAL,/usr/lib/*" "$REAL" refused
try "/usr/lib/*,!$REAL" "$REAL" refused
try "/usr/lib/*,!$dir/*" "$MODULE" refused
try "!/nonexistent/*,/usr/lib/*" "$MODULE" ok
try "!$REAL" "$REAL" refused
try "$dir/libsofthsm?.so" "$MODULE" ok
try "$dir/libsofthsm?.s" "$MODULE" refused
try "/usr/lib*/*" "$MODULE" ok
try "/usr/local/lib*/*,/opt/*" "$MODULE" refused
# The issue's list: where libsofthsm2.so is a symlink (Debian's multiarch
# layout), the negation names no realpath and /usr/lib/* allows it.
if [ "$REAL" = /usr/lib/softhsm/libsofthsm2.so ]; then
	want=refused
else
	want=ok
fi
try '!/usr/lib/softhsm/libsofthsm2.so,/usr/lib/*' "$MODULE" "$want"
ti_log "ok"
exit 0

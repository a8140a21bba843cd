#!/bin/bash
# tests/integ/piv-cards.sh: two PIV cards at once (two vcards in the two
# readers of a private pcscd), through the native PIV helper: both cards'
# keys are listed, named by their serials; a 9e key (PIN policy never)
# signs with no PIN prompt; each card logs in with its own PIN prompt (the
# PIN is cached per card); pulling one takes only its keys; a killed PIV
# helper is restarted and reports the keys again.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "the native PIV helper"
. "$TI_SRC/tests/p11/pcscd.sh"
ti_require_cmd ssh ssh-add ssh-keygen opensc-tool yubico-piv-tool
export HOME=$TI_DIR
export PCSCD_READER_NAME="Yubico YubiKey OTP+FIDO+CCID"
ti_pcscd_start
vcard_start "$TI_DIR/one.state" --atr yubikey --serial 11111111 ||
    ti_fail "first vcard did not start"
# 9e (card authentication): PIN policy never.
yubico-piv-tool -r "$PCSCD_READER_NAME" -a generate -s 9e -A ECCP256 \
    -o "$TI_DIR/pub9e.pem" >/dev/null 2>&1 || ti_fail "generate 9e"
# The second card in the second reader ("... 00 01").
"${VCARD_BIN:-$top_builddir/tests/vcard/vcard}" --state "$TI_DIR/two.state" \
    --port $((PCSCD_VPCD_PORT + 1)) --wait 10 --once --atr yubikey \
    --serial 22222222 >>"$TI_DIR/vcard2.log" 2>&1 &
TWO=$!

wait_count()
{
	local _
	for _ in $(seq "${2:-100}"); do
		[ "$(ti_agent_count)" = "$1" ] && return 0
		sleep 0.1
	done
	ti_fail "agent lists $(ti_agent_count) keys, expected $1: $(ssh-add -l 2>&1)"
}

ti_askpass_setup "pass:123456"
ti_start_agent
wait_count 5
ssh-add -L >"$TI_DIR/keys.txt"
for c in 11111111 22222222; do
	grep " YubiKey 5 #$c PIV 9a\$" "$TI_DIR/keys.txt" >"$TI_DIR/$c.pub" ||
	    ti_fail "no 9a of card $c: $(cat "$TI_DIR/keys.txt")"
	grep -q " YubiKey 5 #$c PIV 9c\$" "$TI_DIR/keys.txt" ||
	    ti_fail "no 9c of card $c"
done
grep " YubiKey 5 #11111111 PIV 9e\$" "$TI_DIR/keys.txt" >"$TI_DIR/9e.pub" ||
    ti_fail "no 9e of card 1"
ti_start_sshd card
for c in 11111111 22222222 9e; do
	ti_authorize card "$TI_DIR/$c.pub"
done
login()
{
	ti_ssh card -o IdentitiesOnly=yes -i "$TI_DIR/$1.pub" echo "login-$1" \
	    2>>"$TI_DIR/ssh.log"
}
ti_assert_eq "login-9e" "$(login 9e)" "login with 9e"
ti_assert_eq 0 "$(ti_askpass_count)" "no PIN for a PIN-never slot"
ti_assert_eq "login-11111111" "$(login 11111111)" "login with card 1"
ti_assert_eq 1 "$(ti_askpass_count)" "PIN prompts after card 1"
ti_assert_eq "login-22222222" "$(login 22222222)" "login with card 2"
ti_assert_eq 2 "$(ti_askpass_count)" "each card asks its own PIN"
ti_assert_contains "$(tail -n 1 "$TI_DIR/askpass.log")" "#22222222" \
    "the prompt names the second card"
ti_assert_eq "login-11111111" "$(login 11111111)" "card 1 again"
ti_assert_eq "login-22222222" "$(login 22222222)" "card 2 again"
ti_assert_eq 2 "$(ti_askpass_count)" "PINs cached per card"

# The second card pulled: only its keys go.
kill "$TWO"
wait "$TWO" 2>/dev/null
wait_count 3
ssh-add -L | grep -q "#22222222" && ti_fail "card 2's keys still listed"
ti_assert_eq "login-11111111" "$(login 11111111)" "card 1 after card 2 left"

# The PIV helper killed: restarted, it reports the card's keys again.
hp=$(pgrep -P "$TI_AGENT_PID" -f tokagent-piv-helper) ||
    ti_fail "no PIV helper under the agent"
kill -KILL "$hp"
for _ in $(seq 100); do
	n=$(pgrep -P "$TI_AGENT_PID" -f tokagent-piv-helper)
	[ -n "$n" ] && [ "$n" != "$hp" ] && break
	sleep 0.1
done
wait_count 3
ti_assert_eq "login-11111111" "$(login 11111111)" "card 1 after a helper restart"
exit 0

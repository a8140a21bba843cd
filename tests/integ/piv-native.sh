#!/bin/bash
# tests/integ/piv-native.sh: the native PIV helper against vcard (a
# YubiKey 5 PIV applet) through a private pcscd, with OpenSSH's tools and
# no ssh-add: the card's keys are listed by themselves, named after card,
# serial and slot; real ssh logins with 9a (P-256, PIN once), 9c (RSA,
# PIN always: asked each time), 82 (P-384) and 9d (touch always: the touch
# notice is shown and closed, the list answered while the card waits);
# another program between two signatures (an OpenPGP SELECT,
# yubico-piv-tool -a status) needs no new PIN; policy (token=piv, serial=)
# and lock apply before the card is touched; a wrong PIN is asked again
# with the tries left, a blocked PIN says "use the PUK"; the card pulled
# (also while a signature waits for a touch) -> its keys go and a
# signature fails fast; plugged back -> they return;
# tokagent status shows the card and its keys; --no-piv offers nothing.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "the native PIV helper"
. "$TI_SRC/tests/p11/pcscd.sh"
ti_require_cmd ssh ssh-add ssh-keygen opensc-tool yubico-piv-tool openssl
export HOME=$TI_DIR
SERIAL=12345678
CARD="YubiKey 5 #$SERIAL"
READER="Yubico YubiKey OTP+FIDO+CCID"
export PCSCD_READER_NAME=$READER
ti_pcscd_start
STATE=$TI_DIR/card.state
CTL=$TI_DIR/card.ctl
card_in() { vcard_start "$STATE" --atr yubikey --serial "$SERIAL" \
    --control "$CTL" "$@" || ti_fail "vcard did not start"; }
ctl() { "${VCARD_BIN:-$top_builddir/tests/vcard/vcard}" --ctl "$CTL" "$@"; }
card_in
# 82: P-384; 9d: P-256 with touch always.
yubico-piv-tool -r "$READER" -a generate -s 82 -A ECCP384 \
    -o "$TI_DIR/pub82.pem" >/dev/null 2>&1 || ti_fail "generate 82"
yubico-piv-tool -r "$READER" -a generate -s 9d -A ECCP256 \
    --touch-policy=always -o "$TI_DIR/pub9d.pem" >/dev/null 2>&1 ||
    ti_fail "generate 9d"
yubico-piv-tool -r "$READER" -a generate -s 83 -A ECCP256 \
    -o "$TI_DIR/pub83.pem" >/dev/null 2>&1 || ti_fail "generate 83"

wait_count()
{
	local _
	for _ in $(seq "${2:-100}"); do
		[ "$(ti_agent_count)" = "$1" ] && return 0
		sleep 0.1
	done
	ti_fail "agent lists $(ti_agent_count) keys, expected $1: $(ssh-add -l 2>&1)"
}
ms() { echo $(($(date +%s%N) / 1000000)); }

# A notifier that records its text and pid, then stays up until killed.
cat >"$TI_DIR/notify" <<EOF2
#!/bin/sh
printf '%s\n' "\$1" >>'$TI_DIR/notify.log'
echo \$\$ >>'$TI_DIR/notify.pids'
exec sleep 30
EOF2
chmod 700 "$TI_DIR/notify"
: >"$TI_DIR/notify.log"
: >"$TI_DIR/notify.pids"
cat >"$TI_DIR/policy" <<EOF2
default allow
key token=piv serial=$SERIAL comment=*83
	deny
EOF2

ti_askpass_setup "pass:123456"
ti_start_agent --notify-command="$TI_DIR/notify" --policy="$TI_DIR/policy"
wait_count 5
ssh-add -L >"$TI_DIR/keys.txt"
for s in 9a 9c 9d 82 83; do
	grep -q " $CARD PIV $s\$" "$TI_DIR/keys.txt" ||
	    ti_fail "no key named \"$CARD PIV $s\": $(cat "$TI_DIR/keys.txt")"
	grep " $CARD PIV $s\$" "$TI_DIR/keys.txt" >"$TI_DIR/$s.pub"
done
grep -q '^ecdsa-sha2-nistp256 ' "$TI_DIR/9a.pub" || ti_fail "9a type"
grep -q '^ssh-rsa ' "$TI_DIR/9c.pub" || ti_fail "9c type"
grep -q '^ecdsa-sha2-nistp384 ' "$TI_DIR/82.pub" || ti_fail "82 type"
# The same keys as OpenSC finds on the card.
ssh-keygen -D "$PCSCD_OPENSC_MODULE" 2>/dev/null | cut -d' ' -f1,2 |
    sort >"$TI_DIR/opensc.txt"
for s in 9a 9c; do
	grep -qxF "$(cut -d' ' -f1,2 "$TI_DIR/$s.pub")" "$TI_DIR/opensc.txt" ||
	    ti_fail "$s is not the key OpenSC finds"
done

ti_start_sshd card
for s in 9a 9c 9d 82 83; do
	ti_authorize card "$TI_DIR/$s.pub"
done
login()
{
	ti_ssh card -o IdentitiesOnly=yes -i "$TI_DIR/$1.pub" "${@:2}" \
	    echo "login-$1" 2>>"$TI_DIR/ssh.log"
}

# 9a: PIN policy once: asked once, naming the card.
ti_assert_eq "login-9a" "$(login 9a)" "login with 9a"
ti_assert_eq 1 "$(ti_askpass_count)" "PIN prompts after the first 9a login"
ti_assert_contains "$(tail -n 1 "$TI_DIR/askpass.log")" "$CARD" \
    "the PIN prompt names the card"
ti_assert_not_contains "$(tail -n 1 "$TI_DIR/askpass.log")" "Few PIN tries" \
    "no warning with the card's full 3 tries"
ti_assert_eq "login-9a" "$(login 9a)" "second login with 9a"
ti_assert_eq 1 "$(ti_askpass_count)" "PIN asked once for policy once"

# tokagent status: the card (kind, name, serial), its keys on it, the
# PIV helper running.
out=$("$TEST_AGENT" status) || ti_fail "tokagent status: $out"
ti_log "status: $out"
ti_assert_contains "$out" "piv \"$CARD\" at PC/SC serial \"$SERIAL\", present" \
    "status lists the card"
ti_assert_contains "$out" "on PIV card $CARD, present" \
    "status names the card of a key"
ti_assert_contains "$out" "PIV cards (piv helper)" "status: the PIV helper"
ti_assert_contains "$out" \
    "\"$CARD\" at $READER 00 00: PIN cached until the card is pulled" \
    "status: the card's PIN is kept (policy once)"
json=$("$TEST_AGENT" status --json) || ti_fail "tokagent status --json"
printf '%s' "$json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
cards = [t for t in d["tokens"] if t["kind"] == "piv"]
assert len(cards) == 1 and cards[0]["serial"] == sys.argv[1], cards
assert cards[0]["present"] is True
' "$SERIAL" || ti_fail "status --json: the card: $json"

# Another program between two signatures: no new PIN.
opensc-tool -r "$READER" -s 00A4040006D27600012401 >/dev/null 2>&1
ti_assert_eq "login-9a" "$(login 9a)" "9a after an OpenPGP SELECT"
yubico-piv-tool -r "$READER" -a status >/dev/null 2>&1 ||
    ti_fail "yubico-piv-tool status"
ti_assert_eq "login-9a" "$(login 9a)" "9a after yubico-piv-tool status"
ti_assert_eq 1 "$(ti_askpass_count)" "no PIN asked after another program"

# The same keys through OpenSC's PKCS#11 module: listed once.
ti_expect_ok "ssh-add -s opensc" ssh-add -s "$PCSCD_OPENSC_MODULE"
ti_assert_eq 5 "$(ti_agent_count)" "keys seen natively and through PKCS#11"
ti_assert_eq 5 "$(ssh-add -L | cut -d' ' -f2 | sort -u | wc -l)" \
    "each key listed once"
ti_expect_ok "ssh-add -e opensc" ssh-add -e "$PCSCD_OPENSC_MODULE"

# 9c: RSA, PIN policy always: asked for each signature.
for alg in rsa-sha2-256 rsa-sha2-512; do
	n=$(ti_askpass_count)
	ti_assert_eq "login-9c" "$(login 9c -o PubkeyAcceptedAlgorithms=$alg)" \
	    "login with 9c, $alg"
	ti_assert_eq $((n + 1)) "$(ti_askpass_count)" "PIN asked for 9c"
done
ti_assert_eq "login-9a" "$(login 9a)" "9a after 9c"

# 82: P-384.
ti_assert_eq "login-82" "$(login 82)" "login with 82 (P-384)"
# 83: the policy denies it (token=piv serial=) before the card is touched.
ti_expect_fail "83 refused by policy" login 83
grep -q "refused by policy" "$TI_AGENT_LOG" ||
    ti_fail "agent did not log the policy refusal"

# 9d: touch always: the notice is shown and closed; the list answers
# while the card waits.
ctl "touch manual" >/dev/null
login 9d >"$TI_DIR/9d.out" &
lpid=$!
for _ in $(seq 100); do
	[ "$(ctl pending)" = "yes 9d" ] && break
	sleep 0.1
done
ti_assert_eq "yes 9d" "$(ctl pending)" "the card waits for a touch"
t0=$(ms)
ti_assert_eq 5 "$(ti_agent_count)" "list during a touch wait"
ti_log "list during the touch wait: $(($(ms) - t0)) ms"
for _ in $(seq 100); do
	[ -s "$TI_DIR/notify.log" ] && break
	sleep 0.1
done
ctl touch >/dev/null
wait $lpid || ti_fail "login with 9d"
ti_assert_eq "login-9d" "$(cat "$TI_DIR/9d.out")" "login with 9d"
text=$(cat "$TI_DIR/notify.log")
ti_assert_contains "$text" "$CARD" "the touch notice names the card"
ti_assert_contains "$text" "PIV 9d" "the touch notice names the key"
while read -r pid; do
	for _ in $(seq 40); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && ti_fail "touch notice $pid still open"
done <"$TI_DIR/notify.pids"
ctl "touch approve" >/dev/null

# Locked: refused before the card is touched.
ti_askpass_answer "pass:lockpw"
ssh-add -x >/dev/null 2>&1 || ti_fail "lock"
ti_expect_fail "sign while locked" login 9a
ssh-add -X >/dev/null 2>&1 || ti_fail "unlock"
ti_assert_eq 5 "$(ti_agent_count)" "keys after unlock"
ti_assert_contains "$("$TEST_AGENT" status)" "PIN caches: none" \
    "status: the lock dropped the card's PIN"

# The lock dropped the PIN: a wrong one is asked again with the tries
# left, then the right one works.
cat >"$TI_DIR/pinseq" <<EOF2
#!/bin/sh
n=\$(cat '$TI_DIR/pinseq.n' 2>/dev/null || echo 0)
echo \$((n + 1)) >'$TI_DIR/pinseq.n'
[ "\$n" = 0 ] && echo 000000 || echo 123456
EOF2
chmod 700 "$TI_DIR/pinseq"
n=$(ti_askpass_count)
ti_askpass_answer "$TI_DIR/pinseq"
ti_assert_eq "login-9a" "$(login 9a)" "9a after a wrong PIN"
ti_assert_eq $((n + 2)) "$(ti_askpass_count)" "PIN asked again"
ti_assert_contains "$(tail -n 1 "$TI_DIR/askpass.log")" "2 tries left" \
    "the second prompt says the tries left"

# Blocked: three wrong PINs; the card says to use the PUK.
ti_askpass_answer "pass:000000"
ssh-add -D >/dev/null 2>&1 || ti_fail "ssh-add -D"
ti_assert_eq 0 "$(ti_agent_count)" "keys after ssh-add -D"
vcard_stop || ti_fail "vcard_stop"
card_in
wait_count 5
ti_expect_fail "9a with a wrong PIN" login 9a
ti_expect_fail "9a with a blocked PIN" login 9a
grep -q "PIN blocked — use the PUK" "$TI_AGENT_LOG" ||
    ti_fail "no 'PIN blocked — use the PUK' in the agent log"
yubico-piv-tool -r "$READER" -a unblock-pin -P 12345678 -N 123456 \
    >/dev/null 2>&1 || ti_fail "unblock the PIN"
ti_askpass_answer "pass:123456"
ti_assert_eq "login-9a" "$(login 9a)" "9a after unblock"

# Pulled while a signature waits for a touch: that request fails, the
# keys go, a new signature fails at once; plugged back: they return.
ctl "touch manual" >/dev/null
login 9d >"$TI_DIR/9d.out" &
lpid=$!
for _ in $(seq 100); do
	[ "$(ctl pending)" = "yes 9d" ] && break
	sleep 0.1
done
ti_assert_eq "yes 9d" "$(ctl pending)" "the card waits for a touch"
vcard_stop || ti_fail "vcard_stop"
wait $lpid && ti_fail "9d signed with the card pulled"
wait_count 0
t0=$(ms)
ti_expect_fail "sign with the card out" ssh-add -T "$TI_DIR/9a.pub"
ti_log "sign with the card out failed in $(($(ms) - t0)) ms"
card_in
wait_count 5
ti_assert_eq "login-9a" "$(login 9a)" "9a after a replug"

# --no-piv: nothing offered.
ti_stop_agent
ti_start_agent --no-piv
sleep 2
ti_assert_eq 0 "$(ti_agent_count)" "keys with --no-piv"
pgrep -f tokagent-piv-helper -P "$TI_AGENT_PID" >/dev/null &&
    ti_fail "the PIV helper runs with --no-piv"
exit 0

#!/bin/bash
# tests/integ/piv-setup.sh: "tokagent piv-setup" through a private pcscd,
# no agent running, on a fresh vcard (a YubiKey 5 PIV applet):
# bad slot, algorithm and policy options are refused before the card is
# touched; a slot holding a key is kept without --force; with --batch, a
# default PIN or PUK that would stay without --keep-defaults is refused
# and nothing changes; then 9a is generated with a new PIN and PUK and a
# random management key stored under the PIN: Yubico's yubico-piv-tool
# (an independent client) sees the certificate, which verifies and holds
# the printed key; the card's metadata says PIN, PUK and management key
# are no longer the defaults (the default PIN is not tried: no try
# spent), the default management key no longer authenticates, the new
# PIN verifies; a second run (82, P-384, touch policy always) finds the
# management key under the PIN by itself; a wrong PIN says the tries
# left; the printed authorized_keys line is what tokagent's native PIV
# listing shows (no ssh-add) and an ssh login with it works; a set-up
# while the agent runs is listed as soon as the command returns.  Two cards:
# the command wants --reader or --serial and lists both; at a terminal
# (a pty) the new PIN and PUK are asked with echo off, an empty answer
# keeps the default with a warning, --print-mgm-key prints a key that
# yubico-piv-tool takes; --keep-defaults and --mgm-key-file.  A plain PIV
# card (no YubiKey commands): policies refused, the PIN never guessed
# (tries unchanged), warnings for the PUK and the management key.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "the PIV set-up command"
. "$TI_SRC/tests/p11/pcscd.sh"
ti_require_cmd ssh ssh-add ssh-keygen opensc-tool yubico-piv-tool openssl \
    python3 setsid
export HOME=$TI_DIR
SERIAL=23456789
CARD="YubiKey 5 #$SERIAL"
READER="Yubico YubiKey OTP+FIDO+CCID"
export PCSCD_READER_NAME=$READER
ti_pcscd_start
STATE=$TI_DIR/card.state
vcard_start "$STATE" --atr yubikey --serial "$SERIAL" ||
    ti_fail "vcard did not start"

setup() { "$TEST_AGENT" piv-setup "$@" </dev/null; }
# metadata REF: the card's GET METADATA answer for REF, in hex.
metadata()
{
	opensc-tool -r "$READER 00 00" -s 00A4040009A00000030800001000 \
	    -s "00F700$1" 2>/dev/null | awk '
	    /^Received/ { d = ""; on = 1; next }
	    /^Sending/ { on = 0; next }
	    on { for (i = 1; i <= NF && $i ~ /^[0-9A-F][0-9A-F]$/; i++)
		d = d $i }
	    END { print d }'
}
# is_default REF: the default-value flag (tag 05) of REF's metadata.
is_default()
{
	local m
	m=$(metadata "$1")
	case $m in
	*0501??0602*|*0501??) echo "$m" | sed -n 's/.*0501\(..\).*/\1/p' ;;
	*) echo "none:$m" ;;
	esac
}
# last_sw READER APDU...: select PIV, send the APDUs; the last status word.
last_sw()
{
	local r=$1 args=() a
	shift
	for a in "$@"; do
		args+=(-s "$a")
	done
	opensc-tool -r "$r" -s 00A4040009A00000030800001000 "${args[@]}" \
	    2>/dev/null |
	    sed -n 's/^Received (SW1=0x\(..\), SW2=0x\(..\)).*/\1\2/p' | tail -1
}
slot_empty() { ! yubico-piv-tool -r "$READER" -a status 2>/dev/null |
    grep -q "^Slot $1:"; }

printf '24681357\n' >"$TI_DIR/pin"
printf '97531864\n' >"$TI_DIR/puk"
printf '1234\n' >"$TI_DIR/shortpin"

ti_assert_eq 01 "$(is_default 80)" "fresh card: PIN default flag"
ti_assert_eq 01 "$(is_default 81)" "fresh card: PUK default flag"
ti_assert_eq 01 "$(is_default 9B)" "fresh card: management key default flag"

# Bad options: refused, exit 1, a clear message, the card untouched.
for bad in "--slot 9b" "--slot f9" "--slot 96" "--slot 9" "--slot 9a0" \
    "--algorithm RSA1024" "--algorithm ed25519" "--pin-policy sometimes" \
    "--touch-policy maybe"; do
	# shellcheck disable=SC2086
	setup --batch $bad >"$TI_DIR/out" 2>"$TI_DIR/err"
	ti_assert_eq 1 "$?" "exit status for $bad"
	ti_assert_contains "$(cat "$TI_DIR/err")" "bad ${bad%% *}" \
	    "message for $bad"
	[ -s "$TI_DIR/out" ] && ti_fail "$bad printed a key"
done
setup --batch --bogus >/dev/null 2>&1 && ti_fail "--bogus accepted"
setup --batch --reader "No such reader" >/dev/null 2>"$TI_DIR/err" &&
    ti_fail "--reader of no reader accepted"
ti_assert_contains "$(cat "$TI_DIR/err")" "$CARD" "the cards are listed"
# The fresh vcard holds test keys in 9a and 9c: not replaced unasked.
setup --batch >/dev/null 2>"$TI_DIR/err" && ti_fail "9a replaced unasked"
ti_assert_contains "$(cat "$TI_DIR/err")" "slot 9a already holds a key" \
    "occupied slot"
fp9a=$(yubico-piv-tool -r "$READER" -a read-certificate -s 9a 2>/dev/null |
    openssl x509 -noout -fingerprint 2>/dev/null)
[ -n "$fp9a" ] || ti_fail "the fresh card's 9a certificate"
setup --batch --force --new-pin-file "$TI_DIR/shortpin" \
    --new-puk-file "$TI_DIR/puk" >/dev/null 2>"$TI_DIR/err" &&
    ti_fail "a 4-character PIN accepted"
ti_assert_contains "$(cat "$TI_DIR/err")" "6 to 8 characters" "short PIN"

# --batch, defaults that would stay: refused, nothing done.
setup --batch --force >"$TI_DIR/out" 2>"$TI_DIR/err"
ti_assert_eq 1 "$?" "exit status when the PIN would stay the default"
ti_assert_contains "$(cat "$TI_DIR/err")" "--keep-defaults" \
    "the refusal names --keep-defaults"
ti_assert_contains "$(cat "$TI_DIR/err")" "--new-pin-file" \
    "the refusal names --new-pin-file"
# Without --batch and without a terminal (setsid): the same refusal.
setsid -w "$TEST_AGENT" piv-setup --force </dev/null >/dev/null \
    2>"$TI_DIR/err" && ti_fail "defaults kept with no terminal to ask"
ti_assert_contains "$(cat "$TI_DIR/err")" "--keep-defaults" \
    "the refusal without a terminal"
setup --batch --force --new-pin-file "$TI_DIR/pin" >/dev/null \
    2>"$TI_DIR/err" &&
    ti_fail "the default PUK would stay"
ti_assert_contains "$(cat "$TI_DIR/err")" "--new-puk-file" "PUK refusal"
ti_assert_eq "$fp9a" "$(yubico-piv-tool -r "$READER" -a read-certificate \
    -s 9a 2>/dev/null | openssl x509 -noout -fingerprint 2>/dev/null)" \
    "9a after the refusals"
ti_assert_eq 01 "$(is_default 80)" "PIN after the refusals"
ti_assert_eq 01 "$(is_default 81)" "PUK after the refusals"
ti_assert_eq 01 "$(is_default 9B)" "management key after the refusals"

# The set-up: 9a, new PIN and PUK, touch policy never (YubiKey option).
ti_expect_ok "piv-setup 9a" setup --batch --force --new-pin-file "$TI_DIR/pin" \
    --new-puk-file "$TI_DIR/puk" --touch-policy never --pin-policy once
# stdout: the line; stderr: what was done.
setup_out=$(cat "$TI_DIR/last.out")
line=$(printf '%s\n' "$setup_out" | grep '^ecdsa-sha2-nistp256 ')
[ "$(printf '%s\n' "$line" | wc -l)" = 1 ] || ti_fail "no key line: $setup_out"
ti_assert_eq "$CARD PIV 9a" "$(printf '%s' "$line" | cut -d' ' -f3-)" \
    "the key's name"
printf '%s\n' "$line" >"$TI_DIR/9a.pub"
ssh-keygen -l -f "$TI_DIR/9a.pub" >/dev/null || ti_fail "bad key line"

# The card was reset at the end: it is no longer authenticated with the
# management key (a PUT DATA is refused).
ti_assert_eq 6982 "$(last_sw "$READER 00 00" 00DB3FFF085C035FC102530100)" \
    "PUT DATA right after the set-up"

# The independent client sees the certificate in 9a.
yubico-piv-tool -r "$READER" -a status >"$TI_DIR/status" 2>&1 ||
    ti_fail "yubico-piv-tool -a status: $(cat "$TI_DIR/status")"
grep -q "^Slot 9a:" "$TI_DIR/status" ||
    ti_fail "no slot 9a in: $(cat "$TI_DIR/status")"
grep -q "CN=$CARD PIV 9a" "$TI_DIR/status" ||
    ti_fail "no subject in: $(cat "$TI_DIR/status")"
# Its certificate: self-signed by the card's key, which is the one printed.
yubico-piv-tool -r "$READER" -a read-certificate -s 9a \
    -o "$TI_DIR/9a.crt" >/dev/null 2>&1 || ti_fail "read-certificate"
openssl verify -CAfile "$TI_DIR/9a.crt" -check_ss_sig "$TI_DIR/9a.crt" \
    >/dev/null 2>&1 || ti_fail "the certificate's signature does not verify"
openssl x509 -in "$TI_DIR/9a.crt" -noout -pubkey >"$TI_DIR/9a.pem" ||
    ti_fail "certificate public key"
ti_assert_eq "$(cut -d' ' -f1,2 "$TI_DIR/9a.pub")" \
    "$(ssh-keygen -i -m PKCS8 -f "$TI_DIR/9a.pem" | cut -d' ' -f1,2)" \
    "the certificate's key is the printed one"

# No defaults left: the metadata says so (nothing tried, no try spent).
ti_assert_eq 00 "$(is_default 80)" "PIN default flag after the set-up"
ti_assert_eq 00 "$(is_default 81)" "PUK default flag after the set-up"
ti_assert_eq 00 "$(is_default 9B)" "management key default flag"
# PIN retries untouched (tag 06: total, left).
ti_assert_contains "$(metadata 80)" "06020303" "PIN tries after the set-up"
# The new PIN verifies; the default management key no longer works.
yubico-piv-tool -r "$READER" -a verify-pin -P 24681357 >/dev/null 2>&1 ||
    ti_fail "the new PIN does not verify"
yubico-piv-tool -r "$READER" -a generate -s 9e -A ECCP256 \
    -o "$TI_DIR/x.pem" >/dev/null 2>&1 &&
    ti_fail "the default management key still works"
slot_empty 9e || ti_fail "9e generated with the default management key"

# Again in the same slot: refused without --force.
setup --batch --pin-file "$TI_DIR/pin" >/dev/null 2>"$TI_DIR/err" &&
    ti_fail "9a replaced without --force"
ti_assert_contains "$(cat "$TI_DIR/err")" "--force" "occupied slot"

# A second key: the management key comes from under the PIN by itself;
# the touch policy "always" reaches the card.
ti_expect_ok "piv-setup 82" setup --batch --pin-file "$TI_DIR/pin" \
    --slot 82 --algorithm ECCP384 --touch-policy always
line82=$(grep '^ecdsa-sha2-nistp384 ' "$TI_DIR/last.out")
ti_assert_eq "$CARD PIV 82" "$(printf '%s' "$line82" | cut -d' ' -f3-)" \
    "82's name"
printf '%s\n' "$line82" >"$TI_DIR/82.pub"
# Metadata 02: PIN policy (once by default), touch policy always (02).
ti_assert_contains "$(metadata 82)" "02020202" "82's touch policy"
ti_assert_contains "$(metadata 9A)" "02020201" "9a's policies"

# A wrong PIN is refused with the tries left.
printf '11111111\n' >"$TI_DIR/wrongpin"
setup --batch --pin-file "$TI_DIR/wrongpin" --slot 83 >/dev/null \
    2>"$TI_DIR/err" && ti_fail "a wrong PIN accepted"
ti_assert_contains "$(cat "$TI_DIR/err")" "wrong PIN, 2 tries left" \
    "wrong PIN"
yubico-piv-tool -r "$READER" -a verify-pin -P 24681357 >/dev/null 2>&1 ||
    ti_fail "the PIN after a wrong one"

# The agent lists the key natively, with the printed line, and logs in.
ti_askpass_setup "pass:24681357"
ti_start_agent
for _ in $(seq 100); do
	ssh-add -L 2>/dev/null | grep -qxF "$line" && break
	sleep 0.1
done
ssh-add -L >"$TI_DIR/listed" 2>&1
grep -qxF "$line" "$TI_DIR/listed" ||
    ti_fail "the agent does not list '$line': $(cat "$TI_DIR/listed")"
grep -qxF "$line82" "$TI_DIR/listed" ||
    ti_fail "the agent does not list '$line82': $(cat "$TI_DIR/listed")"
ti_start_sshd card
ti_authorize card "$TI_DIR/9a.pub"
ti_assert_eq "login-9a" "$(ti_ssh card -o IdentitiesOnly=yes \
    -i "$TI_DIR/9a.pub" echo login-9a 2>>"$TI_DIR/ssh.log")" \
    "ssh login with the set-up key"
ti_assert_eq 1 "$(ti_askpass_count)" "PIN asked once"
# Set up while the agent runs: it is asked to read the card again, so the
# new key is listed as soon as the command returns, and logs in.
ti_expect_ok "piv-setup 83, the agent running" setup --batch \
    --pin-file "$TI_DIR/pin" --slot 83
line83=$(grep '^ecdsa-sha2-nistp256 ' "$TI_DIR/last.out")
ti_assert_eq "$CARD PIV 83" "$(printf '%s' "$line83" | cut -d' ' -f3-)" \
    "83's name"
ssh-add -L >"$TI_DIR/listed" 2>&1
grep -qxF "$line83" "$TI_DIR/listed" ||
    ti_fail "the running agent does not list '$line83' at once: $(cat "$TI_DIR/listed")"
printf '%s\n' "$line83" >"$TI_DIR/83.pub"
ti_authorize card "$TI_DIR/83.pub"
ti_assert_eq "login-83" "$(ti_ssh card -o IdentitiesOnly=yes \
    -i "$TI_DIR/83.pub" echo login-83 2>>"$TI_DIR/ssh.log")" \
    "ssh login with the key set up while the agent ran"
ti_stop_agent

# Two cards: the command wants one named; by serial it works.
SERIAL2=34567890
"${VCARD_BIN:-$top_builddir/tests/vcard/vcard}" --state "$TI_DIR/two.state" \
    --port $((PCSCD_VPCD_PORT + 1)) --wait 10 --once --atr yubikey \
    --serial "$SERIAL2" >>"$TI_DIR/vcard2.log" 2>&1 &
TWO=$!
echo $TWO >>"$TI_DIR/pids"
for _ in $(seq 100); do
	pcscd_card_present 1 && break
	sleep 0.1
done
pcscd_card_present 1 || ti_fail "the second card is not seen"
setup --batch --keep-defaults >/dev/null 2>"$TI_DIR/err" &&
    ti_fail "set-up with two cards and no choice"
ti_assert_contains "$(cat "$TI_DIR/err")" "--serial" "two cards: the hint"
ti_assert_contains "$(cat "$TI_DIR/err")" "$CARD" "two cards: the first"
ti_assert_contains "$(cat "$TI_DIR/err")" "YubiKey 5 #$SERIAL2" \
    "two cards: the second"
# At the terminal (a pty): the answers go in as each prompt shows, with
# echo off; an empty new PIN keeps the default one, with a warning.
cat >"$TI_DIR/ttydrive.py" <<'EOF2'
import os, pty, select, signal, sys
# argv: answers... -- command...  Each answer goes in once a whole prompt
# ("...): " or "... again: ") has been written: readpassphrase writes it
# after turning echo off and flushing the input, so nothing typed is lost.
i = sys.argv.index("--")
answers, cmd = sys.argv[1:i], sys.argv[i + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
out = b""
answered = 0
while True:
    # A safety net against a hang, not a measure: 300 s of silence.
    r, _, _ = select.select([fd], [], [], 300)
    if not r:
        os.kill(pid, signal.SIGKILL)
        sys.stdout.write(out.decode(errors="replace"))
        sys.exit("ttydrive: no output for 300 s")
    try:
        d = os.read(fd, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
    if answers and (out.endswith(b"): ") or out.endswith(b" again: ")) \
            and len(out) > answered:
        answered = len(out)
        os.write(fd, answers.pop(0).encode() + b"\n")
sys.stdout.write(out.decode(errors="replace"))
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
EOF2
python3 "$TI_DIR/ttydrive.py" "" 55667788 55667788 -- "$TEST_AGENT" piv-setup \
    --serial "$SERIAL2" --slot 9d --algorithm RSA2048 --print-mgm-key \
    >"$TI_DIR/tty.out" \
    2>&1 || ti_fail "piv-setup at the terminal: $(cat "$TI_DIR/tty.out")"
tty_out=$(tr -d '\r' <"$TI_DIR/tty.out")
ti_assert_contains "$tty_out" "New PIN (6 to 8 characters" "PIN prompt"
ti_assert_contains "$tty_out" "New PUK again: " "PUK asked twice"
ti_assert_contains "$tty_out" "the PIN stays the default one" "warning"
ti_assert_not_contains "$tty_out" "55667788" "the PUK was echoed"
printf '%s\n' "$tty_out" | grep -q "^ssh-rsa .* YubiKey 5 #$SERIAL2 PIV 9d\$" ||
    ti_fail "RSA key line: $tty_out"
yubico-piv-tool -r "$READER 00 01" -a verify-pin -P 123456 >/dev/null \
    2>&1 || ti_fail "the kept default PIN"
# --print-mgm-key: printed once, not stored; Yubico's tool takes it (and
# no longer the default one).
mgm=$(printf '%s\n' "$tty_out" |
    sed -n 's/^New management key (not stored; keep it): \([0-9a-f]*\)$/\1/p')
[ ${#mgm} = 48 ] || ti_fail "no printed management key: $tty_out"
yubico-piv-tool -r "$READER 00 01" -k"$mgm" -a set-chuid >/dev/null 2>&1 ||
    ti_fail "the printed management key does not work"
yubico-piv-tool -r "$READER 00 01" -a set-chuid >/dev/null 2>&1 &&
    ti_fail "the default management key still works on the second card"
ti_assert_eq 6A82 "$(last_sw "$READER 00 01" 00CB3FFF055C035FFF00)" \
    "no admin data: the key was not stored"
printf '%s\n' "$mgm" >"$TI_DIR/mgm"
# --keep-defaults: the PIN stays; the management key from a file.
ti_expect_ok "piv-setup --keep-defaults" setup --batch --keep-defaults \
    --serial "$SERIAL2" --slot 9e --mgm-key-file "$TI_DIR/mgm"
grep -q "^ecdsa-sha2-nistp256 .* YubiKey 5 #$SERIAL2 PIV 9e\$" \
    "$TI_DIR/last.out" || ti_fail "9e key line: $(cat "$TI_DIR/last.out")"
yubico-piv-tool -r "$READER 00 01" -a verify-pin -P 123456 >/dev/null \
    2>&1 || ti_fail "--keep-defaults changed the PIN"
yubico-piv-tool -r "$READER 00 01" -a status >"$TI_DIR/status2" 2>&1
grep -q "^Slot 9e:" "$TI_DIR/status2" || ti_fail "9e: $(cat "$TI_DIR/status2")"

# A plain PIV card (no YubiKey commands) in the second reader.
kill "$TWO"
wait "$TWO" 2>/dev/null
for _ in $(seq 100); do
	pcscd_card_present 1 || break
	sleep 0.1
done
"${VCARD_BIN:-$top_builddir/tests/vcard/vcard}" \
    --state "$TI_DIR/plain.state" --port $((PCSCD_VPCD_PORT + 1)) \
    --wait 10 --once --firmware none >>"$TI_DIR/vcard3.log" 2>&1 &
echo $! >>"$TI_DIR/pids"
for _ in $(seq 100); do
	pcscd_card_present 1 && break
	sleep 0.1
done
pcscd_card_present 1 || ti_fail "the plain card is not seen"
PLAIN="PIV card in $READER 00 01"
psetup() { setup --reader "$READER 00 01" --batch --slot 9d "$@"; }
# PIN tries left on the plain card (VERIFY without data).
plain_tries() { last_sw "$READER 00 01" 0020008000; }
ti_assert_eq 63C3 "$(plain_tries)" "plain card: PIN tries"
psetup --touch-policy cached >/dev/null 2>"$TI_DIR/err" &&
    ti_fail "a touch policy on a plain PIV card"
ti_assert_contains "$(cat "$TI_DIR/err")" "is not a YubiKey" \
    "policy refused on a plain card"
psetup --pin-policy once >/dev/null 2>&1 &&
    ti_fail "a PIN policy on a plain PIV card"
# Without metadata the PIN is never guessed: it must be given.
psetup >/dev/null 2>"$TI_DIR/err" && ti_fail "plain card without a PIN"
ti_assert_contains "$(cat "$TI_DIR/err")" "$PLAIN: the PIN is needed" \
    "plain card: PIN wanted"
ti_assert_eq 63C3 "$(plain_tries)" "no PIN try spent"
printf '123456\n' >"$TI_DIR/defpin"
psetup --pin-file "$TI_DIR/defpin" >/dev/null 2>"$TI_DIR/err" &&
    ti_fail "plain card: the default PIN would stay"
ti_assert_contains "$(cat "$TI_DIR/err")" "--new-pin-file" \
    "plain card: default PIN refused"
ti_expect_ok "piv-setup on a plain card" psetup --pin-file "$TI_DIR/defpin" \
    --new-pin-file "$TI_DIR/pin"
ti_assert_contains "$(cat "$TI_DIR/last.out")" \
    "cannot tell whether the PUK is the default" "plain card: PUK warning"
ti_assert_contains "$(cat "$TI_DIR/last.out")" "no command to change it" \
    "plain card: management key warning"
grep -q "^ecdsa-sha2-nistp256 .* $PLAIN PIV 9d\$" "$TI_DIR/last.out" ||
    ti_fail "plain card key line: $(cat "$TI_DIR/last.out")"
ti_assert_eq 9000 "$(last_sw "$READER 00 01" 00200080083234363831333537)" \
    "plain card: the new PIN"
exit 0

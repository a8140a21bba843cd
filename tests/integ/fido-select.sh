#!/bin/bash
# fido-select: three tokens, a verify-required key on the third, its token
# unknown to the agent (added from a key file).  No silent probe can find
# it (credProtect 3), so the agent asks the user to touch the security key
# that holds it; only that token is asked for a PIN (the prompt names it),
# the other two keep their 8 retries and are told to stop waiting.  The next
# signature goes straight to it.  The same again with tokens that show no
# credential without a touch (vfido --touch-to-select).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

# A notifier that records its text, then stays up until closed.
cat >"$TI_DIR/notify" <<EOF2
#!/bin/sh
printf '%s\n' "\$1" >>'$TI_DIR/notify.log'
exec sleep 30
EOF2
chmod 700 "$TI_DIR/notify"

# retries NAME: the PIN retries of token NAME
retries()
{
	"$TI_BUILD/tests/vfido/fidotool" retries "unix:$TI_DIR/$1.sock" | sed -n \
	    's/.*retries=\([0-9]*\).*/\1/p'
}

pin_asks()
{
	grep -c "Enter PIN\|Wrong PIN" "$TI_DIR/askpass.log"
}

login()
{
	ti_ssh srv -o IdentitiesOnly=yes -i "$pub" true
}

run()
{
	local mode=$1 opt=$2 n
	shift 2
	ti_log "$mode: three tokens, the key on the third"
	for n in a b c; do
		[ -n "$(eval echo "\${SK_VFIDO_PID_$n:-}")" ] &&
		    ti_kill "$(eval echo "\$SK_VFIDO_PID_$n")"
		rm -f "$TI_DIR/$n.state"
	done
	sk_start_vfido a --pin 1111 $opt
	sk_start_vfido b --pin 2222 $opt
	sk_start_vfido c --pin 3333 $opt
	sk_use c
	ti_askpass_setup pass:3333
	ti_expect_ok "enroll verify-required on c" sk_keygen "$TI_DIR/k" \
	    ed25519-sk -O verify-required
	ti_authorize srv "$TI_DIR/k.pub"
	pub=$(fido_pub "$TI_DIR/k")
	# nobody touches a or b; c is touched after a moment (long enough for
	# the notice to show)
	sk_ctl a "touch manual" >/dev/null
	sk_ctl b "touch manual" >/dev/null
	sk_ctl c "touch delay=1000" >/dev/null
	for n in a b c; do
		sk_ctl $n log >/dev/null
	done
	ti_stop_agent
	fido_start_agent a b c -- --notify-command="$TI_DIR/notify"
	ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k"
	: >"$TI_DIR/askpass.log"
	: >"$TI_DIR/notify.log"
	ti_expect_ok "$mode: login" login
	ti_assert_eq 1 "$(pin_asks)" "$mode: one PIN asked"
	ti_assert_contains "$(grep 'Enter PIN' "$TI_DIR/askpass.log")" \
	    "c.sock" "$mode: the PIN prompt names the third token"
	case "$(grep 'Enter PIN' "$TI_DIR/askpass.log")" in
	*a.sock*|*b.sock*) ti_fail "$mode: PIN prompt names another token" ;;
	esac
	ti_assert_contains "$(cat "$TI_DIR/notify.log")" \
	    "touch the security key that holds it" \
	    "$mode: the notice asks for the right token"
	ti_assert_contains "$(grep 'holds it' "$TI_DIR/notify.log")" \
	    '"sk-test"' "$mode: the notice names the key"
	fido_log_wait "security key that holds key" 5 ||
	    ti_fail "$mode: agent log does not say it waits for the choice"
	ti_assert_contains "$(sk_ctl c log)" "getAssertion up=1 uv=1" \
	    "$mode: the third token signed, user-verified"
	for n in a b; do
		ti_assert_eq 8 "$(retries $n)" "$mode: token $n keeps 8 retries"
		ti_assert_eq no "$(sk_ctl $n pending)" \
		    "$mode: token $n no longer waits"
		case "$(sk_ctl $n log)" in
		*"getAssertion up=1"*|*"uv=1"*|*"clientPIN sub=5"*|*"clientPIN sub=9"*)
			ti_fail "$mode: token $n got a PIN or a signature" ;;
		esac
	done
	ti_assert_eq 8 "$(retries c)" "$mode: token c, right PIN: 8 retries"

	ti_log "$mode: the next login goes straight to the third token"
	sk_ctl c "touch approve" >/dev/null
	: >"$TI_DIR/askpass.log"
	: >"$TI_DIR/notify.log"
	ti_expect_ok "$mode: second login" login
	ti_assert_eq 1 "$(pin_asks)" "$mode: one PIN asked again"
	case "$(cat "$TI_DIR/notify.log")" in
	*"holds it"*) ti_fail "$mode: asked to choose again" ;;
	esac
	for n in a b; do
		ti_assert_eq "" "$(sk_ctl $n log)" "$mode: token $n left alone"
	done
	ti_agent_alive || ti_fail "agent died"
}

ti_start_sshd srv
run "default" ""
run "touch-to-select" --touch-to-select
exit 0

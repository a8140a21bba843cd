#!/bin/bash
# fido-why: a signature failure the user can act on reaches the user
# through the notice channel (here --notify-command) and the agent's log,
# naming the key and the token: token not present, touch timed out, PIN
# blocked, wrong token.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

cat >"$TI_DIR/notify" <<EOF2
#!/bin/sh
printf '%s\n' "\$1" >>'$TI_DIR/notify.log'
exec sleep 30
EOF2
chmod 700 "$TI_DIR/notify"
: >"$TI_DIR/notify.log"

# said PATTERN...: the notice log has a line with every PATTERN (waits a bit)
said()
{
	local i=0 line p ok
	while [ $i -lt 100 ]; do
		while IFS= read -r line; do
			ok=1
			for p in "$@"; do
				case "$line" in
				*"$p"*) ;;
				*) ok=0 ;;
				esac
			done
			[ $ok = 1 ] && return 0
		done <"$TI_DIR/notify.log"
		i=$((i + 1))
		sleep 0.05
	done
	echo "notices: $(cat "$TI_DIR/notify.log")" >&2
	return 1
}

sk_start_vfido tok
sk_start_vfido p --pin 1234
sk_use tok
ti_expect_ok "enroll on tok" sk_keygen "$TI_DIR/k" ed25519-sk -C key-k
sk_use p
ti_askpass_setup pass:1234
ti_expect_ok "enroll verify-required on p" sk_keygen "$TI_DIR/kp" \
    ed25519-sk -O verify-required -C key-p
fido_start_agent tok p -- --notify-command="$TI_DIR/notify"
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k" "$TI_DIR/kp"
pub=$(fido_pub "$TI_DIR/k")
pubp=$(fido_pub "$TI_DIR/kp")
ti_expect_ok "-Y sign" fido_sign "$pub"

ti_log "touch timed out"
sk_ctl tok "touch never" >/dev/null
ti_kill "$SK_VFIDO_PID_tok"
sk_start_vfido tok --touch never --timeout 1000
ti_expect_fail "-Y sign, nobody touches" fido_sign "$pub"
said '"key-k"' "touch timed out" "tok.sock" ||
    ti_fail "no notice: touch timed out, naming key and token"
fido_log_wait "could not sign: touch timed out" 5 ||
    ti_fail "agent log does not say the touch timed out"

ti_log "token not present"
kill -KILL "$SK_VFIDO_PID_tok"
fido_log_wait "tok.sock) pulled" 10 || ti_fail "pull not seen"
ti_expect_fail "-Y sign, token pulled" fido_sign "$pub"
said '"key-k"' "not present" ||
    ti_fail "no notice: token not present, naming the key"

ti_log "PIN blocked"
ti_askpass_answer pass:0000
ti_expect_fail "-Y sign, wrong PINs" fido_sign "$pubp"
said '"key-p"' "PIN blocked" "p.sock" ||
    ti_fail "no notice: PIN blocked, naming key and token"

ti_log "wrong token: the key is on none of those touched"
ti_kill "$SK_VFIDO_PID_p"
sk_start_vfido p --pin 1234
sk_start_vfido q --pin 1234
sk_start_vfido r --pin 1234
sk_use r
ti_askpass_answer pass:1234
ti_expect_ok "enroll verify-required on r" sk_keygen "$TI_DIR/kr" \
    ed25519-sk -O verify-required -C key-r
pubr=$(fido_pub "$TI_DIR/kr")
ti_stop_agent
fido_start_agent p q -- --notify-command="$TI_DIR/notify"
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/kr"
ti_expect_fail "-Y sign, the key's token is not there" fido_sign "$pubr"
said '"key-r"' "wrong security key" ||
    ti_fail "no notice: wrong security key"
ti_agent_alive || ti_fail "agent died"
exit 0

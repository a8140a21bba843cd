#!/bin/bash
# fido-notify: while the token waits for a touch, --notify-command=PROG runs
# PROG "TEXT"; the text names the key (comment and fingerprint), the token,
# the requesting process and what it is for (the SSHSIG namespace, or the
# login and its destination), and the notifier is closed (killed) when the
# touch arrives.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

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

# A slow touch, so the notifier surely runs before it is closed.
sk_start_vfido tok --touch delay=800
sk_use tok
ti_expect_ok "enroll" sk_keygen "$TI_DIR/k" ed25519-sk -C notify-key
ti_authorize srv "$TI_DIR/k.pub"
ti_start_sshd srv
fido_start_agent tok -- --notify-command="$TI_DIR/notify"
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k"
pub=$(fido_pub "$TI_DIR/k")
fp=$(ti_fp "$pub")

# notifiers_closed: every notifier started so far has gone.
notifiers_closed()
{
	local pid n=0
	while read -r pid; do
		while kill -0 "$pid" 2>/dev/null; do
			n=$((n + 1))
			[ $n -lt 40 ] || ti_fail "notifier $pid still open"
			sleep 0.05
		done
	done <"$TI_DIR/notify.pids"
}

ti_log "ssh-keygen -Y sign -n git"
ti_expect_ok "-Y sign" fido_sign "$pub" git
ti_expect_ok "-Y verify" fido_verify "$pub" git
text=$(cat "$TI_DIR/notify.log")
ti_log "notification: $text"
ti_assert_contains "$text" "notify-key" "names the key comment"
ti_assert_contains "$text" "$fp" "names the key fingerprint"
ti_assert_contains "$text" "ssh-keygen" "names the requesting process"
ti_assert_contains "$text" "namespace \"git\"" "names the SSHSIG namespace"
ti_assert_contains "$text" "unix:$TI_DIR/tok.sock" "names the token"
notifiers_closed
fido_log_wait "waiting for touch on unix:$TI_DIR/tok.sock" 5 ||
    ti_fail "agent did not log the touch wait"

ti_log "ssh login"
: >"$TI_DIR/notify.log"
out=$(ti_ssh srv -o IdentitiesOnly=yes -i "$pub" echo in 2>&1) ||
    { echo "$out" >&2; ti_fail "login"; }
text=$(cat "$TI_DIR/notify.log")
ti_log "notification: $text"
ti_assert_contains "$text" "\"ssh\"" "names the requesting process"
ti_assert_contains "$text" "log in as \"$(id -un)\"" "names the login"
# An unconstrained key knows the destination by its verified host key.
ti_assert_contains "$text" "$(ti_fp "$TI_DIR/sshd-srv/host_ed25519.pub")" \
    "names the destination's host key"
ti_assert_contains "$text" "$fp" "names the key"
notifiers_closed

ti_log "request ended by the client: notifier closed too"
sk_ctl tok "touch manual" >/dev/null
: >"$TI_DIR/notify.log"
cpid=$(ti_bg ssh-add -T "$pub")
fido_pending_wait tok 10 || ti_fail "no touch pending"
n=0
until [ -s "$TI_DIR/notify.log" ]; do
	n=$((n + 1))
	[ $n -lt 100 ] || ti_fail "no notification while the touch is pending"
	sleep 0.05
done
ti_kill "$cpid"
notifiers_closed

sk_ctl tok "touch delay=800" >/dev/null
ti_log "ssh login with a destination-constrained key: the host by name"
ti_expect_ok "ssh-add -h srv" ssh-add -H "$TI_DIR/known_hosts" -h srv \
    "$TI_DIR/k"
: >"$TI_DIR/notify.log"
out=$(ti_ssh srv -o IdentitiesOnly=yes -i "$pub" echo in 2>&1) ||
    { echo "$out" >&2; ti_fail "login"; }
text=$(cat "$TI_DIR/notify.log")
ti_assert_contains "$text" "log in as \"$(id -un)\"@srv" "names the destination"
notifiers_closed

ti_agent_alive || ti_fail "agent died"
exit 0

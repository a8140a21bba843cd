#!/bin/bash
# fido-desktop: with a desktop session bus (DBUS_SESSION_BUS_ADDRESS) in
# its environment, tokagent shows a touch notice also as a desktop
# notification (org.freedesktop.Notifications, through
# tokagent-notify-desktop): it names the key, the token and the requesting
# process, is shown while the token waits and taken down (CloseNotification)
# when the touch arrives or the client goes away.  The askpass /
# --notify-command channel runs alongside; with no such channel the desktop
# one still works; its Cancel action cancels the request on the token;
# --no-desktop-notify turns it off; a bus without a
# notification server costs one failed try, then a rest.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/notifyd/notifyd-lib.sh"
nd_setup
nd_start_bus
nd_start_server
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

# A --notify-command that records its text, then stays up until killed.
cat >"$TI_DIR/notify" <<EOF2
#!/bin/sh
printf '%s\n' "\$1" >>'$TI_DIR/notify.log'
exec sleep 30
EOF2
chmod 700 "$TI_DIR/notify"
: >"$TI_DIR/notify.log"

# nd_closed_wait ID: the notification ID was taken down by its client.
nd_closed_wait()
{
	nd_wait "^close $1\$" 5 ||
	    ti_fail "desktop notification $1 not closed: $(cat "$ND_LOG")"
}

# fd_stop PID: SIGTERM and wait until it is gone or a zombie (who reaps
# orphans may be slow in a container), instead of ti_kill's fixed wait.
fd_stop()
{
	local n=100
	kill -TERM "$1" 2>/dev/null
	while ti_alive "$1" && [ $n -gt 0 ]; do
		sleep 0.02
		n=$((n - 1))
	done
	ti_alive "$1" && ti_kill "$1"
	return 0
}

# fd_restart_agent [AGENT_ARGS...]: a fresh agent on the same token.
fd_restart_agent()
{
	fd_stop "$TI_AGENT_PID"
	TI_AGENT_PID=
	fido_start_agent tok -- "$@"
	ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k"
}

sk_start_vfido tok --touch manual
sk_use tok
sk_ctl tok "touch approve" >/dev/null
ti_expect_ok "enroll" sk_keygen "$TI_DIR/k" ed25519-sk -C desktop-key
sk_ctl tok "touch manual" >/dev/null
fido_start_agent tok -- --notify-command="$TI_DIR/notify"
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k"
pub=$(fido_pub "$TI_DIR/k")
fp=$(ti_fp "$pub")

ti_log "ssh-keygen -Y sign: shown while the token waits, closed by the touch"
cpid=$(ti_bg ssh-keygen -Y sign -n git -f "$pub" "$TI_DIR/msg")
fido_pending_wait tok 10 || ti_fail "no touch pending"
nd_wait '^notify 1 ' 10 || ti_fail "no desktop notification"
line=$(grep '^notify 1 ' "$ND_LOG")
ti_log "desktop: $line"
ti_assert_contains "$line" "app=tokagent" "app name"
ti_assert_contains "$line" "urgency=2" "urgency"
ti_assert_contains "$line" "summary=Touch" "summary"
ti_assert_contains "$line" "desktop-key" "names the key comment"
ti_assert_contains "$line" "$fp" "names the key fingerprint"
ti_assert_contains "$line" "unix:$TI_DIR/tok.sock" "names the token"
ti_assert_contains "$line" "ssh-keygen" "names the requesting process"
ti_assert_contains "$line" "git" "names the SSHSIG namespace"
n=0
until grep -q desktop-key "$TI_DIR/notify.log"; do
	n=$((n + 1))
	[ $n -lt 100 ] || ti_fail "the --notify-command channel did not run too"
	sleep 0.05
done
sleep 0.3
[ "$(nd_count '^close 1$')" = 0 ] || ti_fail "closed before the touch"
sk_ctl tok touch >/dev/null
nd_closed_wait 1
n=0
while ti_alive "$cpid"; do
	n=$((n + 1))
	[ $n -lt 100 ] || ti_fail "ssh-keygen did not finish after the touch"
	sleep 0.05
done
ti_expect_ok "-Y verify" fido_verify "$pub" git

ti_log "a client killed mid-touch closes the notification"
cpid=$(ti_bg ssh-add -T "$pub")
fido_pending_wait tok 10 || ti_fail "no touch pending"
nd_wait '^notify 2 ' 10 || ti_fail "no desktop notification"
ti_assert_contains "$(grep '^notify 2 ' "$ND_LOG")" "ssh-add" \
    "names the requesting process"
fd_stop "$cpid"
nd_closed_wait 2

ti_log "no askpass at all: the desktop notification alone"
SSH_ASKPASS=$TI_DIR/no-such-askpass
export SSH_ASKPASS
fd_restart_agent
cpid=$(ti_bg ssh-add -T "$pub")
fido_pending_wait tok 10 || ti_fail "no touch pending"
nd_wait '^notify 3 ' 10 || ti_fail "no desktop notification"
sk_ctl tok touch >/dev/null
nd_closed_wait 3

ti_log "--no-desktop-notify: none"
fd_restart_agent --no-desktop-notify --notify-command="$TI_DIR/notify"
: >"$TI_DIR/notify.log"
cpid=$(ti_bg ssh-add -T "$pub")
fido_pending_wait tok 10 || ti_fail "no touch pending"
n=0
until [ -s "$TI_DIR/notify.log" ]; do
	n=$((n + 1))
	[ $n -lt 100 ] || ti_fail "no --notify-command notice"
	sleep 0.05
done
sk_ctl tok touch >/dev/null
sleep 0.2
[ "$(nd_count '^notify ')" = 3 ] ||
    ti_fail "desktop notification despite --no-desktop-notify"

ti_log "Cancel on the desktop notification cancels the request"
nd_stop_server
nd_start_server -a cancel:300
fd_restart_agent
sk_ctl tok log >/dev/null
rm -f "$TI_DIR/sign.rc"
(ssh-add -T "$pub" >/dev/null 2>&1; echo $? >"$TI_DIR/sign.rc") &
fido_pending_wait tok 10 || ti_fail "no touch pending"
nd_wait '^action [0-9]+ cancel$' 10 || ti_fail "notifyd chose no Cancel"
n=0
until [ -s "$TI_DIR/sign.rc" ]; do
	n=$((n + 1))
	[ $n -lt 100 ] || ti_fail "the client still waits after Cancel"
	sleep 0.05
done
[ "$(cat "$TI_DIR/sign.rc")" != 0 ] || ti_fail "signed despite Cancel"
fido_pending_gone tok || ti_fail "the token still waits after Cancel"
ti_assert_contains "$(sk_ctl tok log)" "cancel" "token got a CTAPHID CANCEL"
fido_log_wait "cancelled from the notice" 5 ||
    ti_fail "the agent log does not say the notice cancelled it"
nd_stop_server
nd_start_server

ti_log "a bus without a notification server: one failure, then a rest"
fd_restart_agent --notify-command="$TI_DIR/notify"
nd_stop_server
cpid=$(ti_bg ssh-add -T "$pub")
fido_pending_wait tok 10 || ti_fail "no touch pending"
fido_log_wait "tokagent-notify-desktop.*Notify" 10 ||
    ti_fail "the notifier did not say why it failed"
sk_ctl tok touch >/dev/null
nd_start_server
: >"$TI_DIR/notify.log"
cpid=$(ti_bg ssh-add -T "$pub")
fido_pending_wait tok 10 || ti_fail "no touch pending"
# The --notify-command notice shows the notice is up; a desktop one would
# have been started with it.
n=0
until [ -s "$TI_DIR/notify.log" ]; do
	n=$((n + 1))
	[ $n -lt 200 ] || ti_fail "no --notify-command notice"
	sleep 0.05
done
sleep 0.5
sk_ctl tok touch >/dev/null
[ "$(nd_count '^notify ')" = 0 ] ||
    ti_fail "desktop notifier retried at once after a failure"
[ "$(grep -c 'tokagent-notify-desktop' "$TI_AGENT_LOG")" = 1 ] ||
    ti_fail "more than one notifier failure logged"

ti_agent_alive || ti_fail "agent died"
exit 0

#!/bin/bash
# session-lock: screen lock and suspend, told by logind (a stand-in,
# tests/logind/fake-logind, on a private system bus) to tokagent's
# tokagent-session-watch child, handled as the policy says:
#   forget (default): cached PINs are dropped (a PIN-cached FIDO key asks
#     again) and a pending confirm prompt is dismissed (the client fails
#     at once);
#   lock: the agent is locked until the screen unlocks, and ssh-add -X
#     cannot unlock it;
#   remove (on-suspend): keys marked remove-on-lock are removed, the others
#     stay;
# and with no bus at all the agent says once that nothing is watched.
# tokagent-only.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
. "$TI_SRC/tests/integ/policy-lib.sh"
fido_setup
command -v dbus-daemon >/dev/null 2>&1 ||
    ti_skip "dbus-daemon not installed (Debian: dbus-daemon)"
command -v busctl >/dev/null 2>&1 || ti_skip "busctl not installed (systemd)"
LOGIND=$TI_BUILD/tests/logind/fake-logind
[ -x "$LOGIND" ] || ti_skip "$LOGIND not built (needs libsystemd-dev)"
[ -x "$TI_BUILD/agent/tokagent-session-watch" ] ||
    ti_skip "tokagent-session-watch not built (needs libsystemd-dev)"

ti_log "a private system bus with logind on it"
cat >"$TI_DIR/sysbus.conf" <<EOF2
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$TI_DIR/sysbus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF2
pid=$(TI_BG_LOG=$TI_DIR/sysbus.log ti_bg dbus-daemon \
    --config-file="$TI_DIR/sysbus.conf" --nofork --nopidfile)
ti_wait_for_socket "$TI_DIR/sysbus" 10 "$pid" || ti_fail "dbus-daemon"
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$TI_DIR/sysbus
export DBUS_SYSTEM_BUS_ADDRESS
unset XDG_SESSION_ID
TI_BG_LOG=$TI_DIR/logind.log ti_bg "$LOGIND" >/dev/null
for i in $(seq 1 100); do
	grep -q '^ready' "$TI_DIR/logind.log" 2>/dev/null && break
	sleep 0.05
done
grep -q '^ready' "$TI_DIR/logind.log" || ti_fail "fake-logind did not start"

# emit WHAT: logind says the screen locked/unlocked or the machine sleeps/wakes.
emit()
{
	busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" call org.freedesktop.login1 \
	    /org/freedesktop/login1 org.tokagent.TestLogind Emit s "$1" ||
	    ti_fail "busctl Emit $1"
}
# events N PATTERN: wait until the agent log has N lines matching PATTERN.
events()
{
	local i n
	for i in $(seq 1 100); do
		n=$(grep -c -E "$2" "$TI_AGENT_LOG" || true)
		[ "$n" -ge "$1" ] && return 0
		sleep 0.05
	done
	ti_fail "agent log has $n lines matching '$2', want $1"
}

PIN=482915
sk_start_vfido tok --pin $PIN
sk_use tok
ti_askpass_setup pass:$PIN
ti_expect_ok "enroll verify-required" sk_keygen "$TI_DIR/ksk" ed25519-sk \
    -O verify-required
ti_keygen ed25519 - "$TI_DIR/kc" "confirm-key"
ti_keygen ed25519 - "$TI_DIR/kr" "removable-key"
ti_keygen ed25519 - "$TI_DIR/ks" "staying-key"
policy_write "key comment=removable-key
	remove-on-lock yes"
fido_start_agent tok -- --policy "$TI_DIR/policy" --pin-cache=1h
events 1 'session: logind session /org/freedesktop/login1/session/c1'
ti_expect_ok "add FIDO key" ssh-add "$TI_DIR/ksk"
pub=$(fido_pub "$TI_DIR/ksk")

pin_asks()
{
	grep -c "Enter PIN" "$TI_DIR/askpass.log" || true
}

ti_log "1. forget: the cached PIN is dropped"
: >"$TI_DIR/askpass.log"
ti_expect_ok "sign, PIN asked" fido_sign "$pub"
ti_expect_ok "sign, PIN cached" fido_sign "$pub"
ti_assert_eq 1 "$(pin_asks)" "one PIN prompt for two signatures"
emit lock
events 1 'audit: screen-lock ok \(forget'
ti_expect_ok "sign after the screen lock" fido_sign "$pub"
ti_assert_eq 2 "$(pin_asks)" "the PIN is asked again after the lock"
emit unlock
events 1 'audit: screen-unlock ok'

ti_log "2. forget: a pending confirm is dismissed"
ti_expect_ok "add -c" ssh-add -c "$TI_DIR/kc"
ti_askpass_answer sleep:30:yes
rm -f "$TI_DIR/msg.sig"
start=$(date +%s)
ssh-keygen -Y sign -n file -f "$TI_DIR/kc.pub" "$TI_DIR/msg" \
    >"$TI_DIR/c.out" 2>&1 &
cpid=$!
for i in $(seq 1 100); do
	grep -q "confirm" "$TI_DIR/askpass.log" && break
	sleep 0.05
done
emit lock
wait $cpid && ti_fail "a confirm pending at the screen lock still signed"
[ $(( $(date +%s) - start )) -lt 20 ] ||
    ti_fail "the pending confirm was not dismissed at the lock"
emit unlock
ti_askpass_answer pass:$PIN

ti_log "3. lock: the agent is locked until the screen unlocks"
policy_write "on-screen-lock lock
on-suspend remove
key comment=removable-key
	remove-on-lock yes"
policy_reload
ti_expect_ok "add staying key" ssh-add -q "$TI_DIR/ks"
ti_expect_ok "add removable key" ssh-add -q "$TI_DIR/kr"
emit lock
events 1 'audit: screen-lock ok \(lock'
ti_assert_eq 0 "$(ti_agent_count)" "a locked agent lists nothing"
ti_expect_fail "sign while locked" sshsig "$TI_DIR/ks.pub" file
ti_askpass_answer pass:anything
ti_expect_fail "ssh-add -X does not end a screen lock" \
    setsid -w ssh-add -X </dev/null
emit unlock
events 2 'audit: screen-unlock ok'
ti_expect_ok "sign after the unlock" sshsig "$TI_DIR/ks.pub" file

ti_log "4. remove on suspend"
n=$(ti_agent_count)
emit sleep
events 1 'audit: suspend ok \(remove: [0-9]+ prompts? dismissed, 1 key removed'
ti_assert_eq $((n - 1)) "$(ti_agent_count)" "one key removed"
ssh-add -l | grep -q removable-key && ti_fail "removable key still listed"
ssh-add -l | grep -q staying-key || ti_fail "staying key removed"
emit wake
events 1 'audit: resume ok'
ti_agent_alive || ti_fail "agent died"

ti_log "5. no bus: said once, the agent works"
ti_stop_agent
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$TI_DIR/nonexistent
unset DBUS_SESSION_BUS_ADDRESS
: >"$TI_AGENT_LOG"
ti_start_agent
events 1 'screen lock and suspend are not watched'
sleep 1
ti_assert_eq 1 "$(grep -c 'not watched' "$TI_AGENT_LOG")" "said once"
ti_expect_ok "the agent works without the watcher" ssh-add -q "$TI_DIR/ks"
exit 0

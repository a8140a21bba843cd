#!/bin/bash
# core-helper-death: the software token helper killed under the agent.
# The agent keeps answering, restarts the helper, and drops the software
# keys the dead helper held (never listing keys that cannot sign), saying
# so in its log and to the user (the notice channel, here
# --notify-command); keys added afterwards sign as before.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "helper supervision is a tokagent feature"

# A notifier that records its text.
cat >"$TI_DIR/notify" <<EOF2
#!/bin/sh
printf '%s\n' "\$1" >>'$TI_DIR/notify.log'
EOF2
chmod 700 "$TI_DIR/notify"
ti_start_agent --notify-command="$TI_DIR/notify"
ti_keygen ed25519 - "$TI_DIR/k1"
ti_keygen ecdsa 256 "$TI_DIR/k2"
ti_expect_ok "ssh-add k1" ssh-add "$TI_DIR/k1"
ti_assert_eq 1 "$(ti_agent_count)" "one key before"

helper=$(pgrep -P "$TI_AGENT_PID" -f tokagent-soft-helper | head -n 1)
[ -n "$helper" ] || ti_fail "no soft helper under agent pid $TI_AGENT_PID"
kill -9 "$helper"
# From the kill on, the lost key is never listed: hidden while the helper
# is down, dropped once it is back.
for i in $(seq 50); do
	h2=$(pgrep -P "$TI_AGENT_PID" -f tokagent-soft-helper | head -n 1)
	ti_assert_eq 0 "$(ti_agent_count)" "lost key not listed"
	[ -n "$h2" ] && [ "$h2" != "$helper" ] && break
	sleep 0.1
done
[ -n "$h2" ] && [ "$h2" != "$helper" ] || ti_fail "soft helper not restarted"
ti_agent_alive || ti_fail "agent died with its helper"
sleep 0.2
ti_assert_eq 0 "$(ti_agent_count)" "lost key dropped after the restart"
grep -q "was lost when helper soft died" "$TI_AGENT_LOG" ||
    ti_fail "agent did not log the lost key"
for i in $(seq 50); do
	grep -q "add it again" "$TI_DIR/notify.log" 2>/dev/null && break
	sleep 0.1
done
ti_assert_contains "$(cat "$TI_DIR/notify.log" 2>/dev/null)" \
    "Software keys lost" "the user is told the key was lost"
ti_assert_contains "$(cat "$TI_DIR/notify.log")" "add it again (ssh-add)" \
    "and what to do"

ti_expect_ok "ssh-add k2 after the restart" ssh-add "$TI_DIR/k2"
ti_assert_eq 1 "$(ti_agent_count)" "new key listed"
echo data >"$TI_DIR/msg"
ti_expect_ok "sign with the new key" ssh-keygen -Y sign -n file \
    -f "$TI_DIR/k2.pub" "$TI_DIR/msg"
ti_log "ok"
exit 0

#!/bin/bash
# audit: tokagent's audit trail.  Every event kind (add, sign ok and
# refused, remove, lock, unlock right and wrong, policy reload, token plug
# and pull, PIN prompt) becomes one JSON line in the --audit-log file with
# the key, the client's process chain and the result; the file holds valid
# JSON and never a PIN or passphrase; it rotates by size; `tokagent audit`
# shows the recent records and `tokagent events` streams them.  Uses a
# software key and a verify-required FIDO key on vfido.  tokagent-only.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
. "$TI_SRC/tests/integ/policy-lib.sh"
fido_setup
ti_require_cmd python3

PIN=739154
PASS=lock-secret-81723
AUDIT=$TI_DIR/audit.json
TOKAGENT=$TEST_AGENT

sk_start_vfido tok --pin $PIN
sk_use tok
ti_askpass_setup pass:$PIN
ti_expect_ok "enroll verify-required" sk_keygen "$TI_DIR/ksk" ed25519-sk \
    -O verify-required
ti_keygen ed25519 - "$TI_DIR/k" "audit-key"
policy_write "audit-log-size 64K
key comment=audit-key
	namespaces git"
fido_start_agent tok -- --policy "$TI_DIR/policy" --audit-log "$AUDIT" \
    --event-command "cat >>'$TI_DIR/hook.out'"

# Subscribe to events before anything happens.
"$TOKAGENT" events >"$TI_DIR/events.out" 2>"$TI_DIR/events.err" &
EVPID=$!
echo "$EVPID" >>"$TI_DIR/pids"
sleep 0.3

ti_expect_ok "add software key" ssh-add "$TI_DIR/k"
ti_expect_ok "add FIDO key" ssh-add "$TI_DIR/ksk"
ti_expect_ok "sign ok" sshsig "$TI_DIR/k.pub" git
ti_expect_fail "sign refused by policy" sshsig "$TI_DIR/k.pub" file
pub=$(fido_pub "$TI_DIR/ksk")
ti_expect_ok "FIDO sign with PIN" fido_sign "$pub"
# ssh-add reads the lock passphrase through the test askpass.
ti_askpass_answer pass:$PASS
ti_expect_ok "lock" setsid -w ssh-add -x </dev/null
ti_askpass_answer pass:wrong-pass
ti_expect_fail "unlock, wrong" setsid -w ssh-add -X </dev/null
ti_askpass_answer pass:$PASS
ti_expect_ok "unlock" setsid -w ssh-add -X </dev/null
ti_askpass_answer pass:$PIN
policy_reload
ti_expect_ok "remove" ssh-add -d "$TI_DIR/k.pub"
ti_kill "$SK_VFIDO_PID_tok"
fido_log_wait "token-pull" 10
sk_start_vfido tok --pin $PIN
fido_log_wait "token-plug" 10

# The file is written by a thread: wait for the last record.
for i in $(seq 1 100); do
	grep -q '"event":"token-plug"' "$AUDIT" 2>/dev/null && break
	sleep 0.05
done

ti_log "every record is valid JSON with the fields asked for"
python3 - "$AUDIT" "$TI_AGENT_PID" <<'PY' || ti_fail "audit records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
kinds = {}
for r in recs:
    assert "time" in r and r["time"].endswith("Z"), r
    kinds.setdefault(r["event"], []).append(r)
need = ["add", "sign", "remove", "lock", "unlock", "policy-reload",
        "token-pull", "token-plug", "pin-prompt", "touch"]
missing = [k for k in need if k not in kinds]
assert not missing, "missing events: %s" % missing
signs = kinds["sign"]
ok = [s for s in signs if s["result"] == "ok"]
bad = [s for s in signs if s["result"] == "refused"]
assert len(ok) >= 2 and len(bad) == 1, signs
b = bad[0]
assert b["namespace"] == "file" and b["rule"].endswith("policy:2"), b
assert "namespace" in b["reason"], b
for s in signs:
    k = s["key"]
    assert k["fingerprint"].startswith("SHA256:") and k["type"], s
    ch = s["client"]["chain"]
    assert ch[0]["exe"].endswith("ssh-keygen"), ch
    assert "ssh-keygen" in ch[0]["cmdline"], ch
    assert s["client"]["uid"] >= 0
fido = [s for s in ok if s["key"]["token"] == "fido"]
assert fido, "no FIDO signature recorded"
t = kinds["touch"]
assert [x["result"] for x in t][:2] == ["waiting", "done"], t
assert t[0]["token"]["device"].startswith("unix:") and t[0]["namespace"], t
rm = [r for r in kinds["remove"] if r.get("reason") == "removed by client"]
assert rm and rm[0]["key"]["comment"] == "audit-key", kinds["remove"]
assert rm[0]["client"]["chain"][0]["exe"].endswith("ssh-add"), rm
assert any(r["result"] == "refused" for r in kinds["unlock"])
assert any(r["result"] == "ok" for r in kinds["unlock"])
print("records:", len(recs), sorted(kinds))
PY
for secret in "$PIN" "$PASS" wrong-pass; do
	if grep -q -- "$secret" "$AUDIT" "$TI_AGENT_LOG" "$TI_DIR/events.out"; then
		ti_fail "a secret ($secret) is in the audit trail or the log"
	fi
done

ti_log "tokagent audit and tokagent events"
out=$("$TOKAGENT" audit 100) || ti_fail "tokagent audit"
ti_assert_contains "$out" "sign refused" "readable refusal"
ti_assert_contains "$out" "policy:2" "the rule in the readable line"
n=$("$TOKAGENT" audit --json 3 | python3 -c 'import json,sys
print(sum(1 for l in sys.stdin if json.loads(l)))') || ti_fail "audit --json"
ti_assert_eq 3 "$n" "audit --json N gives N records"
ti_assert_contains "$(cat "$TI_DIR/events.out")" '"event":"sign"' \
    "events stream carries sign records"
ti_assert_contains "$(cat "$TI_DIR/events.out")" '"event":"token-plug"' \
    "events stream carries token records"
ti_assert_eq "$(grep -c . "$AUDIT")" "$(grep -c . "$TI_DIR/hook.out")" \
    "the event command got every record"
python3 -c 'import json,sys
[json.loads(l) for l in open(sys.argv[1])]' "$TI_DIR/hook.out" ||
    ti_fail "event command records are not JSON lines"

ti_log "rotation by size"
for i in $(seq 1 120); do
	sshsig "$TI_DIR/k.pub" git || true
done
ssh-add -q "$TI_DIR/k" || ti_fail "re-add"
for i in $(seq 1 60); do
	sshsig "$TI_DIR/k.pub" git || ti_fail "sign $i for rotation"
done
for i in $(seq 1 100); do
	[ -f "$AUDIT.1" ] && break
	sleep 0.05
done
[ -f "$AUDIT.1" ] || ti_fail "no rotation to $AUDIT.1"
sz=$(stat -c %s "$AUDIT")
[ "$sz" -le 65536 ] || ti_fail "audit file $sz bytes, over its 64K"
ti_agent_alive || ti_fail "agent died"

ti_log "in the background, records go to the journal with their fields"
cat >"$TI_DIR/journald.py" <<'PY'
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "ab", buffering=0)
while True:
    d = s.recv(1 << 20)
    out.write(len(d).to_bytes(4, "big") + d)
PY
TI_BG_LOG=$TI_DIR/journald.err ti_bg python3 "$TI_DIR/journald.py" \
    "$TI_DIR/journal.sock" "$TI_DIR/journal.bin" >/dev/null
ti_wait_for_socket "$TI_DIR/journal.sock" 10 || ti_fail "fake journald"
eval "$(TOKAGENT_JOURNAL_SOCKET=$TI_DIR/journal.sock "$TOKAGENT" -s \
    -a "$TI_DIR/bg.sock" --policy "$TI_DIR/policy")" >/dev/null
echo "$SSH_AGENT_PID" >>"$TI_DIR/pids"
ti_expect_ok "background agent: add" ssh-add -q "$TI_DIR/k"
ti_expect_ok "background agent: sign" sshsig "$TI_DIR/k.pub" git
python3 - "$TI_DIR/journal.bin" <<'PY' || ti_fail "journal fields"
import json, struct, sys, time
def fields(d):
    f, i = {}, 0
    while i < len(d):
        nl = d.index(b"\n", i)
        name = d[i:nl].decode(); i = nl + 1
        n = struct.unpack("<Q", d[i:i + 8])[0]; i += 8
        f[name] = d[i:i + n].decode(); i += n + 1
    return f
for _ in range(100):
    try:
        raw = open(sys.argv[1], "rb").read()
    except FileNotFoundError:
        raw = b""
    recs, i = [], 0
    while i + 4 <= len(raw):
        n = int.from_bytes(raw[i:i + 4], "big")
        recs.append(fields(raw[i + 4:i + 4 + n])); i += 4 + n
    if any(r.get("TOKAGENT_EVENT") == "sign" for r in recs):
        break
    time.sleep(0.05)
sign = [r for r in recs if r.get("TOKAGENT_EVENT") == "sign"]
assert sign, recs
r = sign[-1]
assert r["SYSLOG_IDENTIFIER"] == "tokagent" and r["PRIORITY"] == "6", r
assert "sign ok" in r["MESSAGE"], r
assert json.loads(r["TOKAGENT_RECORD"])["namespace"] == "git", r
assert any(x.get("TOKAGENT_EVENT") == "add" for x in recs), recs
PY
"$TOKAGENT" -k >/dev/null || ti_fail "tokagent -k"
exit 0

#!/bin/bash
# status: `tokagent status` (and --json) against a running agent with a
# FIDO token (vfido, a verify-required key, --pin-cache), a SoftHSM token
# (ssh-add -s) and a software key with constraints:
#   - tokens present: the FIDO token by device, the PKCS#11 token by label;
#   - each key with its token, presence and constraints;
#   - the PIN cache of the FIDO token after a PIN was given, with expiry;
#   - a signature waiting for a touch as a pending request (who, which key,
#     "touch", which token), gone once the client went away;
#   - helper health (soft, sk, p11: running, pids);
#   - the JSON form parses and says the same.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup
. "$TI_SRC/tests/p11/softhsm.sh"
p11_softhsm_available || ti_skip "SoftHSM2 / pkcs11-tool not installed"
ti_require_cmd python3

P11PIN=2468
p11_softhsm_init "$TI_DIR" || ti_fail "softhsm init"
p11_softhsm_token statustok "$P11PIN" || ti_fail "token init"
p11_softhsm_standard_keys statustok "$P11PIN" || ti_fail "key generation"

sk_start_vfido tok --pin 1234
sk_use tok
ti_askpass_setup pass:1234
ti_expect_ok "enroll verify-required" sk_keygen "$TI_DIR/kuv" ed25519-sk \
    -O verify-required
ti_expect_ok "enroll" sk_keygen "$TI_DIR/k" ed25519-sk
fido_start_agent tok -- --pin-cache=600
ti_expect_ok "ssh-add sk keys" ssh-add "$TI_DIR/kuv" "$TI_DIR/k"
ti_keygen ed25519 - "$TI_DIR/soft" "soft-key"
ti_expect_ok "ssh-add -c -t" ssh-add -c -t 900 "$TI_DIR/soft"
ti_askpass_answer "pass:$P11PIN"
ti_expect_ok "ssh-add -s" ssh-add -s "$P11_SOFTHSM_MODULE"
ti_askpass_answer pass:1234
pubuv=$(fido_pub "$TI_DIR/kuv")
pub=$(fido_pub "$TI_DIR/k")
fpuv=$(ti_fp "$pubuv")
fp=$(ti_fp "$pub")
DEV=unix:$TI_DIR/tok.sock

status() { "$TEST_AGENT" status "$@"; }

ti_log "a PIN given: cached for the token"
ti_expect_ok "-Y sign with the verify-required key" fido_sign "$pubuv"
out=$(status) || ti_fail "tokagent status: $out"
ti_log "status:"$'\n'"$out"
ti_assert_contains "$out" "Tokens:"$'\n'"  fido \"$DEV\" at $DEV" \
    "the FIDO token"
ti_assert_contains "$out" "  pkcs11 \"statustok\" at " "the PKCS#11 token"
ti_assert_contains "$out" "sk-ssh-ed25519@openssh.com $fpuv \"sk-test\""$'\n'"      on FIDO security key, present" \
    "a FIDO key and its token"
ti_assert_contains "$out" "\"soft-key\""$'\n'"      on software (tokagent memory), present, constraints: confirm, lifetime" \
    "the software key with its constraints"
ti_assert_contains "$out" "on PKCS#11 token statustok, present" \
    "a PKCS#11 key on its token"
ti_assert_contains "$out" "PIN caches:"$'\n'"  \"$DEV\" at $DEV: PIN cached, " \
    "the FIDO token's PIN cache"
ti_assert_contains "$out" "Pending requests: none" "nothing pending"
ti_assert_contains "$out" "  soft software keys: running, pid " "soft helper"
ti_assert_contains "$out" "  fido security keys (sk helper): running, pid " \
    "sk helper"
ti_assert_contains "$out" "  pkcs11 $(realpath "$P11_SOFTHSM_MODULE"): running" \
    "p11 helper"

ti_log "a signature waiting for a touch"
sk_ctl tok "touch manual" >/dev/null
cpid=$(ti_bg ssh-keygen -Y sign -n file -f "$pub" "$TI_DIR/msg")
fido_pending_wait tok 10 || ti_fail "no touch pending"
out=$(status) || ti_fail "tokagent status: $out"
ti_log "status:"$'\n'"$out"
ti_assert_contains "$out" "(pid $cpid \"ssh-keygen\"): key $fp \"sk-test\""$'\n'"      waiting for touch on token \"$DEV\" for " \
    "the pending touch: who, which key, which token"
json=$(status --json) || ti_fail "tokagent status --json"
python3 - "$json" "$cpid" "$fp" "$DEV" <<'PY' || ti_fail "JSON status"
import json, sys
s = json.loads(sys.argv[1])
pid, fp, dev = int(sys.argv[2]), sys.argv[3], sys.argv[4]
p = [x for x in s["pending"] if x["pid"] == pid]
assert len(p) == 1 and p[0]["state"] == "touch" and \
    p[0]["fingerprint"] == fp and p[0]["token"] == dev, s["pending"]
assert "ssh-keygen" in p[0]["description"], p
assert any(t["kind"] == "fido" and t["where"] == dev and t["present"]
           for t in s["tokens"]), s["tokens"]
assert any(t["kind"] == "pkcs11" and t["name"] == "statustok"
           for t in s["tokens"]), s["tokens"]
assert any(x["device"] == dev and 0 < x["seconds_left"] <= 600
           for x in s["pins"]), s["pins"]
assert {h["kind"] for h in s["helpers"]} >= {"soft", "fido", "pkcs11"}
assert all(h["running"] and h["pid"] > 0 for h in s["helpers"]
           if h["kind"] != "pcsc"), s["helpers"]
assert len([k for k in s["keys"] if k["token"] == "FIDO security key"]) == 2
PY
ti_kill "$cpid"
n=0
until status | grep -q "Pending requests: none"; do
	n=$((n + 1))
	[ $n -lt 50 ] || ti_fail "the request stayed pending after its client left"
	sleep 0.1
done
sk_ctl tok "touch approve" >/dev/null

ti_log "ssh-add -D forgets the cached PIN"
ti_expect_ok "ssh-add -D" ssh-add -D
ti_assert_contains "$(status)" "PIN caches: none" "no PIN cached"

ti_log "a client that is not tokagent's status: usage"
ti_expect_fail "status with a bad option" "$TEST_AGENT" status --bogus
SSH_AUTH_SOCK=$TI_DIR/nonexistent ti_expect_fail "status without an agent" \
    "$TEST_AGENT" status
ti_agent_alive || ti_fail "agent died"
exit 0

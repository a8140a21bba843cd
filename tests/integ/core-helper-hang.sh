#!/bin/bash
# core-helper-hang: one owner per deadline.  The agent judges a helper by
# its heartbeat only: a frozen soft helper (SIGSTOP) with a request waiting
# is replaced, the waiting client gets a failure instead of waiting
# forever, and the frozen process does not linger (SIGKILL after a grace).
# Helpers and agent check each other's protocol version in their hellos: a
# mismatch is a clear error on either side, and such a helper is not
# restarted over and over.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "helper supervision is a tokagent feature"

# A short heartbeat period keeps the test quick; its length is not tested.
export TOKAGENT_HELPER_PING_MS=300
ti_start_agent
ti_keygen ed25519 - "$TI_DIR/k1"
ti_expect_ok "ssh-add k1" ssh-add "$TI_DIR/k1"
rm -f "$TI_DIR/k1"	# only the agent can sign now
echo data >"$TI_DIR/msg"
ti_expect_ok "sign before" ssh-keygen -Y sign -n file -f "$TI_DIR/k1.pub" \
    "$TI_DIR/msg"
rm -f "$TI_DIR/msg.sig"

helper=$(pgrep -P "$TI_AGENT_PID" -f tokagent-soft-helper | head -n 1)
[ -n "$helper" ] || ti_fail "no soft helper under agent pid $TI_AGENT_PID"
kill -STOP "$helper"
# The request waits at the frozen helper until the heartbeat finds it hung.
rc=0
timeout 60 ssh-keygen -Y sign -n file -f "$TI_DIR/k1.pub" "$TI_DIR/msg" \
    >"$TI_DIR/sign.out" 2>&1 || rc=$?
[ "$rc" = 124 ] && ti_fail "the client waited at a frozen helper"
[ "$rc" != 0 ] || ti_fail "signed at a frozen helper"
grep -q "helper soft .* stopped answering its heartbeat" "$TI_AGENT_LOG" ||
    ti_fail "agent did not log the missed heartbeat"
for i in $(seq 100); do
	h2=$(pgrep -P "$TI_AGENT_PID" -f tokagent-soft-helper | head -n 1)
	[ -n "$h2" ] && [ "$h2" != "$helper" ] && break
	sleep 0.1
done
[ -n "$h2" ] && [ "$h2" != "$helper" ] || ti_fail "soft helper not replaced"
for i in $(seq 100); do
	ti_alive "$helper" || break
	sleep 0.1
done
ti_alive "$helper" && ti_fail "the frozen helper $helper still runs"
ti_agent_alive || ti_fail "agent died"
ti_keygen ecdsa 256 "$TI_DIR/k2"
ti_expect_ok "ssh-add k2 after the replacement" ssh-add "$TI_DIR/k2"
ti_expect_ok "sign with the new helper" ssh-keygen -Y sign -n file \
    -f "$TI_DIR/k2.pub" "$TI_DIR/msg"
ti_stop_agent

# Agent side: a helper that says another version is refused, and not
# restarted.  The fake helper sends its hello and waits.
mkdir "$TI_DIR/fake"
cat >"$TI_DIR/fake/tokagent-soft-helper" <<'PY'
#!/usr/bin/env python3
import os, struct, time
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write("started\n")
body = struct.pack(">IBI", 0, 3, 99) + struct.pack(">I", 4) + b"fake"
os.write(3, struct.pack(">I", len(body)) + body)
time.sleep(30)
PY
chmod +x "$TI_DIR/fake/tokagent-soft-helper"
export FAKE_LOG=$TI_DIR/fake.log
TI_AGENT_LOG=$TI_DIR/agent2.log TOKAGENT_HELPER_PATH=$TI_DIR/fake \
    ti_start_agent
ti_keygen ed25519 - "$TI_DIR/k3"
for i in $(seq 100); do
	grep -q "speaks helper protocol version 99" "$TI_DIR/agent2.log" &&
	    break
	sleep 0.1
done
grep -q "speaks helper protocol version 99, the agent version" \
    "$TI_DIR/agent2.log" || ti_fail "agent did not name the versions"
ti_expect_fail "ssh-add without a usable soft helper" ssh-add "$TI_DIR/k3"
sleep 1
ti_assert_eq 1 "$(wc -l <"$FAKE_LOG")" "the refused helper was started once"
ti_agent_alive || ti_fail "agent died"
ti_stop_agent

# Helper side: an agent that says another version is refused.
ipc_version=$(sed -n 's/^#define IPC_VERSION[[:space:]]*\([0-9]*\).*/\1/p' \
    "$TI_SRC/common/ipc.h")
[ -n "$ipc_version" ] || ti_fail "no IPC_VERSION in common/ipc.h"
python3 - "$TI_BUILD/token/tokagent-soft-helper" "$TI_DIR/helper.err" \
    "$ipc_version" <<'PY'
import os, socket, struct, sys
helper, errlog, version = sys.argv[1], sys.argv[2], int(sys.argv[3])
a, b = socket.socketpair()
pid = os.fork()
if pid == 0:
    os.dup2(b.fileno(), 3)
    err = os.open(errlog, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(err, 2)
    os.execv(helper, [helper])
b.close()
def frame():
    hdr = b""
    while len(hdr) < 4:
        hdr += a.recv(4 - len(hdr))
    n = struct.unpack(">I", hdr)[0]
    body = b""
    while len(body) < n:
        body += a.recv(n - len(body))
    return body
hello = frame()
id_, typ, ver = struct.unpack(">IBI", hello[:9])
assert id_ == 0 and typ == 3 and ver == version, (id_, typ, ver)
body = struct.pack(">IBI", 0, 3, 99) + struct.pack(">I", 4) + b"test"
a.sendall(struct.pack(">I", len(body)) + body)
_, status = os.waitpid(pid, 0)
sys.exit(0 if os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0 else 1)
PY
[ $? = 0 ] || ti_fail "the helper accepted another protocol version"
grep -q "the agent speaks helper protocol version 99, this helper version $ipc_version" \
    "$TI_DIR/helper.err" || ti_fail "helper did not name the versions: \
$(cat "$TI_DIR/helper.err")"
ti_log "ok"
exit 0

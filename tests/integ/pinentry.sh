#!/bin/bash
# pinentry: PIN and confirm prompts through pinentry programs (Assuan).
#   1. --prompt=pinentry:PROGRAM with a scripted pinentry that records what
#      it is sent: a confirm prompt (CONFIRM; yes signs, no and cancel
#      refuse), a verify-required FIDO key's PIN (GETPIN), the prompt text
#      percent-escaped with its first line of at most 60 characters; a
#      pinentry that breaks the protocol (a 64 KiB line, INQUIRE, data out
#      of turn, bad escapes, a NUL in the PIN, 10,000 status lines) only
#      fails its request; the agent answers other clients meanwhile.
#   2. No display: the default puts the prompt on the requesting client's
#      terminal through Debian's pinentry-tty, driven through a pty: the
#      confirmation is answered there, and so is the PIN.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup
ti_require_cmd python3
FAKE=$TI_SRC/tests/integ/fakepinentry
export FAKEPE_DIR=$TI_DIR
unset SSH_ASKPASS DISPLAY WAYLAND_DISPLAY

sk_start_vfido tok --pin 1234
sk_use tok
# Enrolling asks the PIN through ssh-keygen's own askpass.
ti_askpass_setup pass:1234
ti_expect_ok "enroll verify-required" sk_keygen "$TI_DIR/kuv" ed25519-sk \
    -O verify-required
unset SSH_ASKPASS DISPLAY
ti_keygen ed25519 - "$TI_DIR/kc" "confirm-key"
pubuv=$(fido_pub "$TI_DIR/kuv")

answer() { printf '%s\n' "$1" >"$TI_DIR/answer"; }
sign_c() { rm -f "$TI_DIR/msg.sig"; ssh-keygen -Y sign -n file -f "$TI_DIR/kc.pub" "$TI_DIR/msg" \
    </dev/null >/dev/null 2>&1; }

ti_log "1. a scripted pinentry"
fido_start_agent tok -- --prompt="pinentry:$FAKE"
ti_expect_ok "ssh-add -c" ssh-add -c "$TI_DIR/kc"
ti_expect_ok "ssh-add sk" ssh-add "$TI_DIR/kuv"

answer yes
: >"$TI_DIR/log"
ti_expect_ok "confirmed through pinentry" sign_c
log=$(cat "$TI_DIR/log")
ti_log "pinentry was sent:"$'\n'"$log"
ti_assert_contains "$log" "SETTITLE tokagent" "title"
ti_assert_contains "$log" "SETOK Allow" "the OK button says Allow"
ti_assert_contains "$log" "CONFIRM" "asked to confirm"
desc=$(grep '^SETDESC ' "$TI_DIR/log")
ti_assert_contains "$desc" "SETDESC Allow \"ssh-keygen\" to sign for namespace \"file\"" \
    "the description asks first"
ti_assert_contains "$desc" "%0AKey: \"confirm-key\" ssh-ed25519 " \
    "details on their own lines, newlines escaped"
first=${desc#SETDESC }
first=${first%%\%0A*}
[ "${#first}" -le 60 ] || ti_fail "first line over 60: $first"

answer no
ti_expect_fail "denied through pinentry" sign_c
answer cancel
ti_expect_fail "cancelled through pinentry" sign_c

answer pin:1234
: >"$TI_DIR/log"
ti_expect_ok "verify-required key, PIN through pinentry" fido_sign "$pubuv"
ti_assert_contains "$(cat "$TI_DIR/log")" "GETPIN" "asked for the PIN"
ti_assert_contains "$(grep '^SETDESC ' "$TI_DIR/log")" \
    "SETDESC Enter PIN for your security key%0Ato allow \"ssh-keygen\"" \
    "the PIN prompt"
ti_assert_contains "$(cat "$TI_DIR/log")" "SETPROMPT PIN:" "PIN: prompt"

for h in long inquire data-early bad-escape nul flood; do
	answer "hostile:$h"
	ti_expect_fail "a pinentry that answers $h" sign_c
	ti_assert_eq "$(ssh-add -l | wc -l)" 2 "keys still listed after $h"
done
answer "hostile:nul"
ti_expect_fail "a PIN with a NUL byte" fido_sign "$pubuv"
# A pinentry that never answers holds only its own request.
answer "hostile:hang"
cpid=$(ti_bg ssh-keygen -Y sign -n file -f "$TI_DIR/kc.pub" "$TI_DIR/msg")
n=0
until grep -q CONFIRM "$TI_DIR/log" 2>/dev/null; do
	n=$((n + 1))
	[ $n -lt 100 ] || ti_fail "the hanging pinentry was not started"
	sleep 0.05
done
ti_assert_eq 2 "$(ssh-add -l | wc -l)" "listed while a pinentry hangs"
ti_kill "$cpid"
ti_agent_alive || ti_fail "agent died"
grep -q "broke the Assuan protocol" "$TI_AGENT_LOG" ||
    ti_fail "the agent did not log the protocol violations"
ti_stop_agent

ti_log "2. pinentry-tty on the client's terminal (no display)"
PT=$(command -v pinentry-tty) || {
	[ "${CI:-}" = true ] && ti_fail "pinentry-tty not installed"
	ti_skip "pinentry-tty not installed"
}
fido_start_agent tok
ti_expect_ok "ssh-add -c" ssh-add -c "$TI_DIR/kc"
ti_expect_ok "ssh-add sk" ssh-add "$TI_DIR/kuv"
# onpty KEYS CMD...: run CMD with a new pty as its controlling terminal;
# when the terminal shows a prompt ending in "[ad]? " or "PIN: ", type the
# next of KEYS (comma separated).  Prints what the terminal showed.
onpty()
{
	TI_DIR=$TI_DIR python3 - "$@" <<'PY'
import os, pty, select, sys, time
keys = sys.argv[1].split(",")
try:
    os.unlink(os.environ["TI_DIR"] + "/msg.sig")
except OSError:
    pass
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
seen = b""
deadline = time.time() + 30
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        seen += d
        if keys and (seen.endswith(b"[ad]? ") or seen.endswith(b"PIN: ")):
            os.write(fd, (keys.pop(0) + "\r").encode())
    else:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p:
            break
else:
    os.kill(pid, 9)
try:
    _, st = os.waitpid(pid, 0)
except ChildProcessError:
    st = 0
sys.stdout.write(seen.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(st) if st else 0)
PY
}
out=$(onpty a ssh-keygen -Y sign -n file -f "$TI_DIR/kc.pub" "$TI_DIR/msg") ||
    { echo "$out" >&2; ti_fail "confirmed on the terminal"; }
ti_log "terminal:"$'\n'"$out"
ti_assert_contains "$out" "Allow \"ssh-keygen\" to sign for namespace \"file\"" \
    "the question on the client's terminal"
ti_assert_contains "$out" "Key: \"confirm-key\"" "the details too"
out=$(onpty d ssh-keygen -Y sign -n file -f "$TI_DIR/kc.pub" "$TI_DIR/msg") &&
    ti_fail "signed although denied on the terminal"
out=$(onpty 1234 ssh-keygen -Y sign -n file -f "$pubuv" "$TI_DIR/msg") ||
    { echo "$out" >&2; ti_fail "PIN on the terminal"; }
ti_log "terminal:"$'\n'"$out"
ti_assert_contains "$out" "Enter PIN for your security key" \
    "the PIN prompt on the client's terminal"
ti_assert_contains "$(sk_ctl tok log)" "uv=1" "signed with the PIN"
# Without a terminal and without a display, nothing can ask: refused.
ti_expect_fail "no terminal, no display" sign_c
ti_agent_alive || ti_fail "agent died"
exit 0

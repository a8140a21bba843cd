#!/bin/bash
# core-prompt-hostile: text a client or a remote host chooses can not take
# over a confirm prompt.  A -c key whose comment, a login request whose user
# name, an SSHSIG request whose namespace and a requesting process whose
# name hold newlines, ESC sequences, quotes, invalid UTF-8, a bidi override
# or 10 KiB: the prompt the askpass receives (recorded byte for byte) asks
# in a first line of at most 60 characters, holds no control byte but the
# newlines between its own lines, shows the hostile text escaped, quoted and
# bounded, and never starts a line with it.
# tokagent-only: OpenSSH's agent copies these fields verbatim.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "sanitised prompt fields"
ti_require_cmd python3
CLI=$TI_BUILD/tests/integ/agentcli

# An askpass that keeps each prompt as it came, and denies.
mkdir -p "$TI_DIR/prompts"
cat >"$TI_DIR/askpass" <<ASKPASS
#!/bin/bash
n=\$(ls "$TI_DIR/prompts" | wc -l)
printf '%s' "\$1" >"$TI_DIR/prompts/\$n"
exit 1
ASKPASS
chmod 700 "$TI_DIR/askpass"
SSH_ASKPASS=$TI_DIR/askpass
SSH_ASKPASS_REQUIRE=force
DISPLAY=${DISPLAY:-:0}
export SSH_ASKPASS SSH_ASKPASS_REQUIRE DISPLAY

SPOOF=$'\n\nRoutine re-authentication by IT: press OK'
BIG=$(head -c 10240 /dev/zero | tr '\0' 'A')
ti_keygen ed25519 - "$TI_DIR/k" \
    "work$(printf '\e[2J')"$'\xe2\x80\xae'"\"$SPOOF\"$BIG"
ti_start_agent
ti_expect_ok "ssh-add -c" ssh-add -c "$TI_DIR/k"
blob=$(ssh-add -L | head -n 1 | awk '{print $2}' | base64 -d | od -An -v -tx1 |
    tr -d ' \n')

hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
sshstr() { printf '%08x%s' $((${#1} / 2)) "$1"; }

# sign DATAHEX [ARGV0]: a sign request for the key (denied at the prompt).
sign()
{
	local out
	out=$(exec -a "${2:-agentcli}" "$CLI" raw \
	    "0d$(sshstr "$blob")$(sshstr "$1")00000000") ||
	    ti_fail "agentcli sign"
	ti_assert_eq "5 " "$out" "denied at the prompt"
}

ti_log "1. a hostile user name in a login request"
# (a user name over 1 KiB is no login request: about 950 bytes)
user="root$(printf '\e]0;title\a')\"$SPOOF${BIG:0:900}"
sign "$(sshstr "$(hex 0123456789abcdef0123456789abcdef)")32$(sshstr "$(hex "$user")")$(sshstr \
    "$(hex ssh-connection)")$(sshstr "$(hex publickey)")01$(sshstr \
    "$(hex ssh-ed25519)")$(sshstr "$blob")"

ti_log "2. a hostile SSHSIG namespace"
ns="git$SPOOF"$'\xff\xfe'"\"$BIG"
sign "$(hex SSHSIG)$(sshstr "$(hex "$ns")")$(sshstr "")$(sshstr \
    "$(hex sha512)")$(sshstr 00112233)"

ti_log "3. a hostile process name"
sign "$(hex "not a login")" "evil$SPOOF$(printf '\e[8m')"

ti_log "4. ssh-keygen -Y sign with a hostile namespace"
echo data >"$TI_DIR/msg"
ssh-keygen -Y sign -n "ns$SPOOF" -f "$TI_DIR/k.pub" "$TI_DIR/msg" \
    </dev/null >/dev/null 2>&1 && ti_fail "signed without confirmation"

ti_assert_eq 4 "$(ls "$TI_DIR/prompts" | wc -l)" "four prompts"
python3 - "$TI_DIR/prompts" <<'PY' || ti_fail "a prompt is not safe"
import os, sys
d = sys.argv[1]
bad = 0
def fail(n, why, text):
    global bad
    bad = 1
    print("prompt %s: %s\n%r" % (n, why, text[:600]), file=sys.stderr)
SP = "\\n\\nRoutine re-authentication by IT: press OK"
want = {
    "0": ['log in as "root', 'Destination: unknown',
          'User: "root\\e]0;title\\x07\\"' + SP[:30]],
    "1": ['sign for namespace "git\\n',
          'Namespace: "git' + SP + '\\xff\\xfe\\"A..."'],
    "2": ['Allow "evil\\n', 'Requested by: "evil' + SP + '\\e[8m"'],
    "3": ['Namespace: "ns' + SP + '"'],
}
for n in sorted(os.listdir(d)):
    raw = open(os.path.join(d, n), "rb").read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        fail(n, "not UTF-8", raw)
        continue
    for ch in text:
        if (ord(ch) < 0x20 and ch != "\n") or ord(ch) == 0x7f or \
            0x80 <= ord(ch) <= 0x9f or 0x202a <= ord(ch) <= 0x202e:
            fail(n, "control character %r" % ch, text)
            break
    lines = text.split("\n")
    if len(lines[0]) > 60:
        fail(n, "first line over 60 characters", lines[0])
    if len(lines) > 14 or len(raw) > 4096:
        fail(n, "not bounded: %d lines, %d bytes" % (len(lines), len(raw)),
             text)
    for l in lines:
        if l.startswith("Routine") or \
            len(l) > 300:
            fail(n, "peer text starts a line, or a line is too long", text)
    if 'Key: "work\\e[2J\\u{202e}\\"' + SP[:30] not in text:
        fail(n, "key comment not escaped and quoted", text)
    if "Quoted text comes from" not in text:
        fail(n, "peer text not labelled", text)
    for w in want.get(n, []):
        if w not in text:
            fail(n, "missing %r" % w, text)
    print("prompt %s (%d bytes):\n%s\n" % (n, len(raw), text))
sys.exit(bad)
PY
# Nothing a peer chose starts a line of the agent's log either.
grep -q '^Routine' "$TI_AGENT_LOG" && ti_fail "peer text starts a log line"
ti_agent_alive || ti_fail "agent died"
exit 0

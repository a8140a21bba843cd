#!/bin/bash
# dest-prompt: the words of tokagent's confirm prompts on real ssh paths
# (private sshd instances on loopback, hops made by agent forwarding):
#   - a -c key used for a direct login names the process, "log in as
#     "USER"@h1" in a first line of at most 60 characters, then the
#     destination "(verified host key)", the key comment and fingerprint;
#   - --confirm-forwarded: a key added without -c asks nothing for a direct
#     login, asks for a login from h1 to h2 through the forwarded agent
#     (naming "h1 > "USER"@h2" and "through agent forwarding"), and a denial
#     refuses only the forwarded login;
#   - an SSHSIG signature names the namespace and ssh-keygen.
# Host names come from the agent user's ~/.ssh/known_hosts, so the agent
# runs with a private HOME whose known_hosts is the test's (aliases h1, h2).
# tokagent-only: OpenSSH's agent has neither these words nor the option.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "confirm prompt text and --confirm-forwarded"
ti_require_cmd ssh ssh-add ssh-keygen

ti_keygen ed25519 - "$TI_DIR/kc" "prompt-confirm-key"
ti_keygen ed25519 - "$TI_DIR/kf" "prompt-forward-key"
for h in h1 h2; do
	ti_authorize $h "$TI_DIR/kc.pub"
	ti_authorize $h "$TI_DIR/kf.pub"
	ti_start_sshd $h
done
mkdir -p "$TI_DIR/pub"
cp "$TI_DIR/kc.pub" "$TI_DIR/kf.pub" "$TI_DIR/pub/"

# The agent (and everything else here) sees a private HOME whose
# known_hosts names the hosts' keys h1 and h2.
mkdir -p -m 700 "$TI_DIR/home/.ssh"
cp "$TI_DIR/known_hosts" "$TI_DIR/home/.ssh/known_hosts"
HOME=$TI_DIR/home
export HOME

SSHC="ssh -n -F $TI_DIR/ssh_config -o IdentityFile=none"
me=$(id -un)

# last_prompt: the text of the newest askpass call.
last_prompt()
{
	local line
	line=$(tail -n 1 "$TI_DIR/askpass.log")
	printf '%s\n' "${line#*$'\t'}"
}

# asked WHAT N: the askpass was called N times so far.
asked()
{
	local n
	n=$(ti_askpass_count)
	[ "$n" = "$2" ] || {
		cat "$TI_DIR/askpass.log" >&2
		ti_fail "$1: $n prompts so far, want $2"
	}
}

# first_line_fits PROMPT: the askpass log's prompt (lines joined by "|")
# asks in a first line of at most 60 characters, details after it.
first_line_fits()
{
	local first=${1%%|*}
	[ "${#first}" -le 60 ] || ti_fail "first line over 60: $first"
	[ "$first" != "$1" ] || ti_fail "no details after the first line: $1"
}

ti_askpass_setup yes

ti_log "1. -c key, direct login to h1"
ti_start_agent
ti_expect_ok "ssh-add -c kc" ssh-add -c "$TI_DIR/kc"
ti_expect_ok "confirmed direct login" ti_ssh h1 -o IdentityFile=none true
asked "direct login with a -c key" 1
p=$(last_prompt)
ti_log "prompt: $p"
ti_assert_contains "$p" "Allow \"ssh\"" "process named"
ti_assert_contains "$p" "log in as \"$me\"@h1" "action"
ti_assert_contains "$p" "Destination: \"$me\"@h1 (verified host key)" \
    "destination"
first_line_fits "$p"
ti_assert_not_contains "$p" "through agent forwarding" "direct login"
ti_assert_contains "$p" "\"prompt-confirm-key\"" "key comment"
ti_assert_contains "$p" "$(ti_fp "$TI_DIR/kc.pub")" "key fingerprint"

ti_log "3. SSHSIG with the -c key names the namespace and ssh-keygen"
echo "sign me" >"$TI_DIR/msg"
ti_expect_ok "ssh-keygen -Y sign -n git" \
    ssh-keygen -Y sign -n git -f "$TI_DIR/pub/kc.pub" "$TI_DIR/msg"
asked "SSHSIG with a -c key" 2
p=$(last_prompt)
ti_log "prompt: $p"
ti_assert_contains "$p" "Allow \"ssh-keygen\"" "process named"
ti_assert_contains "$p" "sign for namespace \"git\"" "namespace"
ti_assert_contains "$p" "Namespace: \"git\"" "namespace in the details"
first_line_fits "$p"
ti_assert_contains "$p" "\"prompt-confirm-key\"" "key comment"
ti_stop_agent

ti_log "2. --confirm-forwarded, key added without -c"
: >"$TI_DIR/askpass.log"
ti_start_agent --confirm-forwarded
ti_expect_ok "ssh-add kf" ssh-add "$TI_DIR/kf"
ti_expect_ok "direct login" ti_ssh h1 -o IdentityFile=none true
asked "direct login under --confirm-forwarded" 0
ti_expect_ok "forwarded login h1 > h2" \
    ti_ssh h1 -o IdentityFile=none -A "$SSHC h2 true"
asked "login from h1 to h2 through the forwarded agent" 1
p=$(last_prompt)
ti_log "prompt: $p"
ti_assert_contains "$p" "Destination: h1 > \"$me\"@h2 (verified host keys)" \
    "both hops, in order"
first_line_fits "$p"
ti_assert_contains "$p" "through agent forwarding" "forwarding named"
ti_assert_contains "$p" "\"prompt-forward-key\"" "key comment"
ti_assert_contains "$p" "$(ti_fp "$TI_DIR/kf.pub")" "key fingerprint"

ti_askpass_answer no
ti_expect_fail "denied forwarded login h1 > h2" \
    ti_ssh h1 -o IdentityFile=none -A "$SSHC h2 true"
asked "denied forwarded login" 2
ti_expect_ok "direct login while denying" ti_ssh h2 -o IdentityFile=none true
asked "direct login while denying" 2

ti_agent_alive || ti_fail "agent died"
exit 0

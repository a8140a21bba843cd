#!/bin/bash
# policy-rules: tokagent's per-key policy file (tokagent-policy(5)) with real
# ssh-keygen -Y sign and raw sign requests: namespaces, login and other
# data, requesting programs and their callers, rate limits, confirm rules,
# default deny, token kinds; a bad file at start stops the agent with
# file:line; SIGHUP applies a good file and refuses a bad one, keeping the
# old policy.  tokagent-only.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/policy-lib.sh"
ti_tokagent_only "per-key policy"
ti_require_cmd ssh-keygen ssh-add python3

for k in git prog caller rate ival conf other fido deny; do
	ti_keygen ed25519 - "$TI_DIR/k_$k" "$k-key"
done
ti_keygen ed25519 - "$TI_DIR/k_free" "unnamed"
echo "signed under policy" >"$TI_DIR/msg"
mkdir -p "$TI_DIR/bin"
# A copy of ssh-keygen at another path, and a "caller" that forks it.
cp /usr/bin/ssh-keygen "$TI_DIR/bin/ssh-keygen"
cp "$(command -v timeout)" "$TI_DIR/bin/gitlike"

ti_log "1. a bad file stops the start, naming file and line"
policy_write "default allow
key comment=x
	namespaces git
	bogus-keyword yes"
out=$("$TEST_AGENT" -D -a "$TI_DIR/bad.sock" --policy "$TI_DIR/policy" \
    2>&1 </dev/null) && ti_fail "agent started with a bad policy"
ti_assert_contains "$out" "$TI_DIR/policy:4" "error names file:line"
ti_assert_contains "$out" "bogus-keyword" "error names the keyword"
[ -e "$TI_DIR/bad.sock" ] && ti_fail "a socket was left by the failed start"

ti_log "2. the policy in force"
policy_write "# every kind of rule
default allow
key comment=git-key
	namespaces git
	login no
	other-data no
key comment=prog-key
	programs /usr/bin/ssh-keygen
key comment=caller-key
	callers $TI_DIR/bin/gitlike
key comment=rate-key
	max-rate 2/1m
key comment=ival-key
	min-interval 1h
key comment=conf-key
	confirm unless-program /usr/bin/ssh-keygen
key comment=other-key type=ssh-ed25519 token=software
	namespaces none
key comment=fido-key token=fido
	deny
key comment=deny-key
	deny"
ti_askpass_setup yes
ti_start_agent --policy "$TI_DIR/policy"
for k in git prog caller rate ival conf other fido deny free; do
	ti_expect_ok "add $k" ssh-add -q "$TI_DIR/k_$k"
done

ti_log "3. namespaces, login, other data"
ti_expect_ok "git-key signs for git" sshsig "$TI_DIR/k_git.pub" git
ti_expect_fail "git-key refused for file" sshsig "$TI_DIR/k_git.pub" file
ti_assert_contains "$(cat "$TI_AGENT_LOG")" "$TI_DIR/policy:3" \
    "the refusal names the rule"
ti_assert_eq 5 "$(sign_raw "$TI_DIR/k_git.pub" \
    "$(userauth_hex "$TI_DIR/k_git.pub" root)")" "git-key: no logins"
ti_assert_eq 5 "$(sign_raw "$TI_DIR/k_git.pub" 0102030405)" \
    "git-key: no other data"
ti_assert_eq 14 "$(sign_raw "$TI_DIR/k_free.pub" 0102030405)" \
    "a key no rule names signs (default allow)"
ti_expect_fail "namespaces none: no SSHSIG at all" \
    sshsig "$TI_DIR/k_other.pub" git
ti_assert_eq 14 "$(sign_raw "$TI_DIR/k_other.pub" 0102030405)" \
    "namespaces none still signs other data"

ti_log "4. requesting programs and callers"
ti_expect_ok "prog-key from /usr/bin/ssh-keygen" \
    sshsig "$TI_DIR/k_prog.pub" file
rm -f "$TI_DIR/msg.sig"
ti_expect_fail "prog-key from a copy at another path" \
    "$TI_DIR/bin/ssh-keygen" -Y sign -n file -f "$TI_DIR/pub/k_prog.pub" \
    "$TI_DIR/msg"
ti_expect_fail "caller-key without the caller" \
    sshsig "$TI_DIR/k_caller.pub" file
rm -f "$TI_DIR/msg.sig"
ti_expect_ok "caller-key started by the caller" \
    "$TI_DIR/bin/gitlike" 20 ssh-keygen -Y sign -n file \
    -f "$TI_DIR/pub/k_caller.pub" "$TI_DIR/msg"

ti_log "5. rate limits"
ti_expect_ok "rate-key 1" sshsig "$TI_DIR/k_rate.pub" file
ti_expect_ok "rate-key 2" sshsig "$TI_DIR/k_rate.pub" file
ti_expect_fail "rate-key 3 within a minute" sshsig "$TI_DIR/k_rate.pub" file
ti_expect_ok "ival-key once" sshsig "$TI_DIR/k_ival.pub" file
ti_expect_fail "ival-key again within the hour" \
    sshsig "$TI_DIR/k_ival.pub" file

ti_log "6. confirm unless-program, deny, token kinds"
n0=$(ti_askpass_count)
ti_expect_ok "conf-key from ssh-keygen: no prompt" \
    sshsig "$TI_DIR/k_conf.pub" file
ti_assert_eq "$n0" "$(ti_askpass_count)" "no confirm for the listed program"
rm -f "$TI_DIR/msg.sig"
ti_expect_ok "conf-key from the copy: confirmed" \
    "$TI_DIR/bin/ssh-keygen" -Y sign -n file -f "$TI_DIR/pub/k_conf.pub" \
    "$TI_DIR/msg"
ti_assert_eq $((n0 + 1)) "$(ti_askpass_count)" "a confirm for another program"
ti_askpass_answer no
ti_expect_fail "conf-key from the copy, denied" \
    "$TI_DIR/bin/ssh-keygen" -Y sign -n file -f "$TI_DIR/pub/k_conf.pub" \
    "$TI_DIR/msg"
ti_askpass_answer yes
ti_expect_fail "deny-key" sshsig "$TI_DIR/k_deny.pub" file
ti_expect_ok "a token=fido rule does not name a software key" \
    sshsig "$TI_DIR/k_fido.pub" file
ti_assert_eq 10 "$(ti_agent_count)" "every key still listed"

ti_log "7. SIGHUP: a good file applies, a bad one is refused"
policy_write "default deny
key comment=git-key
	namespaces git,file"
policy_reload
ti_expect_ok "reloaded: git-key signs for file" \
    sshsig "$TI_DIR/k_git.pub" file
ti_expect_fail "reloaded: default deny" sshsig "$TI_DIR/k_free.pub" file
ti_expect_fail "reloaded: default deny for raw data too" \
    test 14 = "$(sign_raw "$TI_DIR/k_free.pub" 0102)"
policy_write "default allow
key comment=git-key
	max-rate lots"
policy_reload
ti_assert_contains "$(cat "$TI_AGENT_LOG")" "$TI_DIR/policy:3" \
    "the refused reload names file:line"
ti_expect_fail "old policy kept: default deny" \
    sshsig "$TI_DIR/k_free.pub" file
ti_expect_ok "old policy kept: git-key for file" \
    sshsig "$TI_DIR/k_git.pub" file
ti_agent_alive || ti_fail "agent died"
exit 0

#!/bin/bash
# policy-dest: policy rules about destinations on real ssh paths (private
# sshd instances on loopback, hops made by agent forwarding): "hosts" lets
# a key log in only to hosts named (via known_hosts) in its list and needs a
# verified session binding; "forwarding no" refuses a key through a
# forwarded agent while the direct login works; "confirm forwarded" asks
# only for forwarded use.  tokagent-only.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/policy-lib.sh"
ti_tokagent_only "per-key policy"
ti_require_cmd ssh ssh-add ssh-keygen python3

ti_keygen ed25519 - "$TI_DIR/kh" "hosts-key"
ti_keygen ed25519 - "$TI_DIR/kf" "noforward-key"
ti_keygen ed25519 - "$TI_DIR/kc" "confirmfwd-key"
ti_keygen ed25519 - "$TI_DIR/hop" "hop-key"
for h in h1 h2; do
	for k in kh kf kc hop; do
		ti_authorize $h "$TI_DIR/$k.pub"
	done
	ti_start_sshd $h
done
# The agent names hosts from its user's known_hosts: a private HOME.
mkdir -p -m 700 "$TI_DIR/home/.ssh"
cp "$TI_DIR/known_hosts" "$TI_DIR/home/.ssh/known_hosts"
HOME=$TI_DIR/home
export HOME

policy_write "key comment=hosts-key
	hosts h1
key comment=noforward-key
	forwarding no
key comment=confirmfwd-key
	confirm forwarded"
ti_askpass_setup yes
ti_start_agent --policy "$TI_DIR/policy"
SSHC="ssh -n -F $TI_DIR/ssh_config"

# login KEY HOST...: log in along the path with only KEY offered at the
# last hop (earlier hops use hop-key).
login()
{
	local key=$1 h1=$2 h2=${3:-}
	if [ -z "$h2" ]; then
		ti_ssh "$h1" -o IdentitiesOnly=yes -o "IdentityFile=$TI_DIR/$key.pub" true
	else
		ti_ssh "$h1" -o IdentitiesOnly=yes -o "IdentityFile=$TI_DIR/hop.pub" \
		    -A "$SSHC -o IdentitiesOnly=yes -o IdentityFile=$TI_DIR/$key.pub $h2 true"
	fi
}

for k in kh kf kc hop; do
	ti_expect_ok "add $k" ssh-add -q "$TI_DIR/$k"
done

ti_log "1. hosts h1: h1 yes, h2 no, no binding no"
ti_expect_ok "hosts-key logs in to h1" login kh h1
ti_expect_fail "hosts-key refused at h2" login kh h2
ti_assert_contains "$(cat "$TI_AGENT_LOG")" \
    "the destination is not in the key's hosts" "refusal reason logged"
ti_assert_eq 5 "$(sign_raw "$TI_DIR/kh.pub" \
    "$(userauth_hex "$TI_DIR/kh.pub" "$(id -un)")")" \
    "a login request with no session binding is refused"

ti_log "2. forwarding no"
ti_expect_ok "noforward-key direct to h2" login kf h2
ti_expect_fail "noforward-key through h1's forwarded agent" login kf h1 h2
ti_expect_ok "the hop key itself through forwarding" login hop h1 h2

ti_log "3. confirm forwarded"
n0=$(ti_askpass_count)
ti_expect_ok "confirmfwd-key direct" login kc h2
ti_assert_eq "$n0" "$(ti_askpass_count)" "no prompt for direct use"
ti_expect_ok "confirmfwd-key forwarded, confirmed" login kc h1 h2
ti_assert_eq $((n0 + 1)) "$(ti_askpass_count)" "one prompt when forwarded"
ti_askpass_answer no
ti_expect_fail "confirmfwd-key forwarded, denied" login kc h1 h2
ti_agent_alive || ti_fail "agent died"
exit 0

#!/bin/bash
# fido-autoimport: tokagent --import-resident-on-plug.  When a security key
# is plugged in (vfido started on a state holding resident keys), or is
# present when the agent starts, the agent asks its PIN through askpass,
# naming the token, and imports its resident keys, which then list and
# sign.  A wrong PIN is asked again, saying so; a cancelled prompt imports
# nothing and is not asked again until the token is plugged in again; a
# token pulled while its prompt is up takes the prompt away.  Keys already
# loaded are not duplicated; a locked agent asks nothing; two tokens get a
# prompt each; `tokagent --import-resident=DEVICE` imports from one token.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup
ti_require_cmd flock

PIN=1234
DEV=unix:$TI_DIR/tok.sock

# The PINs the askpass gives, one per prompt, from $TI_DIR/pins ("cancel":
# the user closes the prompt; "wait": it stays up for a minute).
cat >"$TI_DIR/pinseq" <<EOF
#!/bin/bash
# touch notices (SSH_ASKPASS_PROMPT=none) take no PIN
[ "\${SSH_ASKPASS_PROMPT:-}" = none ] && exit 0
# Taking an answer is not cut short by the agent's TERM (a pull): else
# the next prompt could get the same answer again.
trap 'killed=1' TERM
killed=
exec 9>'$TI_DIR/pins.lock'
flock 9
a=\$(head -n 1 '$TI_DIR/pins')
sed -i 1d '$TI_DIR/pins'
flock -u 9
trap - TERM
[ -n "\$killed" ] && exit 1
case \$a in
wait)	sleep 60; exit 1 ;;
cancel|'') exit 1 ;;
esac
echo "\$a"
EOF
chmod +x "$TI_DIR/pinseq"

# pins PIN...: what the next prompts answer.
pins()
{
	printf '%s\n' "$@" >"$TI_DIR/pins"
}

# prompts: how many PIN prompts the agent has put up so far.
prompts()
{
	grep -c "to import its resident SSH keys" "$TI_DIR/askpass.log" \
	    2>/dev/null || true
}

# wait_prompts N [S=10]: until N prompts were put up.
wait_prompts()
{
	local n=$((${2:-10} * 10))
	while [ $n -gt 0 ]; do
		[ "$(prompts)" -ge "$1" ] && return 0
		sleep 0.1
		n=$((n - 1))
	done
	ti_fail "$(prompts) PIN prompts, expected $1: $(cat "$TI_DIR/askpass.log")"
}

# wait_keys N [S=10]: until the agent lists N keys.
wait_keys()
{
	local n=$((${2:-10} * 10))
	while [ $n -gt 0 ]; do
		[ "$(ti_agent_count)" = "$1" ] && return 0
		sleep 0.1
		n=$((n - 1))
	done
	ti_fail "agent lists $(ti_agent_count) keys, expected $1"
}

# fresh_agent: a new agent with the option, seeing tok (present or not).
fresh_agent()
{
	ti_stop_agent
	: >"$TI_DIR/askpass.log"
	fido_start_agent tok -- --import-resident-on-plug
}

# pull / plug: stop tok, start it again on the same state.
pull()
{
	ti_kill "$SK_VFIDO_PID_tok"
}
plug()
{
	sk_start_vfido tok --pin "$PIN"
}

# check_signs: both resident keys listed, and each signs on the token.
check_signs()
{
	local k p
	for k in r1 r2; do
		ti_assert_contains "$(ssh-add -L)" \
		    "$(cut -d' ' -f2 "$TI_DIR/$k.pub")" "resident key $k listed"
		p=$(fido_pub "$TI_DIR/$k")
		ti_expect_ok "-Y sign with $k" fido_sign "$p"
		ti_expect_ok "-Y verify $k" fido_verify "$p"
	done
}

plug
sk_use tok
ti_askpass_setup "pass:$PIN"
ti_expect_ok "enroll resident ed25519-sk" sk_keygen "$TI_DIR/r1" ed25519-sk \
    -O resident -O application=ssh:auto-one </dev/null
ti_expect_ok "enroll resident ecdsa-sk" sk_keygen "$TI_DIR/r2" ecdsa-sk \
    -O resident -O application=ssh:auto-two </dev/null
ti_askpass_answer "$TI_DIR/pinseq"

ti_log "a token present when the agent starts is imported"
pins "$PIN"
fresh_agent
wait_prompts 1
wait_keys 2
ti_assert_contains "$(cat "$TI_DIR/askpass.log")" \
    "Enter PIN for your security key|to import its resident SSH keys (it was plugged in)|Token: $DEV|" \
    "the prompt says what for and names the token"
fido_log_wait "imported 2 resident keys" 5 ||
    ti_fail "the agent log does not say how many keys were imported"
check_signs

ti_log "a key already loaded is not imported twice"
pull
fido_log_wait "security key .* removed" 10 ||
    ti_fail "the pull was not noticed"
pins "$PIN"
plug
wait_prompts 2
fido_log_wait "imported 0 resident keys.*2 already loaded" 10 ||
    ti_fail "replug: keys not recognised as loaded"
ti_assert_eq 2 "$(ti_agent_count)" "still two keys after the replug"

ti_log "a token plugged in after the agent started is imported"
pull
fresh_agent
sleep 1
ti_assert_eq 0 "$(prompts)" "no prompt without a token"
pins "$PIN"
t0=$(fido_now_ms)
plug
wait_keys 2
ti_log "imported $(($(fido_now_ms) - t0)) ms after the plug"
ti_assert_eq 1 "$(prompts)" "one prompt"
check_signs

ti_log "a wrong PIN is asked again, saying so"
pull
fresh_agent
pins 9999 "$PIN"
plug
wait_prompts 2
wait_keys 2
ti_assert_contains "$(sed -n 2p "$TI_DIR/askpass.log")" "Wrong PIN" \
    "the second prompt says the PIN was wrong"
ti_assert_contains "$(sed -n 2p "$TI_DIR/askpass.log")" "tries left" \
    "the second prompt says how many tries are left"
ti_assert_eq 2 "$(prompts)" "two prompts"
check_signs

ti_log "three wrong PINs: no more prompts"
pull
fresh_agent
pins 9999 9998 9997 "$PIN"
plug
wait_prompts 3
fido_log_wait \
    "\\(importing resident keys from .* failed\\|PIN of .* is blocked\\)" 10 ||
    ti_fail "no failure logged after three wrong PINs"
sleep 1
ti_assert_eq 3 "$(prompts)" "no fourth prompt"
if grep -q "PIN of .* is blocked" "$TI_AGENT_LOG"; then
	# the third wrong PIN in a row blocks it until a power cycle
	ti_assert_contains "$(cat "$TI_DIR/askpass.log")" "blocked its PIN" \
	    "the user is told the PIN is blocked"
fi
ti_assert_eq 0 "$(ti_agent_count)" "nothing imported"
# vfido counts consecutive failures per power cycle: this restart resets it

ti_log "the prompt cancelled: nothing imported, no prompt until re-plug"
pull
fresh_agent
pins cancel "$PIN"
plug
wait_prompts 1
fido_log_wait "not imported: the PIN prompt was cancelled" 10 ||
    ti_fail "the cancel was not logged"
sleep 2
ti_assert_eq 1 "$(prompts)" "no second prompt"
ti_assert_eq 0 "$(ti_agent_count)" "nothing imported"
pull
plug
wait_prompts 2
wait_keys 2

ti_log "pulling the token takes its prompt away"
pull
fresh_agent
pins wait "$PIN"
plug
wait_prompts 1
pull
fido_log_wait "removed: its resident keys were not imported" 10 ||
    ti_fail "the pull did not cancel the import"
sleep 1
ti_assert_eq 0 "$(ti_agent_count)" "nothing imported"
[ -z "$(pgrep -f "$TI_DIR/pinseq" || true)" ] ||
    ti_fail "the prompt is still up after the pull"
plug
wait_prompts 2
wait_keys 2

ti_log "a locked agent imports nothing"
pins lockpw lockpw
ti_expect_ok "ssh-add -x" ssh-add -x
pull
plug
fido_log_wait "agent locked: not importing" 10 ||
    ti_fail "a plug while locked was not logged"
ti_assert_eq 2 "$(prompts)" "no prompt while locked"
pins lockpw
ti_expect_ok "ssh-add -X" ssh-add -X

ti_log "tokagent --import-resident=DEVICE: one token"
ti_expect_ok "ssh-add -D" ssh-add -D
pins "$PIN"
out=$("$TEST_AGENT" --import-resident="$DEV" 2>&1) ||
    { echo "$out" >&2; ti_fail "tokagent --import-resident=$DEV"; }
ti_assert_contains "$out" "Imported 2 resident keys" "import from $DEV"
ti_assert_contains "$(tail -n 1 "$TI_DIR/askpass.log")" "$DEV" \
    "the prompt names the device"
pins "$PIN"
out=$("$TEST_AGENT" --import-resident="unix:$TI_DIR/none.sock" 2>&1) &&
    ti_fail "import from a token that is not there succeeded: $out"
pins "$PIN"
out=$("$TEST_AGENT" --import-resident 2>&1) ||
    { echo "$out" >&2; ti_fail "tokagent --import-resident"; }
ti_assert_contains "$out" "Imported 0 resident keys (2 already loaded)" \
    "a second import duplicates nothing"
ti_assert_eq 2 "$(ti_agent_count)" "two keys"
ti_agent_alive || ti_fail "agent died"

ti_log "two tokens at once: one prompt each, both imported"
sk_start_vfido tok2 --pin 5678
sk_use tok2
ti_askpass_answer pass:5678
ti_expect_ok "enroll resident on tok2" sk_keygen "$TI_DIR/r3" ed25519-sk \
    -O resident -O application=ssh:auto-three </dev/null
ti_stop_agent
: >"$TI_DIR/askpass.log"
# each prompt names its token: answer by token, whatever the order
cat >"$TI_DIR/bytoken" <<EOF
#!/bin/bash
[ "\${SSH_ASKPASS_PROMPT:-}" = none ] && exit 0
case \$1 in
*tok2.sock*) echo 5678 ;;
*) echo $PIN ;;
esac
EOF
chmod +x "$TI_DIR/bytoken"
ti_askpass_answer "$TI_DIR/bytoken"
fido_start_agent tok tok2 -- --import-resident-on-plug
wait_keys 3
ti_assert_eq 2 "$(prompts)" "one prompt per token"
ti_assert_contains "$(cat "$TI_DIR/askpass.log")" \
    "(it was plugged in)|Token: unix:$TI_DIR/tok2.sock|" "a prompt for tok2"
ti_assert_contains "$(cat "$TI_DIR/askpass.log")" \
    "(it was plugged in)|Token: unix:$TI_DIR/tok.sock|" "a prompt for tok"
ti_expect_ok "-Y sign with r3" fido_sign "$(fido_pub "$TI_DIR/r3")"
ti_agent_alive || ti_fail "agent died"
exit 0

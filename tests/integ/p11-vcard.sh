#!/bin/bash
# tests/integ/p11-vcard.sh: the virtual PIV card (tests/vcard) through a
# private pcscd and OpenSC's opensc-pkcs11.so, with OpenSSH's tools against
# the agent: `ssh-add -s` with a wrong PIN adds nothing (not even after a
# replug), with the card's PIN it lists the 9a (P-256) and 9c
# (RSA-2048) keys and both log in to a private sshd, next to a SoftHSM2
# token (two providers at once).  Then, tokagent only: the card pulled ->
# its keys are not listed and a signature fails fast while SoftHSM's keys
# keep working; the card put back -> its keys are listed again by
# themselves and the next signature asks the PIN through askpass and
# works; pcscd restarted -> the keys come back.  The 9c key wants the PIN
# for each signature: it is asked through askpass each time.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/p11/softhsm.sh"
. "$TI_SRC/tests/p11/pcscd.sh"

ti_require_cmd ssh ssh-add ssh-keygen opensc-tool pkcs11-tool
p11_softhsm_available || ti_skip "SoftHSM2 / pkcs11-tool not installed"
OPENSC=$PCSCD_OPENSC_MODULE
[ -f "$OPENSC" ] || ti_skip "no OpenSC module at $OPENSC"
CARD_PIN=123456
HSM_PIN=8642
# OpenSC keeps a file cache under $HOME: keep it private.
export HOME=$TI_DIR

p11_softhsm_init "$TI_DIR" || ti_fail "softhsm init"
p11_softhsm_token hsm "$HSM_PIN" || ti_fail "token init"
p11_softhsm_keygen hsm "$HSM_PIN" 01 EC:secp384r1 p384 || ti_fail "keygen"

ti_pcscd_start
STATE=$TI_DIR/card.state
# 9c wants the PIN right before each use (SP 800-73; OpenSC marks the key
# CKA_ALWAYS_AUTHENTICATE): tokagent asks it through askpass for each
# signature, OpenSSH's agent cannot sign with it.
vcard_start "$STATE" || ti_fail "vcard did not start"

# wait_count N [TENTHS=50]: until the agent lists N keys.
wait_count()
{
	local _
	for _ in $(seq "${2:-50}"); do
		[ "$(ti_agent_count)" = "$1" ] && return 0
		sleep 0.1
	done
	ti_fail "agent lists $(ti_agent_count) keys, expected $1"
}

# ms: a monotonic-enough clock in milliseconds.
ms()
{
	echo $(($(date +%s%N) / 1000000))
}
# Time limits stretch under a slow agent wrapper (valgrind).
SLOW=1
[ -n "${TI_AGENT_WRAPPER:-}" ] && SLOW=10

# The agent (and its helpers) must see this test's pcscd: start it after
# pcscd_start, which exported PCSCLITE_CSOCK_NAME.
ti_askpass_setup "pass:$CARD_PIN"
# The card through the module only: not also natively (piv-native.sh).
if ti_is_openssh_agent; then
	ti_start_agent
else
	ti_start_agent --no-piv
fi

if ! ti_is_openssh_agent; then
	# A wrong PIN: the add fails, and card events later do not bring
	# the keys of the provider in anyway.
	ti_askpass_answer "pass:000000"
	ti_expect_fail "ssh-add -s with a wrong PIN" ssh-add -s "$OPENSC"
	ti_askpass_answer "pass:$CARD_PIN"
	vcard_stop || ti_fail "vcard_stop (wrong PIN)"
	vcard_start "$STATE" || ti_fail "vcard restart (wrong PIN)"
	sleep 2.5
	ti_assert_eq 0 "$(ti_agent_count)" "keys after a failed add and a replug"
fi
ti_expect_ok "ssh-add -s opensc" ssh-add -s "$OPENSC"
wait_count 2
ssh-add -L >"$TI_DIR/card-keys.txt"
grep '^ecdsa-sha2-nistp256 ' "$TI_DIR/card-keys.txt" >"$TI_DIR/card-ec.pub" ||
    ti_fail "no P-256 key (9a): $(cat "$TI_DIR/card-keys.txt")"
grep '^ssh-rsa ' "$TI_DIR/card-keys.txt" >"$TI_DIR/card-rsa.pub" ||
    ti_fail "no RSA key (9c): $(cat "$TI_DIR/card-keys.txt")"
ti_log "card keys: $(cut -d' ' -f1,3- "$TI_DIR/card-keys.txt" | tr '\n' ';')"
# The same keys as OpenSSH's own PKCS#11 code finds.
ssh-keygen -D "$OPENSC" 2>/dev/null | cut -d' ' -f1,2 | sort \
    >"$TI_DIR/openssh-card.txt"
cut -d' ' -f1,2 "$TI_DIR/card-keys.txt" | sort >"$TI_DIR/agent-card.txt"
cmp -s "$TI_DIR/openssh-card.txt" "$TI_DIR/agent-card.txt" ||
    ti_fail "card keys differ from ssh-keygen -D"

ti_askpass_answer "pass:$HSM_PIN"
ti_expect_ok "ssh-add -s softhsm" ssh-add -s "$P11_SOFTHSM_MODULE"
wait_count 3
ssh-add -L | grep '^ecdsa-sha2-nistp384 ' >"$TI_DIR/hsm.pub" ||
    ti_fail "SoftHSM key not listed"

ti_askpass_answer "pass:$CARD_PIN"

ti_start_sshd card
for k in card-ec card-rsa hsm; do
	ti_authorize card "$TI_DIR/$k.pub"
done
# login KEY [TAG]: log in with one key; prints TAG on success.
login()
{
	ti_ssh card -o IdentitiesOnly=yes -i "$TI_DIR/$1.pub" \
	    echo "${2:-login-ok}" 2>>"$TI_DIR/ssh.log"
}
for k in card-ec hsm; do
	ti_assert_eq "ok-$k" "$(login "$k" "ok-$k")" "login with $k"
done
if ti_is_openssh_agent; then
	ti_log "ok (no 9c, card events or re-login with OpenSSH's agent)"
	exit 0
fi
# 9c: the PIN is asked for each signature, through askpass.
for alg in rsa-sha2-256 rsa-sha2-512; do
	asked=$(ti_askpass_count)
	out=$(ti_ssh card -o IdentitiesOnly=yes -i "$TI_DIR/card-rsa.pub" \
	    -o PubkeyAcceptedAlgorithms="$alg" echo "ok-$alg" \
	    2>>"$TI_DIR/ssh.log") || ti_fail "login with the card's RSA, $alg"
	ti_assert_eq "ok-$alg" "$out" "login with the card's RSA, $alg"
	ti_assert_eq $((asked + 1)) "$(ti_askpass_count)" "PIN prompts for 9c"
done
ti_assert_contains "$(tail -n 1 "$TI_DIR/askpass.log")" "SIGN pubkey" \
    "the 9c PIN prompt names the key"

# --- card pulled: its keys go (the PC/SC event, ~2 s at most), a
# signature fails fast, the SoftHSM key works.
vcard_stop || ti_fail "vcard_stop"
wait_count 1 25
t0=$(ms)
ti_expect_fail "sign with the card out" ssh-add -T "$TI_DIR/card-ec.pub"
t1=$(ms)
[ $((t1 - t0)) -lt $((2000 * SLOW)) ] ||
    ti_fail "a signature with the card out took $((t1 - t0)) ms"
ti_log "sign with the card out failed in $((t1 - t0)) ms"
ti_expect_ok "SoftHSM key with the card out" ssh-add -T "$TI_DIR/hsm.pub"
ti_expect_fail "login with the card out" login card-ec

# --- card back: its keys come back without ssh-add; the next signature
# asks for the card's PIN through askpass.
ti_askpass_answer "pass:$CARD_PIN"
asked=$(ti_askpass_count)
vcard_start "$STATE" || ti_fail "vcard restart"
wait_count 3 50
ti_assert_eq ok-back "$(login card-ec ok-back)" "login after reinsertion"
[ "$(ti_askpass_count)" -gt "$asked" ] ||
    ti_fail "no PIN asked for after the reinsertion"
prompt=$(tail -n 1 "$TI_DIR/askpass.log")
ti_log "PIN prompt: $prompt"
ti_assert_contains "$prompt" "PIN" "PIN prompt"
ti_assert_eq ok-back-rsa "$(login card-rsa ok-back-rsa)" \
    "RSA login after reinsertion"
ti_expect_ok "SoftHSM key after the reinsertion" ssh-add -T "$TI_DIR/hsm.pub"

# --- a wrong PIN after a reinsertion: that signature fails, the keys stay.
vcard_stop || ti_fail "vcard_stop (2)"
wait_count 1 25
ti_askpass_answer "pass:000000"
vcard_start "$STATE" || ti_fail "vcard restart (2)"
wait_count 3 50
ti_expect_fail "sign with a wrong PIN" ssh-add -T "$TI_DIR/card-ec.pub"
ti_agent_alive || ti_fail "agent died on a wrong PIN"
ti_askpass_answer "pass:$CARD_PIN"
ti_expect_ok "sign with the right PIN" ssh-add -T "$TI_DIR/card-ec.pub"

# --- pcscd restarted (card in again afterwards): keys come back.
pcscd_stop
wait_count 1 50
pcscd_start "$TI_DIR/pcscd" || ti_fail "pcscd restart"
vcard_start "$STATE" || ti_fail "vcard after pcscd restart"
wait_count 3 100
ti_assert_eq ok-pcscd "$(login card-ec ok-pcscd)" "login after pcscd restart"
ti_expect_ok "SoftHSM key after pcscd restart" ssh-add -T "$TI_DIR/hsm.pub"

ti_expect_ok "ssh-add -e opensc" ssh-add -e "$OPENSC"
wait_count 1
ti_log "ok"
exit 0

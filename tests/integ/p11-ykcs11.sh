#!/bin/bash
# tests/integ/p11-ykcs11.sh: the agent with Yubico's PKCS#11 module
# (Debian's ykcs11) on the vcard YubiKey through a private pcscd:
# `ssh-add -s libykcs11.so` lists the 9a (P-256) and 9c (RSA-2048) keys,
# the same as `ssh-keygen -D`, and the 9a key logs in to a private sshd;
# a 9d key with touch policy "always" logs in once the card is touched
# and fails when the touch is refused, the agent answering lists while
# the card waits for the touch.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/p11/pcscd.sh"

ti_require_cmd ssh ssh-add ssh-keygen opensc-tool yubico-piv-tool openssl
YKCS11=${YKCS11_MODULE:-/usr/lib/x86_64-linux-gnu/libykcs11.so}
[ -r "$YKCS11" ] || ti_skip "no ykcs11 module at $YKCS11"
CARD_PIN=123456
export HOME=$TI_DIR
VCARD=$TI_BUILD/tests/vcard/vcard
export PCSCD_READER_NAME="Yubico YubiKey OTP+FIDO+CCID"

ti_pcscd_start
CTL=$TI_DIR/card.ctl
vcard_start "$TI_DIR/card.state" --atr yubikey --control "$CTL" \
    --touch-timeout 3000 || ti_fail "vcard did not start"
ypt() {
	yubico-piv-tool -r "$PCSCD_READER_NAME" "$@" >/dev/null 2>&1
}

# 9d: P-256, touch always, with a certificate (ykcs11 lists keys with one).
ypt -a generate -s 9d -A ECCP256 --touch-policy=always \
    -o "$TI_DIR/pub9d.pem" || ti_fail "generate 9d"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$TI_DIR/ca.key" -subj /CN=ca -out "$TI_DIR/ca.pem" -days 2 \
    2>/dev/null || ti_fail "CA"
openssl x509 -new -subj "/CN=touch 9d" -CA "$TI_DIR/ca.pem" \
    -CAkey "$TI_DIR/ca.key" -force_pubkey "$TI_DIR/pub9d.pem" \
    -out "$TI_DIR/cert9d.pem" -days 2 2>/dev/null || ti_fail "cert 9d"
ypt -a import-certificate -s 9d -i "$TI_DIR/cert9d.pem" ||
    ti_fail "import certificate 9d"
ssh-keygen -i -m PKCS8 -f "$TI_DIR/pub9d.pem" > "$TI_DIR/touch.pub" ||
    ti_fail "9d public key"

ti_askpass_setup "pass:$CARD_PIN"
# The card through the module only: not also natively (piv-native.sh).
if ti_is_openssh_agent; then
	ti_start_agent
else
	ti_start_agent --no-piv
fi
ti_expect_ok "ssh-add -s ykcs11" ssh-add -s "$YKCS11"
ssh-add -L > "$TI_DIR/keys.txt"
grep '^ecdsa-sha2-nistp256 ' "$TI_DIR/keys.txt" | grep -v "$(cut -d' ' -f2 "$TI_DIR/touch.pub")" |
    grep -iv attestation | head -1 > "$TI_DIR/ec.pub"
[ -s "$TI_DIR/ec.pub" ] || ti_fail "no P-256 key: $(cat "$TI_DIR/keys.txt")"
grep -q '^ssh-rsa ' "$TI_DIR/keys.txt" || ti_fail "no RSA key (9c)"
grep -qF "$(cut -d' ' -f2 "$TI_DIR/touch.pub")" "$TI_DIR/keys.txt" ||
    ti_fail "no 9d key"
ssh-keygen -D "$YKCS11" 2>/dev/null | cut -d' ' -f1,2 | sort \
    > "$TI_DIR/openssh.txt"
cut -d' ' -f1,2 "$TI_DIR/keys.txt" | sort > "$TI_DIR/agent.txt"
cmp -s "$TI_DIR/openssh.txt" "$TI_DIR/agent.txt" ||
    ti_fail "agent keys differ from ssh-keygen -D: $(diff "$TI_DIR/openssh.txt" "$TI_DIR/agent.txt")"

ti_start_sshd yk
ti_authorize yk "$TI_DIR/ec.pub"
ti_authorize yk "$TI_DIR/touch.pub"
login() {
	ti_ssh yk -o IdentitiesOnly=yes -i "$TI_DIR/$1" echo "$2" \
	    2>>"$TI_DIR/ssh.log"
}
ti_assert_eq ok-9a "$(login ec.pub ok-9a)" "login with 9a"

if ti_is_openssh_agent; then
	ti_log "ok (no touch checks with OpenSSH's agent)"
	exit 0
fi
# The touch: manual, given from the control socket while the agent
# keeps answering.
"$VCARD" --ctl "$CTL" "touch manual" log >/dev/null || ti_fail "ctl"
login touch.pub ok-9d > "$TI_DIR/touch.out" &
lpid=$!
for _ in $(seq 1 100); do
	[ "$("$VCARD" --ctl "$CTL" pending)" = "yes 9d" ] && break
	sleep 0.1
done
[ "$("$VCARD" --ctl "$CTL" pending)" = "yes 9d" ] || ti_fail "no touch pending"
ti_expect_ok "list during the touch wait" ssh-add -l
"$VCARD" --ctl "$CTL" touch >/dev/null
wait $lpid
ti_assert_eq ok-9d "$(cat "$TI_DIR/touch.out")" "login with 9d after the touch"
"$VCARD" --ctl "$CTL" "touch deny" >/dev/null
ti_expect_fail "login with 9d, touch refused" login touch.pub no
ti_agent_alive || ti_fail "agent died"
ti_assert_eq ok-9a2 "$(login ec.pub ok-9a2)" "9a after the refused touch"
ti_log "ok"
exit 0

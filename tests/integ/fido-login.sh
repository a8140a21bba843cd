#!/bin/bash
# fido-login: FIDO keys enrolled on vfido by ssh-keygen, added to tokagent
# with plain ssh-add and signed by its sk helper: ssh logs in to a private
# sshd with ed25519-sk and ecdsa-sk keys (plain, resident, verify-required
# with the PIN from askpass, no-touch-required) and with an sk certificate
# issued by a user CA; ssh-keygen -Y sign / -Y verify.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

sk_start_vfido tok --pin 1234
sk_use tok
ti_askpass_setup pass:1234

ti_log "enroll keys on the token"
ti_expect_ok "enroll ed25519-sk" sk_keygen "$TI_DIR/k_ed" ed25519-sk
ti_expect_ok "enroll ecdsa-sk" sk_keygen "$TI_DIR/k_ec" ecdsa-sk
ti_expect_ok "enroll resident ed25519-sk" sk_keygen "$TI_DIR/k_res" \
    ed25519-sk -O resident -O application=ssh:fido-login
ti_expect_ok "enroll verify-required ecdsa-sk" sk_keygen "$TI_DIR/k_uv" \
    ecdsa-sk -O verify-required
ti_expect_ok "enroll no-touch-required ed25519-sk" sk_keygen "$TI_DIR/k_nt" \
    ed25519-sk -O no-touch-required
ti_expect_ok "enroll ed25519-sk for a certificate" sk_keygen "$TI_DIR/k_cert" \
    ed25519-sk

ti_make_user_ca srv
ti_certify "$TI_DIR/sshd-srv/user_ca" "$TI_DIR/k_cert.pub"
for k in k_ed k_ec k_res k_uv; do
	ti_authorize srv "$TI_DIR/$k.pub"
done
ti_authorize srv "$TI_DIR/k_nt.pub" no-touch-required
ti_start_sshd srv

fido_start_agent tok
: >"$TI_DIR/askpass.log"
for k in k_ed k_ec k_res k_uv k_nt k_cert; do
	ti_expect_ok "ssh-add $k" ssh-add "$TI_DIR/$k"
	fido_pub "$TI_DIR/$k" >/dev/null
done
ti_assert_eq 7 "$(ti_agent_count)" "6 keys + 1 certificate listed"
ti_assert_contains "$(ssh-add -l)" "(ED25519-SK)" "ed25519-sk listed"
ti_assert_contains "$(ssh-add -l)" "(ECDSA-SK)" "ecdsa-sk listed"
ti_assert_contains "$(ssh-add -L)" "sk-ssh-ed25519-cert-v01@openssh.com" \
    "certificate listed"
ti_assert_eq 0 "$(ti_askpass_count)" "adding asked nothing"
sk_ctl tok log >/dev/null

# fido_login KEY [SSH_OPTIONS...]: log in with the agent key whose public
# half is $TI_DIR/pub/KEY.pub (no private key file anywhere ssh looks).
fido_login()
{
	local k=$1 out
	shift
	out=$(ti_ssh srv -o IdentitiesOnly=yes -i "$TI_DIR/pub/$k.pub" "$@" \
	    echo "in-$k" 2>"$TI_DIR/ssh-$k.err") ||
	    { cat "$TI_DIR/ssh-$k.err" >&2; ti_fail "ssh login with $k"; }
	ti_assert_eq "in-$k" "$out" "ssh with $k"
}

# A touch that takes a moment, as a person's does: the notice shows.
sk_ctl tok "touch delay=600" >/dev/null
for k in k_ed k_ec k_res; do
	ti_log "login with $k"
	fido_login "$k"
	ti_assert_contains "$(sk_ctl tok log)" "getAssertion up=1 uv=0" \
	    "$k signed on the token with a touch"
done
sk_ctl tok "touch approve" >/dev/null
ti_assert_not_contains "$(cat "$TI_DIR/askpass.log")" "Enter PIN" \
    "no PIN asked for keys that do not need one"
ti_assert_contains "$(cat "$TI_DIR/askpass.log")" "none	Touch your security key" \
    "touch notifications shown"

ti_log "login with a verify-required key: PIN through askpass"
fido_login k_uv
ti_assert_contains "$(sk_ctl tok log)" "getAssertion up=1 uv=1" \
    "verify-required login was user-verified"
ti_assert_contains "$(cat "$TI_DIR/askpass.log")" \
    "Enter PIN for your security key|to allow \"ssh\" to log in as" \
    "agent asked for the PIN"
ti_assert_contains "$(grep 'Enter PIN' "$TI_DIR/askpass.log")" \
    "$(ti_fp "$TI_DIR/k_uv.pub")" "PIN prompt names the key"

ti_log "login with a no-touch-required key"
fido_login k_nt
log=$(sk_ctl tok log)
ti_assert_contains "$log" "getAssertion up=0" "signed without a touch"
ti_assert_not_contains "$log" "up=1" "no touch requested"

ti_log "login with an sk certificate"
fido_login k_cert -o CertificateFile="$TI_DIR/pub/k_cert-cert.pub"
grep -q "Accepted certificate ID \"ti-cert-k_cert\"" "$TI_DIR/sshd-srv/log" ||
    ti_fail "sshd did not accept the certificate"
ti_assert_contains "$(sk_ctl tok log)" "getAssertion up=1" \
    "certificate login signed on the token"

ti_log "ssh-keygen -Y sign / -Y verify"
for k in k_ed k_ec k_uv; do
	ti_expect_ok "-Y sign with $k" fido_sign "$TI_DIR/pub/$k.pub"
	ti_expect_ok "-Y verify $k" fido_verify "$TI_DIR/pub/$k.pub"
	ti_expect_fail "-Y verify $k, other namespace" \
	    fido_verify "$TI_DIR/pub/$k.pub" git
done
ti_assert_contains "$(sk_ctl tok log)" "getAssertion up=1 uv=1" \
    "SSHSIG with the verify-required key was user-verified"

ti_log "a key that is not in the agent does not sign"
ti_expect_ok "ssh-add -d k_ed" ssh-add -d "$TI_DIR/pub/k_ed.pub"
ti_expect_fail "-Y sign after ssh-add -d" fido_sign "$TI_DIR/pub/k_ed.pub"
ti_agent_alive || ti_fail "agent died"
exit 0

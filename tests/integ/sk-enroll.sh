#!/bin/bash
# ssh-keygen enrolls ed25519-sk and ecdsa-sk keys on vfido through
# tokagent-sk.so (touch, no-touch-required, application=), and signs and
# verifies with them (ssh-keygen -Y), all through the middleware.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/sk-lib.sh"
sk_setup

sk_start_vfido tok
sk_use tok

for type in ed25519-sk ecdsa-sk; do
	ti_log "enroll $type"
	ti_expect_ok "enroll $type" sk_keygen "$TI_DIR/k-$type" "$type"
	case $type in
	ed25519-sk) want=sk-ssh-ed25519@openssh.com ;;
	ecdsa-sk) want=sk-ecdsa-sha2-nistp256@openssh.com ;;
	esac
	ti_assert_eq "$want" "$(cut -d' ' -f1 "$TI_DIR/k-$type.pub")" \
	    "$type public key type"
	ti_expect_ok "sign+verify $type" sk_sign_verify "$TI_DIR/k-$type"
done
log=$(sk_ctl tok log)
ti_assert_contains "$log" "makeCredential" "vfido saw the enrollment"
ti_assert_contains "$log" "getAssertion up=1" "signing asked for a touch"

ti_log "no-touch-required"
ti_expect_ok "enroll no-touch" sk_keygen "$TI_DIR/k-nt" ed25519-sk \
    -O no-touch-required
sk_ctl tok log >/dev/null
sk_ctl tok "touch deny" >/dev/null
ti_expect_ok "sign no-touch key with touches denied" \
    sk_sign_verify "$TI_DIR/k-nt"
log=$(sk_ctl tok log)
ti_assert_contains "$log" "getAssertion up=0" "no-touch key signs without up"
ti_assert_not_contains "$log" "up=1" "no touch asked"
sk_ctl tok "touch approve" >/dev/null

ti_log "application=ssh:tokagent-test"
ti_expect_ok "enroll with application" sk_keygen "$TI_DIR/k-app" ecdsa-sk \
    -O application=ssh:tokagent-test
ti_expect_ok "sign+verify app key" sk_sign_verify "$TI_DIR/k-app"

ti_log "a key from another token is not found"
sk_start_vfido other
sk_use other
ti_expect_fail "sign on a token without the key" \
    sk_sign_verify "$TI_DIR/k-ed25519-sk"
exit 0

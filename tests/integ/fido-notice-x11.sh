#!/bin/bash
# fido-notice-x11: X11's ssh-askpass (Debian's ssh-askpass, reached through
# the /usr/bin/ssh-askpass alternative) knows no SSH_ASKPASS_PROMPT and
# would show a touch notice as a passphrase dialog: when the askpass
# program resolves to x11-ssh-askpass, touch notices are not sent to it,
# while a -c key's confirmation still is.  (Here the recorder askpass is
# reached through a link named x11-ssh-askpass.)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup

sk_start_vfido tok
sk_use tok
ti_askpass_setup yes
ti_expect_ok "enroll" sk_keygen "$TI_DIR/k" ed25519-sk
mkdir -p "$TI_DIR/x11"
ln -s "$TI_DIR/askpass" "$TI_DIR/x11/x11-ssh-askpass"
ln -s "$TI_DIR/x11/x11-ssh-askpass" "$TI_DIR/x11/ssh-askpass"
SSH_ASKPASS=$TI_DIR/x11/ssh-askpass
fido_start_agent tok -- --no-desktop-notify
ti_expect_ok "ssh-add -c" ssh-add -c "$TI_DIR/k"
pub=$(fido_pub "$TI_DIR/k")
: >"$TI_DIR/askpass.log"
sk_ctl tok "touch delay=1000" >/dev/null
ti_expect_ok "-Y sign, confirmed, touched" fido_sign "$pub"
ti_assert_eq 1 "$(grep -c '^confirm	' "$TI_DIR/askpass.log")" \
    "the confirmation went to the askpass"
ti_assert_eq 0 "$(grep -c '^none	' "$TI_DIR/askpass.log")" \
    "no touch notice for X11's ssh-askpass"
fido_log_wait "can not show a notice without a passphrase field" 5 ||
    ti_fail "the agent did not say why there is no notice"
ti_agent_alive || ti_fail "agent died"
exit 0

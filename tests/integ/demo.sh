#!/bin/bash
# demo: `contrib/bootstrap demo --batch` runs end to end against this build
# (virtual FIDO key, virtual PIV card through pcscd, private agent and
# sshd): it enrols a key, shows the touch notice, signs and verifies with
# ssh-keygen -Y, logs in with the FIDO key and with the card's key, prints
# tokagent status, and leaves no process behind.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "the demo runs tokagent"
out=$(BUILDDIR=$TI_BUILD bash "$TI_SRC/contrib/bootstrap" demo --batch \
    </dev/null 2>&1) || { echo "$out" >&2; ti_fail "demo failed"; }
ti_log "demo output:"$'\n'"$out"
ti_assert_contains "$out" "Identity added:" "a key enrolled and added"
ti_assert_contains "$out" "| Touch your security key" "the touch notice"
ti_assert_contains "$out" \
    "| to allow \"ssh-keygen\" to sign for namespace \"git\"" \
    "the notice says who asks and for what"
ti_assert_contains "$out" "Good \"git\" signature for demo with ED25519-SK key" \
    "the signature verifies"
ti_assert_contains "$out" "| to allow \"ssh\" to log in as \"$(id -un)\"@demo" \
    "the login's notice names the destination"
ti_assert_contains "$out" "logged in to the demo sshd as $(id -un)" \
    "login with the FIDO key"
if [ "${CI:-}" = true ] || grep -q "virtual PIV card through pcscd" <<<"$out"
then
	ti_assert_contains "$out" "logged in with the PIV card as $(id -un)" \
	    "login with the PIV card's key"
	ti_assert_contains "$out" "pkcs11 \"vcard PIV Authentication\"" \
	    "status shows the card"
fi
ti_assert_contains "$out" "Tokens:"$'\n'"  fido " "status shows the FIDO token"
ti_assert_contains "$out" "Done: everything the demo started" "the end"
dir=$(grep -o 'SSH_AUTH_SOCK=[^ ]*' <<<"$out" | head -n 1)
dir=${dir#SSH_AUTH_SOCK=}
dir=${dir%/agent.sock}
[ -n "$dir" ] && [ ! -e "$dir" ] || ti_fail "the demo left $dir behind"
pgrep -f "$dir/" >/dev/null && ti_fail "the demo left processes running"
exit 0

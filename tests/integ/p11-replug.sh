#!/bin/bash
# tests/integ/p11-replug.sh: token removal and reinsertion under
# tokagent-p11-helper.  The test module tests/p11/p11-shim.c sits in front of a
# private SoftHSM2 token and unplugs it on request.  Checked, with slot
# events (C_WaitForSlotEvent in the helper's thread) and without them
# (IPC_P11_RESCAN): keys go away and come back with the same handles,
# signing fails fast while the token is out, asks for the PIN once it is
# back (the helper keeps no PIN) and works after IPC_P11_LOGIN.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/p11/softhsm.sh"

p11_softhsm_available || ti_skip "SoftHSM2 / pkcs11-tool not installed"
HELPER=$TI_BUILD/pkcs/tokagent-p11-helper
PROBE=$TI_BUILD/tests/p11/p11-probe
SHIM=$TI_BUILD/tests/p11/.libs/libp11shim.so
[ -x "$HELPER" ] && [ -x "$PROBE" ] && [ -f "$SHIM" ] ||
    ti_fail "helper, probe or shim module not built"
PIN=4321

p11_softhsm_init "$TI_DIR" || ti_fail "softhsm init"
p11_softhsm_token replug "$PIN" || ti_fail "token init"
p11_softhsm_keygen replug "$PIN" 01 EC:prime256v1 p256 || ti_fail "keygen"
p11_softhsm_keygen replug "$PIN" 02 RSA:2048 rsa2048 || ti_fail "keygen"

export P11_SHIM_TARGET=$P11_SOFTHSM_MODULE
export P11_SHIM_STATE=$TI_DIR/shim-state

timeout 60 "$PROBE" replug "$HELPER" "$SHIM" "$PIN" "$P11_SHIM_STATE" \
    events 2>"$TI_DIR/probe-events.log" || ti_fail "replug with slot events"
P11_SHIM_NO_EVENTS=1 timeout 60 "$PROBE" replug "$HELPER" "$SHIM" "$PIN" \
    "$P11_SHIM_STATE" noevents 2>"$TI_DIR/probe-noevents.log" ||
    ti_fail "replug without slot events"
ti_log "ok"
exit 0

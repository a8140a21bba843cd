#!/bin/bash
# tests/integ/p11-helper.sh: tokagent-p11-helper against a private SoftHSM2
# token, driven over its IPC socket (fd 3) by tests/p11/p11-probe the way the
# agent drives it: list keys (and compare them with OpenSSH's own
# `ssh-keygen -D`), sign with every key and verify, wrong PIN, a library
# that is no provider, a provider path the helper was not started for,
# login after PIN_REQUIRED, a key that needs the PIN for every signature,
# and malformed IPC.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/p11/softhsm.sh"

p11_softhsm_available || ti_skip "SoftHSM2 / pkcs11-tool not installed"
ti_require_cmd ssh-keygen
HELPER=$TI_BUILD/pkcs/tokagent-p11-helper
PROBE=$TI_BUILD/tests/p11/p11-probe
[ -x "$HELPER" ] && [ -x "$PROBE" ] || ti_fail "helper or probe not built"
MODULE=$P11_SOFTHSM_MODULE
PIN=1234

p11_softhsm_init "$TI_DIR" || ti_fail "softhsm init"
p11_softhsm_token tok1 "$PIN" || ti_fail "token init"
p11_softhsm_standard_keys tok1 "$PIN" || ti_fail "key generation"
ti_log "keys: $P11_KEY_LABELS (ed25519: $P11_HAVE_ED25519)"

# Keys, signatures, handles, unknown requests, removal.
"$PROBE" keys "$HELPER" "$MODULE" "$PIN" >"$TI_DIR/helper-keys.txt" \
    2>"$TI_DIR/probe-keys.log" || ti_fail "probe keys"
nkeys=$(wc -l <"$TI_DIR/helper-keys.txt")
nwant=$(echo $P11_KEY_LABELS | wc -w)
ti_assert_eq "$nwant" "$nkeys" "number of keys listed"
for l in $P11_KEY_LABELS; do
	grep -q " tok1/$l\$" "$TI_DIR/helper-keys.txt" ||
	    ti_fail "key $l not listed with label tok1/$l"
done

# OpenSSH lists the same public keys (it has no Ed25519 over PKCS#11 in
# 9.2; compare what it lists, and require everything but Ed25519).
ssh-keygen -D "$MODULE" >"$TI_DIR/openssh-keys.txt" \
    2>"$TI_DIR/ssh-keygen.log" || ti_fail "ssh-keygen -D"
awk '{ print $1, $2 }' "$TI_DIR/openssh-keys.txt" | sort \
    >"$TI_DIR/openssh.sorted"
awk '{ print $1, $2 }' "$TI_DIR/helper-keys.txt" | sort \
    >"$TI_DIR/helper.sorted"
if grep -q '^ssh-ed25519 ' "$TI_DIR/openssh.sorted"; then
	cmp -s "$TI_DIR/openssh.sorted" "$TI_DIR/helper.sorted" ||
	    ti_fail "public keys differ from ssh-keygen -D"
else
	grep -v '^ssh-ed25519 ' "$TI_DIR/helper.sorted" >"$TI_DIR/helper.noed"
	cmp -s "$TI_DIR/openssh.sorted" "$TI_DIR/helper.noed" ||
	    ti_fail "public keys differ from ssh-keygen -D"
fi
ti_log "ssh-keygen -D lists $(wc -l <"$TI_DIR/openssh.sorted") identical keys"

# Wrong PIN: TOK_ERR_PIN_INVALID (-25).
"$PROBE" fail -25 "$HELPER" "$MODULE" 9999 2>"$TI_DIR/probe-badpin.log" ||
    ti_fail "wrong PIN not reported as PIN_INVALID"

# A library without C_GetFunctionList is refused (TOK_ERR_PROVIDER_REFUSED).
LIBC=$(ldd "$PROBE" | awk '$1 ~ /^libc\.so/ { print $3 }')
[ -f "$LIBC" ] || LIBC=/lib/x86_64-linux-gnu/libc.so.6
"$PROBE" fail -30 "$HELPER" "$LIBC" "$PIN" 2>"$TI_DIR/probe-libc.log" ||
    ti_fail "libc accepted as a provider"
grep -q 'does not export C_GetFunctionList' "$TI_DIR/probe-libc.log" ||
    ti_fail "libc refused for the wrong reason"
# ... and so are a missing file and a file that is no ELF at all.
"$PROBE" fail -30 "$HELPER" "$TI_DIR/nonexistent.so" "$PIN" \
    2>"$TI_DIR/probe-missing.log" || ti_fail "missing provider accepted"
echo "not a library" >"$TI_DIR/fake.so"
"$PROBE" fail -30 "$HELPER" "$TI_DIR/fake.so" "$PIN" \
    2>"$TI_DIR/probe-fake.log" || ti_fail "non-ELF provider accepted"
# A helper only serves the provider it was started for.
"$PROBE" fail -30 "$HELPER" "$MODULE" "$PIN" "$LIBC" \
    2>"$TI_DIR/probe-other.log" || ti_fail "other provider path accepted"

# No PIN at add: keys listed from public objects, signing asks for the PIN;
# a wrong PIN then a right one through IPC_P11_LOGIN.
"$PROBE" relogin "$HELPER" "$MODULE" "$PIN" 0000 \
    2>"$TI_DIR/probe-relogin.log" || ti_fail "relogin"

# A key that wants the PIN for every signature (CKA_ALWAYS_AUTHENTICATE),
# on a second token.
p11_softhsm_token tok2 "$PIN" || ti_fail "second token init"
p11_softhsm_keygen tok2 "$PIN" 0a EC:prime256v1 always --always-auth ||
    ti_fail "always-authenticate key generation"
"$PROBE" alwaysauth "$HELPER" "$MODULE" "$PIN" always \
    2>"$TI_DIR/probe-alwaysauth.log" || ti_fail "always-authenticate key"

# Malformed IPC never crashes the helper.
"$PROBE" garbage "$HELPER" "$MODULE" "$PIN" 2>"$TI_DIR/probe-garbage.log" ||
    ti_fail "garbage"

ti_log "ok"
exit 0

#!/bin/bash
# core-keys: ssh-add / -l / -L / -d / -D / -T with software keys of every
# type, and certificates added beside their keys.
# RSA: 2048 and 3072 (8192 would spend most of the test generating a key).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup

ti_start_agent

specs="ed25519:- ecdsa:256 ecdsa:384 ecdsa:521 rsa:2048 rsa:3072"
names=()
for s in $specs; do
	n="k_${s%%:*}_${s#*:}"
	n=${n%_-}
	ti_keygen "${s%%:*}" "${s#*:}" "$TI_DIR/$n" &
	names+=("$n")
done
wait

# Empty agent.
out=$(ssh-add -l 2>&1)
ti_assert_eq 1 $? "ssh-add -l on an empty agent exits 1"
ti_assert_contains "$out" "no identities" "empty listing"
out=$(ssh-add -L 2>&1)
ti_assert_eq 1 $? "ssh-add -L on an empty agent exits 1"
ti_assert_not_contains "$out" "ssh-" "ssh-add -L on an empty agent"

# Add them all; each is listed with its fingerprint, type and comment.
for n in "${names[@]}"; do
	ti_expect_ok "ssh-add $n" ssh-add "$TI_DIR/$n"
done
ti_assert_eq ${#names[@]} "$(ti_agent_count)" "number of keys listed"
list=$(ssh-add -l) || ti_fail "ssh-add -l"
listmd5=$(ssh-add -l -E md5) || ti_fail "ssh-add -l -E md5"
pubs=$(ssh-add -L) || ti_fail "ssh-add -L"
for n in "${names[@]}"; do
	fp=$(ti_fp "$TI_DIR/$n.pub")
	ti_assert_contains "$list" "$fp ti-" "fingerprint of $n listed"
	ti_assert_contains "$list" "@$n (" "comment of $n listed"
	md5=$(ssh-keygen -l -E md5 -f "$TI_DIR/$n.pub" | awk '{print $2}')
	ti_assert_contains "$listmd5" "$md5" "md5 fingerprint of $n"
	blob=$(cut -d' ' -f1,2 "$TI_DIR/$n.pub")
	ti_assert_contains "$pubs" "$blob" "public key of $n in ssh-add -L"
done
for t in ED25519 ECDSA RSA; do
	ti_assert_contains "$list" "($t)" "key type $t shown"
done
ti_assert_contains "$list" "521 SHA256:" "ecdsa-521 size"
ti_assert_contains "$list" "3072 SHA256:" "rsa-3072 size"

# -T: every key signs and verifies (ssh-add -T asks for a signature over
# random data and checks it with the public key).
for n in "${names[@]}"; do
	ti_expect_ok "ssh-add -T $n" ssh-add -T "$TI_DIR/$n.pub"
done

# Adding a key twice keeps one copy.
ti_expect_ok "re-add" ssh-add "$TI_DIR/k_ed25519"
ti_assert_eq ${#names[@]} "$(ti_agent_count)" "re-added key not duplicated"

# -d removes exactly one key; -T then fails for it only.
ti_expect_ok "ssh-add -d" ssh-add -d "$TI_DIR/k_ecdsa_384"
ti_assert_eq $((${#names[@]} - 1)) "$(ti_agent_count)" "count after -d"
ti_assert_not_contains "$(ssh-add -l)" "$(ti_fp "$TI_DIR/k_ecdsa_384.pub")" \
    "removed key not listed"
ti_expect_fail "ssh-add -T removed key" ssh-add -T "$TI_DIR/k_ecdsa_384.pub"
ti_expect_ok "ssh-add -T other key" ssh-add -T "$TI_DIR/k_ecdsa_256.pub"
ti_expect_fail "ssh-add -d of a key not held" ssh-add -d "$TI_DIR/k_ecdsa_384"

# -D removes everything.
ti_expect_ok "ssh-add -D" ssh-add -D
ti_assert_eq 0 "$(ti_agent_count)" "count after -D"
ti_expect_fail "ssh-add -T after -D" ssh-add -T "$TI_DIR/k_ed25519.pub"

# Certificates: KEY-cert.pub beside KEY is added too, and both sign.
ti_keygen ed25519 - "$TI_DIR/ca" "ti-ca"
for n in k_ed25519 k_ecdsa_256 k_rsa_2048; do
	ti_certify "$TI_DIR/ca" "$TI_DIR/$n.pub" "$(id -un),other"
	ti_expect_ok "ssh-add $n with cert" ssh-add "$TI_DIR/$n"
	ti_assert_contains "$(cat "$TI_DIR/last.out")" "Certificate added" \
	    "ssh-add reports the certificate of $n"
done
ti_assert_eq 6 "$(ti_agent_count)" "three keys and three certificates"
list=$(ssh-add -l)
for t in ED25519-CERT ECDSA-CERT RSA-CERT; do
	ti_assert_contains "$list" "($t)" "certificate type $t listed"
done
pubs=$(ssh-add -L)
for n in k_ed25519 k_ecdsa_256 k_rsa_2048; do
	blob=$(cut -d' ' -f1,2 "$TI_DIR/$n-cert.pub")
	ti_assert_contains "$pubs" "$blob" "certificate of $n in ssh-add -L"
	ti_expect_ok "ssh-add -T $n-cert" ssh-add -T "$TI_DIR/$n-cert.pub"
done

# -d KEY removes the key and its certificate.
ti_expect_ok "ssh-add -d key+cert" ssh-add -d "$TI_DIR/k_ecdsa_256"
ti_assert_eq 4 "$(ti_agent_count)" "count after removing key and cert"
ti_assert_not_contains "$(ssh-add -L)" \
    "$(cut -d' ' -f2 "$TI_DIR/k_ecdsa_256-cert.pub")" "removed certificate"

# A certificate whose key is not in the agent can not sign.
ti_expect_fail "ssh-add -T cert of removed key" \
    ssh-add -T "$TI_DIR/k_ecdsa_256-cert.pub"

# A certificate for another key is refused with its key (mismatch).
ti_keygen ed25519 - "$TI_DIR/mismatch"
cp "$TI_DIR/k_ed25519-cert.pub" "$TI_DIR/mismatch-cert.pub"
ssh-add "$TI_DIR/mismatch" >"$TI_DIR/last.out" 2>&1
ti_assert_eq 5 "$(ti_agent_count)" "mismatched certificate not added"
ti_assert_not_contains "$(cat "$TI_DIR/last.out")" "Certificate added" \
    "mismatched certificate"

ti_expect_ok "final ssh-add -D" ssh-add -D
ti_assert_eq 0 "$(ti_agent_count)" "empty at the end"
ti_agent_alive || ti_fail "agent died"
exit 0

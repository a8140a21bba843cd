#!/bin/bash
# core-sshsig: `ssh-keygen -Y sign` with only the public key at hand, so the
# signature is made by the agent, then `ssh-keygen -Y verify`; also -Y
# check-novalidate and a tampered message.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup

ti_start_agent
mkdir "$TI_DIR/pub"
printf 'hello from %s\n' "$(basename "$0")" >"$TI_DIR/msg"
: >"$TI_DIR/allowed_signers"
for s in ed25519:- ecdsa:256 ecdsa:521 rsa:2048; do
	n="k_${s%%:*}_${s#*:}"
	n=${n%_-}
	ti_keygen "${s%%:*}" "${s#*:}" "$TI_DIR/$n"
	# Only the public key beside the signature: the agent must sign.
	cp "$TI_DIR/$n.pub" "$TI_DIR/pub/$n.pub"
	echo "$n@test $(cut -d' ' -f1,2 "$TI_DIR/$n.pub")" \
	    >>"$TI_DIR/allowed_signers"

	ti_expect_fail "-Y sign with $n not in the agent" \
	    ssh-keygen -Y sign -n file -f "$TI_DIR/pub/$n.pub" "$TI_DIR/msg"
	rm -f "$TI_DIR/msg.sig"
	ti_expect_ok "ssh-add $n" ssh-add "$TI_DIR/$n"
	ti_expect_ok "-Y sign with $n" \
	    ssh-keygen -Y sign -n file -f "$TI_DIR/pub/$n.pub" "$TI_DIR/msg"
	[ -s "$TI_DIR/msg.sig" ] || ti_fail "no signature from $n"
	mv "$TI_DIR/msg.sig" "$TI_DIR/$n.sig"
	ti_expect_ok "-Y verify $n" sh -c "ssh-keygen -Y verify \
	    -f '$TI_DIR/allowed_signers' -I '$n@test' -n file \
	    -s '$TI_DIR/$n.sig' <'$TI_DIR/msg'"
	ti_expect_ok "-Y check-novalidate $n" sh -c "ssh-keygen \
	    -Y check-novalidate -n file -s '$TI_DIR/$n.sig' <'$TI_DIR/msg'"
	ti_expect_fail "-Y verify $n, wrong namespace" sh -c "ssh-keygen \
	    -Y verify -f '$TI_DIR/allowed_signers' -I '$n@test' -n git \
	    -s '$TI_DIR/$n.sig' <'$TI_DIR/msg'"
	ti_expect_fail "-Y verify $n, tampered message" sh -c "echo x | \
	    cat '$TI_DIR/msg' - | ssh-keygen -Y verify \
	    -f '$TI_DIR/allowed_signers' -I '$n@test' -n file \
	    -s '$TI_DIR/$n.sig'"
done

# git-style: namespace git, signature over stdin to stdout.
out=$(ssh-keygen -Y sign -n git -f "$TI_DIR/pub/k_ed25519.pub" \
    <"$TI_DIR/msg" 2>/dev/null) || ti_fail "-Y sign from stdin"
ti_assert_contains "$out" "BEGIN SSH SIGNATURE" "armoured signature"
ti_agent_alive || ti_fail "agent died"
exit 0

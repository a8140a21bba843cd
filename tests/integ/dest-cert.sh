#!/bin/bash
# dest-cert: destination constraints naming a host through a host CA
# (@cert-authority in known_hosts): the agent must match the host
# certificate the server presents against the CA, check it is a valid host
# certificate for the constraint's host name, both as the destination and
# as the source of a hop.  Also: constraints built from a hashed known_hosts
# file.  Runs against any agent (TEST_AGENT); the expectations are OpenSSH's.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_require_cmd ssh ssh-add ssh-keygen

KH=$TI_DIR/known_hosts
SSHC="ssh -n -F $TI_DIR/ssh_config -o IdentityFile=none"

ti_keygen ed25519 - "$TI_DIR/k" "dest-key"
ti_keygen ed25519 - "$TI_DIR/hostca" "host-ca"
for h in h1 hc; do
	ti_authorize $h "$TI_DIR/k.pub"
done

# hc: a host with a certificate for principal "hc" signed by hostca.
d=$(ti_sshd_dir hc)
ti_keygen ed25519 - "$d/host_ed25519" "ti-host-hc"
ssh-keygen -q -s "$TI_DIR/hostca" -h -I host-hc -n hc -V -5m:+1h \
    "$d/host_ed25519.pub" >/dev/null 2>&1 || ti_fail "host certificate"
ti_start_sshd h1
ti_start_sshd hc "HostCertificate $d/host_ed25519-cert.pub"
# Only the CA vouches for hc.
sed -i '/^hc /d' "$KH"
echo "@cert-authority hc $(cut -d' ' -f1,2 "$TI_DIR/hostca.pub")" >>"$KH"
ti_start_agent

path()
{
	local hops=() cmd="" i
	while [ "$1" != -- ]; do
		hops+=("$1")
		shift
	done
	shift
	cmd="$*"
	for ((i = ${#hops[@]} - 1; i > 0; i--)); do
		cmd="$SSHC -A ${hops[$i]} $cmd"
	done
	ti_ssh "${hops[0]}" -o IdentityFile=none -A "$cmd"
}
allow()
{
	local what=$1
	shift
	ti_expect_ok "$what: path $* allowed" path "$@" -- true
}
deny()
{
	local what=$1
	shift
	ti_expect_fail "$what: path $* refused" path "$@" -- true
}
listed()
{
	local what=$1 want=$2 out n
	shift 2
	out=$(path "$@" -- ssh-add -l 2>&1)
	n=$(printf '%s\n' "$out" | grep -c 'SHA256:')
	[ "$n" = "$want" ] || {
		printf '%s\n' "$out" >&2
		ti_fail "$what: ssh-add -l via $* lists $n keys, want $want"
	}
}
add()
{
	ssh-add -D >/dev/null 2>&1
	ti_expect_ok "ssh-add $*" ssh-add -H "$KH" "$@" "$TI_DIR/k"
}

ti_log "the host certificate is accepted by the client itself"
add
allow unconstrained hc
grep -q "ssh-ed25519-cert-v01@openssh.com" "$d/log" ||
    ti_fail "hc did not present its certificate"

ti_log "destination named by its CA: -h hc"
add -h hc
allow "-h hc" hc
deny "-h hc" h1
deny "-h hc" h1 hc

ti_log "hop to a certified host: -h h1 -h h1>hc"
add -h h1 -h "h1>hc"
allow "h1>hc" h1 hc
deny "h1>hc (not directly)" hc
listed "h1>hc at h1" 1 h1

ti_log "hop from a certified host: -h hc -h hc>h1"
add -h hc -h "hc>h1"
allow "hc>h1" hc h1
deny "hc>h1" h1
listed "hc>h1 at hc" 1 hc
listed "hc>h1 at h1" 0 hc h1

ti_log "constraints from a hashed known_hosts"
ssh-keygen -q -H -f "$KH" >/dev/null 2>&1 || ti_fail "ssh-keygen -H"
grep -q '^|1|' "$KH" || ti_fail "known_hosts not hashed"
add -h h1 -h "h1>hc"
allow "hashed h1>hc" h1 hc
deny "hashed h1>hc" hc

exit 0

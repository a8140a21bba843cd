#!/bin/bash
# dest-hops: destination-constrained keys (ssh-add -h / -H) on real multi-hop
# paths: three private sshd instances on loopback, each with its own host
# key, reached by alias (HostKeyAlias); hops are made by forwarding the
# agent (ssh -A h1 ssh h2 ...), so the agent sees one session binding per
# hop.  Covers direct use, refused hosts, one and two hops, a cycle, users
# and user wildcards at the last hop only, and which keys are listed on a
# forwarded path.  Runs against any agent (TEST_AGENT); the expectations are
# OpenSSH's ssh-agent's.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_require_cmd ssh ssh-add ssh-keygen

ti_keygen ed25519 - "$TI_DIR/k" "dest-key"
ti_keygen ed25519 - "$TI_DIR/u" "plain-key"
for h in h1 h2 h3; do
	ti_authorize $h "$TI_DIR/k.pub"
done
# The unconstrained key only opens h1 (used to reach h1 when the
# constrained key may not).
ti_authorize h1 "$TI_DIR/u.pub"
for h in h1 h2 h3; do
	ti_start_sshd $h
done
ti_start_agent

KH=$TI_DIR/known_hosts
SSHC="ssh -n -F $TI_DIR/ssh_config -o IdentityFile=none"
me=$(id -un)

# path H1 [H2 ...] -- CMD...: run CMD at the last host of the path, each
# hop forwarding the agent to the next (ssh -A H1 ssh -A H2 ... CMD).
path()
{
	local hops=() cmd=""
	while [ "$1" != -- ]; do
		hops+=("$1")
		shift
	done
	shift
	local i
	cmd="$*"
	for ((i = ${#hops[@]} - 1; i > 0; i--)); do
		cmd="$SSHC -A ${hops[$i]} $cmd"
	done
	ti_ssh "${hops[0]}" -o IdentityFile=none -A "$cmd"
}

# allow WHAT H1 [H2 ...]: login along the path must work.
allow()
{
	local what=$1
	shift
	ti_expect_ok "$what: path $* allowed" path "$@" -- true
}

# deny WHAT H1 [H2 ...]: login along the path must fail.
deny()
{
	local what=$1
	shift
	ti_expect_fail "$what: path $* refused" path "$@" -- true
}

# listed WHAT N H1 [H2 ...]: ssh-add -l at the end of the path lists N keys.
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

# add CONSTRAINT-ARGS...: replace the agent's keys with k, constrained.
add()
{
	ssh-add -D >/dev/null 2>&1
	ti_expect_ok "ssh-add $*" ssh-add -H "$KH" "$@" "$TI_DIR/k"
}

ti_log "sanity: an unconstrained key goes everywhere"
add
allow unconstrained h1
allow unconstrained h2
allow unconstrained h1 h2
allow unconstrained h1 h2 h3
listed unconstrained 1 h1
listed unconstrained 1 h1 h2

ti_log "one host: -h h1"
add -h h1
[ "$(ti_agent_count)" = 1 ] || ti_fail "-h h1: key not listed locally"
allow "-h h1" h1
deny "-h h1" h2
deny "-h h1" h3
deny "-h h1" h1 h2
listed "-h h1 (usable at h1, not beyond)" 0 h1

ti_log "one hop: -h h1 -h h1>h2"
add -h h1 -h "h1>h2"
allow "h1>h2" h1
allow "h1>h2" h1 h2
deny "h1>h2 (not directly)" h2
deny "h1>h2" h1 h3
deny "h1>h2" h1 h2 h3
listed "h1>h2 at h1" 1 h1
listed "h1>h2 at h2" 0 h1 h2

ti_log "two hops and a cycle: h1, h1>h2, h2>h3, h2>h1"
add -h h1 -h "h1>h2" -h "h2>h3" -h "h2>h1"
allow "two hops" h1 h2 h3
allow "cycle" h1 h2 h1
deny "two hops" h1 h3
deny "two hops" h3
deny "two hops" h1 h2 h1 h3
listed "two hops at h2" 1 h1 h2
listed "cycle back at h1" 1 h1 h2 h1

ti_log "the hop must come from the right host: h1, h3>h2"
add -h h1 -h "h3>h2"
deny "from h3 only" h1 h2
listed "from h3 only at h1" 0 h1

ti_log "users at the last hop"
add -h "nobody@h1"
deny "wrong user" h1
add -h "$me@h1"
allow "right user" h1
add -h "${me:0:1}*@h1"
allow "user wildcard ${me:0:1}*" h1
add -h "?${me:1}@h1"
allow "user wildcard ?${me:1}" h1
add -h "x*@h1"
deny "user wildcard x*" h1
add -h h1 -h "h1>nobody@h2"
deny "wrong user after a hop" h1 h2
listed "user-restricted next hop is listed" 1 h1
add -h h1 -h "h1>${me:0:1}*@h2"
allow "user wildcard after a hop" h1 h2

ti_log "the user is only checked at the last hop"
ssh-add -D >/dev/null 2>&1
ti_expect_ok "ssh-add u" ssh-add "$TI_DIR/u"
ti_expect_ok "ssh-add -h nobody@h1 -h h1>h2" \
    ssh-add -H "$KH" -h "nobody@h1" -h "h1>h2" "$TI_DIR/k"
# h1 is reached with the plain key (k may not log in as us at h1), then k
# signs for h2: its first hop (a forwarding) ignores the user.
allow "user on a forwarding hop" h1 h2
# the constrained key alone can not log in to h1
ssh-add -d "$TI_DIR/u.pub" >/dev/null 2>&1
deny "user nobody@h1 without the plain key" h1

ti_log "local clients see the key but may not sign with it"
add -h h2
[ "$(ti_agent_count)" = 1 ] || ti_fail "-h h2: key not listed locally"
# a destination-constrained key signs only userauth requests of a bound
# session: ssh-add -T (an unbound connection) is refused
ti_expect_fail "local ssh-add -T" ssh-add -T "$TI_DIR/k.pub"

exit 0

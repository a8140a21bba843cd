# tests/integ/fido-lib.sh: helpers for the tests of tokagent's own FIDO2
# support (the sk helper signing through libfido2), on top of lib.sh and
# sk-lib.sh.  Keys are enrolled on vfido by OpenSSH's ssh-keygen through the
# middleware, added to tokagent with plain `ssh-add` (provider "internal") and
# used by unmodified ssh / ssh-add / ssh-keygen with only the public key at
# hand, so every signature is made by the agent.
#
#	fido_setup			lib.sh + sk-lib.sh set up; tokagent only
#	fido_start_agent TOK... [-- AGENT_ARGS...]
#					tokagent seeing exactly those tokens
#	fido_pub KEY			copy KEY.pub (and KEY-cert.pub) to
#					$TI_DIR/pub/, print the .pub path there
#	fido_sign PUB [NS]		ssh-keygen -Y sign with the public key
#					only; leaves $TI_DIR/msg.sig
#	fido_verify PUB [NS]		ssh-keygen -Y verify of that signature
#	fido_log_wait PATTERN [S=10]	wait until the agent log has PATTERN
#	fido_pending_wait TOK [S=10]	wait until TOK has a touch pending
#	fido_now_ms			monotonic-ish wall clock in ms

# fido_setup: source sk-lib.sh, check the tools, refuse OpenSSH's agent
# (these tests exercise tokagent's sk helper).
fido_setup()
{
	. "$TI_SRC/tests/integ/sk-lib.sh"
	sk_setup
	ti_tokagent_only "FIDO keys signed by tokagent's own sk helper"
	[ -x "$TI_BUILD/sk/tokagent-sk-helper" ] ||
	    ti_fail "sk helper not built: $TI_BUILD/sk/tokagent-sk-helper"
	mkdir -p "$TI_DIR/pub"
	printf 'hello from %s\n' "$(basename "$0")" >"$TI_DIR/msg"
}

# fido_start_agent TOK... [-- AGENT_ARGS...]: the agent (and so its sk
# helper) inherits TOKAGENT_FIDO_DEVICES naming exactly these tokens, and
# whatever askpass is set up.
fido_start_agent()
{
	local toks=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		toks+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	sk_use "${toks[@]}"
	ti_start_agent "$@"
}

# fido_pub KEY: public key (and certificate) only, in $TI_DIR/pub/.
fido_pub()
{
	local b
	b=$(basename "$1")
	cp "$1.pub" "$TI_DIR/pub/$b.pub" || ti_fail "no $1.pub"
	[ -f "$1-cert.pub" ] && cp "$1-cert.pub" "$TI_DIR/pub/$b-cert.pub"
	echo "$TI_DIR/pub/$b.pub"
}

# fido_sign PUB [NS=file]: sign $TI_DIR/msg through the agent.
fido_sign()
{
	rm -f "$TI_DIR/msg.sig"
	ssh-keygen -Y sign -n "${2:-file}" -f "$1" "$TI_DIR/msg" </dev/null
}

# fido_verify PUB [NS=file]: verify $TI_DIR/msg.sig made by PUB.
fido_verify()
{
	printf 'signer %s\n' "$(cut -d' ' -f1,2 "$1")" \
	    >"$TI_DIR/allowed_signers"
	ssh-keygen -Y verify -f "$TI_DIR/allowed_signers" -I signer \
	    -n "${2:-file}" -s "$TI_DIR/msg.sig" <"$TI_DIR/msg"
}

# fido_log_wait PATTERN [TIMEOUT_S=10]: wait for a line in the agent log.
fido_log_wait()
{
	local n=$((${2:-10} * 20))
	while [ $n -gt 0 ]; do
		grep -q -- "$1" "$TI_AGENT_LOG" 2>/dev/null && return 0
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

# fido_pending_wait TOK [TIMEOUT_S=10]: wait until TOK awaits a touch.
fido_pending_wait()
{
	local n=$((${2:-10} * 10))
	while [ $n -gt 0 ]; do
		case $(sk_ctl "$1" pending 2>/dev/null) in
		yes*) return 0 ;;
		esac
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# fido_pending_gone TOK [TIMEOUT_S=5]: wait until TOK no longer awaits a
# touch; 1 if it still does.
fido_pending_gone()
{
	local n=$((${2:-5} * 10))
	while [ "$(sk_ctl "$1" pending 2>/dev/null)" != no ]; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
	return 0
}

# fido_now_ms: wall clock in milliseconds.
fido_now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

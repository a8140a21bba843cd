#!/bin/bash
# pkg-installed: helpers come from one place.  The agent's helpers (soft
# keys, a SoftHSM token through ssh-add -s, the PC/SC watcher) run from the
# build tree for a build-tree agent and from the installed helper directory
# for an installed one; a copy of the agent elsewhere starts no helper at
# all.  Under `make installcheck`, also: every file make install should put
# in place is there, and nothing else is in the installed prefix.
# Copyright (c) 2026 tokagent authors; see LICENSE.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "where tokagent's helpers come from"
. "$TI_SRC/tests/p11/softhsm.sh"
[ -n "${TI_HELPER_DIR:-}" ] || ti_fail "TI_HELPER_DIR not set (run through make)"

if [ -n "${TI_INSTALL_ROOT:-}" ]; then
	ti_log "installed files in $TI_INSTALL_ROOT"
	[ -n "${TI_INSTALLED_FILES:-}" ] || ti_fail "TI_INSTALLED_FILES not set"
	printf '%s\n' $TI_INSTALLED_FILES | sort -u >"$TI_DIR/expected"
	while read -r f; do
		[ -f "$f" ] || ti_fail "not installed: $f"
		case $f in
		*/bin/*|*/libexec/*) [ -x "$f" ] || ti_fail "not executable: $f" ;;
		esac
	done <"$TI_DIR/expected"
	find "$TI_INSTALL_ROOT" \( -type f -o -type l \) | sort >"$TI_DIR/actual"
	comm -13 "$TI_DIR/expected" "$TI_DIR/actual" >"$TI_DIR/stray"
	[ -s "$TI_DIR/stray" ] &&
	    ti_fail "installed but not expected (misplaced?): $(cat "$TI_DIR/stray")"
	# Every helper the agent can start is installed where it looks.
	names=$(strings -n 8 "$TEST_AGENT" | grep -E '^tokagent-[a-z0-9-]+$' | sort -u)
	[ -n "$names" ] || ti_fail "no helper names found in $TEST_AGENT"
	for n in $names; do
		[ -x "$TI_HELPER_DIR/$n" ] ||
		    ti_fail "the agent starts $n, not installed in $TI_HELPER_DIR"
	done
fi

# helper_ok ARGV0: is this helper program from the expected place?
helper_ok()
{
	if [ -n "${TI_INSTALL_ROOT:-}" ]; then
		[ "$(dirname "$1")" = "$TI_HELPER_DIR" ]
	else
		case $(dirname "$1") in
		"$TI_HELPER_DIR"/token|"$TI_HELPER_DIR"/sk|"$TI_HELPER_DIR"/pkcs|\
		"$TI_HELPER_DIR"/agent) return 0 ;;
		esac
		return 1
	fi
}

ti_log "helpers of the agent under test ($TEST_AGENT)"
p11_softhsm_available || ti_skip "SoftHSM2 / pkcs11-tool not installed"
PIN=1357
p11_softhsm_init "$TI_DIR" || ti_fail "softhsm init"
p11_softhsm_token inst "$PIN" || ti_fail "token init"
p11_softhsm_standard_keys inst "$PIN" || ti_fail "key generation"
ti_askpass_setup "pass:$PIN"
ti_start_agent
ti_keygen ed25519 - "$TI_DIR/k"
ti_expect_ok "ssh-add (soft helper)" ssh-add "$TI_DIR/k"
ti_expect_ok "ssh-add -s (p11 helper)" ssh-add -s "$P11_SOFTHSM_MODULE"
[ "$(ti_agent_count)" -gt 1 ] || ti_fail "no token keys listed"
seen=
for c in $(ps -o pid= --ppid "$TI_AGENT_PID"); do
	argv0=$(tr '\0' '\n' <"/proc/$c/cmdline" 2>/dev/null | head -1)
	case $(basename "$argv0") in
	tokagent-*) ;;
	*) continue ;;	# askpass and other children
	esac
	helper_ok "$argv0" || ti_fail "helper from the wrong place: $argv0"
	seen="$seen $(basename "$argv0")"
done
ti_log "helpers:$seen"
ti_assert_contains "$seen" tokagent-soft-helper "soft helper running"
ti_assert_contains "$seen" tokagent-p11-helper "p11 helper running"

ti_log "a copy of the agent elsewhere starts no helper"
mkdir "$TI_DIR/elsewhere"
cp "$TEST_AGENT" "$TI_DIR/elsewhere/tokagent"
ti_expect_fail "agent copied out of its tree" timeout 10 \
    "$TI_DIR/elsewhere/tokagent" -D -a "$TI_DIR/else.sock"
ti_assert_contains "$(cat "$TI_DIR/last.out")" \
    "is neither installed as" "message"
exit 0

#!/bin/bash
# pkg-snippets: the shell snippets for people without systemd, sourced by
# bash, zsh, dash (POSIX sh) and fish: the first shell starts one agent on
# the fixed path and exports SSH_AUTH_SOCK; later shells reuse it (one
# agent, no error output); without XDG_RUNTIME_DIR the socket goes to
# ~/.ssh/agent/tokagent.HOSTNAME.sock; after the agent died, the next shell
# replaces its stale socket.
# Copyright (c) 2026 tokagent authors; see LICENSE.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "tokagent's shell snippets"
ti_require_cmd bash zsh dash fish

# The snippets name the installed agent: test them with the agent under test.
for f in tokagent.sh tokagent.fish; do
	[ -f "$TI_SNIPPET_DIR/$f" ] || ti_fail "no snippet $TI_SNIPPET_DIR/$f"
	grep -q '@bindir@\|@pkgdatadir@' "$TI_SNIPPET_DIR/$f" &&
	    ti_fail "$f: unsubstituted paths"
	n=$(grep -c '^[[:space:]]*/[^[:space:]]*/bin/tokagent -a' \
	    "$TI_SNIPPET_DIR/$f")
	ti_assert_eq 1 "$n" "$f: lines starting the agent"
	sed "s|^\([[:space:]]*\)/[^[:space:]]*/bin/tokagent -a|\1$TEST_AGENT -a|" \
	    "$TI_SNIPPET_DIR/$f" >"$TI_DIR/$f"
done

# agents_on PATH: how many agent processes of ours listen on PATH.
agents_on()
{
	pgrep -f -x -- "$TEST_AGENT -a $1" | wc -l | tr -d ' '
}

# shell_env SHELL HOME XDG: source the snippet in SHELL, print SSH_AUTH_SOCK.
shell_env()
{
	local sh=$1 home=$2 xdg=$3 snippet=$TI_DIR/tokagent.sh
	local -a e=(env -i PATH="$PATH" HOME="$home")
	[ -n "$xdg" ] && e+=(XDG_RUNTIME_DIR="$xdg")
	case $sh in
	fish)	"${e[@]}" fish --no-config -c \
		    "source $TI_DIR/tokagent.fish; echo \$SSH_AUTH_SOCK" ;;
	zsh)	"${e[@]}" zsh -f -c ". '$snippet'; echo \$SSH_AUTH_SOCK" ;;
	*)	"${e[@]}" "$sh" -c ". '$snippet'; echo \$SSH_AUTH_SOCK" ;;
	esac
}

# register PATH: every agent on PATH is killed when the test ends.
register()
{
	pgrep -f -x -- "$TEST_AGENT -a $1" >>"$TI_DIR/pids"
}

# stop_agents SIG PATH: signal the agents listening on PATH, by pid.
stop_agents()
{
	local p
	for p in $(pgrep -f -x -- "$TEST_AGENT -a $2"); do
		kill -"$1" "$p"
	done
}

for sh in bash zsh dash fish; do
	ti_log "$sh"
	xdg=$TI_DIR/xdg-$sh
	mkdir -m 700 "$xdg"
	sock=$xdg/tokagent/agent.sock
	for round in 1 2 3; do
		out=$(shell_env "$sh" "$TI_DIR" "$xdg" 2>"$TI_DIR/err") ||
		    ti_fail "$sh round $round: exit $?: $(cat "$TI_DIR/err")"
		register "$sock"
		[ -s "$TI_DIR/err" ] &&
		    ti_fail "$sh round $round wrote: $(cat "$TI_DIR/err")"
		ti_assert_eq "$sock" "$out" "$sh round $round SSH_AUTH_SOCK"
		ti_assert_eq 1 "$(agents_on "$sock")" "$sh round $round agents"
	done
	ti_assert_eq 700 "$(stat -c %a "$xdg/tokagent")" "$sh socket directory mode"
	SSH_AUTH_SOCK=$sock ssh-add -l >/dev/null 2>&1
	ti_assert_eq 1 "$?" "$sh: ssh-add -l on the snippet's agent"
	# The agent dies: the next shell starts a new one on the stale socket.
	stop_agents KILL "$sock"
	for i in $(seq 1 100); do
		[ "$(agents_on "$sock")" = 0 ] && break
		sleep 0.05
	done
	[ -S "$sock" ] || ti_fail "$sh: SIGKILL removed the socket"
	out=$(shell_env "$sh" "$TI_DIR" "$xdg" 2>/dev/null)
	register "$sock"
	ti_assert_eq 1 "$(agents_on "$sock")" "$sh: agents after a crash"
	SSH_AUTH_SOCK=$sock ssh-add -l >/dev/null 2>&1
	ti_assert_eq 1 "$?" "$sh: ssh-add -l after a crash"
	stop_agents TERM "$sock"
done

ti_log "no XDG_RUNTIME_DIR: ~/.ssh/agent/"
home=$TI_DIR/home
mkdir "$home"
sock=$home/.ssh/agent/tokagent.$(uname -n).sock
out=$(shell_env bash "$home" "")
register "$sock"
ti_assert_eq "$sock" "$out" "SSH_AUTH_SOCK without XDG_RUNTIME_DIR"
ti_assert_eq 1 "$(agents_on "$sock")" "agents without XDG_RUNTIME_DIR"
out=$(shell_env fish "$home" "")
ti_assert_eq "$sock" "$out" "fish SSH_AUTH_SOCK without XDG_RUNTIME_DIR"
ti_assert_eq 1 "$(agents_on "$sock")" "agents after fish"
ti_assert_eq 700 "$(stat -c %a "$home/.ssh/agent")" "socket directory mode"
stop_agents TERM "$sock"
exit 0

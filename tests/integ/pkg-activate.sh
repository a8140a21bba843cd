#!/bin/bash
# pkg-activate: the shipped systemd user units, run without a systemd
# session: systemd-analyze verifies them; the service's ExecStart, started
# by systemd-socket-activate on the socket unit's ListenStream path (%t =
# XDG_RUNTIME_DIR), comes up on the first connection, serves ssh-add and
# ssh-keygen -Y sign, passes neither the listening socket nor LISTEN_* to
# its helpers, and leaves the socket (systemd's) in place when it stops.
# The environment.d snippet, read by systemd's own generator, points
# SSH_AUTH_SOCK at that path.
# Copyright (c) 2026 tokagent authors; see LICENSE.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_tokagent_only "tokagent's systemd units"
act=${SYSTEMD_SOCKET_ACTIVATE:-}
[ -n "$act" ] && [ -x "$act" ] ||
    ti_skip "systemd-socket-activate not found (Debian: systemd)"
ti_require_cmd systemd-analyze
for f in tokagent.socket tokagent.service; do
	[ -f "$TI_UNIT_DIR/$f" ] || ti_fail "no unit $TI_UNIT_DIR/$f"
done

xdg=$TI_DIR/run
mkdir -m 700 "$xdg"

ti_log "the units as shipped"
listen=$(sed -n 's/^ListenStream=//p' "$TI_UNIT_DIR/tokagent.socket")
ti_assert_eq '%t/tokagent/agent.sock' "$listen" "ListenStream"
exec_start=$(sed -n 's/^ExecStart=//p' "$TI_UNIT_DIR/tokagent.service")
read -r -a cmd <<<"$exec_start"
ti_assert_eq tokagent "$(basename "${cmd[0]}")" "ExecStart program"
case ${cmd[0]} in
/*) ;;
*) ti_fail "ExecStart program is not an absolute path: ${cmd[0]}" ;;
esac
if [ -n "${TI_INSTALL_ROOT:-}" ]; then
	# Installed: ExecStart names the installed agent (DESTDIR aside).
	case $TEST_AGENT in
	*"${cmd[0]}") ;;
	*) ti_fail "ExecStart ${cmd[0]} is not the installed $TEST_AGENT" ;;
	esac
fi
grep -q '^Requires=tokagent.socket$' "$TI_UNIT_DIR/tokagent.service" ||
    ti_fail "the service does not require its socket"
grep -q '^WantedBy=sockets.target$' "$TI_UNIT_DIR/tokagent.socket" ||
    ti_fail "the socket unit is not wanted by sockets.target"
# systemd-analyze checks ExecStart exists: point it at the agent under test.
mkdir "$TI_DIR/units"
cp "$TI_UNIT_DIR/tokagent.socket" "$TI_DIR/units/"
sed "s|^ExecStart=[^ ]*|ExecStart=$TEST_AGENT|" "$TI_UNIT_DIR/tokagent.service" \
    >"$TI_DIR/units/tokagent.service"
(cd "$TI_DIR/units" && XDG_RUNTIME_DIR=$xdg systemd-analyze verify --man=no \
    --user ./tokagent.socket ./tokagent.service) >"$TI_DIR/verify.log" 2>&1 ||
    { cat "$TI_DIR/verify.log" >&2; ti_fail "systemd-analyze verify failed"; }
[ -s "$TI_DIR/verify.log" ] &&
    { cat "$TI_DIR/verify.log" >&2; ti_fail "systemd-analyze verify warns"; }

ti_log "socket activation"
path=${listen//%t/$xdg}
mkdir -m 700 "$xdg/tokagent"	# DirectoryMode=0700, made by systemd
pid=$(TI_BG_LOG=$TI_AGENT_LOG ti_bg "$act" -l "$path" "$TEST_AGENT" \
    "${cmd[@]:1}")
ti_wait_for_socket "$path" 10 "$pid" || ti_fail "no socket at $path"
# Nothing started before the first client.
ti_assert_eq systemd-socket-activate "$(basename "$(readlink "/proc/$pid/exe")")" \
    "process before the first connection"
SSH_AUTH_SOCK=$path
export SSH_AUTH_SOCK
ssh-add -l >"$TI_DIR/l.out" 2>&1
ti_assert_eq 1 "$?" "ssh-add -l exit on the activated agent (no keys)"
ti_assert_eq "$(readlink -f "$TEST_AGENT")" "$(readlink "/proc/$pid/exe")" \
    "activated program"
grep -q "socket-activated on $path" "$TI_AGENT_LOG" ||
    ti_fail "the agent did not log its activation"
grep -q "SSH_AUTH_SOCK=" "$TI_AGENT_LOG" &&
    ti_fail "an activated agent printed shell variables"
ti_keygen ed25519 - "$TI_DIR/k"
ti_expect_ok "ssh-add" ssh-add "$TI_DIR/k"
printf 'activated\n' >"$TI_DIR/msg"
cp "$TI_DIR/k.pub" "$TI_DIR/pub"
ti_expect_ok "ssh-keygen -Y sign through the agent" \
    ssh-keygen -Y sign -n file -f "$TI_DIR/pub" "$TI_DIR/msg"
printf 'ti %s\n' "$(cut -d' ' -f1,2 "$TI_DIR/k.pub")" >"$TI_DIR/allowed"
ti_expect_ok "ssh-keygen -Y verify" sh -c "ssh-keygen -Y verify -f '$TI_DIR/allowed' \
    -I ti -n file -s '$TI_DIR/msg.sig' <'$TI_DIR/msg'"

ti_log "helpers inherit neither the socket nor LISTEN_*"
inode=$(awk -v p="$path" '$NF == p { print $7 }' /proc/net/unix | head -1)
[ -n "$inode" ] || ti_fail "listening socket not in /proc/net/unix"
kids=$(ps -o pid= --ppid "$pid")
[ -n "$kids" ] || ti_fail "the activated agent has no helper"
checked=0
for c in $kids; do
	# Helpers are not dumpable: /proc/PID/{fd,environ} are root's.
	[ -r "/proc/$c/environ" ] || continue
	tr '\0' '\n' <"/proc/$c/environ" | grep -q '^LISTEN_' &&
	    ti_fail "helper $c inherited LISTEN_*"
	for fd in /proc/"$c"/fd/*; do
		[ "$(readlink "$fd")" = "socket:[$inode]" ] &&
		    ti_fail "helper $c holds the listening socket ($fd)"
	done
	checked=$((checked + 1))
done
if [ "$(id -u)" = 0 ] && [ "$checked" = 0 ]; then
	ti_fail "no helper could be inspected"
fi

ti_log "stopping leaves systemd's socket"
kill -TERM "$pid"
for i in $(seq 1 100); do ti_alive "$pid" || break; sleep 0.05; done
ti_alive "$pid" && ti_fail "the agent did not stop on SIGTERM"
[ -S "$path" ] || ti_fail "the agent removed the socket systemd owns"

ti_log "environment.d snippet"
gen=
for g in /usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator \
    /lib/systemd/user-environment-generators/30-systemd-environment-d-generator; do
	[ -x "$g" ] && gen=$g && break
done
[ -n "$gen" ] || ti_skip "systemd's environment.d generator not found"
mkdir -p "$TI_DIR/cfg/environment.d"
cp "$TI_ENVD_FILE" "$TI_DIR/cfg/environment.d/"
env -i HOME="$TI_DIR" XDG_CONFIG_HOME="$TI_DIR/cfg" XDG_RUNTIME_DIR="$xdg" \
    "$gen" >"$TI_DIR/env.out" 2>&1 || ti_fail "environment.d generator failed"
grep -qx "SSH_AUTH_SOCK=$path" "$TI_DIR/env.out" ||
    ti_fail "environment.d gives $(grep SSH_AUTH_SOCK "$TI_DIR/env.out"), not $path"
exit 0

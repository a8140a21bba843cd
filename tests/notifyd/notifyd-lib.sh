# tests/notifyd/notifyd-lib.sh: a private session bus with the test
# notification server on it, for tests built on tests/integ/lib.sh.
#
#	nd_setup			check for dbus-daemon, notifyd and
#					tokagent-notify-desktop (skip, or fail
#					under CI=true)
#	nd_start_bus			a dbus-daemon of our own on
#					$TI_DIR/bus; exports
#					DBUS_SESSION_BUS_ADDRESS
#	nd_start_server [NOTIFYD_ARGS...]
#					notifyd owning
#					org.freedesktop.Notifications, logging
#					to $ND_LOG (emptied first)
#	nd_stop_server			stop it
#	nd_wait PATTERN [S=10]		wait for a line of $ND_LOG matching
#					the extended regex PATTERN
#	nd_count PATTERN		how many lines of $ND_LOG match
#
# Variables: ND_PROG (the program under test), ND_SERVER, ND_LOG,
# ND_SERVER_PID.

# nd_setup: the tools, or skip.
nd_setup()
{
	ND_PROG=$TI_BUILD/agent/tokagent-notify-desktop
	ND_SERVER=$TI_BUILD/tests/notifyd/notifyd
	ND_LOG=$TI_DIR/notifyd.log
	ND_SERVER_PID=
	command -v dbus-daemon >/dev/null 2>&1 ||
	    ti_skip "dbus-daemon not installed (Debian: dbus-daemon)"
	[ -x "$ND_PROG" ] ||
	    ti_skip "$ND_PROG not built (needs libsystemd-dev)"
	[ -x "$ND_SERVER" ] ||
	    ti_skip "$ND_SERVER not built (needs libsystemd-dev)"
}

# nd_start_bus: a session bus that knows no service files, so nothing but
# our notifyd can ever own the notification name on it.
nd_start_bus()
{
	local pid
	cat >"$TI_DIR/bus.conf" <<EOF2
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$TI_DIR/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF2
	pid=$(TI_BG_LOG=$TI_DIR/dbus.log ti_bg dbus-daemon \
	    --config-file="$TI_DIR/bus.conf" --nofork --nopidfile)
	ti_wait_for_socket "$TI_DIR/bus" 10 "$pid" || {
		cat "$TI_DIR/dbus.log" >&2
		ti_fail "dbus-daemon did not start"
	}
	DBUS_SESSION_BUS_ADDRESS=unix:path=$TI_DIR/bus
	export DBUS_SESSION_BUS_ADDRESS
	ti_log "session bus $DBUS_SESSION_BUS_ADDRESS (pid $pid)"
}

# nd_start_server [ARGS...]: notifyd, once it owns the name.
nd_start_server()
{
	: >"$ND_LOG"
	ND_SERVER_PID=$(TI_BG_LOG=$TI_DIR/notifyd.err ti_bg "$ND_SERVER" \
	    "$@" "$ND_LOG")
	nd_wait '^ready$' 10 || {
		cat "$TI_DIR/notifyd.err" >&2
		ti_fail "notifyd did not start"
	}
}

# nd_stop_server: notifyd gone (its name released).
nd_stop_server()
{
	local n=100
	[ -n "$ND_SERVER_PID" ] || return 0
	kill -TERM "$ND_SERVER_PID" 2>/dev/null
	# ti_alive, not kill -0: nobody may reap it soon (a container's init).
	while ti_alive "$ND_SERVER_PID" && [ $n -gt 0 ]; do
		sleep 0.02
		n=$((n - 1))
	done
	ti_alive "$ND_SERVER_PID" && ti_kill "$ND_SERVER_PID"
	ND_SERVER_PID=
}

# nd_wait PATTERN [TIMEOUT_S=10]
nd_wait()
{
	local n=$((${2:-10} * 20))
	while [ $n -gt 0 ]; do
		grep -qE -- "$1" "$ND_LOG" 2>/dev/null && return 0
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

# nd_count PATTERN
nd_count()
{
	grep -cE -- "$1" "$ND_LOG" 2>/dev/null
	return 0
}

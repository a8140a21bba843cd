# tests/p11/pcscd.sh: a private pcscd with vsmartcard-vpcd readers, and the
# virtual PIV card (tests/vcard/vcard) plugged into it, for one test.
#
# Source it from a bash test, then:
#
#	. "$top_srcdir/tests/p11/pcscd.sh"
#	pcscd_start "$dir" || exit $?	# 77: pcscd/vpcd missing (1 under CI)
#	vcard_start "$dir/card.state" || exit 1
#	pkcs11-tool --module "$PCSCD_OPENSC_MODULE" -L
#	vcard_stop			# card removed
#	pcscd_stop			# also done on exit
#
# pcscd_start DIR starts pcscd in the foreground with a reader.conf.d of its
# own in DIR, whose vpcd reader listens on a free loopback-chosen port pair
# ($PCSCD_VPCD_PORT for "Virtual PCD 00 00", +1 for "... 00 01").  pcscd
# always serves its clients on /run/pcscd/pcscd.comm (it does not honour
# PCSCLITE_CSOCK_NAME; only libpcsclite does), so:
#   - when a private mount namespace is available (root, unshare -m), pcscd
#     runs in one with DIR/run bind-mounted on /run/pcscd: tests run in
#     parallel, each with its own pcscd;
#   - otherwise the tests take a global lock (/tmp/tokagent-pcscd.lock, or
#     $PCSCD_LOCK) for their whole life and share /run/pcscd.
# Either way PCSCLITE_CSOCK_NAME is exported pointing at this test's
# pcscd socket, so every PC/SC client the test starts (OpenSC, tokagent's
# helpers) talks to it.  A system pcscd is never used.
#
# Everything started here is killed on exit (an EXIT trap, chained in front
# of whatever EXIT trap the test had already installed: call pcscd_start
# after ti_setup).
#
# Variables set: PCSCD_DIR PCSCD_PID PCSCD_LOG PCSCD_VPCD_PORT
#	PCSCD_OPENSC_MODULE PCSCLITE_CSOCK_NAME (exported) VCARD_PID VCARD_LOG
# Environment understood: CI=true (missing tools fail instead of skip),
#	PCSCD_READER_NAME (the vpcd reader's name before " 00 00", default
#	"Virtual PCD"; Yubico's tools want a name with "Yubico YubiKey" in it),
#	PCSCD_NO_NAMESPACE=1 (force the lock mode), PCSCD_LOCK, VCARD_BIN,
#	VCARD_DEBUG=1 (vcard -dd), PCSCD_DEBUG=1 (pcscd -d -a).

PCSCD_VPCD_DRIVER=${PCSCD_VPCD_DRIVER:-/usr/lib/pcsc/drivers/serial/libifdvpcd.so}
PCSCD_OPENSC_MODULE=${PCSCD_OPENSC_MODULE:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
PCSCD_PID=
VCARD_PID=
pcscd__mode=
pcscd__trap_set=

pcscd__log() {
	echo "pcscd.sh: $*" >&2
}

# pcscd__missing WHAT: 77 to skip, or 1 under CI.
pcscd__missing() {
	if [ "${CI:-}" = true ]; then
		pcscd__log "FAIL (skip not allowed under CI=true): missing $*"
		return 1
	fi
	pcscd__log "SKIP: missing $*"
	return 77
}

# pcscd__port_used PORT: true when something listens on TCP PORT.
pcscd__port_used() {
	local hex
	hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
	    awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" { f = 1 } END { exit !f }'
}

pcscd__free_port_pair() {
	local i p
	for i in $(seq 1 50); do
		p=$(( 20000 + (RANDOM % 20000) * 2 ))
		if ! pcscd__port_used "$p" && ! pcscd__port_used $((p + 1)); then
			echo "$p"
			return 0
		fi
	done
	return 1
}

pcscd__install_trap() {
	local prev=
	[ -n "$pcscd__trap_set" ] && return 0
	eval "prev=$(trap -p EXIT | sed "s/^trap -- //; s/ EXIT\$//")"
	# Keep the exit status for the trap that follows (it may exit $?).
	# shellcheck disable=SC2064
	trap "pcscd__rc=\$?; pcscd__on_exit; (exit \$pcscd__rc); $prev" EXIT
	pcscd__trap_set=1
}

pcscd__on_exit() {
	vcard_stop
	pcscd_stop
}

# pcscd_start DIR: start the private pcscd (see above).  0, 77 (skip) or 1.
pcscd_start() {
	local dir=$1 i
	command -v pcscd >/dev/null 2>&1 || { pcscd__missing pcscd; return; }
	[ -r "$PCSCD_VPCD_DRIVER" ] ||
	    { pcscd__missing "vpcd driver (vsmartcard-vpcd)"; return; }
	mkdir -p "$dir/reader.conf.d" "$dir/run" || return 1
	PCSCD_DIR=$dir
	PCSCD_LOG=$dir/pcscd.log
	pcscd__install_trap

	if [ "${PCSCD_NO_NAMESPACE:-}" != 1 ] && [ "$(id -u)" = 0 ] &&
	    mkdir -p /run/pcscd 2>/dev/null &&
	    unshare -m --propagation private true 2>/dev/null; then
		pcscd__mode=ns
		PCSCLITE_CSOCK_NAME=$dir/run/pcscd.comm
	else
		pcscd__mode=lock
		command -v flock >/dev/null 2>&1 ||
		    { pcscd__missing flock; return; }
		exec 9>>"${PCSCD_LOCK:-/tmp/tokagent-pcscd.lock}" || return 1
		if ! flock -w 600 9; then
			pcscd__log "could not get the pcscd lock"
			return 1
		fi
		if [ -S /run/pcscd/pcscd.comm ] &&
		    [ -r /run/pcscd/pcscd.pid ] &&
		    kill -0 "$(cat /run/pcscd/pcscd.pid)" 2>/dev/null; then
			pcscd__log "another pcscd is running (pid" \
			    "$(cat /run/pcscd/pcscd.pid)); stop it first"
			return 1
		fi
		PCSCLITE_CSOCK_NAME=/run/pcscd/pcscd.comm
	fi
	export PCSCLITE_CSOCK_NAME

	PCSCD_VPCD_PORT=$(pcscd__free_port_pair) ||
	    { pcscd__log "no free port"; return 1; }
	cat > "$dir/reader.conf.d/vpcd" <<EOF
FRIENDLYNAME "${PCSCD_READER_NAME:-Virtual PCD}"
DEVICENAME   /dev/null:$PCSCD_VPCD_PORT
LIBPATH      $PCSCD_VPCD_DRIVER
CHANNELID    $PCSCD_VPCD_PORT
EOF
	local dbg=
	[ "${PCSCD_DEBUG:-}" = 1 ] && dbg="-d -a"
	if [ "$pcscd__mode" = ns ]; then
		# shellcheck disable=SC2086
		unshare -m --propagation private sh -c \
		    'mount --bind "$1" /run/pcscd && shift && exec "$@"' \
		    sh "$dir/run" pcscd -f $dbg -c "$dir/reader.conf.d" \
		    >"$PCSCD_LOG" 2>&1 9>&- &
	else
		# shellcheck disable=SC2086
		pcscd -f $dbg -c "$dir/reader.conf.d" >"$PCSCD_LOG" 2>&1 9>&- &
	fi
	PCSCD_PID=$!
	for i in $(seq 1 100); do
		if ! kill -0 "$PCSCD_PID" 2>/dev/null; then
			pcscd__log "pcscd died:"; cat "$PCSCD_LOG" >&2
			PCSCD_PID=
			return 1
		fi
		if [ -S "$PCSCLITE_CSOCK_NAME" ] &&
		    pcscd__port_used "$PCSCD_VPCD_PORT"; then
			return 0
		fi
		sleep 0.1
	done
	pcscd__log "pcscd not ready after 10s:"; cat "$PCSCD_LOG" >&2
	return 1
}

# ti_pcscd_start: for an integration test (tests/integ/lib.sh): the private
# pcscd in $TI_DIR/pcscd, or the test skips (nothing to run it with) or
# fails.
ti_pcscd_start() {
	pcscd_start "$TI_DIR/pcscd"
	case $? in
	0) ;;
	77) ti_skip "pcscd or vpcd missing" ;;
	*) ti_fail "pcscd did not start" ;;
	esac
}

# pcscd__kill PID: TERM, then KILL after 3s; reaps it.
pcscd__kill() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 1 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# pcscd_stop: stop pcscd (and the card), release the lock.
pcscd_stop() {
	vcard_stop
	if [ -n "$PCSCD_PID" ]; then
		pcscd__kill "$PCSCD_PID"
		PCSCD_PID=
	fi
	if [ "$pcscd__mode" = lock ]; then
		exec 9>&-
	fi
	pcscd__mode=
	return 0
}

# pcscd_card_present [READER_INDEX]: true when pcscd sees a card in the
# vpcd reader (default 0, "Virtual PCD 00 00").
pcscd_card_present() {
	opensc-tool -l 2>/dev/null |
	    awk -v n="${1:-0}" '$1 == n && $2 == "Yes" { f = 1 } END { exit !f }'
}

# vcard_start STATE [VCARD_ARGS...]: insert the virtual card kept in file
# STATE (created when absent) into reader 00 00 and wait until pcscd sees
# it.  0 or 1.
vcard_start() {
	local state=$1 i bin
	shift
	bin=${VCARD_BIN:-${top_builddir:-.}/tests/vcard/vcard}
	[ -x "$bin" ] || { pcscd__log "no vcard binary at $bin"; return 1; }
	[ -n "$PCSCD_PID" ] || { pcscd__log "pcscd is not running"; return 1; }
	command -v opensc-tool >/dev/null 2>&1 ||
	    { pcscd__log "opensc-tool missing"; return 1; }
	VCARD_LOG=${VCARD_LOG:-$PCSCD_DIR/vcard.log}
	local dbg=
	[ "${VCARD_DEBUG:-}" = 1 ] && dbg=-dd
	# shellcheck disable=SC2086
	"$bin" --state "$state" --port "$PCSCD_VPCD_PORT" --wait 10 --once \
	    $dbg "$@" >>"$VCARD_LOG" 2>&1 9>&- &
	VCARD_PID=$!
	for i in $(seq 1 100); do
		if ! kill -0 "$VCARD_PID" 2>/dev/null; then
			pcscd__log "vcard died:"; cat "$VCARD_LOG" >&2
			VCARD_PID=
			return 1
		fi
		pcscd_card_present && return 0
		sleep 0.1
	done
	pcscd__log "card not seen by pcscd after 10s"; cat "$VCARD_LOG" >&2
	return 1
}

# vcard_stop: remove the card (kill vcard) and wait until pcscd sees it gone.
vcard_stop() {
	local i
	[ -n "$VCARD_PID" ] || return 0
	pcscd__kill "$VCARD_PID"
	VCARD_PID=
	[ -n "$PCSCD_PID" ] || return 0
	for i in $(seq 1 50); do
		pcscd_card_present || return 0
		sleep 0.1
	done
	pcscd__log "card still present after vcard exited"
	return 1
}

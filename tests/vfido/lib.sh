# Shared helpers for the vfido shell tests (sourced, not run).
# Each test gets a private temporary directory; every vfido it starts is
# killed on exit.

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
VFIDO="$top_builddir/tests/vfido/vfido"
FIDOTOOL="$top_builddir/tests/vfido/fidotool"
for f in "$VFIDO" "$FIDOTOOL"; do
	if [ ! -x "$f" ]; then
		echo "missing $f (make check builds it)" >&2
		exit 1
	fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/vfido.XXXXXX") || exit 1
VF_PIDS=""

vf_cleanup() {
	for p in $VF_PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $VF_PIDS; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap vf_cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*" >&2
	[ -n "$OUT" ] && echo "last output: $OUT" >&2
	for l in "$T"/*.log; do
		[ -s "$l" ] && { echo "--- $l" >&2; tail -20 "$l" >&2; }
	done
	exit 1
}

# vf_start NAME [vfido options...]: start a token; its device is unix:$T/NAME.sock
vf_start() {
	name=$1
	shift
	rm -f "$T/$name.sock"
	"$VFIDO" --state "$T/$name.state" --socket "$T/$name.sock" \
	    --control "$T/$name.ctl" "$@" 2>>"$T/$name.log" &
	eval "VF_PID_$name=$!"
	VF_PIDS="$VF_PIDS $!"
	i=0
	while [ ! -S "$T/$name.sock" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "vfido $name did not start"
		sleep 0.05
	done
}

# vf_stop NAME: unplug (SIGKILL, so no clean shutdown is assumed).
vf_stop() {
	eval "p=\$VF_PID_$1"
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	rm -f "$T/$1.sock" "$T/$1.ctl"
}

dev() {
	echo "unix:$T/$1.sock"
}

# ok CMD...: run fidotool, must succeed; output in $OUT
ok() {
	OUT=$("$FIDOTOOL" "$@" 2>&1) || fail "fidotool $* failed"
}

# ko PATTERN CMD...: run fidotool, must fail with PATTERN in the output
ko() {
	pat=$1
	shift
	if OUT=$("$FIDOTOOL" "$@" 2>&1); then
		fail "fidotool $* succeeded, wanted $pat"
	fi
	case "$OUT" in
	*"$pat"*) ;;
	*) fail "fidotool $*: wanted $pat" ;;
	esac
}

# has PATTERN: the last output contains PATTERN
has() {
	case "$OUT" in
	*"$1"*) ;;
	*) fail "output lacks '$1'" ;;
	esac
}

# ctl NAME LINE...: control socket; replies in $OUT
ctl() {
	name=$1
	shift
	OUT=$("$FIDOTOOL" ctl "$T/$name.ctl" "$@") || fail "ctl $name $*"
}

# sigcount: the sigcount= of the last output
sigcount() {
	echo "$OUT" | sed -n 's/^ok .*sigcount=\([0-9]*\).*/\1/p'
}

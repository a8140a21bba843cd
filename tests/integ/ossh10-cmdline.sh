#!/bin/bash
# tests/integ/ossh10-cmdline.sh: OpenSSH 10's socket options, run against
# the agent under test (tokagent, or OpenSSH 10.5's ssh-agent through
# TEST_AGENT=openssh10, which must behave the same):
#   - without XDG_RUNTIME_DIR the default socket is OpenSSH 10's
#     ~/.ssh/agent/s.<host hash>.agent.<10 random>, the host hash being
#     OpenSSH's (computed here independently), directories 0700;
#   - -T: $TMPDIR/ssh-XXXXXXXXXXXX/agent.<ppid>, removed with the agent,
#     also when -a is given;
#   - -u cleans stale sockets of this host that are over an hour old and
#     exits; live sockets, recent ones, other hosts' and non-sockets stay;
#     -uu also cleans other hosts'; -u with a command is a usage error;
#   - a default start cleans like -u; -U does not; -a and -T do not;
#   - tokagent only: with XDG_RUNTIME_DIR the socket stays there (the
#     documented default) and the start still cleans ~/.ssh/agent/.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
ti_require_cmd python3

if ti_is_openssh_agent && ! strings "$TEST_AGENT" | grep -q "stale agent sockets"; then
	ti_skip "$TEST_AGENT predates ~/.ssh/agent (OpenSSH 10.1)"
fi
export HOME=$TI_DIR/home TMPDIR=$TI_DIR/tmp
mkdir -p "$HOME" "$TMPDIR"
unset XDG_RUNTIME_DIR
SD=$HOME/.ssh/agent
HASH=$(python3 -c 'import hashlib, socket
c = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
d = hashlib.sha512(socket.gethostname().encode()).digest()
print("".join(c[b % 62] for b in d[:10]))') || ti_fail "host hash"
ti_log "host hash $HASH"

# start_agent ARGS...: daemonise the agent with -s ARGS; sets SOCK, PID.
start_agent()
{
	local out
	out=$("$TEST_AGENT" -s "$@" 2>"$TI_DIR/start.err") ||
	    ti_fail "$TEST_AGENT -s $*: $(cat "$TI_DIR/start.err")"
	SOCK=$(printf '%s\n' "$out" | sed -n 's/^SSH_AUTH_SOCK=\([^;]*\);.*/\1/p')
	PID=$(printf '%s\n' "$out" | sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p')
	[ -n "$SOCK" ] && [ -n "$PID" ] || ti_fail "no SSH_AUTH_SOCK/PID in: $out"
	echo "$PID" >>"$TI_DIR/pids"
	[ -S "$SOCK" ] || ti_fail "no socket at $SOCK"
	SSH_AUTH_SOCK=$SOCK ssh-add -l >/dev/null 2>&1
	[ $? = 1 ] || ti_fail "the agent at $SOCK does not answer"
}
stop_agent()
{
	SSH_AGENT_PID=$PID "$TEST_AGENT" -k >/dev/null ||
	    ti_fail "$TEST_AGENT -k"
	for _ in $(seq 100); do
		ti_alive "$PID" || break
		sleep 0.05
	done
	ti_alive "$PID" && ti_fail "agent $PID still running after -k"
	[ -e "$SOCK" ] && ti_fail "socket $SOCK left behind"
	return 0
}
mode() { stat -c %a "$1"; }

# make_sock PATH AGE_S: a socket nobody listens on, AGE_S seconds old.
make_sock()
{
	python3 -c 'import os, socket, sys, time
p, age = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX)
s.bind(p)
s.close()
t = time.time() - age
os.utime(p, (t, t))' "$1" "$2" || ti_fail "make_sock $1"
}
# age PATH AGE_S: set PATH's times AGE_S seconds back.
age()
{
	python3 -c 'import os, sys, time
t = time.time() - int(sys.argv[2]); os.utime(sys.argv[1], (t, t))' \
	    "$1" "$2" || ti_fail "age $1"
}
# populate: the stale-socket scene in ~/.ssh/agent/.
populate()
{
	rm -rf "$SD"
	mkdir -p -m 700 "$HOME/.ssh" "$SD"
	make_sock "$SD/s.$HASH.agent.staleAAAAA" 7200
	make_sock "$SD/s.$HASH.agent.recentBBBB" 60
	make_sock "$SD/s.0therH0st.agent.otherCCCC" 7200
	make_sock "$SD/unrelated-name" 7200
	: >"$SD/s.$HASH.agent.fileDDDDDD"
	age "$SD/s.$HASH.agent.fileDDDDDD" 7200
	# A live socket, old: an agent listening there.
	LIVE=$(TI_BG_LOG=$TI_DIR/live.log ti_bg "$TEST_AGENT" -D \
	    -a "$SD/s.$HASH.agent.liveEEEEEE")
	ti_wait_for_socket "$SD/s.$HASH.agent.liveEEEEEE" 10 "$LIVE" ||
	    ti_fail "live agent did not start"
	age "$SD/s.$HASH.agent.liveEEEEEE" 7200
}
# expect_left NAME...: exactly these entries remain in ~/.ssh/agent/.
expect_left()
{
	local want got
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	got=$(ls -A "$SD" | sort | tr '\n' ' ')
	[ "$want" = "$got" ] ||
	    ti_fail "left in ~/.ssh/agent: '$got', want '$want'"
}

# --- default socket
start_agent
case $SOCK in
"$SD"/s."$HASH".agent.??????????) ;;
*) ti_fail "default socket $SOCK is not $SD/s.$HASH.agent.XXXXXXXXXX" ;;
esac
[[ $(basename "$SOCK") =~ ^s\.$HASH\.agent\.[A-Za-z0-9]{10}$ ]] ||
    ti_fail "socket name $(basename "$SOCK")"
ti_assert_eq 700 "$(mode "$HOME/.ssh")" "~/.ssh mode"
ti_assert_eq 700 "$(mode "$SD")" "~/.ssh/agent mode"
ti_assert_eq 600 "$(mode "$SOCK")" "socket mode"
stop_agent

# --- -T
start_agent -T
[[ $SOCK =~ ^$TMPDIR/ssh-[A-Za-z0-9]{12}/agent\.[0-9]+$ ]] ||
    ti_fail "-T socket $SOCK is not \$TMPDIR/ssh-XXXXXXXXXXXX/agent.<ppid>"
TDIR=$(dirname "$SOCK")
ti_assert_eq 700 "$(mode "$TDIR")" "-T directory mode"
stop_agent
[ -e "$TDIR" ] && ti_fail "-T directory $TDIR left behind"
# -T wins over -a (as in OpenSSH's ssh-agent).
start_agent -T -a "$TI_DIR/ignored.sock"
[[ $SOCK =~ ^$TMPDIR/ssh-[A-Za-z0-9]{12}/agent\.[0-9]+$ ]] ||
    ti_fail "-T -a: socket $SOCK"
[ -e "$TI_DIR/ignored.sock" ] && ti_fail "-T -a bound the -a path"
stop_agent

# --- -u, -uu
populate
out=$("$TEST_AGENT" -u 2>&1) || ti_fail "-u failed: $out"
ti_assert_eq "Deleted stale agent sockets in ~/.ssh/agent" "$out" "-u output"
expect_left "s.$HASH.agent.recentBBBB" "s.0therH0st.agent.otherCCCC" \
    unrelated-name "s.$HASH.agent.fileDDDDDD" "s.$HASH.agent.liveEEEEEE"
ti_alive "$LIVE" || ti_fail "-u killed a live agent"
"$TEST_AGENT" -uu >/dev/null 2>&1 || ti_fail "-uu failed"
# unrelated-name: no host hash to compare, so -uu takes it too (stale, old)
expect_left "s.$HASH.agent.recentBBBB" "s.$HASH.agent.fileDDDDDD" \
    "s.$HASH.agent.liveEEEEEE"
ti_kill "$LIVE"
ti_expect_fail "-u with a command" "$TEST_AGENT" -u true
ti_expect_fail "-u with -D" "$TEST_AGENT" -u -D true

# --- a default start cleans; -U, -a and -T do not
populate
start_agent -U
stop_agent
[ -S "$SD/s.$HASH.agent.staleAAAAA" ] || ti_fail "-U cleaned a stale socket"
start_agent -T
stop_agent
[ -S "$SD/s.$HASH.agent.staleAAAAA" ] || ti_fail "-T cleaned a stale socket"
start_agent -a "$TI_DIR/fixed.sock"
stop_agent
[ -S "$SD/s.$HASH.agent.staleAAAAA" ] || ti_fail "-a cleaned a stale socket"
start_agent
[ -e "$SD/s.$HASH.agent.staleAAAAA" ] &&
    ti_fail "a default start left a stale socket"
[ -S "$SD/s.0therH0st.agent.otherCCCC" ] ||
    ti_fail "a default start cleaned another host's socket"
[ -S "$SD/s.$HASH.agent.liveEEEEEE" ] ||
    ti_fail "a default start removed a live socket"
stop_agent
ti_kill "$LIVE"

# --- tokagent: XDG_RUNTIME_DIR stays the default, ~/.ssh/agent is cleaned
if ! ti_is_openssh_agent; then
	populate
	ti_kill "$LIVE"
	export XDG_RUNTIME_DIR=$TI_DIR/xdg
	mkdir -p -m 700 "$XDG_RUNTIME_DIR"
	start_agent
	# mkdtemp replaces six X: tokagent.XXXXXX, all six random.
	[[ $SOCK =~ ^$XDG_RUNTIME_DIR/tokagent\.[A-Za-z0-9]{6}/agent\.[0-9]+$ ]] ||
	    ti_fail "socket $SOCK not under XDG_RUNTIME_DIR"
	[ -e "$SD/s.$HASH.agent.staleAAAAA" ] &&
	    ti_fail "start with XDG_RUNTIME_DIR left a stale socket"
	stop_agent
	unset XDG_RUNTIME_DIR
fi
ti_log "ok"
exit 0

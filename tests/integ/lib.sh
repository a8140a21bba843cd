# tests/integ/lib.sh: shared helpers for tokagent's shell integration tests.
#
# Source it from a test, then call ti_setup:
#
#	. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
#	ti_setup
#
# A test exits 0 (pass), 77 (skip; turned into a failure when CI=true) or
# anything else (fail).  Every test gets a private directory $TI_DIR; all
# processes started with ti_bg (agents, sshd, daemons) are killed, with their
# process groups, when the test exits.
#
# Environment understood:
#	top_srcdir, top_builddir	set by `make check`; default: this repo
#	TEST_AGENT	agent under test (default $top_builddir/agent/tokagent);
#			TEST_AGENT=/usr/bin/ssh-agent runs the suite against
#			OpenSSH's agent, TEST_AGENT=openssh10 against OpenSSH
#			10.5's ($OPENSSH10_BIN/ssh-agent)
#	TI_TOOLS	which OpenSSH tools the test drives: "system" (default:
#			Debian's ssh, ssh-add, ssh-keygen in $PATH and
#			/usr/sbin/sshd) or "openssh10" (those of OpenSSH 10.5
#			in $OPENSSH10_BIN, put first in $PATH, and its sshd)
#	OPENSSH10_BIN	directory of the OpenSSH 10.5 tools (made by
#			tests/openssh10/build.sh; make check passes it)
#	TI_SK_MODULE	the OpenSSH middleware the FIDO tests load (default
#			the build tree's tokagent-sk.so)
#	TI_INSTALLCHECK=yes	(a make variable) `make installcheck` runs
#			INSTALLCHECK_TESTS (tests/integ/pkg.mk) with TEST_AGENT,
#			TI_SK_MODULE and the TI_*_DIR of tests/integ/pkg.mk
#			pointing into the installed tree ($DESTDIR$prefix)
#	TI_AGENT_WRAPPER	command prefix for the agent (e.g. valgrind ...;
#			see tests/valgrind/check); with it, stopped processes get
#			10 s instead of 2 s between TERM and KILL
#	SSHD_BIN	sshd to run (default /usr/sbin/sshd)
#	TI_SSHD_PUBKEY_ALGS	more algorithms for ti_start_sshd's
#			PubkeyAcceptedAlgorithms (sshd takes a keyword's first
#			value only, so extra config lines cannot add them)
#	TI_DEBUG=1	agent started with -d (debug log), bash xtrace off
#	TI_KEEP=1	keep $TI_DIR after the test (its path is printed)
#	TI_TIMEOUT	seconds after which a test that has not ended is
#			stopped and fails (default 900)
#	CI=true		skips become failures
#
# Variables set for the test:
#	TI_DIR TI_SRC TI_BUILD TEST_AGENT TI_LAST_PID TI_TOOLS
#	TI_AGENT_SOCK TI_AGENT_LOG TI_AGENT_PID (after ti_start_agent)
#	SSH_AUTH_SOCK (exported by ti_start_agent)
#	TI_SSHD_PORT_<NAME> (after ti_start_sshd NAME; also ti_sshd_port NAME)
#
# Shell: bash (the tests run under $(SHELL), which is bash on the CI image;
# the library uses `local`, arrays and $RANDOM).

if [ -z "${BASH_VERSION:-}" ]; then
	echo "tests/integ/lib.sh needs bash" >&2
	exit 1
fi

ti__libdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ti_log MSG...: a progress line on stderr (kept in the test's .log file).
ti_log()
{
	echo "== $(date +%T) $*" >&2
}

# ti_setup: private temp dir, cleanup trap, set -u, default paths.
ti_setup()
{
	set -u
	TI_SRC=${top_srcdir:-$(cd "$ti__libdir/../.." && pwd)}
	TI_BUILD=${top_builddir:-$TI_SRC}
	export top_srcdir=$TI_SRC top_builddir=$TI_BUILD
	TEST_AGENT=${TEST_AGENT:-$TI_BUILD/agent/tokagent}
	export TEST_AGENT
	SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}
	TI_TOOLS=${TI_TOOLS:-system}
	case $TI_TOOLS in
	system) ;;
	openssh10)
		ti_require_openssh10
		PATH=$OPENSSH10_BIN:$PATH
		SSHD_BIN=$OPENSSH10_BIN/sshd
		export PATH SSHD_BIN
		;;
	*)
		echo "ti_setup: unknown TI_TOOLS=$TI_TOOLS" >&2
		exit 1
		;;
	esac
	export TI_TOOLS
	if [ "$TEST_AGENT" = openssh10 ]; then
		ti_require_openssh10
		TEST_AGENT=$OPENSSH10_BIN/ssh-agent
	fi
	# Unix socket paths are limited to ~107 bytes: keep $TI_DIR short.
	TI_DIR=$(mktemp -d "${TI_TMPDIR:-/tmp}/ti.XXXXXX") || {
		echo "ti_setup: mktemp failed" >&2
		exit 1
	}
	chmod 700 "$TI_DIR"
	: >"$TI_DIR/pids"
	: >"$TI_DIR/ssh_config"
	: >"$TI_DIR/known_hosts"
	TI_LAST_PID=
	TI_AGENT_PID=
	TI_AGENT_SOCK=${TI_AGENT_SOCK:-$TI_DIR/agent.sock}
	TI_AGENT_LOG=${TI_AGENT_LOG:-$TI_DIR/agent.log}
	# Never talk to an agent or askpass of the person running the tests.
	unset SSH_AUTH_SOCK SSH_AGENT_PID SSH_ASKPASS SSH_ASKPASS_REQUIRE
	# No real desktop notifications from tests run in a desktop session.
	unset DBUS_SESSION_BUS_ADDRESS
	export HOME_ORIG=${HOME:-}
	trap 'ti__cleanup' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# One owner for the test's own deadline: a test that hangs fails
	# after TI_TIMEOUT seconds instead of holding make check forever.
	# Started from a subshell, so it is no job of the test (a "wait"
	# in a test must not wait for it).
	(ti__watchdog "${TI_TIMEOUT:-900}" $$ &
	    echo $! >"$TI_DIR/watchdog.pid")
	ti_log "test $(basename "$0"), agent $TEST_AGENT, dir $TI_DIR"
	ti_log "tools $TI_TOOLS: $(ssh -V 2>&1), sshd $SSHD_BIN"
}

# ti_require_openssh10: skip (fail under CI) unless $OPENSSH10_BIN holds the
# OpenSSH 10.5 tools (tests/openssh10/build.sh builds them).
ti_require_openssh10()
{
	local t
	for t in ssh ssh-add ssh-keygen ssh-agent sshd sshd-session; do
		[ -n "${OPENSSH10_BIN:-}" ] && [ -x "$OPENSSH10_BIN/$t" ] ||
		    ti_skip "no OpenSSH 10.5 $t in OPENSSH10_BIN" \
			"(${OPENSSH10_BIN:-unset}; run tests/openssh10/build.sh)"
	done
}

# ti_tools_openssh10: true when the test drives OpenSSH 10.5's tools.
ti_tools_openssh10()
{
	[ "$TI_TOOLS" = openssh10 ]
}

# ti__term_wait: how many 50 ms steps a process gets to exit after TERM
# before KILL.  An agent under valgrind needs longer: it checks its heap for
# leaks as it exits, and a KILL would lose that report.
ti__term_wait()
{
	if [ -n "${TI_AGENT_WRAPPER:-}" ]; then
		echo 200
	else
		echo 40
	fi
}

# ti__kill_all: TERM every registered process group, then KILL stragglers.
ti__kill_all()
{
	local pid pids=() i alive
	[ -f "$TI_DIR/pids" ] || return 0
	while read -r pid; do
		[ -n "$pid" ] && pids+=("$pid")
	done <"$TI_DIR/pids"
	[ ${#pids[@]} -gt 0 ] || return 0
	for pid in "${pids[@]}"; do
		kill -TERM -- "-$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
	done
	for i in $(seq 1 "$(ti__term_wait)"); do
		alive=0
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.05
	done
	for pid in "${pids[@]}"; do
		kill -KILL -- "-$pid" 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
	done
	: >"$TI_DIR/pids"
	return 0
}

# ti__tree_pids PID: PID's descendants, from /proc (pgrep may be what
# hangs), deepest last.
ti__tree_pids()
{
	local f s ppid pid
	for f in /proc/[0-9]*/stat; do
		s=$(cat "$f" 2>/dev/null) || continue
		pid=${s%% *}
		s=${s##*) }
		ppid=${s#* }
		ppid=${ppid%% *}
		if [ "$ppid" = "$1" ]; then
			echo "$pid"
			ti__tree_pids "$pid"
		fi
	done
}

# ti__watchdog SECONDS PID: after SECONDS, stop the test PID and what it
# started (not this watchdog), so that it fails with a clear message.
ti__watchdog()
{
	local t=$1 main=$2 me sig pid
	trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
	sleep "$t" &
	sleeper=$!
	wait "$sleeper" || exit 0
	me=$BASHPID
	echo "ti: FAIL: the test did not end within $t s (TI_TIMEOUT)" >&2
	for sig in TERM KILL; do
		for pid in $(ti__tree_pids "$main"); do
			[ "$pid" = "$me" ] || kill -"$sig" "$pid" 2>/dev/null
		done
		kill -"$sig" "$main" 2>/dev/null
		sleep 5
	done
	exit 0
}

ti__cleanup()
{
	local rc=$?
	trap - EXIT INT TERM
	set +u
	[ -s "$TI_DIR/watchdog.pid" ] &&
	    kill "$(cat "$TI_DIR/watchdog.pid")" 2>/dev/null
	ti__kill_all
	if [ "${TI_KEEP:-0}" = 1 ]; then
		echo "ti: kept $TI_DIR" >&2
	else
		rm -rf "$TI_DIR"
	fi
	exit $rc
}

# ti_bg CMD...: run CMD in the background in its own process group (setsid),
# stdin from /dev/null, stdout+stderr appended to $TI_BG_LOG (default
# $TI_DIR/bg.<n>.log).  Registers the pid for cleanup (also when called
# inside $(...)), sets TI_LAST_PID and prints the pid.
ti_bg()
{
	local log=${TI_BG_LOG:-$TI_DIR/bg.$$.$RANDOM.log} pid
	setsid "$@" </dev/null >>"$log" 2>&1 &
	pid=$!
	echo "$pid" >>"$TI_DIR/pids"
	TI_LAST_PID=$pid
	echo "$pid"
}

# ti_kill PID: stop one process started with ti_bg (and its group); waits.
ti_kill()
{
	local pid=$1 i
	kill -TERM -- "-$pid" 2>/dev/null
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 "$(ti__term_wait)"); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	kill -KILL -- "-$pid" 2>/dev/null
	kill -KILL "$pid" 2>/dev/null
	return 0
}

# ti_alive PID: true when the process exists (and is not a zombie).
ti_alive()
{
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
	[ "$st" != Z ]
}

# ti_free_port: print a TCP port in 20000-60000 nobody listens on at
# 127.0.0.1.  Random to keep parallel tests apart; callers that bind should
# still retry on EADDRINUSE (ti_start_sshd does).
ti_free_port()
{
	local port i py
	py=$(command -v python3 2>/dev/null || true)
	[ -x /usr/bin/python3 ] && py=/usr/bin/python3
	for i in $(seq 1 50); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		if [ -n "$py" ]; then
			"$py" -c 'import socket,sys
s=socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$port" 2>/dev/null || continue
		else
			(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
		fi
		echo "$port"
		return 0
	done
	echo "ti_free_port: no free port found" >&2
	return 1
}

# ti_wait_for_socket PATH [TIMEOUT_S=10] [PID]: wait until PATH is a socket
# (and, when PID is given, give up early if that process died).
ti_wait_for_socket()
{
	local path=$1 timeout=${2:-10} pid=${3:-} n
	n=$((timeout * 20))
	while [ $n -gt 0 ]; do
		[ -S "$path" ] && return 0
		if [ -n "$pid" ] && ! ti_alive "$pid"; then
			return 1
		fi
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

# ti_wait_for_port PORT [TIMEOUT_S=10] [PID]: wait until 127.0.0.1:PORT
# accepts connections.
ti_wait_for_port()
{
	local port=$1 timeout=${2:-10} pid=${3:-} n
	n=$((timeout * 20))
	while [ $n -gt 0 ]; do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		if [ -n "$pid" ] && ! ti_alive "$pid"; then
			return 1
		fi
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

# ti_is_openssh_agent: true when TEST_AGENT is OpenSSH's ssh-agent (so
# tokagent-only checks must be skipped).
ti_is_openssh_agent()
{
	case $(basename "$TEST_AGENT") in
	ssh-agent*) return 0 ;;
	esac
	if [ -n "${SSH_AGENT_BIN:-}" ] && [ -e "$SSH_AGENT_BIN" ] &&
	    [ "$TEST_AGENT" -ef "$SSH_AGENT_BIN" ]; then
		return 0
	fi
	return 1
}

# ti_tokagent_only WHAT: skip the whole test (exit 77, also under CI) when
# the agent under test is OpenSSH's.  For one step inside a test use
# `if ! ti_is_openssh_agent; then ...; fi` instead.
ti_tokagent_only()
{
	if ti_is_openssh_agent; then
		echo "SKIP: tokagent-only: $*" >&2
		exit 77
	fi
}

# ti_require_cmd CMD...: ti_skip unless every command exists.
ti_require_cmd()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || ti_skip "missing command: $c"
	done
}

# ti__tail_logs: the end of every log in $TI_DIR, for failure reports.
ti__tail_logs()
{
	local f
	for f in "$TI_DIR"/*.log "$TI_DIR"/sshd-*/log; do
		[ -s "$f" ] || continue
		echo "---- tail of ${f#"$TI_DIR"/} ----" >&2
		tail -n "${TI_TAIL_LINES:-40}" "$f" >&2
	done
}

# ti_fail MSG...: report failure with the tails of all logs, exit 1.
ti_fail()
{
	echo "FAIL: $*" >&2
	ti__tail_logs
	exit 1
}

# ti_skip MSG...: exit 77, or fail when CI=true (nothing may skip in CI).
ti_skip()
{
	if [ "${CI:-}" = true ]; then
		echo "FAIL (skip not allowed under CI=true): $*" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}

# ti_assert_eq EXPECTED ACTUAL [WHAT]
ti_assert_eq()
{
	if [ "$1" != "$2" ]; then
		ti_fail "${3:-assertion}: expected '$1', got '$2'"
	fi
}

# ti_assert_contains HAYSTACK NEEDLE [WHAT]
ti_assert_contains()
{
	case $1 in
	*"$2"*) ;;
	*) ti_fail "${3:-assertion}: '$2' not found in: $1" ;;
	esac
}

# ti_assert_not_contains HAYSTACK NEEDLE [WHAT]
ti_assert_not_contains()
{
	case $1 in
	*"$2"*) ti_fail "${3:-assertion}: '$2' unexpectedly found in: $1" ;;
	esac
}

# ti_expect_ok WHAT CMD...: run CMD, fail the test unless it exits 0.
ti_expect_ok()
{
	local what=$1 rc
	shift
	"$@" >"$TI_DIR/last.out" 2>&1
	rc=$?
	[ $rc = 0 ] || { cat "$TI_DIR/last.out" >&2; ti_fail "$what (exit $rc): $*"; }
	return 0
}

# ti_expect_fail WHAT CMD...: run CMD, fail the test if it exits 0.
ti_expect_fail()
{
	local what=$1
	shift
	if "$@" >"$TI_DIR/last.out" 2>&1; then
		cat "$TI_DIR/last.out" >&2
		ti_fail "$what: unexpectedly succeeded: $*"
	fi
	return 0
}

# ti_keygen TYPE BITS FILE [COMMENT]: a key without passphrase.  BITS may be
# empty or "-" for the type's default.
ti_keygen()
{
	local type=$1 bits=${2:-} file=$3 comment=${4:-"ti-$1@$(basename "$3")"}
	local args=(-q -t "$type" -N '' -C "$comment" -f "$file")
	[ -n "$bits" ] && [ "$bits" != - ] && args+=(-b "$bits")
	rm -f "$file" "$file.pub"
	ssh-keygen "${args[@]}" </dev/null >/dev/null ||
	    ti_fail "ssh-keygen -t $type ${bits:+-b $bits} failed"
}

# ti_fp PUBFILE: the SHA256 fingerprint of a key file.
ti_fp()
{
	ssh-keygen -l -E sha256 -f "$1" | awk '{print $2}'
}

# ti_sshd_dir NAME: create (if needed) and print sshd NAME's directory.  Put
# user_ca.pub there before ti_start_sshd to enable TrustedUserCAKeys.
ti_sshd_dir()
{
	local d=$TI_DIR/sshd-$1
	mkdir -p "$d" && chmod 700 "$d"
	: >>"$d/authorized_keys"
	echo "$d"
}

# ti_make_user_ca NAME [TYPE=ed25519]: a user CA for sshd NAME, written to
# $TI_DIR/sshd-NAME/user_ca (+ .pub); call before ti_start_sshd NAME.
ti_make_user_ca()
{
	local d
	d=$(ti_sshd_dir "$1")
	ti_keygen "${2:-ed25519}" - "$d/user_ca" "ti-user-ca-$1"
}

# ti_certify CAKEY PUBFILE [PRINCIPALS=$(id -un)] [ssh-keygen -s options...]:
# sign PUBFILE (KEY.pub) with CAKEY into KEY-cert.pub beside it.
ti_certify()
{
	local ca=$1 pub=$2 principals=${3:-$(id -un)}
	shift 3 2>/dev/null || shift $#
	ssh-keygen -q -s "$ca" -I "ti-cert-$(basename "$pub" .pub)" \
	    -n "$principals" -V -5m:+1h "$@" "$pub" </dev/null >/dev/null 2>&1 ||
	    ti_fail "ssh-keygen -s $ca $pub failed"
}

# ti_authorize NAME PUBFILE [OPTIONS]: allow PUBFILE to log in to sshd NAME
# (OPTIONS is an authorized_keys options prefix, e.g. 'restrict').
ti_authorize()
{
	local d
	d=$(ti_sshd_dir "$1")
	if [ -n "${3:-}" ]; then
		printf '%s %s\n' "$3" "$(cat "$2")" >>"$d/authorized_keys"
	else
		cat "$2" >>"$d/authorized_keys"
	fi
}

# ti_sshd_port NAME: the port sshd NAME listens on.
ti_sshd_port()
{
	local v="TI_SSHD_PORT_$1"
	echo "${!v}"
}

# ti_start_sshd NAME [EXTRA_CONFIG_LINE...]: a private sshd on a free
# loopback port, running as the current user, logging at DEBUG3 to
# $TI_DIR/sshd-NAME/log (sshd -E, so nothing leaks to the client); adds Host
# NAME to $TI_DIR/ssh_config and its host key to $TI_DIR/known_hosts.  NAME
# must be a shell identifier ([A-Za-z0-9_]).  Returns once the port accepts
# connections.
ti_start_sshd()
{
	local name=$1 d port pid attempt line user
	shift
	d=$(ti_sshd_dir "$name")
	user=$(id -un)
	[ -x "$SSHD_BIN" ] || ti_skip "no sshd at $SSHD_BIN"
	if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then
		mkdir -p -m 0755 /run/sshd || ti_fail "cannot create /run/sshd"
	fi
	[ -f "$d/host_ed25519" ] ||
	    ti_keygen ed25519 - "$d/host_ed25519" "ti-host-$name"
	for attempt in 1 2 3 4 5; do
		port=$(ti_free_port) || ti_fail "no free port"
		{
			echo "ListenAddress 127.0.0.1:$port"
			echo "HostKey $d/host_ed25519"
			echo "PidFile $d/sshd.pid"
			echo "AuthorizedKeysFile $d/authorized_keys"
			echo "StrictModes no"
			echo "PermitRootLogin yes"
			echo "PubkeyAuthentication yes"
			echo "PasswordAuthentication no"
			echo "KbdInteractiveAuthentication no"
			echo "HostbasedAuthentication no"
			echo "UsePAM no"
			echo "UseDNS no"
			echo "PrintMotd no"
			echo "PrintLastLog no"
			echo "MaxAuthTries 50"
			echo "MaxStartups 100"
			echo "AllowAgentForwarding yes"
			echo "AllowTcpForwarding yes"
			echo "X11Forwarding no"
			echo "LogLevel DEBUG3"
			echo "PubkeyAcceptedAlgorithms +ssh-rsa,ssh-rsa-cert-v01@openssh.com${TI_SSHD_PUBKEY_ALGS:+,$TI_SSHD_PUBKEY_ALGS}"
			[ -f "$d/user_ca.pub" ] &&
			    echo "TrustedUserCAKeys $d/user_ca.pub"
			for line in "$@"; do
				echo "$line"
			done
		} >"$d/sshd_config"
		"$SSHD_BIN" -t -f "$d/sshd_config" >"$d/configtest.log" 2>&1 || {
			cat "$d/configtest.log" >&2
			ti_fail "sshd $name: bad config"
		}
		pid=$(TI_BG_LOG=$d/stderr.log ti_bg "$SSHD_BIN" -D \
		    -E "$d/log" -f "$d/sshd_config")
		if ti_wait_for_port "$port" 10 "$pid"; then
			break
		fi
		ti_kill "$pid"
		grep -q 'in use' "$d/log" 2>/dev/null && continue
		ti_fail "sshd $name did not start"
	done
	ti_alive "$pid" || ti_fail "sshd $name did not start"
	printf -v "TI_SSHD_PORT_$name" '%s' "$port"
	printf -v "TI_SSHD_PID_$name" %s "$pid"
	# known_hosts under the alias; ssh_config host block.
	echo "$name $(cut -d' ' -f1,2 "$d/host_ed25519.pub")" >>"$TI_DIR/known_hosts"
	cat >>"$TI_DIR/ssh_config" <<EOF
Host $name
	HostName 127.0.0.1
	Port $port
	User $user
	HostKeyAlias $name
	UserKnownHostsFile $TI_DIR/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	UpdateHostKeys no
	CheckHostIP no
	BatchMode yes
	ConnectTimeout 5
	PreferredAuthentications publickey
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	GSSAPIAuthentication no
	HostbasedAuthentication no
	AddKeysToAgent no
	ControlMaster no
	ControlPath none
	LogLevel ERROR

EOF
	ti_log "sshd $name on 127.0.0.1:$port (pid $pid)"
}

# ti_ssh NAME [SSH_OPTIONS...] [CMD...]: ssh to sshd NAME with the private
# client config.  OpenSSH keeps parsing options after the destination.
ti_ssh()
{
	local name=$1
	shift
	ssh -F "$TI_DIR/ssh_config" "$name" "$@" </dev/null
}

# ti_start_agent [AGENT_ARGS...]: start $TEST_AGENT in the foreground (-D,
# or -d with TI_DEBUG=1) on $TI_AGENT_SOCK, log to $TI_AGENT_LOG, wait for the
# socket and export SSH_AUTH_SOCK.  Sets TI_AGENT_PID.  Call
# ti_askpass_setup first if the agent should inherit an askpass.
ti_start_agent()
{
	local fg=-D wrapper=()
	[ "${TI_DEBUG:-0}" = 1 ] && fg=-d
	[ -x "$TEST_AGENT" ] || ti_fail "agent $TEST_AGENT not built"
	[ -n "${TI_AGENT_WRAPPER:-}" ] && read -r -a wrapper <<<"$TI_AGENT_WRAPPER"
	# OpenSSH's agent loads a sanitizer build's middleware (sk-lib.sh).
	[ -n "${SK_ASAN_PRELOAD:-}" ] && ti_is_openssh_agent &&
	    wrapper=(env "LD_PRELOAD=$SK_ASAN_PRELOAD" "${wrapper[@]}")
	rm -f "$TI_AGENT_SOCK"
	TI_AGENT_PID=$(TI_BG_LOG=$TI_AGENT_LOG ti_bg "${wrapper[@]}" \
	    "$TEST_AGENT" $fg -a "$TI_AGENT_SOCK" "$@")
	if ! ti_wait_for_socket "$TI_AGENT_SOCK" 10 "$TI_AGENT_PID"; then
		ti_fail "agent did not create $TI_AGENT_SOCK"
	fi
	SSH_AUTH_SOCK=$TI_AGENT_SOCK
	export SSH_AUTH_SOCK
	ti_log "agent pid $TI_AGENT_PID on $SSH_AUTH_SOCK"
}

# ti_stop_agent: stop the agent started by ti_start_agent.
ti_stop_agent()
{
	[ -n "${TI_AGENT_PID:-}" ] && ti_kill "$TI_AGENT_PID"
	TI_AGENT_PID=
}

# ti_agent_alive: true while the agent started by ti_start_agent runs.
ti_agent_alive()
{
	[ -n "${TI_AGENT_PID:-}" ] && ti_alive "$TI_AGENT_PID"
}

# ti_askpass_setup ANSWER: install $TI_DIR/askpass and export SSH_ASKPASS,
# SSH_ASKPASS_REQUIRE=force and DISPLAY (the agent inherits them at start:
# call before ti_start_agent).  Each call of the askpass appends one line
# "SSH_ASKPASS_PROMPT<TAB>prompt" (newlines in the prompt shown as '|') to
# $TI_DIR/askpass.log, then answers according to the current ANSWER, which
# ti_askpass_answer can change at any time:
#	yes		exit 0, empty output (confirm: allowed)
#	no		exit 1 (confirm: denied; passphrase: cancelled)
#	sleep:N:A	sleep N seconds, then answer A
#	pass:SECRET	print SECRET (a passphrase or PIN), exit 0
#	/path		an executable: exec it with the same arguments
#	anything else	printed as the answer, exit 0
ti_askpass_setup()
{
	cat >"$TI_DIR/askpass" <<EOF
#!/bin/bash
# test askpass recorder (tests/integ/lib.sh)
dir='$TI_DIR'
prompt=\${1:-}
printf '%s\t%s\n' "\${SSH_ASKPASS_PROMPT:-}" "\${prompt//\$'\n'/|}" >>"\$dir/askpass.log"
answer=\$(cat "\$dir/askpass.answer" 2>/dev/null)
while :; do
	case \$answer in
	sleep:*)
		rest=\${answer#sleep:}
		sleep "\${rest%%:*}"
		answer=\${rest#*:}
		;;
	yes)	exit 0 ;;
	no)	exit 1 ;;
	pass:*)	printf '%s\n' "\${answer#pass:}"; exit 0 ;;
	/*)	[ -x "\$answer" ] && exec "\$answer" "\$@"
		printf '%s\n' "\$answer"; exit 0 ;;
	*)	printf '%s\n' "\$answer"; exit 0 ;;
	esac
done
EOF
	chmod 700 "$TI_DIR/askpass"
	: >"$TI_DIR/askpass.log"
	ti_askpass_answer "$1"
	SSH_ASKPASS=$TI_DIR/askpass
	SSH_ASKPASS_REQUIRE=force
	DISPLAY=${DISPLAY:-:0}
	export SSH_ASKPASS SSH_ASKPASS_REQUIRE DISPLAY
}

# ti_askpass_answer ANSWER: change what the askpass answers from now on.
ti_askpass_answer()
{
	printf '%s\n' "$1" >"$TI_DIR/askpass.answer"
}

# ti_askpass_count: how many times the askpass was called.
ti_askpass_count()
{
	if [ -f "$TI_DIR/askpass.log" ]; then
		wc -l <"$TI_DIR/askpass.log" | tr -d ' '
	else
		echo 0
	fi
}

# ti_agent_count: number of identities the agent lists (0 when none).
ti_agent_count()
{
	local out
	out=$(ssh-add -l 2>/dev/null) || { echo 0; return 0; }
	printf '%s\n' "$out" | grep -c .
}

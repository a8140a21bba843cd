# tests/integ/sk-lib.sh: helpers for the FIDO2 (sk) integration tests, on
# top of tests/integ/lib.sh.  Source after lib.sh, then call sk_setup.
#
#	sk_setup			checks tools, sets SK_MOD and SK_VFIDO
#	sk_start_vfido NAME [ARGS...]	a fresh virtual token; its socket is
#					$TI_DIR/NAME.sock, control NAME.ctl
#	sk_ctl NAME CMD			one control command; prints the reply
#	sk_use NAME...			TOKAGENT_FIDO_DEVICES = those tokens

# sk_setup: the middleware and vfido must be built; ssh-keygen must know sk.
sk_setup()
{
	SK_MOD=${TI_SK_MODULE:-$TI_BUILD/sk/.libs/tokagent-sk.so}
	SK_VFIDO=${SK_VFIDO:-$TI_BUILD/tests/vfido/vfido}
	[ -f "$SK_MOD" ] || ti_fail "middleware not built: $SK_MOD"
	[ -x "$SK_VFIDO" ] || ti_fail "vfido not built: $SK_VFIDO"
	ti_require_cmd ssh-keygen ssh ssh-add
	SK_PY=/usr/bin/python3
	[ -x "$SK_PY" ] || SK_PY=$(command -v python3 2>/dev/null) ||
	    ti_skip "python3 is needed to talk to vfido's control socket"
	# Only the test's own tokens: never a real key plugged into the box.
	TOKAGENT_FIDO_NO_DISCOVERY=1
	export TOKAGENT_FIDO_NO_DISCOVERY
	unset TOKAGENT_FIDO_DEVICES TOKAGENT_FIDO_TIMEOUT_MS
	# A sanitizer build's middleware needs the ASan runtime inside the
	# uninstrumented OpenSSH tools that load it (their leaks are not
	# ours) -- only there: procps' pgrep and ps, for one, hang with it
	# preloaded, so it is not exported to everything.
	local asan
	asan=$(ldd "$SK_MOD" 2>/dev/null | awk '/libasan/ { print $3 }')
	if [ -n "$asan" ]; then
		SK_ASAN_PRELOAD=$asan
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:verify_asan_link_order=0
		export SK_ASAN_PRELOAD ASAN_OPTIONS
		ssh() { LD_PRELOAD=$SK_ASAN_PRELOAD command ssh "$@"; }
		ssh-add() { LD_PRELOAD=$SK_ASAN_PRELOAD command ssh-add "$@"; }
		ssh-keygen() {
			LD_PRELOAD=$SK_ASAN_PRELOAD command ssh-keygen "$@"
		}
	fi
}

# sk_start_vfido NAME [VFIDO_ARGS...]: start a token with a fresh state file.
sk_start_vfido()
{
	local name=$1 pid
	shift
	rm -f "$TI_DIR/$name.sock" "$TI_DIR/$name.ctl"
	pid=$(TI_BG_LOG=$TI_DIR/vfido-$name.log ti_bg "$SK_VFIDO" \
	    --state "$TI_DIR/$name.state" --socket "$TI_DIR/$name.sock" \
	    --control "$TI_DIR/$name.ctl" "$@")
	ti_wait_for_socket "$TI_DIR/$name.sock" 10 "$pid" ||
	    ti_fail "vfido $name did not start"
	ti_wait_for_socket "$TI_DIR/$name.ctl" 10 "$pid" ||
	    ti_fail "vfido $name: no control socket"
	printf -v "SK_VFIDO_PID_$name" %s "$pid"
}

# sk_ctl NAME CMD: send CMD on NAME's control socket, print the reply line.
sk_ctl()
{
	"$SK_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(4096)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode(errors="replace"))
' "$TI_DIR/$1.ctl" "$2"
}

# sk_use NAME...: make the middleware see exactly these tokens.
sk_use()
{
	local n list=
	for n in "$@"; do
		list=${list:+$list,}unix:$TI_DIR/$n.sock
	done
	TOKAGENT_FIDO_DEVICES=$list
	export TOKAGENT_FIDO_DEVICES
}

# sk_keygen FILE TYPE [ssh-keygen -O options...]: enroll a key with the
# middleware, no passphrase on the key file.
sk_keygen()
{
	local file=$1 type=$2
	shift 2
	rm -f "$file" "$file.pub"
	ssh-keygen -q -t "$type" -w "$SK_MOD" -N '' -C "sk-test" \
	    -f "$file" "$@" </dev/null
}

# sk_sign_verify KEYFILE [ssh-keygen options...]: sign a message with
# ssh-keygen -Y sign (key file given) and verify it.
sk_sign_verify()
{
	local key=$1 msg=$TI_DIR/msg.$RANDOM
	shift
	echo "hello $RANDOM" >"$msg"
	ssh-keygen -Y sign -w "$SK_MOD" -f "$key" -n file "$@" "$msg" </dev/null ||
	    return 1
	printf 'signer %s\n' "$(cat "$key.pub")" >"$TI_DIR/allowed_signers"
	ssh-keygen -Y verify -f "$TI_DIR/allowed_signers" -I signer \
	    -n file -s "$msg.sig" <"$msg"
}

# tests/integ/policy-lib.sh: helpers for the policy and audit tests.
# Source after lib.sh and ti_setup.

# policy_write TEXT: write the policy file $TI_DIR/policy.
policy_write()
{
	printf '%s\n' "$1" >"$TI_DIR/policy"
}

# policy_reload: SIGHUP the agent and wait until its log says it reloaded
# (or refused to).
policy_reload()
{
	local before n i
	before=$(grep -c -E 'policy .* reloaded|policy not reloaded' \
	    "$TI_AGENT_LOG" || true)
	kill -HUP "$TI_AGENT_PID"
	for i in $(seq 1 100); do
		n=$(grep -c -E 'policy .* reloaded|policy not reloaded' \
		    "$TI_AGENT_LOG" || true)
		[ "$n" -gt "$before" ] && return 0
		sleep 0.05
	done
	ti_fail "the agent did not react to SIGHUP"
}

# sshsig KEY.pub NS: sign $TI_DIR/msg for namespace NS with the agent's
# key.  Only the public key is at hand ($TI_DIR/pub/), so ssh-keygen can not
# fall back to the private key file when the agent refuses or hides it.
sshsig()
{
	mkdir -p "$TI_DIR/pub"
	cp "$1" "$TI_DIR/pub/"
	rm -f "$TI_DIR/msg.sig"
	ssh-keygen -Y sign -n "$2" -f "$TI_DIR/pub/$(basename "$1")" \
	    "$TI_DIR/msg" >"$TI_DIR/sign.out" 2>&1
}

# sign_raw KEY.pub HEXDATA: a SIGN_REQUEST of HEXDATA with KEY through
# agentcli; prints the reply type (14 signed, 5 refused).
sign_raw()
{
	local blob req
	blob=$(python3 -c 'import base64,sys
print(base64.b64decode(open(sys.argv[1]).read().split()[1]).hex())' "$1")
	req=$(python3 -c 'import sys,struct
def s(b): return struct.pack(">I", len(b)) + b
blob=bytes.fromhex(sys.argv[1]); data=bytes.fromhex(sys.argv[2])
print((b"\x0d" + s(blob) + s(data) + struct.pack(">I", 0)).hex())' \
	    "$blob" "$2")
	"$TI_BUILD/tests/integ/agentcli" raw "$req" | cut -d' ' -f1
}

# userauth_hex KEY.pub USER: the hex of a publickey userauth request for
# USER with KEY, as ssh would ask the agent to sign it.
userauth_hex()
{
	python3 -c 'import base64,sys,struct
def s(b): return struct.pack(">I", len(b)) + b
parts=open(sys.argv[1]).read().split()
blob=base64.b64decode(parts[1])
d = s(b"\x01"*32) + b"\x32" + s(sys.argv[2].encode()) + s(b"ssh-connection") \
    + s(b"publickey") + b"\x01" + s(parts[0].encode()) + s(blob)
print(d.hex())' "$1" "$2"
}

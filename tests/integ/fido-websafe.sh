#!/bin/bash
# fido-websafe: OpenSSH's "websafe" rule and ssh-agent's options to widen
# it.  A FIDO key made for a web origin (application "web.example", which
# ssh-keygen refuses to make, so fidotool enrolls it on vfido and agentcli
# adds it) may sign only SSHSIG blobs and userauth requests; with
# -O websafe-allow=LIST the applications that match LIST (patterns, !
# negates) may sign anything, and -O no-restrict-websafe lifts the rule.
# The list replaces the default "ssh:*", so an ssh: key outside it is held
# to the rule too.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integ/lib.sh"
ti_setup
. "$TI_SRC/tests/integ/fido-lib.sh"
fido_setup
ti_require_cmd od
CLI=$TI_BUILD/tests/integ/agentcli
FIDOTOOL=$TI_BUILD/tests/vfido/fidotool
[ -x "$CLI" ] || ti_fail "$CLI not built"
[ -x "$FIDOTOOL" ] || ti_fail "$FIDOTOOL not built"

# hex_of STRING: its bytes in hex.
hex_of()
{
	printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'
}

# sshstr HEX: an SSH string (uint32 length + bytes) of the bytes in HEX.
sshstr()
{
	printf '%08x%s' $((${#1} / 2)) "$1"
}

KT=$(sshstr "$(hex_of sk-ssh-ed25519@openssh.com)")

sk_start_vfido tok
sk_use tok

# enroll NAME APPLICATION: an ed25519 credential on tok; sets
# BLOB_NAME (the public key blob) and ADD_NAME (an ADD_IDENTITY message).
enroll()
{
	local name=$1 app=$2 kh pk blob
	"$FIDOTOOL" make "unix:$TI_DIR/tok.sock" alg=eddsa rp="$app" \
	    out="$TI_DIR/$name.cred" >/dev/null ||
	    ti_fail "fidotool make $name"
	kh=$(sed -n 1p "$TI_DIR/$name.cred")
	pk=$(sed -n 3p "$TI_DIR/$name.cred")
	[ ${#pk} = 64 ] || ti_fail "unexpected ed25519 public key $pk"
	blob=$KT$(sshstr "$pk")$(sshstr "$(hex_of "$app")")
	printf -v "BLOB_$name" %s "$blob"
	# type 17, key, flags 0x01 (presence), key handle, reserved, comment
	printf -v "ADD_$name" %s "11$blob"01$(sshstr "$kh")$(sshstr "")$(sshstr \
	    "$(hex_of "$name-key")")
}
enroll web web.example
enroll ssh ssh:websafe

# sign_type NAME DATAHEX: the type of the agent's reply to a sign request.
sign_type()
{
	local blob=BLOB_$1 out
	out=$("$CLI" raw "0d$(sshstr "${!blob}")$(sshstr "$2")00000000") ||
	    ti_fail "agentcli sign"
	echo "${out%% *}"
}

ARBITRARY=$(hex_of "a web site's challenge, not SSH data")
SSHSIG=$(hex_of "SSHSIG")$(sshstr "$(hex_of file)")$(sshstr "")$(sshstr \
    "$(hex_of sha512)")$(sshstr 00112233)

# with_agent ARGS...: a fresh agent with these -O options, both keys added.
with_agent()
{
	local add k
	ti_stop_agent
	fido_start_agent tok -- "$@"
	for k in web ssh; do
		add=ADD_$k
		ti_assert_eq "6 " "$("$CLI" raw "${!add}")" "add the $k key"
	done
}

ti_log "default: web key signs SSHSIG only; ssh: key signs anything"
with_agent
ti_assert_eq 5 "$(sign_type web "$ARBITRARY")" "web key, arbitrary data"
ti_assert_contains "$(cat "$TI_AGENT_LOG")" "web origin" \
    "the log says why the web key was refused"
ti_assert_eq 14 "$(sign_type web "$SSHSIG")" "web key, SSHSIG"
ti_assert_eq 14 "$(sign_type ssh "$ARBITRARY")" "ssh: key, arbitrary data"

ti_log "-O websafe-allow=ssh:*,web.*: the web key signs anything"
with_agent -O 'websafe-allow=ssh:*,web.*'
ti_assert_eq 14 "$(sign_type web "$ARBITRARY")" "allowed web key"
ti_assert_eq 14 "$(sign_type ssh "$ARBITRARY")" "ssh: key"

ti_log "-O websafe-allow=web.*: an ssh: key outside the list is restricted"
with_agent -O 'websafe-allow=web.*'
ti_assert_eq 14 "$(sign_type web "$ARBITRARY")" "allowed web key"
ti_assert_eq 5 "$(sign_type ssh "$ARBITRARY")" "ssh: key outside the list"
ti_assert_eq 14 "$(sign_type ssh "$SSHSIG")" "ssh: key, SSHSIG"

ti_log "negation: -O websafe-allow=*,!web.example"
with_agent -O 'websafe-allow=*,!web.example'
ti_assert_eq 5 "$(sign_type web "$ARBITRARY")" "negated web key"
ti_assert_eq 14 "$(sign_type web "$SSHSIG")" "negated web key, SSHSIG"
ti_assert_eq 14 "$(sign_type ssh "$ARBITRARY")" "ssh: key"

ti_log "a pattern that does not match: -O websafe-allow=ssh:*,web.exampl?x"
with_agent -O 'websafe-allow=ssh:*,web.exampl?x'
ti_assert_eq 5 "$(sign_type web "$ARBITRARY")" "non-matching web key"

ti_log "-O no-restrict-websafe: every key signs anything"
with_agent -O no-restrict-websafe
ti_assert_eq 14 "$(sign_type web "$ARBITRARY")" "unrestricted web key"

ti_log "websafe-allow given twice is an error, as in ssh-agent"
ti_stop_agent
out=$(timeout 10 "$TEST_AGENT" -D -a "$TI_DIR/twice.sock" \
    -O websafe-allow=a -O websafe-allow=b 2>&1)
ti_assert_eq 1 "$?" "two websafe-allow lists: exit status"
ti_assert_contains "$out" "websafe-allow already set" "two lists refused"
exit 0

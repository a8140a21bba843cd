# tests/vcard/lib.sh: shared setup for the vcard tests (bash).
#
#	. "$top_srcdir/tests/vcard/lib.sh"
#	vc_setup			# private dir $VC_DIR, pcscd, card
#
# Tests exit 0 (pass), 77 (skip: pcscd, vpcd or OpenSC missing; a failure
# under CI=true) or 1 (fail).  Everything started is killed on exit.

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
top_builddir=$(cd "$top_builddir" && pwd)
. "$top_srcdir/tests/p11/pcscd.sh"

vc_fail() {
	echo "FAIL: $*" >&2
	if [ -n "${VCARD_LOG:-}" ] && [ -r "$VCARD_LOG" ]; then
		echo "--- vcard log (tail)" >&2
		tail -20 "$VCARD_LOG" >&2
	fi
	exit 1
}

vc_skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL (skip not allowed under CI=true): $*" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}

# vc_setup [VCARD_ARGS...]: temp dir, the tools, a private pcscd and a
# fresh card (started with VCARD_ARGS and its control socket at $VC_CTL).
vc_setup() {
	local c r
	for c in opensc-tool pkcs11-tool openssl; do
		command -v "$c" >/dev/null 2>&1 || vc_skip "missing $c"
	done
	[ -r "$PCSCD_OPENSC_MODULE" ] || vc_skip "missing $PCSCD_OPENSC_MODULE"
	VC_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vcard-test.XXXXXX") ||
	    vc_fail "mktemp"
	trap 'rm -rf "$VC_DIR"' EXIT
	# OpenSC keeps a file cache in $HOME/.cache: keep it private.
	export HOME=$VC_DIR
	VC_STATE=$VC_DIR/card.state
	VC_CTL=$VC_DIR/card.ctl
	pcscd_start "$VC_DIR/pcscd"
	r=$?
	[ $r = 77 ] && exit 77
	[ $r = 0 ] || vc_fail "pcscd did not start"
	vcard_start "$VC_STATE" --control "$VC_CTL" "$@" ||
	    vc_fail "vcard did not start"
}

# vc_setup_yubikey [VCARD_ARGS...]: vc_setup with the reader named as a
# YubiKey 5's (Yubico's tools and yubikey-agent look for it) and the
# card answering a YubiKey 5's ATR.
VC_YK_READER="Yubico YubiKey OTP+FIDO+CCID"
vc_setup_yubikey() {
	export PCSCD_READER_NAME=$VC_YK_READER
	vc_setup --atr yubikey "$@"
}

# vc_ctl LINE...: the card's control socket; prints the replies.
vc_ctl() {
	"${VCARD_BIN:-$top_builddir/tests/vcard/vcard}" --ctl "$VC_CTL" "$@" ||
	    vc_fail "vcard --ctl $*"
}

# vc_need CMD...: skip (fail under CI=true) when a command is missing.
vc_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || vc_skip "missing $c"
	done
}

# vc_raw APDU...: like vc_apdus, without selecting PIV first.
vc_raw() {
	local args=() a
	for a in "$@"; do
		args+=(-s "$a")
	done
	opensc-tool -c default "${args[@]}" 2>/dev/null |
	    sed -n 's/^Received (SW1=0x\(..\), SW2=0x\(..\)).*/\1\2/p'
}

# vc_data APDU...: select PIV, send the APDUs; the last one's response
# data in hex (upper case, no spaces).
vc_data() {
	local args=(-s "$VC_PIV_SELECT") a
	for a in "$@"; do
		args+=(-s "$a")
	done
	opensc-tool -c default "${args[@]}" 2>/dev/null | awk '
	    /^Received/ { d = ""; on = 1; next }
	    /^Sending/ { on = 0; next }
	    # "XX XX ... ascii": k bytes are followed by k characters.
	    on {
		for (k = 16; k >= 1; k--) {
			rest = substr($0, 3 * k + 1)
			sub(/^ +/, "", rest)
			if (length(rest) == k &&
			    substr($0, 1, 3 * k) ~ /^([0-9A-F][0-9A-F] )+$/)
				break
		}
		for (i = 1; i <= k; i++)
			d = d substr($0, 3 * i - 2, 2)
	    }
	    END { print d }'
}

VC_PIV_SELECT=00A4040009A00000030800001000

# vc_apdus APDU...: select PIV and send the APDUs (hex) in one session
# (OpenSC's default driver: the PIV one slips its own commands in between);
# prints the status words (e.g. 63C2), one per line, the select's first.
vc_apdus() {
	local args=(-s "$VC_PIV_SELECT") a
	for a in "$@"; do
		args+=(-s "$a")
	done
	opensc-tool -c default "${args[@]}" 2>/dev/null |
	    sed -n 's/^Received (SW1=0x\(..\), SW2=0x\(..\)).*/\1\2/p'
}

# vc_sw APDU...: the status word of the last APDU.
vc_sw() {
	vc_apdus "$@" | tail -1
}

# vc_expect_sw WANT APDU...: fail unless the last APDU answers WANT.
vc_expect_sw() {
	local want=$1 got
	shift
	got=$(vc_sw "$@")
	[ "$got" = "$want" ] || vc_fail "APDU $* answered '$got', want $want"
}

vc_p11() {
	pkcs11-tool --module "$PCSCD_OPENSC_MODULE" "$@"
}

# vc_admin APDU...: authenticate with the default management key
# (OpenSC's piv-tool, which selects PIV), then send the APDUs; prints
# their status words, one per line.
vc_admin() {
	local args=() a
	for a in "$@"; do
		args+=(-s "$a")
	done
	[ -r "$VC_DIR/mgmt.key" ] || echo "01:02:03:04:05:06:07:08:01:02:03:04:05:06:07:08:01:02:03:04:05:06:07:08" > "$VC_DIR/mgmt.key"
	PIV_EXT_AUTH_KEY=$VC_DIR/mgmt.key piv-tool -A M:9B:03 "${args[@]}" \
	    2>/dev/null |
	    sed -n 's/^Received (SW1=0x\(..\), SW2=0x\(..\)).*/\1\2/p'
}

#!/bin/sh
# CTAP 2.1 conformance of vfido, checked by an independent client: Yubico's
# python-fido2 speaking CTAPHID over the vfido socket (tests/vfido/conform.py).
. "$(dirname "$0")/lib.sh"

PY=
for p in /usr/bin/python3 python3; do
	if command -v "$p" >/dev/null 2>&1 &&
	    "$p" -c 'import fido2.hid, fido2.ctap2' 2>/dev/null; then
		PY=$p
		break
	fi
done
if [ -z "$PY" ]; then
	echo "python3 with fido2 (Debian python3-fido2) is missing" >&2
	[ "${CI:-}" = true ] && exit 1
	exit 77
fi
"$PY" "$(dirname "$0")/conform.py" "$VFIDO" "$T" || fail "conformance"
exit 0

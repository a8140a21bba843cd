#!/bin/sh
# tests/openssh10/build.sh [OUTDIR]: build the OpenSSH 10.5 tools the tests
# run beside Debian's 9.2 (ssh, ssh-add, ssh-keygen, ssh-agent, sshd with
# sshd-session and sshd-auth, ssh-sk-helper, ssh-pkcs11-helper) from the
# vendored portable source, into OUTDIR/bin (default ./openssh10/bin), and
# print that directory: it is what the tests take as OPENSSH10_BIN.
#
# The source is the tarball named by OPENSSH10_TARBALL, by default
# openssh-portable-0ef0f5a8.tar.gz in shared/vendor-test/ beside this
# repository.  The build is cached: a second run with the same tarball and
# options does nothing.  Without the tarball: the tools built before, if
# any, else exit 77 with a message (CI treats that as a failure: it always
# has the tarball).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-$(pwd)/openssh10}
tarball=${OPENSSH10_TARBALL:-$top/../shared/vendor-test/openssh-portable-0ef0f5a8.tar.gz}
tools="ssh ssh-add ssh-keygen ssh-agent sshd sshd-session sshd-auth \
ssh-sk-helper ssh-pkcs11-helper"

mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$out/bin
cached=1
for t in $tools; do
	[ -x "$bin/$t" ] || cached=0
done
if [ ! -f "$tarball" ]; then
	if [ $cached = 1 ] && [ -f "$bin/.stamp" ]; then
		echo "openssh10: no source tarball at $tarball;" \
		    "using the tools built before" >&2
		echo "$bin"
		exit 0
	fi
	echo "openssh10: no source tarball at $tarball" \
	    "(set OPENSSH10_TARBALL)" >&2
	exit 77
fi
# sshd finds sshd-session, sshd-auth and the helpers in its libexecdir;
# /run/sshd is Debian's privilege separation directory (the tests create
# it when they run as root).
flags="--with-security-key-builtin --with-privsep-path=/run/sshd \
--libexecdir=$bin --sysconfdir=$out/etc --prefix=$out --without-pam"
stamp="$(sha256sum <"$tarball" | cut -d' ' -f1) $flags"

if [ $cached = 1 ] && [ "$(cat "$bin/.stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "$bin"
	exit 0
fi

start=$(date +%s)
echo "openssh10: building OpenSSH 10.5 tools in $out (a few minutes)" >&2
rm -rf "$out/src" "$bin"
mkdir -p "$out/src" "$bin" "$out/etc"
tar xzf "$tarball" -C "$out/src"
src=$out/src/openssh-portable
log=$out/build.log
(
	cd "$src"
	[ -x configure ] || autoreconf -i
	# shellcheck disable=SC2086
	./configure -q $flags
	make -j"$(nproc)" $tools
) >"$log" 2>&1 || {
	tail -n 40 "$log" >&2
	echo "openssh10: build failed; full log in $log" >&2
	exit 1
}
for t in $tools; do
	cp "$src/$t" "$bin/$t"
done
printf '%s\n' "$stamp" >"$bin/.stamp"
echo "openssh10: built in $(($(date +%s) - start)) s:" \
    "$("$bin/ssh" -V 2>&1)" >&2
echo "$bin"

#!/bin/bash
# tests/fuzz/seeds/mkseeds-p11.sh: (re)make the seed corpus of fuzz_p11
# (tests/fuzz/fuzz_p11.c) in tests/fuzz/seeds/fuzz_p11.  Needs openssl, python3
# and gcc.  The seeds are committed; rerun this only when the harness's input
# format changes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$here/fuzz_p11
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out"
cd "$tmp"

# Certificates (selector 2): RSA 2048, P-256, P-384, Ed25519, self-signed.
openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -subj /CN=r \
    -days 1 -outform DER -out rsa.der 2>/dev/null
for c in P-256 P-384; do
	openssl req -x509 -newkey ec -pkeyopt "ec_paramgen_curve:$c" -nodes \
	    -keyout "$c.key" -subj /CN=e -days 1 -outform DER \
	    -out "$c.der" 2>/dev/null
done
openssl req -x509 -newkey ed25519 -nodes -keyout ed.key -subj /CN=d \
    -days 1 -outform DER -out ed.der 2>/dev/null
openssl ecparam -name secp521r1 -genkey -noout -out p521.key 2>/dev/null
for k in rsa P-256 P-384 ed p521; do
	openssl pkey -in "$k.key" -pubout -outform DER -out "$k.spki" \
	    2>/dev/null
done

# A tiny shared object exporting C_GetFunctionList (selector 3).
printf 'int C_GetFunctionList(void **p) { *p = 0; return 0; }\n' >so.c
gcc -shared -fPIC -nostdlib -Os -s -Wl,-z,max-page-size=0x10 \
    -Wl,-z,norelro -Wl,--hash-style=gnu -Wl,--build-id=none -o so.so so.c

python3 - "$out" <<'PY'
import sys
out = sys.argv[1]

def seed(name, data):
    with open(f"{out}/{name}", "wb") as f:
        f.write(data)

def spki_tail(path, n):
    # The public key is the last n bytes of a SubjectPublicKeyInfo.
    return open(path, "rb").read()[-n:]

# EC (selector 0): params length, CKA_EC_PARAMS, CKA_EC_POINT.
p256 = bytes.fromhex("06082a8648ce3d030107")
p384 = bytes.fromhex("06052b81040022")
p521 = bytes.fromhex("06052b81040023")
ed = bytes.fromhex("06032b6570")
edname = b"\x13\x0cedwards25519"
pt256 = spki_tail("P-256.spki", 65)
pt384 = spki_tail("P-384.spki", 97)
pt521 = spki_tail("p521.spki", 133)
pted = spki_tail("ed.spki", 32)
seed("ec-p256-raw", bytes([0, len(p256)]) + p256 + pt256)
seed("ec-p256-der", bytes([0, len(p256)]) + p256 + b"\x04\x41" + pt256)
seed("ec-p384-der", bytes([0, len(p384)]) + p384 + b"\x04\x61" + pt384)
seed("ec-p521-der", bytes([0, len(p521)]) + p521 + b"\x04\x81\x85" + pt521)
seed("ec-ed25519-der", bytes([0, len(ed)]) + ed + b"\x04\x20" + pted)
seed("ec-ed25519-name", bytes([0, len(edname)]) + edname + pted)

# RSA (selector 1): exponent length, CKA_PUBLIC_EXPONENT, CKA_MODULUS.
spki = open("rsa.spki", "rb").read()
n = spki[-5 - 257 + 1:-5]	# ... INTEGER 00 n, INTEGER 03 010001
assert spki[-5:] == b"\x02\x03\x01\x00\x01" and len(n) == 256
seed("rsa-2048", bytes([1, 3]) + b"\x01\x00\x01" + n)

for c in ("rsa", "P-256", "P-384", "ed"):
    seed(f"x509-{c}", b"\x02" + open(f"{c}.der", "rb").read())
seed("elf-so", b"\x03" + open("so.so", "rb").read())
PY
ls -l "$out"

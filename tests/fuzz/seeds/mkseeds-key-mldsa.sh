#!/bin/bash
# tests/fuzz/seeds/mkseeds-key-mldsa.sh: (re)make the ML-DSA seeds of
# fuzz_key (tests/fuzz/fuzz_key.c) in tests/fuzz/seeds/fuzz_key from the
# OpenSSH 10.5 data in tests/data/openssh-10.5.  Needs python3.  The seeds
# are committed; rerun this only when the harness's input format changes.
# Selector byte: 0 public blob, 1 ADD_IDENTITY key encoding, 2 string(blob)
# string(signature) signed-data, 3 public key line, 4 raw ML-DSA-44 (public
# key, signature, message).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=$here/../../data/openssh-10.5
out=$here/fuzz_key
mkdir -p "$out"
python3 - "$data" "$out" <<'PY'
import base64, hashlib, struct, sys

data, out = sys.argv[1], sys.argv[2]

def unarmour(name):
    t = open(f"{data}/{name}").read().splitlines()
    return base64.b64decode("".join(l for l in t if not l.startswith("-----")))

def s(b):
    return struct.pack(">I", len(b)) + b

def get(b, o):
    n = struct.unpack(">I", b[o:o + 4])[0]
    return b[o + 4:o + 4 + n], o + 4 + n

def write(name, sel, body):
    open(f"{out}/{name}", "wb").write(bytes([sel]) + body)

pub = base64.b64decode(open(f"{data}/id_mldsa44_ed25519.pub").read().split()[1])
certline = open(f"{data}/id_mldsa44_ed25519-cert.pub").read().split()
cert = base64.b64decode(certline[1])
write("mldsa-pub", 0, pub)
write("mldsa-cert", 0, cert)

# openssh-key-v1: the private section after the check ints is the
# ADD_IDENTITY key encoding (name, public key, seeds, comment).
k = unarmour("id_mldsa44_ed25519")
o = len(b"openssh-key-v1\0")
for _ in range(3):
    _, o = get(k, o)
o += 4
_, o = get(k, o)
priv, o = get(k, o)
body = priv[8:]
name, p = get(body, 0)
pk, p = get(body, p)
seed, p = get(body, p)
comment, p = get(body, p)
write("mldsa-add", 1, body[:p])
write("mldsa-add-cert", 1, s(certline[0].encode()) + s(cert) + s(seed) +
      s(comment))

msg = open(f"{data}/message.txt", "rb").read()
for i in (1, 2):
    sig = unarmour(f"message.txt.sig{i}")
    o = 10
    _, o = get(sig, o)
    ns, o = get(sig, o)
    _, o = get(sig, o)
    halg, o = get(sig, o)
    blob, o = get(sig, o)
    signed = b"SSHSIG" + s(ns) + s(b"") + s(halg) + \
        s(hashlib.new(halg.decode(), msg).digest())
    write(f"mldsa-sig{i}", 2, s(pub) + s(blob) + signed)
    if i == 1:
        # raw: ML-DSA pk || ML-DSA signature || the M' it signs
        raw, _ = get(blob, 4 + len(b"ssh-mldsa44-ed25519@openssh.com"))
        mprime = b"CompositeAlgorithmSignatures2025" + \
            b"COMPSIG-MLDSA44-Ed25519-SHA512" + b"\0" + \
            hashlib.sha512(signed).digest()
        write("mldsa-raw-verify", 4, pk[:1312] + raw[:2420] + mprime)
write("mldsa-line", 3, open(f"{data}/id_mldsa44_ed25519.pub", "rb").read())
PY
ls -l "$out"

#!/usr/bin/env python3
"""Regenerate the key test vectors in this directory (test keys only).

Keys and certificates are made by OpenSSH's ssh-keygen; FIDO (sk) key files
are assembled here (openssh-key-v1, no device needed).  ssh-add talks to a
small recording agent so that we capture the exact SSH2_AGENTC_ADD_IDENTITY
bodies OpenSSH sends, and Debian's ssh-agent signs a fixed message with each
software key so that tokagent's verifier is checked against OpenSSH's signer.

Output: one file per case, NAME.add (ADD_IDENTITY body, hex), NAME.pub
(public line), NAME.fp (ssh-keygen -lf fingerprint), NAME.sigN (hex of the
signature blob from ssh-agent for flags N), and message.bin.
Usage: gen_key_vectors.py OUTDIR
"""
import os, socket, struct, subprocess, sys, tempfile, threading, time

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives import serialization

OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
MESSAGE = b"tokagent key test vector message\n"


def sstr(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def sk_keyfile(path, kind, comment):
    """Write an unencrypted openssh-key-v1 file for a fake FIDO key."""
    app = b"ssh:"
    kh = os.urandom(48)
    if kind == "ed25519":
        pk = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        name = b"sk-ssh-ed25519@openssh.com"
        pubfields = sstr(pk)
    else:
        q = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
            serialization.Encoding.X962,
            serialization.PublicFormat.UncompressedPoint)
        name = b"sk-ecdsa-sha2-nistp256@openssh.com"
        pubfields = sstr(b"nistp256") + sstr(q)
    pubblob = sstr(name) + pubfields + sstr(app)
    check = os.urandom(4)
    priv = check + check + sstr(name) + pubfields + sstr(app) + \
        bytes([0x01]) + sstr(kh) + sstr(b"") + sstr(comment)
    i = 1
    while len(priv) % 8:
        priv += bytes([i])
        i += 1
    blob = b"openssh-key-v1\0" + sstr(b"none") + sstr(b"none") + \
        sstr(b"") + struct.pack(">I", 1) + sstr(pubblob) + sstr(priv)
    import base64
    b64 = base64.b64encode(blob).decode()
    with open(path, "w") as f:
        f.write("-----BEGIN OPENSSH PRIVATE KEY-----\n")
        for j in range(0, len(b64), 70):
            f.write(b64[j:j + 70] + "\n")
        f.write("-----END OPENSSH PRIVATE KEY-----\n")
    os.chmod(path, 0o600)
    with open(path + ".pub", "w") as f:
        f.write("%s %s %s\n" % (name.decode(),
                base64.b64encode(pubblob).decode(), comment))


def recv_all(c, n):
    d = b""
    while len(d) < n:
        x = c.recv(n - len(d))
        if not x:
            raise EOFError
        d += x
    return d


class Recorder:
    """A minimal agent that records ADD_IDENTITY bodies and says SUCCESS."""

    def __init__(self, path):
        self.path = path
        self.adds = []
        self.s = socket.socket(socket.AF_UNIX)
        self.s.bind(path)
        self.s.listen(5)
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            c, _ = self.s.accept()
            try:
                while True:
                    n = struct.unpack(">I", recv_all(c, 4))[0]
                    m = recv_all(c, n)
                    if m[0] in (17, 25):
                        self.adds.append(m)
                        c.sendall(struct.pack(">IB", 1, 6))
                    elif m[0] == 11:
                        c.sendall(struct.pack(">IBI", 5, 12, 0))
                    else:
                        c.sendall(struct.pack(">IB", 1, 5))
            except EOFError:
                c.close()


def agent_sign(sock, blob, data, flags):
    c = socket.socket(socket.AF_UNIX)
    c.connect(sock)
    m = bytes([13]) + sstr(blob) + sstr(data) + struct.pack(">I", flags)
    c.sendall(struct.pack(">I", len(m)) + m)
    n = struct.unpack(">I", recv_all(c, 4))[0]
    r = recv_all(c, n)
    c.close()
    if r[0] != 14:
        raise RuntimeError("sign failed")
    ln = struct.unpack(">I", r[1:5])[0]
    return r[5:5 + ln]


def main():
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="keyvec.")
    env = dict(os.environ)
    kg = ["ssh-keygen", "-q", "-N", ""]
    cases = [("ed25519", ["-t", "ed25519"]), ("ecdsa256", ["-t", "ecdsa", "-b", "256"]),
             ("ecdsa384", ["-t", "ecdsa", "-b", "384"]),
             ("ecdsa521", ["-t", "ecdsa", "-b", "521"]),
             ("rsa2048", ["-t", "rsa", "-b", "2048"]),
             ("rsa1024", ["-t", "rsa", "-b", "1024"])]
    for name, args in cases:
        subprocess.check_call(kg + args + ["-C", "test-" + name, "-f",
                              os.path.join(tmp, name)])
    sk_keyfile(os.path.join(tmp, "sked25519"), "ed25519", "test-sked25519")
    sk_keyfile(os.path.join(tmp, "skecdsa"), "ecdsa", "test-skecdsa")
    subprocess.check_call(kg + ["-t", "ed25519", "-f", os.path.join(tmp, "ca")])
    subprocess.check_call(kg + ["-t", "rsa", "-b", "2048", "-f",
                          os.path.join(tmp, "rsaca")])
    names = [c[0] for c in cases] + ["sked25519", "skecdsa"]
    for name in names:
        base = os.path.join(tmp, name)
        certdir = os.path.join(tmp, "cert")
        os.makedirs(certdir, exist_ok=True)
        cbase = os.path.join(certdir, name + "-cert")
        for ext in ("", ".pub"):
            with open(base + ext, "rb") as f, open(cbase + ext, "wb") as g:
                g.write(f.read())
        os.chmod(cbase, 0o600)
        ca = "rsaca" if name == "ed25519" else "ca"
        subprocess.check_call(["ssh-keygen", "-q", "-s", os.path.join(tmp, ca),
                               "-I", "id-" + name, "-n", "alice,bob",
                               "-z", "42", "-V", "20200101:20400101",
                               cbase + ".pub"])
    # A host certificate with a wildcard principal.
    hbase = os.path.join(tmp, "cert", "hostcert")
    subprocess.check_call(kg + ["-t", "ecdsa", "-f", hbase])
    subprocess.check_call(["ssh-keygen", "-q", "-s", os.path.join(tmp, "ca"),
                           "-I", "host", "-h", "-n", "*.example.com",
                           "-V", "20200101:20400101", hbase + ".pub"])
    # Record ADD_IDENTITY bodies.
    rec = Recorder(os.path.join(tmp, "rec.sock"))
    env["SSH_AUTH_SOCK"] = rec.path
    env["SSH_SK_PROVIDER"] = "internal"
    outcases = []
    for name in names:
        for (label, path) in ((name, os.path.join(tmp, name)),
                              (name + "-cert",
                               os.path.join(tmp, "cert", name + "-cert"))):
            before = len(rec.adds)
            subprocess.check_call(["ssh-add", path], env=env,
                                  stderr=subprocess.DEVNULL)
            msgs = rec.adds[before:]
            # ssh-add sends the plain key, then the certificate if present.
            body = msgs[-1]
            with open(os.path.join(OUT, label + ".add"), "w") as f:
                f.write(body.hex() + "\n")
            pub = path + "-cert.pub" if label.endswith("-cert") and False else None
            outcases.append((label, path))
    for label, path in outcases:
        pubpath = path + ".pub"
        if label.endswith("-cert"):
            pubpath = path + "-cert.pub"
        with open(pubpath) as f:
            line = f.read().strip()
        with open(os.path.join(OUT, label + ".pub"), "w") as f:
            f.write(line + "\n")
        fp = subprocess.check_output(["ssh-keygen", "-lf", pubpath]).decode()
        with open(os.path.join(OUT, label + ".fp"), "w") as f:
            f.write(fp.split()[1] + "\n")
    with open(os.path.join(tmp, "cert", "hostcert-cert.pub")) as f:
        line = f.read().strip()
    with open(os.path.join(OUT, "hostcert.pub"), "w") as f:
        f.write(line + "\n")
    # Signatures by Debian's ssh-agent.
    asock = os.path.join(tmp, "agent.sock")
    p = subprocess.Popen(["ssh-agent", "-D", "-a", asock],
                         stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(asock):
                break
            time.sleep(0.05)
        env["SSH_AUTH_SOCK"] = asock
        import base64
        for name, _ in cases:
            subprocess.check_call(["ssh-add", os.path.join(tmp, name)],
                                  env=env, stderr=subprocess.DEVNULL)
            with open(os.path.join(tmp, name + ".pub")) as f:
                blob = base64.b64decode(f.read().split()[1])
            flagset = (0, 2, 4) if name.startswith("rsa") else (0,)
            for fl in flagset:
                sig = agent_sign(asock, blob, MESSAGE, fl)
                with open(os.path.join(OUT, "%s.sig%d" % (name, fl)), "w") as f:
                    f.write(sig.hex() + "\n")
    finally:
        p.terminate()
        p.wait()
    with open(os.path.join(OUT, "message.bin"), "wb") as f:
        f.write(MESSAGE)
    subprocess.call(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()

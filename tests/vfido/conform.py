#!/usr/bin/python3
"""CTAP 2.1 conformance of vfido, checked by an independent client.

Yubico's python-fido2 (not our libfido2 driver) speaks CTAPHID to vfido
over its UNIX socket: SockConnection below is the only glue, a
CtapHidConnection that carries the 64-byte reports over the socket; the
library's CtapHidDevice, Ctap2 and ClientPin classes do the rest.

usage: conform.py VFIDO TMPDIR
"""

import os
import socket
import struct
import subprocess
import sys
import time

from fido2 import cbor
from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin
from fido2.hid import CTAPHID, CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor
from fido2.utils import sha256

REPORT = 64
ERR = CtapError.ERR
FAILED = []
PROCS = []


def check(ok, what):
    print("%s %s" % ("ok" if ok else "FAIL", what), flush=True)
    if not ok:
        FAILED.append(what)


def expect_error(code, what, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except CtapError as e:
        check(e.code == code, "%s: %s (got %s)" % (what, code.name, e.code))
        return
    check(False, "%s: %s (got success)" % (what, code.name))


class SockConnection(CtapHidConnection):
    """One opener of a vfido device: 64-byte CTAPHID reports on a socket."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)

    def write_packet(self, data):
        if len(data) != REPORT:
            raise ValueError("report of %d bytes" % len(data))
        self.sock.sendall(data)

    def read_packet(self):
        buf = b""
        while len(buf) < REPORT:
            chunk = self.sock.recv(REPORT - len(buf))
            if not chunk:
                raise OSError("device went away")
            buf += chunk
        return buf

    def close(self):
        self.sock.close()


def open_device(path):
    desc = HidDescriptor(path, 0, 0, REPORT, REPORT)
    return CtapHidDevice(desc, SockConnection(path))


class Token:
    """A vfido process with its device and control sockets."""

    def __init__(self, vfido, tmp, name, *opts):
        self.sock = os.path.join(tmp, name + ".sock")
        self.ctl_path = os.path.join(tmp, name + ".ctl")
        self.log = open(os.path.join(tmp, name + ".log"), "ab")
        self.proc = subprocess.Popen(
            [vfido, "--state", os.path.join(tmp, name + ".state"),
             "--socket", self.sock, "--control", self.ctl_path] + list(opts),
            stderr=self.log)
        PROCS.append(self.proc)
        for _ in range(200):
            if os.path.exists(self.sock):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("vfido %s did not start" % name)
        self.started = time.monotonic()

    def ctl(self, line):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.ctl_path)
        s.sendall(line.encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        s.close()
        return buf.decode().rstrip("\n")

    def wait_pending(self, want=True):
        for _ in range(200):
            if self.ctl("pending").startswith("yes") == want:
                return True
            time.sleep(0.02)
        return False

    def ctap(self):
        return Ctap2(open_device(self.sock))


def frame_init(cid, cmd, data, total=None):
    n = len(data) if total is None else total
    return struct.pack(">IBH", cid, 0x80 | cmd, n) + data.ljust(REPORT - 7,
                                                                b"\0")


def send_msg(conn, cid, cmd, data):
    """A whole message, split into an init and continuation reports."""
    conn.write_packet(frame_init(cid, cmd, data[:REPORT - 7], len(data)))
    rest, seq = data[REPORT - 7:], 0
    while rest:
        conn.write_packet(struct.pack(">IB", cid, seq) +
                          rest[:REPORT - 5].ljust(REPORT - 5, b"\0"))
        rest, seq = rest[REPORT - 5:], seq + 1


def read_reply(conn, cid):
    """The next non-KEEPALIVE report for cid: (cmd, first data bytes)."""
    while True:
        rep = conn.read_packet()
        rcid, cmd = struct.unpack_from(">IB", rep)
        if rcid != cid or cmd == 0x80 | CTAPHID.KEEPALIVE:
            continue
        return cmd & 0x7f, rep[7:]


# ---------------------------------------------------------------------
RP = {"id": "a.example", "name": "A"}
USER = {"id": b"user-1", "name": "alice"}
PARAMS = [{"type": "public-key", "alg": -7}]
PIN = "1234"
P = ClientPin.PERMISSION


def make_cred(ctap, rp=RP, cp=None, token=None, rk=False, ext=None):
    param = proto = None
    cdh = os.urandom(32)
    if token is not None:
        param = cp.protocol.authenticate(token, cdh)
        proto = cp.protocol.VERSION
    return ctap.make_credential(cdh, rp, USER, PARAMS,
                                extensions=ext,
                                options={"rk": True} if rk else None,
                                pin_uv_param=param, pin_uv_protocol=proto)


def get_assert(ctap, cred_id, rp_id="a.example", cp=None, token=None,
               up=True):
    param = proto = None
    cdh = os.urandom(32)
    if token is not None:
        param = cp.protocol.authenticate(token, cdh)
        proto = cp.protocol.VERSION
    return ctap.get_assertion(rp_id, cdh,
                              [{"type": "public-key", "id": cred_id}],
                              options=None if up else {"up": False},
                              pin_uv_param=param, pin_uv_protocol=proto)


def cred_id_of(att):
    return att.auth_data.credential_data.credential_id


def test_info(tok):
    info = tok.ctap().info
    check("FIDO_2_1" in info.versions, "getInfo: FIDO_2_1")
    check(info.options.get("pinUvAuthToken") is True,
          "getInfo: pinUvAuthToken")
    check(info.max_msg_size == 1200, "getInfo: maxMsgSize 1200")
    check("credProtect" in info.extensions, "getInfo: credProtect")


def test_openers(tok):
    """One device, many openers (CTAP 2.1 11.2, hidraw behaviour)."""
    c1 = SockConnection(tok.sock)
    c2 = SockConnection(tok.sock)
    d1 = CtapHidDevice(HidDescriptor(tok.sock, 0, 0, REPORT, REPORT), c1)
    d2 = CtapHidDevice(HidDescriptor(tok.sock, 0, 0, REPORT, REPORT), c2)
    cid1 = d1._channel_id
    check(cid1 != d2._channel_id, "two openers get two channels")
    # a message half-sent by one opener makes the device busy for all
    # (this token: --msg-timeout 3000); opener 1's second channel, on the
    # same connection, shows when vfido has seen the half message
    nonce = os.urandom(8)
    c1.write_packet(frame_init(0xffffffff, CTAPHID.INIT, nonce))
    cmd, data = read_reply(c1, 0xffffffff)
    cid1b = struct.unpack_from(">I", data, 8)[0]
    c1.write_packet(frame_init(cid1, CTAPHID.CBOR, b"\x04", total=100))
    c1.write_packet(frame_init(cid1b, CTAPHID.PING, b"x"))
    cmd, data = read_reply(c1, cid1b)
    check(cmd == CTAPHID.ERROR and data[0] == ERR.CHANNEL_BUSY,
          "half-sent message, other channel: CHANNEL_BUSY")
    expect_error(ERR.CHANNEL_BUSY, "half-sent message, other opener",
                 d2.ping, b"x")
    cmd, data = read_reply(c1, cid1)
    check(cmd == CTAPHID.ERROR and data[0] == ERR.TIMEOUT,
          "half-sent message times out (ERR_MSG_TIMEOUT)")
    check(d2.ping(b"again") == b"again", "device free after the timeout")
    # channels are the device's: opener 2 may use opener 1's channel
    check(Ctap2(d1).get_info().versions is not None, "getInfo on opener 1")

    att = make_cred(Ctap2(d1))
    cid = cred_id_of(att)
    tok.ctl("log")
    tok.ctl("touch manual")
    # a touch awaited on opener 1 keeps the device busy for opener 2
    req = b"\x02" + cbor.encode({
        1: "a.example", 2: os.urandom(32),
        3: [{"type": "public-key", "id": cid}]})
    send_msg(c1, cid1, CTAPHID.CBOR, req)
    check(tok.wait_pending(), "touch awaited")
    expect_error(ERR.CHANNEL_BUSY, "request while a touch is awaited",
                 d2.ping, b"x")
    # closing opener 1 cancels nothing
    d1.close()
    time.sleep(0.3)
    check(tok.ctl("pending").startswith("yes"),
          "closing the opener cancels nothing")
    check(tok.ctl("log") == "", "nothing logged when the opener closed")
    # CTAPHID_CANCEL on its channel, from another opener, cancels
    c2.write_packet(struct.pack(">IB", cid1, 0x80 | CTAPHID.CANCEL)
                    .ljust(REPORT, b"\0"))
    cmd, data = read_reply(c2, cid1)
    check(cmd == CTAPHID.CBOR and data[0] == ERR.KEEPALIVE_CANCEL,
          "CTAPHID_CANCEL on the channel: KEEPALIVE_CANCEL")
    check(tok.ctl("log") == "getAssertion up=1 uv=0; cancel",
          "vfido logs the cancel")
    # a touch awaited by a closed opener still completes when touched
    d3 = open_device(tok.sock)
    c3 = d3._connection
    send_msg(c3, d3._channel_id, CTAPHID.CBOR, req)
    check(tok.wait_pending(), "touch awaited again")
    d3.close()
    tok.ctl("touch")
    check(tok.wait_pending(False), "the touch completes it")
    check(tok.ctl("log") == "getAssertion up=1 uv=0",
          "answered with nobody listening")
    # ... or times out (this token: --timeout 1000)
    d4 = open_device(tok.sock)
    send_msg(d4._connection, d4._channel_id, CTAPHID.CBOR, req)
    check(tok.wait_pending(), "touch awaited a third time")
    d4.close()
    check(tok.wait_pending(False), "pending until the timeout")
    check(tok.ctl("log") == "getAssertion up=1 uv=0; timeout",
          "vfido logs the timeout")
    tok.ctl("touch approve")
    d2.close()
    # U2F is not offered
    d = open_device(tok.sock)
    expect_error(ERR.INVALID_COMMAND, "CTAPHID_MSG", d.call, CTAPHID.MSG,
                 b"\x00\x03\x00\x00\x00")
    # maxMsgSize
    expect_error(ERR.REQUEST_TOO_LARGE, "request over maxMsgSize",
                 Ctap2(d).send_cbor, Ctap2.CMD.MAKE_CREDENTIAL,
                 {1: b"\0" * 1300})
    d.close()


def test_pin(tok):
    ctap = tok.ctap()
    cp = ClientPin(ctap)
    cp.set_pin(PIN)
    ctap = tok.ctap()		# fresh getInfo: clientPin now true
    cp = ClientPin(ctap)
    expect_error(ERR.PIN_AUTH_INVALID, "setPIN with a PIN set", cp.set_pin,
                 "5678")
    check(cp.get_pin_retries() == (8, False),
          "getRetries: 8, powerCycleState false")

    # permissions
    t = cp.get_pin_token(PIN, P.GET_ASSERTION, "a.example")
    expect_error(ERR.PIN_AUTH_INVALID, "makeCredential without mc",
                 make_cred, ctap, cp=cp, token=t)
    t = cp.get_pin_token(PIN, P.MAKE_CREDENTIAL, "a.example")
    expect_error(ERR.PIN_AUTH_INVALID, "makeCredential for another RP",
                 make_cred, ctap, rp={"id": "b.example"}, cp=cp, token=t)
    t = cp.get_pin_token(PIN, P.MAKE_CREDENTIAL | P.GET_ASSERTION,
                         "a.example")
    att = make_cred(ctap, cp=cp, token=t)
    check(att.auth_data.flags & 0x04, "makeCredential with the token: uv")
    cid = cred_id_of(att)
    expect_error(ERR.PIN_AUTH_INVALID, "token used with presence is spent",
                 get_assert, ctap, cid, cp=cp, token=t)
    # without presence the token is not spent
    t = cp.get_pin_token(PIN, P.GET_ASSERTION, "a.example")
    a = get_assert(ctap, cid, cp=cp, token=t, up=False)
    check(a.auth_data.flags & 0x05 == 0x04, "silent assertion with uv")
    a = get_assert(ctap, cid, cp=cp, token=t)
    check(a.auth_data.flags & 0x05 == 0x05, "then one with presence")
    expect_error(ERR.PIN_AUTH_INVALID, "and then it is spent",
                 get_assert, ctap, cid, cp=cp, token=t)
    t = cp.get_pin_token(PIN, P.GET_ASSERTION, "a.example")
    expect_error(ERR.PIN_AUTH_INVALID, "getAssertion for another RP",
                 get_assert, ctap, cid, rp_id="b.example", cp=cp, token=t)

    # credential management: cm permission, not the legacy token
    from fido2.ctap2.credman import CredentialManagement
    t = cp.get_pin_token(PIN, P.CREDENTIAL_MGMT)
    meta = CredentialManagement(ctap, cp.protocol, t).get_metadata()
    check(meta[CredentialManagement.RESULT.EXISTING_CRED_COUNT] == 0,
          "credential management with a cm token")
    legacy = legacy_token(ctap, cp)
    expect_error(ERR.PIN_AUTH_INVALID, "legacy token has no cm",
                 CredentialManagement(ctap, cp.protocol, legacy).get_metadata)
    legacy = legacy_token(ctap, cp)
    att = make_cred(ctap, cp=cp, token=legacy)
    check(att.auth_data.flags & 0x04, "legacy token makes credentials")
    legacy = legacy_token(ctap, cp)
    a = get_assert(ctap, cid, cp=cp, token=legacy)
    check(a.auth_data.flags & 0x05 == 0x05, "legacy token gets assertions")

    # three wrong PINs: blocked until a power cycle
    for i in range(3):
        try:
            cp.get_pin_token("0000", P.GET_ASSERTION, "a.example")
        except CtapError as e:
            last = e.code
    check(last == ERR.PIN_AUTH_BLOCKED, "third wrong PIN: PIN_AUTH_BLOCKED")
    check(cp.get_pin_retries() == (5, True),
          "getRetries: 5, powerCycleState true")
    check(tok.ctl("replug") == "ok", "replug")
    ctap = tok.ctap()
    cp = ClientPin(ctap)
    check(cp.get_pin_retries() == (5, False),
          "after a power cycle: powerCycleState false")
    cp.get_pin_token(PIN, P.GET_ASSERTION, "a.example")
    check(cp.get_pin_retries() == (8, False), "right PIN: 8 again")


def legacy_token(ctap, cp):
    """getPinToken (subcommand 5) whatever the token offers."""
    ka, secret = cp._get_shared_secret()
    enc = cp.protocol.encrypt(secret, sha256(PIN.encode())[:16])
    resp = ctap.client_pin(cp.protocol.VERSION,
                           ClientPin.CMD.GET_TOKEN_USING_PIN_LEGACY,
                           key_agreement=ka, pin_hash_enc=enc)
    return cp.protocol.validate_token(cp.protocol.decrypt(
        secret, resp[ClientPin.RESULT.PIN_UV_TOKEN]))


def test_expiry(tok):
    ctap = tok.ctap()
    cp = ClientPin(ctap)
    cp.set_pin(PIN)
    ctap = tok.ctap()
    cp = ClientPin(ctap)
    t = cp.get_pin_token(PIN, P.MAKE_CREDENTIAL, "a.example")
    time.sleep(0.8)		# this token: --token-timeout 500
    expect_error(ERR.PIN_AUTH_INVALID, "expired token", make_cred, ctap,
                 cp=cp, token=t)
    t = cp.get_pin_token(PIN, P.MAKE_CREDENTIAL, "a.example")
    check(make_cred(ctap, cp=cp, token=t) is not None, "fresh token works")


def test_reset(tok):
    ctap = tok.ctap()
    ctap.reset()
    check(True, "reset within 10 s of power-up")
    left = 10.5 - (time.monotonic() - tok.started)
    if left > 0:
        time.sleep(left)
    expect_error(ERR.NOT_ALLOWED, "reset 10 s after power-up", ctap.reset)
    check(tok.ctl("replug") == "ok", "replug")
    tok.ctap().reset()
    check(True, "reset after a replug")


def test_ctap20(tok):
    ctap = tok.ctap()
    info = ctap.info
    check(info.versions == ["FIDO_2_0"], "CTAP 2.0 key: versions")
    check("credProtect" not in info.extensions, "CTAP 2.0 key: no credProtect")
    check("pinUvAuthToken" not in info.options,
          "CTAP 2.0 key: no pinUvAuthToken")
    check(info.options.get("credentialMgmtPreview") is True,
          "CTAP 2.0 key: credentialMgmtPreview")
    att = make_cred(ctap, ext={"credProtect": 3})
    check(not att.auth_data.flags & 0x80, "CTAP 2.0 key: no extension data")
    cp = ClientPin(ctap)
    cp.set_pin(PIN)
    ctap = tok.ctap()
    cp = ClientPin(ctap)
    try:
        ka, secret = cp._get_shared_secret()
        ctap.client_pin(cp.protocol.VERSION, ClientPin.CMD.GET_TOKEN_USING_PIN,
                        key_agreement=ka, pin_hash_enc=cp.protocol.encrypt(
                            secret, sha256(PIN.encode())[:16]),
                        permissions=1, permissions_rpid="a.example")
        check(False, "CTAP 2.0 key: no subcommand 9")
    except CtapError:
        check(True, "CTAP 2.0 key: no subcommand 9")
    expect_error(ERR(0x36), "CTAP 2.0 key with a PIN: mc needs it",
                 make_cred, ctap)
    t = cp.get_pin_token(PIN)
    from fido2.ctap2.credman import CredentialManagement
    meta = CredentialManagement(ctap, cp.protocol, t).get_metadata()
    check(CredentialManagement.RESULT.EXISTING_CRED_COUNT in meta,
          "CTAP 2.0 key: legacy token does credential management")
    att = make_cred(ctap, cp=cp, token=t)
    a = get_assert(ctap, cred_id_of(att), cp=cp, token=t)
    check(a.auth_data.flags & 0x05 == 0x05,
          "CTAP 2.0 key: legacy token is not spent by presence")


def test_touch_to_select(tok):
    ctap = tok.ctap()
    att = make_cred(ctap)
    cid = cred_id_of(att)
    expect_error(ERR.NO_CREDENTIALS, "touch-to-select: silent probe finds "
                 "nothing", get_assert, ctap, cid, up=False)
    a = get_assert(ctap, cid)
    check(a.auth_data.flags & 0x01, "touch-to-select: found with a touch")
    tok.ctl("log")
    tok.ctl("touch manual")
    d = open_device(tok.sock)
    d._connection.write_packet(frame_init(d._channel_id, CTAPHID.CBOR,
                                          b"\x0b"))
    check(tok.wait_pending(), "authenticatorSelection waits for a touch")
    tok.ctl("touch")
    cmd, data = read_reply(d._connection, d._channel_id)
    check(cmd == CTAPHID.CBOR and data[0] == 0, "touched: selected")
    d.close()
    check(tok.ctl("log").startswith("selection up=1"), "log: selection")


def main():
    vfido, tmp = sys.argv[1], sys.argv[2]
    try:
        r = Token(vfido, tmp, "reset")
        d = Token(vfido, tmp, "dev", "--timeout", "1000",
                  "--msg-timeout", "3000")
        test_info(d)
        test_openers(d)
        test_pin(Token(vfido, tmp, "pin"))
        test_expiry(Token(vfido, tmp, "exp", "--token-timeout", "500"))
        test_ctap20(Token(vfido, tmp, "c20", "--ctap20"))
        test_touch_to_select(Token(vfido, tmp, "sel", "--touch-to-select"))
        test_reset(r)
    finally:
        for p in PROCS:
            p.terminate()
            p.wait()
    if FAILED:
        print("%d checks failed" % len(FAILED))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

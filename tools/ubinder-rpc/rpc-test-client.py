#!/usr/bin/env python3
# A minimal RPC Binder client (protocol version 1, as libbinder's RpcSession
# speaks it; docs/rpc.md has the layouts), for tests only: it calls the
# kvstore service exported by ubinder-rpc, or plays a hostile peer.
# Usage: rpc-test-client.py [--tls CERT KEY PEER_CERT] ADDRESS kvstore|no-delay|
#        garbage|lying-size|mid-frame|stall|lying-parcel|bad-address|
#        wrong-dec-strong|plaintext|tls-garbage|tls-truncated|tls-stall|
#        tls-record-stall
#   ADDRESS  unix:PATH or tcp:HOST:PORT
#   --tls    speak TLS 1.3 with our certificate CERT (key KEY), accepting only
#            a server that presents PEER_CERT (as ubinder-rpc and libbinder do)
# The plaintext and tls-* scenarios are for a TLS listener: an RPC header in
# plaintext, TLS garbage, a ClientHello cut short, one that stops halfway,
# and (with --tls) a session that stops halfway through a TLS record.
# Prints one line per result; exits 0 when the scenario behaved as expected.
import socket
import ssl
import struct
import sys
import time

TLS = None  # (cert, key, peer_cert) with --tls

TRANSACT, REPLY, DEC_STRONG = 0, 1, 2
ONEWAY = 1
DESCRIPTOR = "org.ubinder.example.IKeyValue"


def connect(address):
    if address.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(address[5:])
    else:
        host, port = address[4:].rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    s.settimeout(10)
    if TLS:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.check_hostname = False  # pinned certificates name no host
        ctx.load_cert_chain(TLS[0], TLS[1])
        ctx.load_verify_locations(TLS[2])
        s = ctx.wrap_socket(s)
    return s


def client_hello():
    """The first flight of a TLS 1.3 client, as bytes."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def recv_full(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("session closed")
        buf += chunk
    return buf


def handshake(s):
    s.sendall(struct.pack("<IBB8xH", 1, 0, 0, 0))
    version, = struct.unpack("<I4x", recv_full(s, 8))
    s.sendall(b"cci\0\0\0\0\0")
    return version


def string16(text):
    units = text.encode("utf-16-le")
    body = units + b"\0\0"
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<i", len(units) // 2) + body


def read_string16(data, at):
    n, = struct.unpack_from("<i", data, at)
    at += 4
    if n < 0:
        return None, at
    text = data[at:at + 2 * n].decode("utf-16-le")
    return text, at + (2 * n + 2 + 3) // 4 * 4


class Session:
    def __init__(self, address):
        self.s = connect(address)
        self.version = handshake(self.s)
        self.async_number = 0

    def transact(self, address, code, data, flags=0):
        body = struct.pack("<QIIQI12x", address, code, flags,
                           self.async_number if flags & ONEWAY else 0, len(data)) + data
        if flags & ONEWAY:
            self.async_number += 1
        self.s.sendall(struct.pack("<II8x", TRANSACT, len(body)) + body)
        if flags & ONEWAY:
            return None, None
        command, size = struct.unpack("<II8x", recv_full(self.s, 16))
        assert command == REPLY, command
        body = recv_full(self.s, size)
        status, data_size = struct.unpack_from("<iI", body)
        return status, body[20:20 + data_size]

    def root(self):
        status, data = self.transact(0, 1, b"")  # GET_MAX_THREADS
        assert status == 0 and struct.unpack("<i", data)[0] >= 1
        status, data = self.transact(0, 0, b"")  # GET_ROOT
        present, address, _stability = struct.unpack("<iQi", data)
        assert status == 0 and present == 1 and address
        return address


def exception(data):
    """The AIDL status word a reply starts with; None for an empty reply."""
    return struct.unpack_from("<i", data)[0] if len(data) >= 4 else None


def kvstore(address):
    sess = Session(address)
    print("version", sess.version)
    root = sess.root()
    token = string16(DESCRIPTOR)
    status, data = sess.transact(root, 1, token + string16("colour") + string16("blue"))
    print("put", status, exception(data))
    if status != 0:
        return 0
    status, data = sess.transact(root, 2, token + string16("colour"))
    value, _ = read_string16(data, 4)
    print("get", status, exception(data), value)
    sess.transact(root, 4, token + string16("first"), ONEWAY)
    sess.transact(root, 4, token + string16("second"), ONEWAY)
    status, data = sess.transact(root, 3, token)
    print("count", status, struct.unpack_from("<ii", data))
    status, _ = sess.transact(root, 99, token)
    print("unknown code", status)
    status, _ = sess.transact(root, 3, string16("not.the.Interface"))
    print("wrong token", status)
    status, _ = sess.transact(root, 3, b"\xff\xff\xff\xff")
    print("no token", status)
    # a binder of ours (a client-created address): the bridge's layout for
    # watch places it, and the service registers a stand-in for it
    status, data = sess.transact(root, 5, token + struct.pack("<iQi", 1, 1 << 32 | 1, 0x0c))
    print("watch", status, exception(data))
    sess.s.sendall(struct.pack("<II8xQII", DEC_STRONG, 16, root, 1, 0))
    sess.s.close()
    return 0


def no_delay(address):
    """50 calls well under a second: no 40 ms Nagle / delayed-ACK stall."""
    sess = Session(address)
    root = sess.root()
    token = string16(DESCRIPTOR)
    start = time.monotonic()
    for _ in range(50):
        status, _ = sess.transact(root, 3, token)
        assert status == 0
    elapsed = time.monotonic() - start
    print("50 calls in %.3f s" % elapsed)
    return 0 if elapsed < 1.5 else 1


def closed(s):
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True
    except socket.timeout:
        return False


def drained(s):
    """Whether the peer closes @s (after what it sends: a TLS alert)."""
    try:
        for _ in range(16):
            if s.recv(4096) == b"":
                return True
        return False
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def tls_record_stall(address):
    """A TLS session (our certificate) whose RPC handshake is done, then
    half a TLS record: the bridge must end it within its frame limit.
    Run by hand over memory BIOs, so that the raw socket can be written."""
    raw = socket.create_connection(address[4:].rsplit(":", 1)) \
        if address.startswith("tcp:") else None
    if raw is None:
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        raw.connect(address[5:])
    raw.settimeout(10)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.load_cert_chain(TLS[0], TLS[1])
    ctx.load_verify_locations(TLS[2])
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing)

    def pump():
        raw.sendall(outgoing.read())

    def read(n):
        buf = b""
        while len(buf) < n:
            try:
                buf += obj.read(n - len(buf))
            except ssl.SSLWantReadError:
                pump()
                chunk = raw.recv(65536)
                if not chunk:
                    raise EOFError("session closed")
                incoming.write(chunk)
        return buf

    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            pump()
            incoming.write(raw.recv(65536))
    pump()
    obj.write(struct.pack("<IBB8xH", 1, 0, 0, 0))
    pump()
    read(8)
    obj.write(b"cci\0\0\0\0\0")
    pump()
    # an application data record that promises 64 bytes and brings 10
    raw.sendall(b"\x17\x03\x03\x00\x40" + b"x" * 10)
    raw.settimeout(30)
    start = time.monotonic()
    rc = 0 if drained(raw) else 1
    print("tls-record-stall closed after %.0f s" % (time.monotonic() - start))
    return rc


def tls_hostile(address, kind):
    """A TLS listener closes each of these; tls-stall within its handshake
    limit (prints how long it took). Plain sockets: no TLS of ours."""
    global TLS
    TLS = None
    s = connect(address)
    if kind == "plaintext":
        s.sendall(struct.pack("<IBB8xH", 1, 0, 0, 0))
    elif kind == "tls-garbage":
        s.sendall(b"\x16\x03\x01\x00\x40" + b"\x13\x37" * 32)
    else:
        hello = client_hello()
        s.sendall(hello[:len(hello) // 2])
        if kind == "tls-truncated":
            s.shutdown(socket.SHUT_WR)
        s.settimeout(30)
    start = time.monotonic()
    rc = 0 if drained(s) else 1
    if kind == "tls-stall":
        print("tls-stall closed after %.0f s" % (time.monotonic() - start))
    return rc


def hostile(address, kind):
    if kind == "garbage":
        s = connect(address)
        s.sendall(b"\x13\x37" * 64)
        return 0 if closed(s) else 1
    sess = Session(address)
    s = sess.s
    if kind == "lying-size":
        s.sendall(struct.pack("<II8x", TRANSACT, 0xfffffff0))
    elif kind == "stall":
        s.sendall(struct.pack("<II8x", TRANSACT, 100)[:8])
        s.settimeout(30)  # the bridge gives up first
    elif kind == "mid-frame":
        s.sendall(struct.pack("<II8x", TRANSACT, 100) + b"x" * 10)
        s.shutdown(socket.SHUT_WR)
    elif kind == "lying-parcel":
        body = struct.pack("<QIIQI12x", 0, 0, 0, 0, 1000)
        s.sendall(struct.pack("<II8x", TRANSACT, len(body)) + body)
    elif kind == "bad-address":
        body = struct.pack("<QIIQI12x", 0x700000003, 1, 0, 0, 0)
        s.sendall(struct.pack("<II8x", TRANSACT, len(body)) + body)
    elif kind == "bad-binder":
        # a binder at a server address it was never given
        root = sess.root()
        token = string16(DESCRIPTOR)
        data = token + struct.pack("<iQi", 1, 0x700000003, 0x0c)
        body = struct.pack("<QIIQI12x", root, 5, 0, 0, len(data)) + data
        s.sendall(struct.pack("<II8x", TRANSACT, len(body)) + body)
    elif kind == "wrong-dec-strong":
        # ignored (logged once), as libbinder does: the session goes on
        s.sendall(struct.pack("<II8xQII", DEC_STRONG, 16, 0x100000003, 1, 0))
        status, _ = sess.transact(0, 1, b"")
        return 0 if status == 0 else 1
    return 0 if closed(s) else 1


def main():
    global TLS
    args = sys.argv[1:]
    if args[0] == "--tls":
        TLS, args = tuple(args[1:4]), args[4:]
    address, kind = args[0], args[1]
    if kind == "kvstore":
        try:
            return kvstore(address)
        except (ssl.SSLError, EOFError, ConnectionResetError) as e:
            print("refused:", e)
            return 1
    if kind == "no-delay":
        return no_delay(address)
    if kind == "tls-record-stall":
        rc = tls_record_stall(address)
    elif kind in ("plaintext", "tls-garbage", "tls-truncated", "tls-stall"):
        rc = tls_hostile(address, kind)
    else:
        rc = hostile(address, kind)
    if kind == "wrong-dec-strong":
        print(kind, "ignored, session served" if rc == 0 else "not served")
    else:
        print(kind, "closed" if rc == 0 else "not closed")
    return rc


sys.exit(main())

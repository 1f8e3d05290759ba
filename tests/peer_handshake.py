"""The peer handshake of the cluster port, spoken from Python (tests only).

Mirrors src/peer_auth.c (see the header of src/cmd_peer.c):

    connector -> PHELLO <nonce_c: 32 bytes> <name_c>
    acceptor  <- [nonce_a: 32 bytes, name_a, mac_a]
    connector -> PPROVE <mac_c>
    acceptor  <- +OK

    mac_role = HMAC-SHA256(key = cluster secret,
                           "dynamo-node peer v1 " role NUL nonce_c nonce_a
                           u8(len name_c) name_c u8(len name_a) name_a)
    role: b"acceptor" for mac_a, b"connector" for mac_c.

Also a RESP encoder/decoder of gossip tables (src/gossip.h wire format), for
tests that act as a peer (a fake seed, a buggy authenticated peer).
"""
import hashlib
import hmac
import os

import harness
from wire import get_varint, varint

NONCE_LEN = 32
LABEL = b"dynamo-node peer v1 "


def _b(x):
    return x if isinstance(x, bytes) else str(x).encode()


def mac(secret, role, nonce_c, nonce_a, name_c, name_a):
    name_c, name_a = _b(name_c), _b(name_a)
    msg = (LABEL + _b(role) + b"\0" + nonce_c + nonce_a + bytes([len(name_c)]) + name_c
           + bytes([len(name_a)]) + name_a)
    return hmac.new(_b(secret), msg, hashlib.sha256).digest()


class HandshakeError(Exception):
    pass


def handshake(conn, secret, name="tester", verify=True):
    """Runs the connector side on conn (a harness.RawConn to a cluster port).
    Returns the acceptor's name (str).  With verify, raises HandshakeError when the
    acceptor's proof is wrong; the final reply (+OK or an error) is checked:
    anything but OK raises HandshakeError carrying it."""
    nc = os.urandom(NONCE_LEN)
    rep = conn.cmd("PHELLO", nc, name)
    if isinstance(rep, harness.Err) or not isinstance(rep, list) or len(rep) != 3:
        raise HandshakeError("PHELLO answered %r" % (rep,))
    na, name_a, mac_a = rep
    if verify and not hmac.compare_digest(mac_a, mac(secret, b"acceptor", nc, na, name, name_a)):
        raise HandshakeError("the acceptor could not prove the secret")
    rep = conn.cmd("PPROVE", mac(secret, b"connector", nc, na, name, name_a))
    if rep != b"OK":
        raise HandshakeError("PPROVE answered %r" % (rep,))
    return name_a.decode()


# ---- gossip tables (src/gossip.h) ----

def encode_table(rows):
    """rows: dicts with name, generation, heartbeat, status (0 member,
    1 left, 2 gone), sversion, host, port, cport."""
    out = bytearray(varint(len(rows)))
    for r in rows:
        name, host = _b(r["name"]), _b(r.get("host", b""))
        out += bytes([len(name)]) + name
        out += varint(r["generation"]) + varint(r["heartbeat"])
        out += bytes([r.get("status", 0)]) + varint(r.get("sversion", 0))
        out += bytes([len(host)]) + host
        out += varint(r.get("port", 0)) + varint(r.get("cport", 0))
    return bytes(out)


def decode_table(p):
    n, pos = get_varint(p, 0)
    rows = []
    for _ in range(n):
        ln = p[pos]
        name = p[pos + 1:pos + 1 + ln].decode()
        pos += 1 + ln
        gen, pos = get_varint(p, pos)
        hb, pos = get_varint(p, pos)
        status = p[pos]
        pos += 1
        sv, pos = get_varint(p, pos)
        hl = p[pos]
        host = p[pos + 1:pos + 1 + hl].decode()
        pos += 1 + hl
        port, pos = get_varint(p, pos)
        cport, pos = get_varint(p, pos)
        rows.append({"name": name, "generation": gen, "heartbeat": hb, "status": status,
                     "sversion": sv, "host": host, "port": port, "cport": cport})
    return rows

"""Protected mode (issue 11): a single node bound beyond loopback with no
requirepass serves loopback clients only; a client connecting from another
address gets an error that says what to configure, and the connection is
closed.  The node listens on 0.0.0.0, so the same port is reached from
127.0.0.1 (loopback) and from the foreign address 10.99.0.1 (a connection
whose source is that address: to the node, a remote peer)."""
import socket

from harness import RawConn, encode_command


def _from(addr, port):
    """A RawConn whose source address is addr."""
    r = RawConn.__new__(RawConn)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5.0)
    s.bind((addr, 0))
    s.connect((addr, port))
    r.sock, r.buf, r.timeout = s, b"", 5.0
    return r


def test_remote_client_refused_without_password(node_factory, foreign_addr):
    n = node_factory("--bind", "0.0.0.0")
    local = n.client()
    assert local.set("k", "v")
    with _from(foreign_addr, n.port) as r:
        r.send(encode_command("SET", "owned", "1"))
        reply = r.read_reply()
        assert reply.code == "DENIED", reply
        for advice in ("protected mode", "requirepass", "127.0.0.1", "protected-mode no"):
            assert advice in reply, (advice, reply)
        assert r.closed_by_server()
    assert local.exists("owned") == 0
    assert local.get("k") == b"v"
    assert "protected mode" in n.log()


def test_remote_client_served_with_password(node_factory, foreign_addr):
    n = node_factory("--bind", "0.0.0.0", "--requirepass", "pw")
    with _from(foreign_addr, n.port) as r:
        assert r.cmd("PING").code == "NOAUTH"
        assert r.cmd("AUTH", "pw") == b"OK"
        assert r.cmd("SET", "k", "v") == b"OK"


def test_remote_client_served_when_protection_is_off(node_factory, foreign_addr):
    n = node_factory("--bind", "0.0.0.0", "--protected-mode", "no")
    with _from(foreign_addr, n.port) as r:
        assert r.cmd("SET", "k", "v") == b"OK"


def test_config_set_requirepass_lifts_protection(node_factory, foreign_addr):
    n = node_factory("--bind", "0.0.0.0")
    local = n.client()
    local.config_set("requirepass", "pw")
    with _from(foreign_addr, n.port) as r:
        assert r.cmd("AUTH", "pw") == b"OK"
        assert r.cmd("PING") == b"PONG"

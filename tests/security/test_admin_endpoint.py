"""The admin HTTP endpoint (issue 15) under the same protections as the
client port: bound beyond loopback without requirepass, protected mode
serves loopback clients only (403 naming what to configure); with a
password everyone must present it (401 otherwise); the password is checked
in constant time and never echoed; garbage and oversized headers leave the
node serving.  The endpoint listens on 0.0.0.0, reached from 127.0.0.1 and
from the foreign address (a source address that is not loopback)."""
import base64
import socket

from harness import free_port, port_open, wait_until


def http_get(addr, port, path="/health", headers=None, source=None):
    """One request on a fresh connection from source (default: addr);
    returns (status, body bytes)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    s.bind((source or addr, 0))
    s.connect((addr, port))
    req = "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % path
    for k, v in (headers or {}).items():
        req += "%s: %s\r\n" % (k, v)
    s.sendall((req + "\r\n").encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def start(node_factory, *flags):
    port = free_port()
    n = node_factory("--bind", "0.0.0.0", "--admin-port", str(port), *flags)
    wait_until(lambda: port_open(port), msg="admin port open")
    return n, port


def test_protected_mode_covers_the_admin_endpoint(node_factory, foreign_addr):
    n, port = start(node_factory)
    assert http_get("127.0.0.1", port)[0] == 200          # loopback: served
    status, body = http_get(foreign_addr, port, "/metrics", source=foreign_addr)
    assert status == 403
    for advice in (b"protected mode", b"requirepass", b"127.0.0.1", b"protected-mode no"):
        assert advice in body, (advice, body)
    assert n.client().ping()


def test_password_required_from_anywhere(node_factory, foreign_addr):
    n, port = start(node_factory, "--requirepass", "pw-for-admin")
    for path in ("/metrics", "/status.json", "/status", "/health"):
        status, body = http_get(foreign_addr, port, path, source=foreign_addr)
        assert status == 401 and b"pw-for-admin" not in body
    good = {"Authorization": "Basic " + base64.b64encode(b"ops:pw-for-admin").decode()}
    assert http_get(foreign_addr, port, "/health", good, source=foreign_addr)[0] == 200
    assert http_get(foreign_addr, port, "/health", {"Authorization": "Bearer pw-for-admin"},
                    source=foreign_addr)[0] == 200
    assert http_get(foreign_addr, port, "/health", {"Authorization": "Bearer pw-for-admiN"},
                    source=foreign_addr)[0] == 401


def test_protection_off_serves_remote(node_factory, foreign_addr):
    n, port = start(node_factory, "--protected-mode", "no")
    assert http_get(foreign_addr, port, "/health", source=foreign_addr)[0] == 200


def test_garbage_and_huge_headers_leave_it_serving(node_factory):
    n, port = start(node_factory, "--requirepass", "pw")
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + b"A" * 20000 +
              b"\r\n\r\n")
    reply = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    except OSError:
        pass
    s.close()
    assert not reply.startswith(b"HTTP/1.1 200"), reply[:100]  # headers over 8 KB: refused
    for junk in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS hello
                 b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\n\r\n",
                 b"\r\n\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n"):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(junk)
        try:
            s.recv(1000)
        except OSError:
            pass
        s.close()
    assert http_get("127.0.0.1", port, "/health", {"Authorization": "Bearer pw"})[0] == 200
    assert n.client(password="pw").ping()

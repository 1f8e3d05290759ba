"""Issue 11, peer authentication: the cluster port runs nothing before a
mutual challenge-response over fresh nonces (tests/peer_handshake.py), the
secret never travels, a captured handshake cannot be replayed, wrong-secret
attempts are rate-limited per source address, peer-supplied names reach the
log sanitised, CONFIG GET hides secrets, and protected mode refuses a
cluster member bound beyond loopback without a real secret."""
import socket
import subprocess
import threading
import time

import pytest

import cluster_harness
import harness
import peer_handshake as ph
from harness import Err, wait_until

SECRET = "s3cret"  # cluster_harness.DEFAULT_SETTINGS


class SrcConn(harness.RawConn):
    """RawConn whose socket is bound to a chosen source address."""

    def __init__(self, host, port, src, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(src, 0))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.timeout = timeout


def closed(conn):
    """True once the server closed conn (EOF or reset)."""
    try:
        conn.read_raw(timeout=5.0)
    except (harness.Closed, ConnectionError):
        return True
    return False


def deadline_ms():
    return str(int(time.time() * 1000) + 60000)


def test_cluster_port_runs_nothing_before_the_handshake(cluster):
    # The default: no cluster-secret.  Today every cluster-port connection
    # starts authenticated and PFWD runs any client command.
    cluster.start(1, {"cluster-secret": None})
    with cluster.raw(1, cluster_port=True) as c:
        rep = c.cmd("PFWD", deadline_ms(), "CONFIG", "SET", "maxclients", "7")
        assert isinstance(rep, Err) and rep.code == "NOAUTH", rep
        assert closed(c)
    assert cluster.client(1).config_get("maxclients")["maxclients"] == "10000"
    # With the (empty) secret proved, a peer is served.
    with cluster.raw(1, cluster_port=True) as c:
        assert ph.handshake(c, "") == "n1"
        assert c.cmd("PPING") == b"PONG"


def test_handshake_is_mutual_and_the_right_secret_works(cluster):
    cluster.start(1)
    with cluster.raw(1, cluster_port=True) as c:
        assert ph.handshake(c, SECRET) == "n1"  # verifies the acceptor's proof
        assert c.cmd("PPING") == b"PONG"
        assert c.cmd("PFWD", deadline_ms(), "SET", "k", "v") == b"OK"
    assert cluster.client(1).get("k") == "v"
    # A connector that knows a wrong secret sees the acceptor's proof fail.
    with cluster.raw(1, cluster_port=True) as c:
        with pytest.raises(ph.HandshakeError, match="could not prove"):
            ph.handshake(c, "not-the-secret")


def test_wrong_secret_is_refused(cluster):
    cluster.start(1)
    with cluster.raw(1, cluster_port=True) as c:
        with pytest.raises(ph.HandshakeError) as e:
            ph.handshake(c, "wrong-secret", verify=False)
        assert "invalid" in str(e.value)
        assert closed(c)
    # Nothing but PHELLO first; each refusal closes the connection.
    for argv in (("PGET", "k"), ("PGOSSIP", b"\x00"), ("PPROVE", b"x" * 32)):
        with cluster.raw(1, cluster_port=True) as c:
            rep = c.cmd(*argv)
            assert isinstance(rep, Err), (argv, rep)
            assert closed(c)


class Recorder:
    """A TCP relay on 127.0.0.1: forwards to (host, port) and records what
    the connecting side sent and what came back."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.up = b""    # connector -> acceptor, first connection
        self.down = b""  # acceptor -> connector, first connection
        self.conns = 0
        self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _pump(self, a, b, attr):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if self.conns == 1:
                    setattr(self, attr, getattr(self, attr) + d)
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _run(self):
        self.lsock.settimeout(0.2)
        while not self.stop:
            try:
                a, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.conns += 1
            b = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(a, b, "up"), daemon=True).start()
            threading.Thread(target=self._pump, args=(b, a, "down"), daemon=True).start()

    def close(self):
        self.stop = True
        self.lsock.close()


def test_captured_handshake_cannot_be_replayed(cluster):
    cluster.start(2)
    n2 = cluster.nodes[2]
    rec = Recorder(n2.host, n2.cport)
    try:
        # n1 reaches n2 through the recorder (a seed given by address).
        assert cluster.client(1).execute_command(
            "DYNAMO", "JOIN", "127.0.0.1:%d" % n2.port, str(rec.port)) == "OK"
        # A real exchange went through it: the proof was accepted ("+OK"),
        # and a peer command followed.
        wait_until(lambda: b"+OK\r\n" in rec.down and b"PGOSSIP" in rec.up, timeout=10,
                   msg="a complete exchange through the recorder")
        captured = rec.up
    finally:
        rec.close()
    assert SECRET.encode() not in captured  # the secret itself never travels
    # Replay everything the connector sent, then try a command.
    with cluster.raw(2, cluster_port=True) as c:
        try:
            c.send(captured + harness.encode_command("PFWD", deadline_ms(), "SET", "replayed",
                                                     "1"))
            while True:
                c.read_reply()
        except (harness.Closed, ConnectionError):
            pass
    assert cluster.client(2).get("replayed") is None
    assert cluster.client(1).get("replayed") is None


def test_secret_is_never_sent_to_an_address(cluster):
    """DYNAMO JOIN to a listener that is not a node: what the node sends
    there must not contain the secret."""
    cluster.start(1)
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    lsock.settimeout(10)
    port = lsock.getsockname()[1]
    try:
        assert cluster.client(1).execute_command(
            "DYNAMO", "JOIN", "127.0.0.1:7001", str(port)) == "OK"
        s, _ = lsock.accept()
        s.settimeout(10)
        got = b""
        while b"\r\n" not in got or got.count(b"\r\n") < 7:
            d = s.recv(4096)
            if not d:
                break
            got += d
        s.close()
    finally:
        lsock.close()
    assert got, "the node sent nothing"
    assert SECRET.encode() not in got, got
    assert got.startswith(b"*3\r\n$6\r\nPHELLO\r\n$32\r\n"), got[:40]


def test_wrong_secret_attempts_are_rate_limited_and_logged_sanitised(cluster):
    cluster.start(1)
    n1 = cluster.nodes[1]
    evil_name = "ev\x1bil\nFAKE-LOG-LINE"
    # An invalid claimed name is refused (a failure) and never logged raw.
    with SrcConn(n1.host, n1.cport, "127.0.0.77") as c:
        with pytest.raises(ph.HandshakeError):
            ph.handshake(c, SECRET, name=evil_name)
    for _ in range(4):  # 5 failures in all
        with SrcConn(n1.host, n1.cport, "127.0.0.77") as c:
            with pytest.raises(ph.HandshakeError):
                ph.handshake(c, "guess", name="guesser", verify=False)
    # The source is now blocked for a while, even with the right secret...
    with SrcConn(n1.host, n1.cport, "127.0.0.77") as c:
        with pytest.raises(ph.HandshakeError, match="too many"):
            ph.handshake(c, SECRET)
    # ...while another address is served.
    with SrcConn(n1.host, n1.cport, "127.0.0.78") as c:
        assert ph.handshake(c, SECRET) == "n1"
        assert c.cmd("PPING") == b"PONG"
    log = wait_until(lambda: (lambda t: t if "127.0.0.77" in t and "too many" in t else None)(
        cluster.logs(1)), msg="the refusal logged")
    # The claimed name was refused and never reached the log raw.
    assert "\nFAKE-LOG-LINE" not in log and "\x1b" not in log, log
    assert "ev?il?FAKE-LOG-LINE" in log, log
    # Logged once per window, not once per attempt.
    assert log.count("too many failed peer handshakes from 127.0.0.77") == 1, log


def test_config_get_never_reveals_secrets(cluster):
    cluster.start(1)
    r = cluster.client(1)
    assert r.config_get("cluster-secret")["cluster-secret"] == ""
    assert r.config_set("requirepass", "pw-123") is True
    r2 = cluster.new_client(1, password="pw-123")
    got = r2.config_get("*")
    assert got["requirepass"] == "" and got["cluster-secret"] == ""
    assert "pw-123" not in str(got) and SECRET not in str(got)
    # CONFIG SET all-or-nothing rollback must not clear the password.
    with pytest.raises(Exception):
        r2.config_set("requirepass", "other", "maxclients", "not-a-number")
    r3 = cluster.new_client(1, password="pw-123")
    assert r3.ping()


# ---- protected mode -------------------------------------------------------

def _start_fails(binary, args, timeout=20):
    p = subprocess.run([binary] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def _conf(tmp_path, secret_line, host):
    path = tmp_path / "c.conf"
    path.write_text("node a %s:7101\nnode b %s:7102\nn 2\nw 1\nr 1\n%s\n"
                    % (host, host, secret_line))
    return str(path)


@pytest.mark.parametrize("secret_line", ["", "cluster-secret change-me-local-cluster"])
def test_protected_mode_refuses_cluster_member_beyond_loopback(tmp_path, foreign_addr,
                                                                secret_line):
    binary = harness.node_binary()
    conf = _conf(tmp_path, secret_line, foreign_addr)
    rc, out = _start_fails(binary, ["--config", conf, "--node", "a", "--dir", str(tmp_path)])
    assert rc != 0, out
    assert "protected mode" in out and "cluster-secret" in out, out
    # Loopback only but the cluster port on the foreign address: refused too.
    conf = _conf(tmp_path, secret_line, "127.0.0.1")
    rc, out = _start_fails(binary, ["--config", conf, "--node", "a", "--dir", str(tmp_path),
                                    "--cluster-bind", foreign_addr])
    assert rc != 0, out
    assert "protected mode" in out and "cluster-secret" in out, out


def test_protected_mode_allows_a_real_secret_and_cluster_bind(tmp_path, foreign_addr):
    secret = "a-long-random-secret-0123456789"
    conf = _conf(tmp_path, "cluster-secret " + secret, "127.0.0.1")
    proc = subprocess.Popen([harness.node_binary(), "--config", conf, "--node", "a",
                             "--dir", str(tmp_path), "--cluster-bind", foreign_addr,
                             "--cluster-port", "17101"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # The cluster port listens on cluster-bind, not on bind.
        wait_until(lambda: socket.create_connection((foreign_addr, 17101), 0.2).close()
                   or True, timeout=10, msg="cluster port on cluster-bind")
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", 17101), 0.5)
        with harness.RawConn(17101, host=foreign_addr) as c:
            assert ph.handshake(c, secret) == "a"
    finally:
        proc.terminate()
        proc.wait(10)


def test_readme_local_cluster_config_still_starts(tmp_path):
    """cluster.conf as shipped (loopback, placeholder secret) starts with no
    extra step."""
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.Popen([harness.node_binary(), "--config", os.path.join(root, "cluster.conf"),
                             "--node", "n1", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: socket.create_connection(("127.0.0.1", 17001), 0.2).close() or True,
                   timeout=10, msg="n1 of cluster.conf listening")
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(10)


def test_requirepass_without_cluster_secret_is_refused(tmp_path):
    """With requirepass set and no cluster-secret, anyone who can reach the
    cluster port (even on loopback) proves the empty secret and runs client
    commands through PFWD without the password: such a member must not
    start."""
    conf = tmp_path / "c.conf"
    conf.write_text("node a 127.0.0.1:7201\nn 1\nw 1\nr 1\nrequirepass pw-123\n")
    proc = subprocess.Popen([harness.node_binary(), "--config", str(conf), "--node", "a",
                             "--dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def started_or_exited():
            if proc.poll() is not None:
                return True
            try:
                socket.create_connection(("127.0.0.1", 17201), 0.2).close()
                return True
            except OSError:
                return False
        wait_until(started_or_exited, timeout=10, msg="the node started or exited")
        if proc.poll() is None:
            with harness.RawConn(17201) as c:
                ph.handshake(c, "")
                rep = c.cmd("PFWD", deadline_ms(), "SET", "bypass", "1")
            assert isinstance(rep, Err), "PFWD ran without the password: %r" % (rep,)
        out = proc.communicate(timeout=10)[0]
        assert proc.returncode != 0
        assert "requirepass" in out and "cluster-secret" in out, out
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)


def test_config_set_requirepass_needs_a_cluster_secret(cluster):
    """The runtime twin of the check above: on a member with no
    cluster-secret, CONFIG SET requirepass is refused (else PFWD on the
    cluster port would skip the password just set)."""
    cluster.start(1, {"cluster-secret": None})
    rep = cluster.raw(1).cmd("CONFIG", "SET", "requirepass", "pw-123")
    if not isinstance(rep, Err):
        with cluster.raw(1, cluster_port=True) as c:
            ph.handshake(c, "")
            rep = c.cmd("PFWD", deadline_ms(), "SET", "bypass", "1")
        assert isinstance(rep, Err), "PFWD ran without the password: %r" % (rep,)
    assert "cluster-secret" in rep, rep
    assert cluster.client(1).ping()  # still no password


def test_short_secret_beyond_loopback_is_warned_about(tmp_path, foreign_addr):
    conf = _conf(tmp_path, "cluster-secret short", "127.0.0.1")
    log = tmp_path / "node.log"
    proc = subprocess.Popen([harness.node_binary(), "--config", conf, "--node", "a",
                             "--dir", str(tmp_path), "--cluster-bind", foreign_addr,
                             "--cluster-port", "17301", "--logfile", str(log)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: "ready" in log.read_text(), timeout=10, msg="node ready")
        assert "cluster-secret is shorter than 16 characters" in log.read_text()
    finally:
        proc.terminate()
        proc.wait(10)

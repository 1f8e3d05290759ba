"""Issue 11, gossip trust: a fake seed (DYNAMO JOIN to an address that
answers like a peer but cannot prove the cluster secret) must not change the
ring nor cost the node its data; gossip rows with absurd versions, sent by
an authenticated but buggy peer, are refused without harming the node they
name; hostnames arriving from the network are refused (no DNS on the loop)."""
import socket
import threading
import time

import harness
import peer_handshake as ph
from harness import Err, wait_until

SECRET = "s3cret"


def resp_bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


class FakeSeed:
    """A RESP server on 127.0.0.1 that plays a peer without the secret: it
    answers PHELLO with a made-up proof, PAUTH with +OK, and PGOSSIP with a
    table naming members of its own.  Records every command it received."""

    def __init__(self, table):
        self.table = table
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.commands = []   # (connection number, command name)
        self.conns = 0
        self.closed_by_node = 0
        self.stop = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        self.lsock.settimeout(0.2)
        while not self.stop:
            try:
                s, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.conns += 1
            threading.Thread(target=self._serve, args=(s, self.conns), daemon=True).start()

    def _serve(self, s, k):
        conn = harness.RawConn.__new__(harness.RawConn)
        conn.sock, conn.buf, conn.timeout = s, b"", 5.0
        s.settimeout(30)
        try:
            while not self.stop:
                req = conn.read_reply()
                name = req[0].upper()
                self.commands.append((k, name))
                if name == b"PHELLO":
                    conn.send(b"*3\r\n" + resp_bulk(b"N" * 32) + resp_bulk(b"seed")
                              + resp_bulk(b"M" * 32))
                elif name == b"PGOSSIP":
                    conn.send(resp_bulk(self.table))
                else:
                    conn.send(b"+OK\r\n")
        except (harness.Closed, ConnectionError):
            self.closed_by_node += 1
        except OSError:
            pass
        s.close()

    def close(self):
        self.stop = True
        self.lsock.close()


def test_fake_seed_cannot_take_over_the_ring(cluster):
    cluster.start(3, {"gossip-interval": 100})
    r = cluster.client(1)
    keys = ["k%d" % i for i in range(60)]
    for k in keys:
        assert r.set(k, "v-" + k)
    before = cluster.ring_members(1)
    evil = [{"name": "evil%d" % i, "generation": 1, "heartbeat": 1, "status": 0,
             "sversion": 0, "host": "127.0.0.%d" % (90 + i), "port": 7001, "cport": 17001}
            for i in range(3)]
    seed = FakeSeed(ph.encode_table(evil))
    try:
        assert r.execute_command("DYNAMO", "JOIN", "127.0.0.1:7001", str(seed.port)) == "OK"
        # The node tried more than once (it retries a seed that failed) or,
        # as before the fix, got as far as sending the fake seed PGOSSIP.
        wait_until(lambda: seed.closed_by_node >= 2 or
                   any(c == b"PGOSSIP" for _, c in seed.commands),
                   timeout=15, msg="the node talked to the fake seed")
        assert {c for _, c in seed.commands} == {b"PHELLO"}, seed.commands
    finally:
        seed.close()
    for i in (1, 2, 3):
        assert cluster.ring_members(i) == before
    assert all(r.get(k) == "v-" + k for k in keys)
    assert "could not prove" in cluster.logs(1)


def test_poisoned_gossip_rows_do_not_harm_the_named_nodes(cluster):
    settings = {"gossip-interval": 100, "gossip-suspect-after": 500,
                "gossip-dead-after": 1000, "dead-node-evict-after": 2000}
    cluster.start(3, settings)
    n1 = cluster.nodes[1]
    with harness.RawConn(n1.cport, host=n1.host) as c:
        ph.handshake(c, SECRET, name="buggy")
        table = {row["name"]: row for row in ph.decode_table(c.cmd("PGOSSIP", b"\x00"))}
        poison = [
            # n2 marked LEFT at the status-version cap
            dict(table["n2"], status=1, sversion=1 << 48),
            # n3 at the largest generation and heartbeat
            dict(table["n3"], generation=(1 << 64) - 1, heartbeat=(1 << 64) - 1),
        ]
        rep = c.cmd("PGOSSIP", ph.encode_table(poison))
        assert isinstance(rep, bytes), rep
        rep = c.cmd("PGOSSIP", ph.encode_table([dict(table["n2"], heartbeat=(1 << 64) - 1)]))
        assert isinstance(rep, bytes), rep
    hb0 = {i: cluster.nodes_view(i) for i in (1, 2, 3)}

    def healthy():
        for i in (1, 2, 3):
            view = cluster.nodes_view(i)
            for j, name in ((2, "n2"), (3, "n3")):
                if i == j:
                    continue
                v = view[name]
                if v.get("gossip") != "alive" or v["generation"] >= 1 << 63:
                    return False
                # Enough rounds since the poison that a stalled node would
                # have been judged dead (dead-after = 10 rounds) and evicted.
                if v["heartbeat"] < hb0[i][name]["heartbeat"] + 40:
                    return False
            if not {"n1", "n2", "n3"} <= cluster.ring_members(i):
                return False
        return True

    wait_until(healthy, timeout=30, msg="n2 and n3 members and alive everywhere")
    for i in (1, 2, 3):
        assert cluster.ring_members(i) == {"n1", "n2", "n3"}


def test_hostnames_from_the_network_are_refused(cluster):
    cluster.start(1)
    rep = cluster.raw(1).cmd("DYNAMO", "JOIN", "localhost:7001")
    assert isinstance(rep, Err) and "numeric" in rep, rep
    # A gossip row naming a host by name does not add a member.
    n1 = cluster.nodes[1]
    with harness.RawConn(n1.cport, host=n1.host) as c:
        ph.handshake(c, SECRET, name="buggy")
        row = {"name": "byname", "generation": int(time.time() * 1000), "heartbeat": 1,
               "host": "some.host.example", "port": 7001, "cport": 17001}
        assert isinstance(c.cmd("PGOSSIP", ph.encode_table([row])), bytes)
        assert "byname" not in {r["name"] for r in ph.decode_table(c.cmd("PGOSSIP", b"\x00"))}
    assert "byname" not in cluster.ring_members(1)


def test_a_seed_that_never_answers_the_handshake_is_retried(cluster):
    """A JOIN target that accepts connections but never answers PHELLO must
    not hold the link forever: the node gives up on it and connects again."""
    cluster.start(1)
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    lsock.settimeout(15)
    port = lsock.getsockname()[1]
    held = []
    try:
        assert cluster.client(1).execute_command(
            "DYNAMO", "JOIN", "127.0.0.1:7001", str(port)) == "OK"
        for _ in range(3):  # accepted, never answered; the node comes back
            s, _ = lsock.accept()
            held.append(s)
    finally:
        for s in held:
            s.close()
        lsock.close()
    assert cluster.client(1).ping()


def test_members_file_names_no_host_to_resolve(cluster):
    """<dir>/<node>.members (written by older versions, or by hand) naming a
    learnt member by host name: the member is skipped at load, so no peer
    link resolves it on the event loop."""
    import os
    cluster.start(1)
    cluster.stop(1)
    path = os.path.join(cluster.dir, "n1.members")
    with open(path, "a") as f:
        f.write("member byname some.host.example 7001 17001 member 0\n")
        f.write("member bynum 127.0.0.99 7001 17001 member 0\n")
    cluster.restart(1)
    names = set(cluster.nodes_view(1))
    assert "bynum" in names and "byname" not in names, names
    assert "non-numeric address" in cluster.logs(1)

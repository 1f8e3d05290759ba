"""Key-space commands across a 3-node cluster (tests/cluster/run.sh):
KEYS/SCAN/DBSIZE/RANDOMKEY gather every node's keys (each key reported by
the first live node of its preference list), MULTI/EXEC keeps replies in
order although the queued commands are answered by different nodes, WATCH
is refused, RENAME/COPY move values between keys with different
coordinators.  Single-node behaviour: tests/integration/test_keyspace.py.
"""
import subprocess

import pytest
import redis

from cluster_harness import CLIENT_PORT, host_of, wait_for
from harness import Err, encode_command
import peer_handshake

SETTINGS = {"put-timeout": 1000, "get-timeout": 1000}
NKEYS = 300


def start3(cluster):
    return cluster.start(3, dict(SETTINGS))


def load(cluster, prefix, n=NKEYS):
    """n keys written through the three nodes in turn (most are forwarded)."""
    keys = ["%s:%d" % (prefix, j) for j in range(n)]
    pipes = {i: cluster.client(i).pipeline(transaction=False) for i in (1, 2, 3)}
    for j, k in enumerate(keys):
        pipes[1 + j % 3].set(k, "v%d" % j)
    for p in pipes.values():
        assert all(r is True for r in p.execute())
    return set(keys)


def full_scan(cl, count=10, match=None, via=None):
    """A whole SCAN; via: a list of clients to send successive calls to
    (the cursor continues on any node).  Returns the keys, duplicates kept."""
    out, cursor, calls = [], 0, 0
    while True:
        c = via[calls % len(via)] if via else cl
        cursor, keys = c.scan(cursor, match=match, count=count)
        out += keys
        calls += 1
        assert calls < 100000, "SCAN does not terminate"
        if cursor == 0:
            return out


def test_keys_scan_dbsize_report_every_key_once_through_any_node(cluster):
    start3(cluster)
    keys = load(cluster, "ks")
    cluster.client(2).set("gone", "x")
    cluster.client(3).delete("gone")  # a tombstone is not a key
    clients = [cluster.client(i) for i in (1, 2, 3)]
    for i, c in enumerate(clients, 1):
        got = c.keys("*")
        assert len(got) == len(set(got)), "KEYS via n%d has duplicates" % i
        assert set(got) == keys, "KEYS via n%d: %d keys, missing %r, extra %r" % (
            i, len(got), sorted(keys - set(got))[:5], sorted(set(got) - keys)[:5])
        scanned = full_scan(c, count=10)
        assert len(scanned) == len(set(scanned)), "SCAN via n%d has duplicates" % i
        assert set(scanned) == keys, "SCAN via n%d differs from KEYS" % i
        assert c.dbsize() == NKEYS
        assert set(c.keys("ks:1*")) == {k for k in keys if k.startswith("ks:1")}
    # One iteration whose calls go to n1, n2, n3 in turn.
    mixed = full_scan(None, count=10, via=clients)
    assert len(mixed) == len(set(mixed)) and set(mixed) == keys
    # Bigger and smaller COUNTs, MATCH.
    for count in (1, 1000):
        got = full_scan(clients[0], count=count)
        assert len(got) == len(set(got)) and set(got) == keys
    assert set(full_scan(clients[1], match="ks:2?")) == {"ks:2%d" % d for d in range(10)}
    # Every node reports a share (the keys it is first for).
    shares = []
    for i in (1, 2, 3):
        with cluster.raw(i, cluster_port=True) as raw:
            peer_handshake.handshake(raw, "s3cret", "test")
            shares.append(raw.cmd("PSCAN", "0", "0", "*")[1])
            assert raw.cmd("PDBSIZE") == shares[-1]
    assert sum(shares) == NKEYS and min(shares) > 0, shares


def test_scan_iter_and_redis_cli_scan(cluster):
    start3(cluster)
    keys = load(cluster, "it", 120)
    for i in (1, 2, 3):
        assert sorted(cluster.client(i).scan_iter(count=7)) == sorted(keys)
        assert sorted(cluster.client(i).scan_iter(match="it:1*")) == sorted(
            k for k in keys if k.startswith("it:1"))
    node = cluster.node(2)
    out = subprocess.run(["redis-cli", "-h", node.host, "-p", str(node.port), "--scan"],
                         check=True, capture_output=True, text=True, timeout=60).stdout.split()
    assert len(out) == len(keys) and set(out) == keys
    out = subprocess.run(["redis-cli", "-h", host_of(3), "-p", str(CLIENT_PORT), "--scan",
                          "--pattern", "it:5*"],
                         check=True, capture_output=True, text=True, timeout=60).stdout.split()
    assert sorted(out) == sorted(k for k in keys if k.startswith("it:5"))


def test_randomkey_and_dbsize_follow_writes(cluster):
    start3(cluster)
    for i in (1, 2, 3):
        assert cluster.client(i).randomkey() is None
        assert cluster.client(i).dbsize() == 0
    keys = load(cluster, "rk", 60)
    seen = set()
    for j in range(90):
        k = cluster.client(1 + j % 3).randomkey()
        assert k in keys
        seen.add(k)
    assert len(seen) > 10
    assert cluster.client(1).delete(*sorted(keys)[:20]) == 20
    for i in (1, 2, 3):
        assert cluster.client(i).dbsize() == 40
        assert len(cluster.client(i).keys("*")) == 40


def test_listing_skips_a_dead_node_and_its_replicas_cover_it(cluster):
    """With n3 down and routed around, the next live replica of each key n3
    was first for reports it: KEYS/SCAN/DBSIZE stay complete (N = 3)."""
    start3(cluster)
    keys = load(cluster, "dn", 150)
    cluster.kill(3)
    cluster.wait_routed([1, 2], 3, up=False)
    for i in (1, 2):
        c = cluster.client(i)
        got = c.keys("*")
        assert len(got) == len(set(got)) and set(got) == keys
        scanned = full_scan(c, count=10)
        assert len(scanned) == len(set(scanned)) and set(scanned) == keys
        assert c.dbsize() == 150
        assert c.randomkey() in keys


# ---------------------------------------------------------------------------
# MULTI / EXEC


def test_pipeline_transaction_replies_in_order(cluster):
    start3(cluster)
    keys = []
    for name in cluster.names():
        keys += cluster.keys_coordinated_by(name, 3, prefix="tx")
    for via in (1, 2, 3):
        c = cluster.client(via)
        p = c.pipeline(transaction=True)
        for j, k in enumerate(keys):
            p.set(k, "%d-%d" % (via, j))
            p.get(k)
            p.incr(k + ":n")
        p.exists(*keys)
        p.delete(keys[0])
        p.get(keys[0])
        res = p.execute()
        want = []
        for j, k in enumerate(keys):
            want += [True, "%d-%d" % (via, j), via]
        want += [len(keys), 1, None]
        assert res == want, "EXEC via n%d" % via
    for k in keys[1:]:
        for i in (1, 2, 3):
            assert cluster.client(i).get(k) == "3-%d" % keys.index(k)


def test_exec_between_pipelined_requests_keeps_every_reply_in_order(cluster):
    """EXEC starting with replies already pending (a remote GET ahead of it)
    and with none pending, mixing local and remote answers inside; requests
    pipelined after EXEC see its writes (EXEC holds them like a write)."""
    start3(cluster)
    ka, kb, kc = (cluster.keys_coordinated_by(n, 1, prefix="ord")[0] for n in ("n1", "n2", "n3"))
    kd = cluster.keys_coordinated_by("n2", 2, prefix="ord")[1]
    cluster.client(1).set(kb, "B")
    cluster.client(1).set(kd, "D")
    for via in (1, 2, 3):
        with cluster.raw(via) as raw:
            reqs = [("GET", kd), ("MULTI",), ("SET", ka, "A%d" % via), ("GET", kb),
                    ("PING",), ("INCR", kc), ("RENAME", kb, kb + ":tmp"),
                    ("RENAME", kb + ":tmp", kb), ("ECHO", "in"), ("EXEC",), ("GET", ka),
                    ("MULTI",), ("ECHO", "first"), ("GET", kd), ("EXEC",), ("ECHO", "end")]
            raw.send(b"".join(encode_command(*r) for r in reqs))
            got = [raw.read_reply() for _ in reqs]
            assert got == [b"D", b"OK", b"QUEUED", b"QUEUED", b"QUEUED", b"QUEUED", b"QUEUED",
                           b"QUEUED", b"QUEUED",
                           [b"OK", b"B", b"PONG", via, b"OK", b"OK", b"in"],
                           ("A%d" % via).encode(), b"OK", b"QUEUED", b"QUEUED",
                           [b"first", b"D"], b"end"], "via n%d" % via
            assert raw.cmd("GET", kb + ":tmp") is None
            assert raw.cmd("GET", kc) == str(via).encode()


def test_exec_answers_when_a_queued_scan_is_refused(cluster):
    """SCAN with a cursor that names no node is refused at once, inside EXEC
    too: EXEC answers with the error in its place and goes on (the refusal
    used to leave EXEC waiting for a deferred reply that never came)."""
    start3(cluster)
    with cluster.raw(1) as raw:
        reqs = [("MULTI",), ("SCAN", "63"), ("PING",), ("EXEC",), ("ECHO", "after")]
        raw.send(b"".join(encode_command(*r) for r in reqs))
        got = [raw.read_reply() for _ in reqs]
        assert got == [b"OK", b"QUEUED", b"QUEUED", [Err("ERR invalid cursor"), b"PONG"],
                       b"after"]


def test_watch_fails_loudly(cluster):
    start3(cluster)
    c = cluster.client(1)
    with pytest.raises(redis.ResponseError, match="WATCH is not supported"):
        c.execute_command("WATCH", "k")

    def incr(pipe):
        v = int(pipe.get("k") or 0)
        pipe.multi()
        pipe.set("k", v + 1)

    with pytest.raises(redis.ResponseError, match="WATCH is not supported"):
        c.transaction(incr, "k")
    assert c.get("k") is None
    with cluster.raw(2) as raw:
        assert raw.cmd("MULTI") == b"OK"
        assert raw.cmd("WATCH", "k") == Err("ERR WATCH inside MULTI is not allowed")
        assert raw.cmd("UNWATCH") == b"QUEUED"
        assert raw.cmd("EXEC") == [b"OK"]


# ---------------------------------------------------------------------------
# RENAME / COPY


def test_rename_and_copy_between_keys_of_different_coordinators(cluster):
    start3(cluster)
    src = cluster.keys_coordinated_by("n2", 1, prefix="src")[0]
    dst = cluster.keys_coordinated_by("n3", 1, prefix="dst")[0]
    other = cluster.keys_coordinated_by("n1", 1, prefix="oth")[0]
    c1 = cluster.client(1)
    c1.set(src, "payload", px=200000)
    assert c1.rename(src, dst) is True
    for i in (1, 2, 3):
        assert cluster.client(i).get(dst) == "payload"
        assert cluster.client(i).get(src) is None
        assert 150000 < cluster.client(i).pttl(dst) <= 200000
    states = cluster.wait_for_convergence([1, 2, 3], [src, dst])
    assert states[src] is None and states[dst][1] == ["payload"]
    # The source holds one tombstone: the delete covered what was copied.
    assert [d for d, _ in cluster.vclock(2, src)] == ["tombstone"]
    with pytest.raises(redis.ResponseError, match="^no such key$"):
        cluster.client(2).rename(src, dst)
    # RENAMENX / COPY check the destination at its coordinator.
    cluster.client(3).set(other, "o")
    assert cluster.client(2).renamenx(dst, other) is False
    assert cluster.client(1).get(dst) == "payload"
    assert cluster.client(2).copy(dst, other) is False
    assert cluster.client(3).copy(dst, other, replace=True) is True
    assert cluster.client(1).get(other) == "payload"
    assert cluster.client(1).renamenx(dst, src) is True
    for i in (1, 2, 3):
        assert cluster.client(i).get(src) == "payload"
        assert cluster.client(i).get(dst) is None
    assert sorted(c1.keys("*")) == sorted([src, other])


def test_rename_through_a_pipeline_transaction(cluster):
    start3(cluster)
    keys = [cluster.keys_coordinated_by(n, 2, prefix="mv")[j] for n in ("n1", "n2", "n3")
            for j in (0, 1)]
    c = cluster.client(2)
    p = c.pipeline(transaction=True)
    p.set(keys[0], "x")
    for a, b in zip(keys, keys[1:]):
        p.rename(a, b)
    p.get(keys[-1])
    p.copy(keys[-1], keys[0])
    p.keys("mv*")
    res = p.execute()
    assert res[:-1] == [True] + [True] * (len(keys) - 1) + ["x", True]
    assert sorted(res[-1]) == sorted([keys[0], keys[-1]])
    wait_for(lambda: c.dbsize() == 2, msg="DBSIZE 2 after the renames")

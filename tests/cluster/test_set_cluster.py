"""The set commands (src/cmd/cmd_set.c, cmd_set_algebra.c) on a 3-node
cluster (N=3 W=2 R=2), run with tests/cluster/run.sh.

Every command is sent through each node for keys coordinated by each node,
so it runs once locally and twice forwarded to the key's coordinator; what
one node wrote is read back through the two others.  SMOVE and the STORE
forms are run with their keys coordinated by different nodes.  Waits poll
against deadlines; nothing sleeps a fixed time.

Forwarding carries the client's protocol (PFWDR): a RESP3 client gets
RESP3 sets through a node that is not the key's coordinator.
"""
import threading

import pytest
import redis

from harness import Set, encode_command

SETTINGS = {"put-timeout": 1000, "get-timeout": 1000}
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def start3(cluster):
    return cluster.start(3, dict(SETTINGS))


def keys_for_each_coordinator(cluster, prefix):
    """One key per node, coordinated by that node."""
    return [cluster.keys_coordinated_by(name, 1, prefix=prefix)[0] for name in cluster.names()]


def members_everywhere(cluster, key):
    """SMEMBERS through every node: they must agree; returns the set."""
    seen = [cluster.client(i).smembers(key) for i in (1, 2, 3)]
    assert seen[0] == seen[1] == seen[2], seen
    return seen[0]


def test_point_commands_through_every_node(cluster):
    start3(cluster)
    for k in keys_for_each_coordinator(cluster, "set"):
        c1, c2, c3 = (cluster.client(i) for i in (1, 2, 3))
        assert c1.sadd(k, "a", "b", "c") == 3
        assert c2.sadd(k, "c", "d") == 1
        assert c3.sadd(k, *["m%d" % i for i in range(50)]) == 50
        assert members_everywhere(cluster, k) == {"a", "b", "c", "d"} | {
            "m%d" % i for i in range(50)}
        for c in (c1, c2, c3):
            assert c.scard(k) == 54
            assert c.sismember(k, "a") and not c.sismember(k, "zz")
            assert [bool(x) for x in c.smismember(k, ["a", "zz", "m5"])] == [True, False, True]
            assert c.type(k) == "set"
        assert c1.srem(k, "a", "zz") == 1
        assert c2.srem(k, *["m%d" % i for i in range(50)]) == 50
        assert members_everywhere(cluster, k) == {"b", "c", "d"}
        got = c3.srandmember(k, 2)
        assert len(got) == 2 and set(got) <= {"b", "c", "d"}
        assert set(c1.srandmember(k, -30)) == {"b", "c", "d"}
        assert c2.srandmember(k) in {"b", "c", "d"}
        popped = c3.spop(k)
        assert popped in {"b", "c", "d"}
        assert members_everywhere(cluster, k) == {"b", "c", "d"} - {popped}
        rest = set(c1.spop(k, 10))
        assert rest == {"b", "c", "d"} - {popped}
        for c in (c1, c2, c3):
            assert c.exists(k) == 0
            assert c.smembers(k) == set()
            assert c.spop(k) is None


def sscan_all(c, k):
    cursor, got, calls = 0, [], 0
    while True:
        cursor, items = c.sscan(k, cursor, count=25)
        got += items
        calls += 1
        if cursor == 0:
            return got, calls


def test_sscan_through_the_coordinator(cluster):
    start3(cluster)
    for name in cluster.names():
        k = cluster.keys_coordinated_by(name, 1, prefix="scan")[0]
        members = {"m%d" % i for i in range(500)}
        cluster.client(1).sadd(k, *members)
        c = cluster.client(cluster.index_of(name))
        got, calls = sscan_all(c, k)
        assert set(got) == members and len(got) == len(members), "via %s" % name
        assert calls > 2
        assert set(c.sscan_iter(k, match="m1?")) == {"m%d" % j for j in range(10, 20)}


def test_sscan_through_forwarding_nodes(cluster):
    """SSCAN's reply nests an array in an array: it comes back whole from
    the coordinator through the forwarding link (net/peer.c)."""
    start3(cluster)
    k = cluster.keys_coordinated_by("n2", 1, prefix="scanfw")[0]
    members = {"m%d" % i for i in range(500)}
    cluster.client(2).sadd(k, *members)
    for i in (1, 3):
        got, calls = sscan_all(cluster.client(i), k)
        assert set(got) == members and len(got) == len(members), "via n%d" % i
        assert calls > 2


def test_big_replies_through_forwarding_nodes(cluster):
    """Array replies of more than 64 elements (the forwarding link used to
    refuse them: "ERR peer reply too large")."""
    start3(cluster)
    k = cluster.keys_coordinated_by("n2", 1, prefix="bigfw")[0]
    members = {"m%d" % i for i in range(3000)}
    cluster.client(2).sadd(k, *members)
    for i in (1, 2, 3):
        c = cluster.client(i)
        assert c.smembers(k) == members, "via n%d" % i
        assert set(c.srandmember(k, 1000)) <= members
        assert c.smismember(k, sorted(members)[:200]) == [True] * 200
        assert c.sunion(k, k) == members


def test_smove_between_keys_of_different_coordinators(cluster):
    start3(cluster)
    ks = keys_for_each_coordinator(cluster, "mv")
    for via in (1, 2, 3):
        for a, b in ((0, 1), (1, 2), (2, 0)):
            src, dst = ks[a], ks[b]
            c = cluster.client(via)
            c.delete(src, dst)
            c.sadd(src, "x", "y")
            assert c.smove(src, dst, "x") is True
            assert c.smove(src, dst, "x") is False
            assert members_everywhere(cluster, src) == {"y"}
            assert members_everywhere(cluster, dst) == {"x"}
            assert c.smove(src, src, "y") is True
            c.set(dst, "str")
            with pytest.raises(redis.ResponseError, match="^" + WRONGTYPE):
                c.smove(src, dst, "y")
            assert members_everywhere(cluster, src) == {"y"}


def test_algebra_across_coordinators(cluster):
    start3(cluster)
    k1, k2, k3 = keys_for_each_coordinator(cluster, "alg")
    c1 = cluster.client(1)
    c1.sadd(k1, *"abcdef")
    cluster.client(2).sadd(k2, *"cdefgh")
    cluster.client(3).sadd(k3, *"efghij")
    dsts = keys_for_each_coordinator(cluster, "dst")
    for via in (1, 2, 3):
        c = cluster.client(via)
        assert c.sinter(k1, k2, k3) == {"e", "f"}
        assert c.sunion(k1, k2, k3) == set("abcdefghij")
        assert c.sdiff(k1, k2, k3) == {"a", "b"}
        assert c.sintercard(3, [k1, k2, k3]) == 2
        assert c.sintercard(2, [k1, k2], limit=1) == 1
        for cmd, want in (("SINTERSTORE", {"e", "f"}), ("SUNIONSTORE", set("abcdefghij")),
                          ("SDIFFSTORE", {"a", "b"})):
            dst = dsts[via % 3]  # coordinated by another node than via
            assert c.execute_command(cmd, dst, k1, k2, k3) == len(want)
            assert members_everywhere(cluster, dst) == want
        assert c.sinterstore(k1, k1, "nosuch") == 0
        assert c.exists(k1) == 0
        c.sadd(k1, *"abcdef")
        # a destination of another type is overwritten, as in Redis
        dst = dsts[(via + 1) % 3]
        c.set(dst, "string")
        assert c.sunionstore(dst, [k1, k2]) == 8
        assert members_everywhere(cluster, dst) == set("abcdefgh")
        c.set(dst, "string")
        c.set("astr0", "x")
        with pytest.raises(redis.ResponseError, match="^" + WRONGTYPE):
            c.sunionstore(dst, [k1, "astr0"])  # a source of another type
        assert cluster.client(1).get(dst) == "string"  # left alone
        c.set("astr", "v")
        with pytest.raises(redis.ResponseError, match="^" + WRONGTYPE):
            c.sunion(k1, "astr")


def resp3_checks(conn, k, none):
    conn.cmd("HELLO", "3")
    got = conn.cmd("SMEMBERS", k)
    assert isinstance(got, Set) and sorted(got) == [b"a", b"b"]
    got = conn.cmd("SINTER", k, k)
    assert isinstance(got, Set) and sorted(got) == [b"a", b"b"]
    assert conn.cmd("SPOP", none) is None
    got = conn.cmd("SPOP", none, "3")
    assert isinstance(got, Set) and got == []
    assert conn.cmd("SMISMEMBER", k, "a", "z") == [1, 0]


def test_resp3_replies_through_the_coordinator(cluster):
    start3(cluster)
    for name in cluster.names():
        k, none = cluster.keys_coordinated_by(name, 2, prefix="r3")
        cluster.client(1).sadd(k, "a", "b")
        with cluster.raw(cluster.index_of(name)) as conn:
            resp3_checks(conn, k, none)


def test_resp3_set_through_a_forwarding_node(cluster):
    start3(cluster)
    k, none = cluster.keys_coordinated_by("n2", 2, prefix="r3fw")
    cluster.client(1).sadd(k, "a", "b")
    with cluster.raw(1) as conn:
        resp3_checks(conn, k, none)


def test_concurrent_sadd_through_every_node_loses_nothing(cluster):
    start3(cluster)
    key = "conc-set"
    errors = []

    def worker(i):
        c = cluster.new_client(i)
        try:
            for j in range(150):
                c.sadd(key, "n%d-%d" % (i, j))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append((i, e))

    ts = [threading.Thread(target=worker, args=(i,)) for i in (1, 2, 3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    want = sorted("n%d-%d" % (i, j) for i in (1, 2, 3) for j in range(150))
    coord = cluster.index_of(cluster.coordinator(key))
    assert cluster.client(coord).smembers(key) == set(want)
    for i in (1, 2, 3):
        c = cluster.client(i)
        assert c.scard(key) == 450
        for j in range(0, len(want), 50):
            assert all(c.smismember(key, want[j:j + 50])), "via n%d" % i


def test_pipelined_through_a_forwarding_node(cluster):
    """A pipeline of set commands through a node that coordinates none of
    them: the replies come back in order."""
    start3(cluster)
    k = cluster.keys_coordinated_by("n2", 1, prefix="pl")[0]
    with cluster.raw(1) as conn:
        req = b"".join(encode_command("SADD", k, "m%d" % j) + encode_command("SCARD", k)
                       for j in range(100))
        conn.send(req)
        for j in range(100):
            assert conn.read_reply() == 1
            assert conn.read_reply() == j + 1


def test_split_spop_and_sadd_on_both_sides_add_wins(cluster, nft):
    """W=1 so both sides of a split write.  Before: {a, b, c}.  Through the
    isolated coordinator n1: SPOP of everything, SADD x.  Through n2 on the
    other side: SADD a, SREM b.  After the heal every node converges to
    {a, x}: the SADD of a that n1's SPOP did not see survives (add-wins),
    c and b were observed and removed, x is kept; nothing acknowledged as
    added is lost."""
    cluster.start(3, dict(SETTINGS, w=1, r=1))
    k = cluster.keys_coordinated_by("n1", 1, prefix="split")[0]
    assert cluster.client(2).sadd(k, "a", "b", "c") == 3
    # every node's own replica holds the three members before the split
    cluster.wait_for(lambda: all(cluster.client(i).execute_command("SMEMBERS", k)
                                 == {"a", "b", "c"} for i in (1, 2, 3)),
                     timeout=10, msg="the set on every node")
    cluster.isolate(1)
    cluster.wait_link_state([2, 3], 1, "suspect", timeout=5.0)
    cluster.wait_link_state([1], 2, "suspect", timeout=5.0)
    cluster.wait_link_state([1], 3, "suspect", timeout=5.0)
    c1 = cluster.client(1)
    assert set(c1.spop(k, 10)) == {"a", "b", "c"}
    assert c1.sadd(k, "x") == 1
    c2 = cluster.client(2)
    cluster.wait_for(lambda: c2.sadd(k, "a") in (0, 1), timeout=5.0,
                     msg="SADD through n2 while n1 is cut off")
    assert c2.srem(k, "b") == 1
    assert c2.smembers(k) == {"a", "b", "c"} - {"b"}
    cluster.heal()
    cluster.wait_linked(timeout=15.0)

    def converged():
        return all(cluster.client(i).smembers(k) == {"a", "x"} for i in (1, 2, 3))

    cluster.wait_for(converged, timeout=30.0, msg="every node converging to {a, x}")
    assert cluster.client(3).scard(k) == 2

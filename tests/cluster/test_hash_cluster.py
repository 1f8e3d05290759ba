"""The hash commands (src/cmd/cmd_hash.c) on a 3-node cluster (N=3 W=2 R=2
unless a test says otherwise), run with tests/cluster/run.sh.

Every command runs at the key's coordinator: sent to another node it is
forwarded there, so what one node wrote is read through the others, and
concurrent HINCRBYs through different nodes are exact.  Across a partition
both sides keep taking writes; after the heal every node shows the merge
the README's "Data types" documents: concurrent HSETs kept side by side
(HGET shows the greatest, VHGET lists both), HINCRBYs of both sides added
up, an HSET concurrent with an HDEL kept (add-wins).  Waits poll against
deadlines (wait_for); nothing sleeps a fixed time.
"""
import threading

import pytest
import redis

import harness

from cluster_harness import wait_for

GOSSIP = {"gossip-interval": 200, "gossip-suspect-after": 1000, "gossip-dead-after": 2000}
SETTINGS = dict({"put-timeout": 1000, "get-timeout": 1000}, **GOSSIP)
DETECT_WITHIN = 6.0     # a fault is routed around: gossip-dead-after + margin
RELINK_WITHIN = 15.0    # after heal: TCP back-off + reconnect
CONVERGE_WITHIN = 20.0  # after heal: links back, hints drained
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def start3(cluster, **extra):
    return cluster.start(3, dict(SETTINGS, **extra))


def keys_for_each_coordinator(cluster, prefix):
    """One key per node, coordinated by that node."""
    return [cluster.keys_coordinated_by(name, 1, prefix=prefix)[0] for name in cluster.names()]


def not_coordinator(cluster, key):
    """A node index whose node does not coordinate key (commands sent there
    are forwarded)."""
    coord = cluster.coordinator(key)
    return next(i for i in (1, 2, 3) if cluster.node(i).name != coord)


def err(c, *args):
    with pytest.raises(redis.ResponseError) as e:
        c.execute_command(*args)
    return str(e.value)


def hscan_all(c, key, count):
    """Every field and value of a whole HSCAN (cursor 0 to 0) through c."""
    cursor, seen = 0, {}
    while True:
        cursor, items = c.hscan(key, cursor, count=count)
        seen.update(items)
        if cursor == 0:
            return seen


def test_every_command_through_a_forwarding_node(cluster):
    start3(cluster)
    for key in keys_for_each_coordinator(cluster, "hfwd"):
        via = not_coordinator(cluster, key)
        c = cluster.client(via)
        assert c.hset(key, mapping={"a": "1", "b": "2", "c": "3"}) == 3
        assert c.hset(key, "a", "one") == 0
        assert c.execute_command("HMSET", key, "d", "4") in (True, "OK")
        assert c.hsetnx(key, "d", "x") == 0
        assert c.hsetnx(key, "e", "5") == 1
        assert c.hget(key, "a") == "one"
        assert c.hmget(key, ["a", "zz", "e"]) == ["one", None, "5"]
        assert c.hexists(key, "b") is True
        assert c.hstrlen(key, "a") == 3
        assert c.hincrby(key, "n", 7) == 7
        assert c.hincrbyfloat(key, "n", 0.5) == 7.5
        assert c.hdel(key, "c", "zz") == 1
        assert c.hlen(key) == 5
        assert sorted(c.hkeys(key)) == ["a", "b", "d", "e", "n"]
        assert sorted(c.hvals(key)) == ["2", "4", "5", "7.5", "one"]
        want = {"a": "one", "b": "2", "d": "4", "e": "5", "n": "7.5"}
        assert c.hgetall(key) == want
        assert c.hrandfield(key) in want
        assert sorted(c.hrandfield(key, 10)) == sorted(want)
        assert len(c.hrandfield(key, -20)) == 20
        assert hscan_all(c, key, 2) == want
        assert c.execute_command("VHGET", key, "n") == [[], "7.5"]
        assert c.execute_command("VHGET", key, "a") == [["one"], "0"]
        assert c.type(key) == "hash"
        # errors come back through the forwarding node as they are
        c.set(key + ":s", "x")
        assert err(c, "HGET", key + ":s", "f") == WRONGTYPE
        assert err(c, "HINCRBY", key, "a", "1") == "hash value is not an integer"
        # every node reads the same hash
        for i in (1, 2, 3):
            assert cluster.client(i).hgetall(key) == want, "HGETALL via n%d" % i
            assert cluster.client(i).hlen(key) == 5
        assert c.hdel(key, *want) == 5
        for i in (1, 2, 3):
            assert cluster.client(i).exists(key) == 0


def test_large_and_nested_replies_through_a_forwarding_node(cluster):
    """A forwarded command's reply crosses the peer link: arrays of any size
    (HGETALL of 1000 fields) and nested ones (HSCAN, VHGET) come back whole."""
    start3(cluster)
    key = cluster.keys_coordinated_by("n1", 1, prefix="hbig")[0]
    fields = {"f%d" % i: "v%d" % i for i in range(1000)}
    assert cluster.client(1).hset(key, mapping=fields) == 1000
    c = cluster.client(2)
    assert c.hgetall(key) == fields
    assert sorted(c.hkeys(key)) == sorted(fields)
    assert len(c.hrandfield(key, -500)) == 500
    assert hscan_all(c, key, 100) == fields
    assert c.execute_command("VHGET", key, "f7") == [["v7"], "0"]


def test_resp3_shapes_through_a_forwarding_node(cluster):
    """A RESP3 client gets RESP3 shapes (HGETALL a map, HRANDFIELD
    WITHVALUES pairs) from a node that forwards the command."""
    start3(cluster)
    key = cluster.keys_coordinated_by("n1", 1, prefix="hresp3")[0]
    cluster.client(1).hset(key, mapping={"a": "1", "b": "2"})
    with cluster.raw(2) as c:
        c.cmd("HELLO", "3")
        c.send(harness.encode_command("HGETALL", key))
        assert c.read_raw(timeout=5).startswith(b"%2\r\n")
        rep = c.cmd("HRANDFIELD", key, "2", "WITHVALUES")
        assert sorted(tuple(p) for p in rep) == [(b"a", b"1"), (b"b", b"2")]
        c.send(harness.encode_command("HGET", key, "zz"))
        assert c.read_raw(timeout=5) == b"_\r\n"


def test_concurrent_hincrby_through_every_node_is_exact(cluster):
    start3(cluster)
    key = "hctr"
    per_thread, threads_per_node = 100, 2
    errors = []

    def worker(i):
        c = cluster.new_client(i)
        try:
            for _ in range(per_thread):
                c.hincrby(key, "n", 1)
                c.hset(key, "w%d" % i, "x")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append((i, e))

    ts = [threading.Thread(target=worker, args=(i,))
          for i in (1, 2, 3) for _ in range(threads_per_node)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    total = str(3 * threads_per_node * per_thread)
    for i in (1, 2, 3):
        assert cluster.client(i).hget(key, "n") == total, "HGET via n%d" % i
        assert cluster.client(i).hlen(key) == 4


def test_both_sides_of_a_partition_merge(cluster, nft):
    """n3 cut off; W=1 so both sides take writes.  The key's coordinator
    is n1 (majority side); n3 coordinates for itself while it sees nobody."""
    start3(cluster, w=1)
    key = cluster.keys_coordinated_by("n1", 1, prefix="hsplit")[0]
    c1, c3 = cluster.client(1), cluster.client(3)
    assert c1.hset(key, mapping={"name": "base", "cnt": "10", "gone": "x"}) == 3
    wait_for(lambda: all(cluster.client(i).execute_command("VHGET", key, "gone") is not None
                         for i in (1, 2, 3)), timeout=5, msg="the hash on every node")
    cluster.isolate(3)
    cluster.wait_routed([1, 2], 3, up=False, timeout=DETECT_WITHIN)
    cluster.wait_routed([3], 1, up=False, timeout=DETECT_WITHIN)
    cluster.wait_routed([3], 2, up=False, timeout=DETECT_WITHIN)
    # majority side
    assert c1.hset(key, "name", "alice") == 0
    assert c1.hincrby(key, "cnt", 5) == 15
    assert c1.hdel(key, "gone") == 1
    assert c1.hset(key, "only_major", "1") == 1
    # minority side, concurrently
    assert c3.hset(key, "name", "bob") == 0
    assert c3.hincrby(key, "cnt", 3) == 13
    assert c3.hset(key, "gone", "y") == 0  # concurrent with the HDEL: add-wins
    assert c3.hset(key, "only_minor", "1") == 1
    cluster.heal()
    cluster.wait_linked(timeout=RELINK_WITHIN)
    want = {"name": "bob", "cnt": "18", "gone": "y", "only_major": "1", "only_minor": "1"}
    wait_for(lambda: all(cluster.client(i).hgetall(key) == want for i in (1, 2, 3)),
             timeout=CONVERGE_WITHIN, msg="every node shows the merged hash")
    for i in (1, 2, 3):
        c = cluster.client(i)
        # both concurrent values, the one HGET shows first
        assert c.execute_command("VHGET", key, "name") == [["bob", "alice"], "0"]
        # base register 10, n1's +5 and n3's +3
        assert c.execute_command("VHGET", key, "cnt") == [["10"], "8"]
        assert c.hget(key, "cnt") == "18"
        assert c.hlen(key) == 5
    # an HSET that saw both values resolves the conflict everywhere
    assert c1.hset(key, "name", "carol") == 0
    wait_for(lambda: all(cluster.client(i).execute_command("VHGET", key, "name") ==
                         [["carol"], "0"] for i in (1, 2, 3)),
             timeout=CONVERGE_WITHIN, msg="one value of name on every node")

"""The sorted-set commands (src/cmd/cmd_zset*.c) on a 3-node cluster (N=3
W=2 R=2), run with tests/cluster/run.sh.

Every command is sent through a rotating node (so two of three go through a
node that is not the key's coordinator and are forwarded) and its reply is
compared with a real redis-server 7.0 given the same sequence; the values
are then read through every node.  Under a partition, ZADD/ZINCRBY/ZREM on
both sides merge as README "Data types" says: increments add up, a ZADD
concurrent with a ZREM of the same member survives, concurrent ZADDs keep
the largest score.  Waits poll against deadlines; nothing sleeps a fixed
time.
"""

import pytest
import redis

from cluster_harness import wait_for
import harness

SETTINGS = {"put-timeout": 1000, "get-timeout": 1000}
GOSSIP = {"gossip-interval": 200, "gossip-suspect-after": 1000, "gossip-dead-after": 2000}
DETECT_WITHIN = 6.0  # as test_failures.py: gossip-dead-after + margin


@pytest.fixture(scope="module")
def redis_port():
    with harness.redis_server() as port:
        yield port


def reply(client, *args):
    try:
        return client.execute_command(*args)
    except redis.ResponseError as e:
        return ("error", str(e))


def script(k, k2, dst):
    """A sequence over every sorted-set command (deterministic replies)."""
    return [
        ("ZADD", k, 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"),
        ("ZADD", k, "XX", "CH", 10, "a", 1, "zz"),
        ("ZADD", k, "NX", 7, "f", 8, "a"),
        ("ZADD", k, "GT", "CH", 1, "b", 20, "c"),
        ("ZADD", k, "INCR", 2, "d"),
        ("ZADD", k, "NX", "XX", 1, "a"),
        ("ZINCRBY", k, "1.5", "e"),
        ("ZINCRBY", k, "x", "e"),
        ("ZSCORE", k, "e"), ("ZMSCORE", k, "a", "nope", "c"), ("ZCARD", k),
        ("ZCOUNT", k, "(2", "+inf"), ("ZLEXCOUNT", k, "-", "+"),
        ("ZRANK", k, "c"), ("ZREVRANK", k, "c"), ("ZRANK", k, "nope"),
        ("ZRANGE", k, 0, -1, "WITHSCORES"), ("ZRANGE", k, 1, 3, "REV"),
        ("ZRANGE", k, "(2", 10, "BYSCORE", "LIMIT", 1, 2, "WITHSCORES"),
        ("ZRANGE", k, "[b", "-", "BYLEX", "REV"),
        ("ZREVRANGE", k, 0, 2, "WITHSCORES"),
        ("ZRANGEBYSCORE", k, "-inf", 5), ("ZREVRANGEBYSCORE", k, 5, "-inf", "LIMIT", 0, 2),
        ("ZRANGEBYLEX", k, "-", "[c"), ("ZREVRANGEBYLEX", k, "[c", "-"),
        ("ZRANGESTORE", dst, k, 0, 2), ("ZRANGE", dst, 0, -1, "WITHSCORES"),
        ("ZADD", k2, 1, "a", 100, "x"),
        ("ZUNION", 2, k, k2, "WITHSCORES"), ("ZINTER", 2, k, k2, "AGGREGATE", "MAX", "WITHSCORES"),
        ("ZDIFF", 2, k, k2), ("ZINTERCARD", 2, k, k2),
        ("ZUNIONSTORE", dst, 2, k, k2, "WEIGHTS", 1, 3), ("ZRANGE", dst, 0, -1, "WITHSCORES"),
        ("ZINTERSTORE", dst, 2, k, k2), ("ZDIFFSTORE", dst, 2, k, k2),
        ("ZRANGE", dst, 0, -1, "WITHSCORES"),
        ("ZPOPMIN", k), ("ZPOPMAX", k, 2),
        ("ZREM", k, "a", "nope"),
        ("ZREMRANGEBYSCORE", k, 3, 3.5), ("ZREMRANGEBYLEX", k, "[zz", "+"),
        ("ZRANGE", k, 0, -1, "WITHSCORES"),
        ("ZREMRANGEBYRANK", k, 0, 0),
        ("ZRANGE", k, 0, -1, "WITHSCORES"),
        ("ZRANGEBYSCORE", k, "x", 1),
    ]


def test_every_command_through_every_node_like_redis(cluster, redis_port):
    cluster.start(3, SETTINGS)
    ref = redis.Redis(port=redis_port)
    ref.flushall()
    clients = [cluster.client(i, decode_responses=False) for i in (1, 2, 3)]
    before = sum(cluster.info_cluster(i)["forwarded_requests"] for i in (1, 2, 3))
    for name in cluster.names():
        k, k2, dst = cluster.keys_coordinated_by(name, 3, prefix="zs")
        for n, cmd in enumerate(script(k, k2, dst)):
            via = clients[n % 3]
            assert reply(via, *cmd) == reply(ref, *cmd), (name, n % 3 + 1, cmd)
        # what was written is read the same through every node
        for c in clients:
            for key in (k, k2, dst):
                assert c.zrange(key, 0, -1, withscores=True) == \
                    ref.zrange(key, 0, -1, withscores=True)
    assert sum(cluster.info_cluster(i)["forwarded_requests"] for i in (1, 2, 3)) > before
    ref.close()


def test_wrongtype_and_errors_through_a_forwarding_node(cluster):
    cluster.start(3, SETTINGS)
    k = cluster.keys_coordinated_by("n1", 1, prefix="zw")[0]
    c3 = cluster.client(3, decode_responses=False)
    c3.set(k, "x")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        c3.zadd(k, {"a": 1})
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        c3.zrange(k, 0, -1)
    with pytest.raises(redis.ResponseError, match="not a valid float"):
        c3.execute_command("ZADD", k, "x", "a")
    assert c3.get(k) == b"x"


def test_partition_both_sides_merge(cluster, nft):
    """n1 cut from n2+n3, W=1: each side takes writes on its own."""
    cluster.start(3, dict(SETTINGS, w=1, r=1, **GOSSIP))
    k = cluster.keys_coordinated_by("n1", 1, prefix="zp")[0]
    c1, c2 = cluster.client(1, decode_responses=False), cluster.client(2, decode_responses=False)
    assert c1.zadd(k, {"inc": 10, "gone": 1, "kept": 1, "both": 1}) == 4
    for c in (cluster.client(i, decode_responses=False) for i in (1, 2, 3)):
        wait_for(lambda c=c: c.zcard(k) == 4, timeout=10, msg="the set everywhere")
    cluster.split([1], [2, 3])
    # each side routes around the other once gossip declares it dead
    cluster.wait_routed([2, 3], 1, up=False, timeout=DETECT_WITHIN)
    for j in (2, 3):
        cluster.wait_routed([1], j, up=False, timeout=DETECT_WITHIN)
    # side 1
    assert c1.zincrby(k, 5, "inc") == 15
    assert c1.zrem(k, "kept") == 1
    c1.zadd(k, {"both": 50})
    # side 2 (its own coordinator: n1 is unreachable from there)
    assert c2.zincrby(k, 7, "inc") == 17
    assert c2.zadd(k, {"kept": 3}) == 0       # a ZADD the other side's ZREM did not see
    assert c2.zrem(k, "gone") == 1
    c2.zadd(k, {"both": 20})
    cluster.heal()
    cluster.wait_linked(timeout=30)
    want = [(b"kept", 3.0), (b"inc", 22.0), (b"both", 50.0)]
    for i in (1, 2, 3):
        c = cluster.client(i, decode_responses=False)
        wait_for(lambda c=c: c.zrange(k, 0, -1, withscores=True) == want, timeout=30,
                 msg="n%d to show the merged set" % i)


def raw_reply(port_host, *args, proto=2):
    """The raw bytes of one reply (after HELLO 3 when proto == 3)."""
    from harness import RawConn
    host, port = port_host
    with RawConn(port, host=host) as c:
        cap = []
        orig_line, orig_exact = c._line, c._exact

        def line():
            v = orig_line()
            cap.append(v + b"\r\n")
            return v

        def exact(n):
            v = orig_exact(n)
            cap.append(v + b"\r\n")
            return v
        if proto == 3:
            c.send(encode(["HELLO", "3"]))
            c.read_reply()
        c._line, c._exact = line, exact
        c.send(encode(list(args)))
        c.read_reply()
        return b"".join(cap)


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def test_forwarded_replies_keep_their_shape(cluster, redis_port):
    cluster.start(3, SETTINGS)
    ref = redis.Redis(port=redis_port)
    k = cluster.keys_coordinated_by("n1", 1, prefix="zf")[0]
    members = sum([[i, "m%03d" % i] for i in range(100)], [])
    ref.delete(k)
    ref.execute_command("ZADD", k, *members)
    cluster.client(1).execute_command("ZADD", k, *members)
    via = (cluster.node(2).host, cluster.node(2).port)  # n2: not the coordinator
    theirs = ("127.0.0.1", redis_port)
    for proto, cmd in [(3, ("ZSCORE", k, "m005")),
                       (3, ("ZRANGE", k, 0, 2, "WITHSCORES")),
                       (2, ("ZRANGE", k, 0, -1, "WITHSCORES"))]:
        assert raw_reply(via, *cmd, proto=proto) == raw_reply(theirs, *cmd, proto=proto), cmd
    ref.close()
    # ZSCAN's cursors are ours, its shape is Redis's: [cursor, [member, score...]]
    from harness import RawConn
    with RawConn(via[1], host=via[0]) as c:
        c.send(encode(["ZSCAN", k, "0", "COUNT", "1000"]))
        rep = c.read_reply()
    assert isinstance(rep, list) and isinstance(rep[1], list) and len(rep[1]) == 200, rep

"""TTLs of hashes, sets, sorted sets and counters (issue 14) on one real
dynamo-node through redis-py: EXPIRE/PEXPIRE/EXPIREAT/PERSIST/TTL act on a
typed key's expiry register (src/core/crdt.h), an expired key is gone for
every command, and writing it again starts an empty value — nothing of the
expired one comes back.  The cluster side (concurrent EXPIREs) is
tests/cluster/test_types_partition.py.

Run: DYNAMO_NODE_BIN=$PWD/build/src/dynamo-node \
     /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_types_ttl.py
"""
import pytest

from harness import wait_until

WRITERS = {
    "set": (lambda r, k: r.sadd(k, "a", "b"), lambda r, k: r.smembers(k), set()),
    "hash": (lambda r, k: r.hset(k, mapping={"a": "1", "b": "2"}), lambda r, k: r.hgetall(k), {}),
    "zset": (lambda r, k: r.zadd(k, {"a": 1, "b": 2}), lambda r, k: r.zrange(k, 0, -1), []),
    "counter": (lambda r, k: r.incrby(k, 7), lambda r, k: r.get(k), None),
}


@pytest.fixture(params=sorted(WRITERS))
def kind(request):
    return request.param


def test_expire_ttl_persist(r, kind):
    write, read, empty = WRITERS[kind]
    k = "ttl:" + kind
    write(r, k)
    assert r.ttl(k) == -1
    assert r.expire(k, 100) is True
    assert 99 <= r.ttl(k) <= 100
    assert r.expire(k, 50, gt=True) is False  # 50 < 100
    assert r.expire(k, 200, gt=True) is True
    assert 199 <= r.ttl(k) <= 200
    assert r.persist(k) is True
    assert r.ttl(k) == -1
    assert r.persist(k) is False
    assert r.expire(k, 100, xx=True) is False  # no TTL to change
    assert r.expire(k, 300, nx=True) is True
    assert r.expire(k, 100, nx=True) is False
    assert 299 <= r.ttl(k) <= 300
    assert r.type(k).decode() == ("string" if kind == "counter" else kind)


def test_expired_key_is_gone_and_comes_back_empty(r, kind):
    write, read, empty = WRITERS[kind]
    k = "gone:" + kind
    write(r, k)
    assert r.pexpire(k, 30) is True
    wait_until(lambda: r.exists(k) == 0, timeout=5)
    assert read(r, k) == empty
    assert r.ttl(k) == -2
    assert r.type(k) == b"none"
    # written again: only what is written now (no element of the expired value)
    if kind == "set":
        r.sadd(k, "c")
        assert r.smembers(k) == {b"c"}
    elif kind == "hash":
        r.hset(k, "c", "3")
        assert r.hgetall(k) == {b"c": b"3"}
    elif kind == "zset":
        r.zadd(k, {"c": 3})
        assert r.zrange(k, 0, -1) == [b"c"]
    else:
        assert r.incr(k) == 1
    assert r.ttl(k) == -1


def test_expire_in_the_past_deletes(r, kind):
    write, read, empty = WRITERS[kind]
    k = "past:" + kind
    write(r, k)
    assert r.expire(k, -1) is True
    assert r.exists(k) == 0
    assert read(r, k) == empty


def test_ttl_survives_restart(node, kind):
    r = node.client()
    write, read, empty = WRITERS[kind]
    k = "restart:" + kind
    write(r, k)
    r.expire(k, 1000)
    node.restart()
    r = node.client()
    assert 990 <= r.ttl(k) <= 1000
    assert read(r, k) != empty


def test_rewrite_and_restart_keep_every_type(node):
    """BGREWRITEAOF writes each typed key's whole state; the deltas logged
    after it (merge records) replay on top; a restart reads both back."""
    r = node.client()
    for j in range(200):
        r.sadd("rw:s", "m%d" % j)
        r.hincrby("rw:h", "f%d" % (j % 10), j)
        r.zincrby("rw:z", j, "m%d" % (j % 7))
        r.incrby("rw:c", j)
    r.srem("rw:s", "m0", "m1")
    r.expire("rw:h", 1000)
    before = (r.smembers("rw:s"), r.hgetall("rw:h"), r.zrange("rw:z", 0, -1, withscores=True),
              r.get("rw:c"))
    assert r.bgrewriteaof()
    wait_until(lambda: r.info("persistence")["aof_rewrites"] >= 1
               and not r.info("persistence")["aof_rewrite_in_progress"], 20.0, msg="the rewrite")
    r.sadd("rw:s", "after")
    r.hincrby("rw:h", "f0", 1)
    node.restart()
    r = node.client()
    s, h, z, c = before
    assert r.smembers("rw:s") == s | {b"after"}
    h = dict(h)
    h[b"f0"] = str(int(h[b"f0"]) + 1).encode()
    assert r.hgetall("rw:h") == h
    assert r.zrange("rw:z", 0, -1, withscores=True) == z
    assert r.get("rw:c") == c == str(sum(range(200))).encode()
    assert 990 <= r.ttl("rw:h") <= 1000

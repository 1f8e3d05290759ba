"""Key-space commands on typed keys across a 3-node cluster (issue 14; run
with tests/cluster/run.sh): COPY / RENAME / RENAMENX of counters (and of
sets, hashes and sorted sets once their commands exist) between keys whose
coordinators differ, sent through a third node; SCAN TYPE gathering every
node's keys of one type.  Single-node behaviour:
tests/integration/test_types_keyspace.py.

A copy is a new state made at the destination's coordinator with that
coordinator's own dots: its context names only that coordinator's actor
(VCLOCK), never the source's.
"""
import pytest
import redis

from cluster_harness import wait_for
from harness import Err
import peer_handshake

SETTINGS = {"put-timeout": 1000, "get-timeout": 1000}


def start3(cluster):
    return cluster.start(3, dict(SETTINGS))


def need(c, *names):
    for n in names:
        try:
            c.execute_command(n)
        except redis.ResponseError as e:
            if "unknown command" in str(e):
                pytest.skip("%s is not implemented yet (another slice of issue 14)" % n)


def actors(cluster, i, key):
    """The actor names of the context of key's typed state on node i's own
    replica (VCLOCK R 1; actor names are "node-name.incarnation")."""
    lines = cluster.vclock(i, key, r=1)
    assert lines is not None and len(lines) == 1, lines
    desc, clock = lines[0]
    return desc, sorted({a.rsplit(".", 1)[0] for a, _ in clock})


def keys_by(cluster):
    """One key coordinated by each node: {"n1": key, ...} for three prefixes."""
    return {p: {n: cluster.keys_coordinated_by(n, 1, prefix=p)[0] for n in ("n1", "n2", "n3")}
            for p in ("src", "dst", "oth")}


def test_copy_rename_counter_between_coordinators(cluster):
    start3(cluster)
    k = keys_by(cluster)
    src, dst, oth = k["src"]["n1"], k["dst"]["n2"], k["oth"]["n3"]
    c1, c2, c3 = (cluster.client(i) for i in (1, 2, 3))
    assert c2.incrby(src, 40) == 40
    assert c3.incrby(src, 2) == 42
    assert c1.pexpire(src, 200000)
    # COPY through n3, neither coordinator
    assert c3.copy(src, dst) is True
    for i in (1, 2, 3):
        cl = cluster.client(i)
        assert cl.get(dst) == "42", i
        assert cl.type(dst) == "string"
        assert 150000 < cl.pttl(dst) <= 200000
    # fresh dots: dst's state was made by its coordinator (n2) alone
    wait_for(lambda: all(cluster.vclock(i, dst, r=1) for i in (1, 2, 3)),
             msg="every replica holds the copy")
    desc, names = actors(cluster, 2, dst)
    assert desc.startswith("counter "), desc
    src_names = actors(cluster, 1, src)[1]
    assert len(names) == 1 and names != src_names, (names, src_names)
    # the copy changes on its own
    assert c1.incr(dst) == 43
    assert c3.get(src) == "42"
    # COPY without REPLACE onto a string held by another coordinator
    c1.set(oth, "text")
    assert c2.copy(src, oth) is False
    assert c3.get(oth) == "text"
    assert c2.copy(src, oth, replace=True) is True
    for i in (1, 2, 3):
        assert cluster.client(i).get(oth) == "42"
    assert c1.incr(oth) == 43
    # RENAME through n2 onto a key coordinated by n3
    dst2 = k["dst"]["n3"]
    assert c2.rename(src, dst2) is True
    for i in (1, 2, 3):
        cl = cluster.client(i)
        assert cl.get(dst2) == "42"
        assert cl.exists(src) == 0
        assert 100000 < cl.pttl(dst2) <= 200000
    with pytest.raises(redis.ResponseError, match="^no such key$"):
        c1.rename(src, dst2)
    # RENAMENX onto an existing key, then onto a free one
    assert c3.renamenx(dst2, dst) is False
    assert c1.get(dst2) == "42"
    free = k["dst"]["n1"]
    assert c3.renamenx(dst2, free) is True
    for i in (1, 2, 3):
        assert cluster.client(i).get(free) == "42"
        assert cluster.client(i).exists(dst2) == 0
    assert c2.incr(free) == 43


def test_scan_type_across_nodes(cluster):
    start3(cluster)
    c1 = cluster.client(1)
    strings, counters = set(), set()
    for j in range(60):
        cl = cluster.client(1 + j % 3)
        if j % 2:
            cl.set("str:%d" % j, "v")
            strings.add("str:%d" % j)
        else:
            cl.incrby("ctr:%d" % j, j)
            counters.add("ctr:%d" % j)
    typed = {}
    if _has(c1, "sadd"):
        for j in range(30):
            cluster.client(1 + j % 3).sadd("set:%d" % j, "m")
            typed.setdefault("set", set()).add("set:%d" % j)
    if _has(c1, "hset"):
        for j in range(30):
            cluster.client(1 + j % 3).hset("hash:%d" % j, "f", "v")
            typed.setdefault("hash", set()).add("hash:%d" % j)
    if _has(c1, "zadd"):
        for j in range(30):
            cluster.client(1 + j % 3).zadd("zset:%d" % j, {"m": j})
            typed.setdefault("zset", set()).add("zset:%d" % j)

    def scan_all(cl, t, count=7):
        out, cur = [], 0
        while True:
            cur, keys = cl.scan(cur, _type=t, count=count)
            out += keys
            if cur == 0:
                return out
    for i in (1, 2, 3):
        cl = cluster.client(i)
        got = scan_all(cl, "string")
        assert len(got) == len(set(got)), "duplicates via n%d" % i
        assert set(got) == strings | counters, i
        for t in ("hash", "set", "zset"):
            assert set(scan_all(cl, t)) == typed.get(t, set()), (i, t)
        assert scan_all(cl, "list") == []
        assert set(scan_all(cl, "STRING", count=1000)) == strings | counters
    # each node filters its own share (PSCAN's type argument, cluster port)
    total = 0
    for i in (1, 2, 3):
        with cluster.raw(i, cluster_port=True) as raw:
            peer_handshake.handshake(raw, "s3cret", "test")
            everything = raw.cmd("PSCAN", "0", "0", "*")[1]
            typed_n = sum(raw.cmd("PSCAN", "0", "0", "*", t)[1] for t in ("hash", "set", "zset"))
            strings_n = raw.cmd("PSCAN", "0", "0", "*", "string")[1]
            assert strings_n + typed_n == everything, i
            assert raw.cmd("PSCAN", "0", "0", "*", "list")[1] == 0
            total += strings_n
            err = raw.cmd("PSCAN", "0", "0", "*", "string", "extra")
            assert isinstance(err, Err) and "too many arguments" in err, err
    assert total == len(strings | counters)


def _has(c, name):
    try:
        c.execute_command(name)
    except redis.ResponseError as e:
        return "unknown command" not in str(e)
    return True


def test_copy_rename_set_hash_zset_between_coordinators(cluster):
    start3(cluster)
    c1 = cluster.client(1)
    need(c1, "SADD", "HSET", "ZADD")
    k = keys_by(cluster)
    c2, c3 = cluster.client(2), cluster.client(3)
    s, h, z = k["src"]["n1"], k["src"]["n2"], k["src"]["n3"]
    c3.sadd(s, "a", "b", "c")
    c1.hset(h, mapping={"f": "v", "g": "w"})
    c2.zadd(z, {"x": 1.5, "y": -1})
    assert c3.copy(s, k["dst"]["n2"]) is True
    assert c1.copy(h, k["dst"]["n3"]) is True
    assert c2.copy(z, k["dst"]["n1"]) is True
    for i in (1, 2, 3):
        cl = cluster.client(i)
        assert sorted(cl.smembers(k["dst"]["n2"])) == ["a", "b", "c"]
        assert cl.hgetall(k["dst"]["n3"]) == {"f": "v", "g": "w"}
        assert cl.zrange(k["dst"]["n1"], 0, -1, withscores=True) == [("y", -1.0), ("x", 1.5)]
    # RENAME a set onto a hash held by another coordinator (REPLACE semantics)
    assert c2.rename(s, k["dst"]["n3"]) is True
    for i in (1, 2, 3):
        cl = cluster.client(i)
        assert cl.type(k["dst"]["n3"]) == "set"
        assert sorted(cl.smembers(k["dst"]["n3"])) == ["a", "b", "c"]
        assert cl.exists(s) == 0

"""The key-space commands on typed keys (issue 14): COPY, RENAME, RENAMENX,
SCAN TYPE, OBJECT ENCODING of counters, MEMORY USAGE, DEL/UNLINK/EXISTS/TYPE/DBSIZE/
RANDOMKEY/KEYS and DYNAMO LOCAL on counters, hashes, sets and sorted sets,
on one real dynamo-node through redis-py, side by side with a redis-server
where the replies must be the same.

A copy of a typed key is a NEW state built at the destination's coordinator
(typed_copy.c): its value, type and TTL are the source's, and it changes on
its own afterwards.  A typed key whose last element went (SREM of the last
member) is absent everywhere, as in Redis.

The hash/set/zset tests, and MEMORY USAGE's, run once those commands exist
(they are written by other slices of issue 14: MEMORY and the typed OBJECT
ENCODING live in cmd_object.c, from the hash and set slices); until then
they are skipped with that reason.

Run: DYNAMO_NODE_BIN=$PWD/build/src/dynamo-node \
     /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_types_keyspace.py
"""
import shutil
import subprocess

import pytest
import redis

from harness import free_port, wait_until


@pytest.fixture(scope="module")
def rs():
    """A redis-server on a free port (no persistence), stopped by PID."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server not installed")
    port = free_port()
    p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c = redis.Redis(port=port)
    try:
        wait_until(lambda: _pings(c), timeout=10, msg="redis-server up")
        yield c
    finally:
        p.terminate()
        p.wait(10)


def _pings(c):
    try:
        return c.ping()
    except redis.ConnectionError:
        return False


@pytest.fixture
def k(request):
    return "ks:%s" % request.node.name


def has_command(r, name):
    """Whether the node knows the command (called without its arguments it
    answers an arity error then, not "unknown command")."""
    try:
        r.execute_command(name)
    except redis.ResponseError as e:
        return "unknown command" not in str(e)
    return True


def need(r, *names):
    for n in names:
        if not has_command(r, n):
            pytest.skip("%s is not implemented yet (another slice of issue 14)" % n.upper())


def run(c, *args):
    """A command's reply, or its error text (so two servers compare)."""
    opts = {"infotype": args[1].lower()} if args[0] == "OBJECT" else {}
    try:
        return c.execute_command(*args, **opts)
    except redis.ResponseError as e:
        return "ERR:" + str(e)


def side_by_side(r, rs, cmds):
    rs.flushall()
    diffs = []
    for cmd in cmds:
        a, b = run(r, *cmd), run(rs, *cmd)
        if a != b:
            diffs.append((cmd, a, b))
    assert diffs == []


def local(r, key):
    return [x.decode() for x in r.execute_command("DYNAMO", "LOCAL", key)]


# ---- counters -------------------------------------------------------------

def test_copy_of_a_counter_is_a_new_counter(r, k):
    src, dst = k + ":src", k + ":dst"
    assert r.incrby(src, 41) == 41
    assert r.copy(src, dst) == 1
    assert r.get(dst) == b"41"          # was b"" before typed_copy
    assert r.type(dst) == b"string"
    # dst is a counter state of its own, not a string version
    assert local(r, dst)[0].startswith("counter elements=1 "), local(r, dst)
    assert r.incr(dst) == 42
    assert r.get(src) == b"41"          # the copy changes on its own
    assert r.incrby(src, 2) == 43
    assert r.get(dst) == b"42"


def test_copy_of_a_float_counter(r, k):
    src, dst = k + ":src", k + ":dst"
    assert r.incrbyfloat(src, 1.5) == 1.5
    assert r.copy(src, dst) == 1
    assert r.get(dst) == b"1.5"
    assert r.incrbyfloat(dst, 1) == 2.5
    # float texts, which Redis's INCR refuses, on both keys
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.incr(dst)
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.incr(src)
    assert r.get(src) == b"1.5"


def test_copy_of_a_counter_keeps_its_ttl(r, k):
    src, dst, plain = k + ":src", k + ":dst", k + ":plain"
    r.incr(src)
    assert r.pexpire(src, 100000)
    assert r.copy(src, dst) == 1
    assert 0 < r.pttl(dst) <= 100000
    r.incr(plain)
    assert r.copy(plain, k + ":p2") == 1
    assert r.ttl(k + ":p2") == -1       # no TTL made up


def test_copy_without_replace_leaves_dst(r, k):
    src, s, c = k + ":src", k + ":s", k + ":c"
    r.incrby(src, 5)
    r.set(s, "text")
    r.incrby(c, 7)
    assert r.copy(src, s) == 0
    assert r.get(s) == b"text"
    assert r.copy(src, c) == 0
    assert r.get(c) == b"7"


def test_copy_replace_over_a_string_and_back(r, k):
    src, s = k + ":src", k + ":s"
    r.incrby(src, 5)
    r.set(s, "text", ex=1000)
    assert r.copy(src, s, replace=True) == 1
    assert r.get(s) == b"5"
    assert r.ttl(s) == -1               # the source's (none), not dst's
    assert r.incr(s) == 6
    # a string source over a counter
    r.set(k + ":str", "abc")
    assert r.copy(k + ":str", s, replace=True) == 1
    assert r.get(s) == b"abc"
    assert not local(r, s)[0].startswith("counter"), local(r, s)


def test_copy_replace_over_a_counter(r, k):
    src, dst = k + ":src", k + ":dst"
    r.incrby(src, 5)
    r.incrby(dst, 100)
    r.expire(dst, 1000)
    assert r.copy(src, dst, replace=True) == 1
    assert r.get(dst) == b"5"
    assert r.ttl(dst) == -1             # dst's TTL went with its old content
    assert r.incr(dst) == 6             # not 106: dst was reset


def test_rename_of_a_counter(r, k):
    src, dst = k + ":src", k + ":dst"
    r.incrby(src, 9)
    r.pexpire(src, 100000)
    r.set(dst, "old", ex=5000)
    assert r.rename(src, dst)
    assert r.exists(src) == 0
    assert r.get(dst) == b"9"
    assert 0 < r.pttl(dst) <= 100000
    assert r.incr(dst) == 10
    assert r.incr(src) == 1             # the source starts again from nothing


def test_renamenx_of_a_counter(r, k):
    a, b, c = k + ":a", k + ":b", k + ":c"
    r.incrby(a, 3)
    r.set(b, "x")
    assert r.renamenx(a, b) is False
    assert r.get(a) == b"3" and r.get(b) == b"x"
    assert r.renamenx(a, c) is True
    assert r.exists(a) == 0 and r.get(c) == b"3"
    assert r.incr(c) == 4


def test_rename_counter_onto_itself(r, k):
    r.incr(k)
    assert r.rename(k, k)
    assert r.renamenx(k, k) is False
    assert r.get(k) == b"1"


def test_counter_keyspace_side_by_side(r, rs, k):
    r.flushall()
    side_by_side(r, rs, [
        ("INCRBY", "a", 10), ("COPY", "a", "b"), ("GET", "b"), ("INCR", "b"), ("GET", "a"),
        ("COPY", "a", "b"), ("COPY", "a", "b", "REPLACE"), ("GET", "b"),
        ("RENAME", "a", "c"), ("EXISTS", "a", "b", "c"), ("GET", "c"), ("TYPE", "c"),
        ("RENAMENX", "c", "b"), ("RENAME", "nosuch", "x"), ("COPY", "nosuch", "x"),
        ("OBJECT", "ENCODING", "c"), ("INCRBYFLOAT", "f", "1.5"), ("OBJECT", "ENCODING", "f"),
        ("OBJECT", "REFCOUNT", "nosuch"), ("OBJECT", "ENCODING", "nosuch"),
        ("SET", "s", "x"), ("COPY", "c", "s"), ("COPY", "c", "s", "REPLACE"), ("GET", "s"),
        ("DBSIZE",), ("DEL", "c"), ("EXISTS", "c"), ("TYPE", "c"), ("DBSIZE",),
        ("SCAN", "0", "TYPE", "hash"), ("SCAN", "0", "TYPE", "list"),
    ])


def test_copy_rename_of_a_counter_inside_exec(r, k):
    a, b, c = k + ":a", k + ":b", k + ":c"
    p = r.pipeline(transaction=True)
    p.incrby(a, 7)
    p.copy(a, b)
    p.get(b)
    p.rename(a, c)
    p.get(c)
    p.exists(a)
    assert p.execute() == [7, True, b"7", True, b"7", 0]
    assert r.incr(b) == 8 and r.incr(c) == 8


def test_scan_type_with_counters(r, k):
    r.flushall()
    r.incr("c1")
    r.set("s1", "x")
    r.incrbyfloat("f1", 0.5)
    got = set()
    cur = 0
    while True:
        cur, keys = r.scan(cur, _type="string")
        got.update(keys)
        if cur == 0:
            break
    assert got == {b"c1", b"s1", b"f1"}
    assert sorted(r.scan(0, _type="STRING", count=100)[1]) == [b"c1", b"f1", b"s1"]
    for t in ("hash", "set", "zset", "list", "stream", "nosuchtype"):
        assert r.scan(0, _type=t, count=100) == (0, []), t
    assert sorted(r.scan(0, match="c*", _type="string", count=100)[1]) == [b"c1"]


def test_object_encoding_of_counters(r, k):
    r.incrby(k, 12)
    assert r.object("encoding", k) == b"int"
    r.incrbyfloat(k + ":f", 2.25)
    assert r.object("encoding", k + ":f") == b"embstr"
    assert r.object("refcount", k) == 1


def test_memory_usage(r, rs, k):
    need(r, "memory")  # cmd_object.c, written by the hash slice of issue 14
    r.flushall()
    side_by_side(r, rs, [
        ("MEMORY", "USAGE", "nosuch"), ("INCR", "c"), ("MEMORY", "USAGE", "c", "SAMPLES", "x"),
        ("MEMORY", "USAGE", "c", "foo"), ("MEMORY", "USAGE", "c", "SAMPLES"),
    ])
    assert r.memory_usage(k) is None
    r.set(k, "x" * 1000)
    small_counter = k + ":c"
    r.incr(small_counter)
    s = r.memory_usage(k)
    assert s > 1000
    c = r.memory_usage(small_counter)
    assert 0 < c < s
    assert r.memory_usage(k, samples=5) == s
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("MEMORY", "USAGE", k, "SAMPLES")
    with pytest.raises(redis.ResponseError, match="unknown subcommand"):
        r.execute_command("MEMORY", "NOPE")
    assert len(r.execute_command("MEMORY", "HELP")) > 2


def test_del_of_a_counter(r, k):
    r.incrby(k, 5)
    assert r.delete(k) == 1
    assert r.exists(k) == 0
    assert r.type(k) == b"none"
    assert r.get(k) is None
    assert r.incr(k) == 1               # a new counter, not 6
    assert r.unlink(k) == 1
    assert r.unlink(k) == 0


def test_dynamo_local_of_a_counter(r, k):
    r.incrby(k, 3)
    lines = local(r, k)
    assert len(lines) == 1
    assert lines[0].startswith("counter elements=1 ctx=["), lines
    # an expired state says so, as an expired string version does
    r.pexpire(k, 1)
    wait_until(lambda: r.exists(k) == 0, msg="the counter expired")
    lines = local(r, k)
    assert lines and lines[0].startswith("expired counter elements=1 ctx=["), lines


# ---- hashes, sets, sorted sets (once their commands exist) ----------------

def members(r, key):
    return sorted(r.smembers(key))


def test_copy_rename_of_a_set(r, k):
    need(r, "sadd", "srem", "smembers")
    src, dst = k + ":src", k + ":dst"
    assert r.sadd(src, "a", "b", "c") == 3
    r.pexpire(src, 100000)
    assert r.copy(src, dst) == 1
    assert members(r, dst) == [b"a", b"b", b"c"]
    assert r.type(dst) == b"set"
    assert 0 < r.pttl(dst) <= 100000
    assert r.srem(dst, "a") == 1
    assert members(r, src) == [b"a", b"b", b"c"]
    assert r.rename(src, k + ":moved")
    assert r.exists(src) == 0
    assert members(r, k + ":moved") == [b"a", b"b", b"c"]


def test_copy_of_a_hash_and_a_zset(r, k):
    need(r, "hset", "hgetall", "zadd", "zrange")
    r.hset(k + ":h", mapping={"f1": "v1", "f2": "v2"})
    r.hincrby(k + ":h", "n", 5)
    assert r.copy(k + ":h", k + ":h2") == 1
    assert r.hgetall(k + ":h2") == {b"f1": b"v1", b"f2": b"v2", b"n": b"5"}
    assert r.type(k + ":h2") == b"hash"
    assert r.hincrby(k + ":h2", "n", 1) == 6
    r.zadd(k + ":z", {"a": 1.5, "b": -2})
    assert r.copy(k + ":z", k + ":z2") == 1
    assert r.zrange(k + ":z2", 0, -1, withscores=True) == [(b"b", -2.0), (b"a", 1.5)]
    assert r.type(k + ":z2") == b"zset"


def test_copy_replace_across_types(r, k):
    need(r, "sadd", "hset", "smembers")
    r.sadd(k + ":s", "m")
    r.hset(k + ":h", "f", "v")
    assert r.copy(k + ":s", k + ":h") == 0          # exists, no REPLACE
    assert r.type(k + ":h") == b"hash"
    assert r.copy(k + ":s", k + ":h", replace=True) == 1
    assert r.type(k + ":h") == b"set"
    assert members(r, k + ":h") == [b"m"]
    r.set(k + ":str", "x")
    assert r.rename(k + ":s", k + ":str")
    assert r.type(k + ":str") == b"set"


def test_emptied_set_is_absent_everywhere(r, k):
    need(r, "sadd", "srem")
    r.flushall()
    r.sadd("gone", "m")
    r.set("other", "x")
    assert r.srem("gone", "m") == 1
    assert r.exists("gone") == 0
    assert r.type("gone") == b"none"
    assert r.dbsize() == 1
    assert r.keys("*") == [b"other"]
    assert r.scan(0, count=100)[1] == [b"other"]
    assert r.scan(0, _type="set", count=100)[1] == []
    for _ in range(20):
        assert r.randomkey() == b"other"
    assert r.object("encoding", "gone") is None
    if has_command(r, "memory"):
        assert r.memory_usage("gone") is None
    assert r.copy("gone", "g2") == 0
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.rename("gone", "g2")
    assert r.delete("gone") == 0


def test_scan_type_with_every_type(r, k):
    need(r, "sadd", "hset", "zadd")
    r.flushall()
    r.set("s", "x")
    r.incr("c")
    r.sadd("st", "m")
    r.hset("h", "f", "v")
    r.zadd("z", {"m": 1})
    want = {"string": [b"c", b"s"], "set": [b"st"], "hash": [b"h"], "zset": [b"z"],
            "list": []}
    for t, keys in want.items():
        assert sorted(r.scan(0, _type=t, count=100)[1]) == keys, t
    assert sorted(r.keys("*")) == [b"c", b"h", b"s", b"st", b"z"]
    assert r.dbsize() == 5


def test_typed_keyspace_side_by_side(r, rs):
    need(r, "sadd", "srem", "hset", "zadd")
    r.flushall()
    side_by_side(r, rs, [
        ("SADD", "s", "a", "b"), ("COPY", "s", "s2"), ("SCARD", "s2"), ("TYPE", "s2"),
        ("HSET", "h", "f", "v"), ("COPY", "s", "h"), ("COPY", "s", "h", "REPLACE"),
        ("TYPE", "h"), ("SISMEMBER", "h", "a"), ("RENAME", "h", "h3"), ("EXISTS", "h", "h3"),
        ("ZADD", "z", "1", "a"), ("RENAMENX", "z", "s"), ("RENAMENX", "z", "z2"),
        ("ZSCORE", "z2", "a"), ("TYPE", "z2"),
        ("SREM", "s2", "a", "b"), ("EXISTS", "s2"), ("TYPE", "s2"), ("DEL", "s2"),
        ("COPY", "s2", "x"), ("DBSIZE",),
    ])


def test_set_get_on_typed_keys_side_by_side(r, rs):
    """SET ... GET reads the old value: a counter's is its number, a hash,
    set or sorted set answers WRONGTYPE and is left as it was (Redis 7.0).
    It used to overwrite the set and answer an empty string."""
    need(r, "sadd", "hset", "zadd")
    r.flushall()
    side_by_side(r, rs, [
        ("SADD", "s", "a", "b"), ("SET", "s", "x", "GET"), ("TYPE", "s"), ("SCARD", "s"),
        ("HSET", "h", "f", "v"), ("SET", "h", "x", "GET"), ("HGET", "h", "f"),
        ("ZADD", "z", "1", "m"), ("SET", "z", "x", "NX", "GET"), ("SET", "z", "x", "XX", "GET"),
        ("ZSCORE", "z", "m"), ("INCRBY", "c", "5"), ("SET", "c", "9", "GET"), ("GET", "c"),
        ("INCRBYFLOAT", "f", "1.5"), ("SET", "f", "x", "GET", "KEEPTTL"), ("GET", "f"),
        ("SET", "s", "x"), ("TYPE", "s"), ("GET", "s"),
    ])


def test_lcs_bitop_on_typed_keys_side_by_side(r, rs):
    """LCS and BITOP read their keys as strings: a counter as its number, a
    hash, set or sorted set is an error as in Redis 7.0 (they used to read
    as the empty string)."""
    need(r, "sadd", "hset")
    r.flushall()
    side_by_side(r, rs, [
        ("SADD", "s", "a"), ("SET", "t", "abc"), ("LCS", "s", "t"), ("LCS", "t", "s"),
        ("LCS", "t", "s", "LEN"), ("HSET", "h", "f", "v"), ("LCS", "h", "h"),
        ("INCRBY", "c", "123"), ("SET", "u", "0123"), ("LCS", "c", "u"),
        ("BITOP", "OR", "d", "t", "s"), ("EXISTS", "d"), ("BITOP", "NOT", "d", "h"),
        ("BITOP", "AND", "d", "c", "u"), ("GET", "d"),
    ])


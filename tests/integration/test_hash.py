"""The hash commands (src/cmd/cmd_hash.c) on one real dynamo-node
(N = W = R = 1): every command through redis-py and raw sockets, normal and
error cases, RESP2 and RESP3, and the same command sequences side by side
with a redis-server 7.0 started on a free port (replies compared type by
type, byte by byte; unordered replies compared as multisets).

Run: DYNAMO_NODE_BIN=$PWD/build/src/dynamo-node \
     /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_hash.py
"""
import decimal

import pytest
import redis

import harness
from harness import RawConn

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "value is not an integer or out of range"


@pytest.fixture
def key(request):
    return "h:{%s}" % request.node.nodeid.split("::", 1)[1]


def err(r, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


# ---------------------------------------------------------------------------
# A reply reader that keeps every RESP type apart (RawConn folds $-1, *-1
# and _ into None): ('$', b"..."), ('*', [...]), ('%', [(k, v)...]), ...


def tagged(conn):
    line = conn._line()
    t, rest = line[:1].decode(), line[1:]
    if t in "+-":
        return (t, rest)
    if t in ":(":
        return (t, int(rest))
    if t == ",":
        return (t, rest)
    if t == "_":
        return ("_",)
    if t == "#":
        return (t, rest)
    if t in "$=!":
        n = int(rest)
        return (t, None) if n < 0 else (t, conn._exact(n))
    if t in "*~>":
        n = int(rest)
        return (t, None) if n < 0 else (t, [tagged(conn) for _ in range(n)])
    if t == "%":
        return (t, [(tagged(conn), tagged(conn)) for _ in range(int(rest))])
    raise ValueError("unknown RESP type in %r" % line)


def run(conn, *args):
    conn.send(harness.encode_command(*args))
    return tagged(conn)


def unordered(rep):
    """An array or map reply whose order is the table's: as a multiset."""
    t, items = rep
    if t in "*~" and items is not None:
        return (t, sorted(items, key=repr))
    if t == "%":
        return (t, sorted(items, key=repr))
    return rep


def pairs_unordered(rep):
    """HGETALL in RESP2: a flat [f, v, f, v...] whose pairs may come in any
    order."""
    t, items = rep
    if t != "*" or not items:
        return rep
    return (t, sorted(zip(items[0::2], items[1::2]), key=repr))


# ---------------------------------------------------------------------------
# redis-server side by side


@pytest.fixture(scope="module")
def redis_port():
    with harness.redis_server() as port:
        yield port


UNORDERED = {"HKEYS", "HVALS"}

# Each script runs on a fresh key prefix on both servers; {k} is the hash,
# {s} a string key, {n} a key nobody writes.
SCRIPTS = {
    "set_get": [
        ("HSET", "{k}", "f1", "v1", "f2", "v2"), ("HSET", "{k}", "f1", "x"),
        ("HSET", "{k}", "f3", "a", "f3", "b"), ("HGET", "{k}", "f1"), ("HGET", "{k}", "f3"),
        ("HGET", "{k}", "nofield"), ("HGET", "{n}", "f"), ("HMSET", "{k}", "a", "1", "b", ""),
        ("HGET", "{k}", "b"), ("HSETNX", "{k}", "a", "2"), ("HSETNX", "{k}", "c", "3"),
        ("HSETNX", "{n}2", "c", "3"), ("HGET", "{k}", "c"), ("HLEN", "{k}"), ("HLEN", "{n}"),
        ("HMGET", "{k}", "f1", "nofield", "a"), ("HMGET", "{n}", "a", "b"),
        ("HEXISTS", "{k}", "f1"), ("HEXISTS", "{k}", "zz"), ("HEXISTS", "{n}", "f1"),
        ("HSTRLEN", "{k}", "f2"), ("HSTRLEN", "{k}", "b"), ("HSTRLEN", "{k}", "zz"),
        ("HSTRLEN", "{n}", "zz"), ("HGETALL", "{k}"), ("HKEYS", "{k}"), ("HVALS", "{k}"),
        ("HGETALL", "{n}"), ("HKEYS", "{n}"), ("HVALS", "{n}"), ("TYPE", "{k}"),
        ("EXISTS", "{k}"),
    ],
    "del": [
        ("HSET", "{k}", "a", "1", "b", "2", "c", "3"), ("HDEL", "{k}", "a", "nofield", "a"),
        ("HDEL", "{k}", "a"), ("HDEL", "{n}", "a"), ("HLEN", "{k}"), ("HDEL", "{k}", "b", "c"),
        ("EXISTS", "{k}"), ("HLEN", "{k}"), ("HGETALL", "{k}"), ("TYPE", "{k}"),
        ("HSET", "{k}", "a", "again"), ("HGET", "{k}", "a"),
    ],
    "incr": [
        ("HINCRBY", "{k}", "n", "5"), ("HINCRBY", "{k}", "n", "-10"), ("HGET", "{k}", "n"),
        ("HSET", "{k}", "s", "v"), ("HINCRBY", "{k}", "s", "1"), ("HINCRBY", "{k}", "n", "x"),
        ("HINCRBY", "{k}", "n", "1.5"), ("HINCRBY", "{k}", "n", "9223372036854775807"),
        ("HINCRBY", "{k}", "n", "99999999999999999999"),
        ("HSET", "{k}", "big", "9223372036854775806"), ("HINCRBY", "{k}", "big", "1"),
        ("HINCRBY", "{k}", "big", "1"), ("HSET", "{k}", "sp", " 1"),
        ("HINCRBY", "{k}", "sp", "1"), ("HSET", "{k}", "ten", "10"),
        ("HINCRBY", "{k}", "ten", "5"), ("HSTRLEN", "{k}", "ten"), ("HGET", "{k}", "ten"),
        ("HINCRBY", "{n}3", "x", "2"), ("HGET", "{n}3", "x"),
    ],
    "incrbyfloat": [
        ("HINCRBYFLOAT", "{k}", "f", "1.5"), ("HINCRBYFLOAT", "{k}", "f", "1.5"),
        ("HGET", "{k}", "f"), ("HINCRBY", "{k}", "f", "1"), ("HGET", "{k}", "f"),
        ("HINCRBYFLOAT", "{k}", "f", "0.5"), ("HINCRBY", "{k}", "f", "1"),
        ("HSET", "{k}", "t", "3.0"), ("HINCRBY", "{k}", "t", "1"), ("HSET", "{k}", "i", "10"),
        ("HINCRBYFLOAT", "{k}", "i", "2.5"), ("HINCRBYFLOAT", "{k}", "i", "-12.5"),
        ("HGET", "{k}", "i"), ("HSET", "{k}", "s", "abc"), ("HINCRBYFLOAT", "{k}", "s", "1"),
        ("HSET", "{k}", "nul", "1\x002"), ("HINCRBYFLOAT", "{k}", "nul", "1"),
        ("HINCRBYFLOAT", "{k}", "f", "abc"), ("HINCRBYFLOAT", "{k}", "f", "inf"),
        ("HINCRBYFLOAT", "{k}", "f", "-inf"), ("HINCRBYFLOAT", "{k}", "f", "nan"),
        ("HINCRBYFLOAT", "{k}", "f", " 1"), ("HSET", "{k}", "huge", "1.1e4932"),
        ("HINCRBYFLOAT", "{k}", "huge", "1.1e4932"), ("HINCRBYFLOAT", "{k}", "e", "5.0e3"),
        ("HINCRBYFLOAT", "{k}", "e", "2.0e2"), ("HGET", "{k}", "e"),
        ("HINCRBYFLOAT", "{k}", "z", "-0.0"),
    ],
    "arity_syntax": [
        ("HSET", "{k}", "f"), ("HSET", "{k}", "f", "v", "g"), ("HMSET", "{k}", "f", "v", "g"),
        ("HSET", "{k}"), ("HSETNX", "{k}", "f"), ("HGET", "{k}"), ("HGET", "{k}", "f", "g"),
        ("HMGET", "{k}"), ("HDEL", "{k}"), ("HLEN",), ("HLEN", "{k}", "x"),
        ("HEXISTS", "{k}"), ("HSTRLEN", "{k}"), ("HINCRBY", "{k}", "f"),
        ("HINCRBYFLOAT", "{k}", "f"), ("HGETALL",), ("HKEYS", "{k}", "x"), ("HVALS",),
        ("HRANDFIELD",), ("HSCAN", "{k}"), ("HSET", "{k}", "f", "v"),
        ("HRANDFIELD", "{k}", "x"), ("HRANDFIELD", "{k}", "1", "nope"),
        ("HRANDFIELD", "{k}", "1", "WITHVALUES", "x"),
        ("HRANDFIELD", "{k}", "-9223372036854775808"),
        ("HRANDFIELD", "{k}", "-9223372036854770000", "withvalues"),
        ("HRANDFIELD", "{k}", "9223372036854770000", "WITHVALUES"),
        ("HRANDFIELD", "{n}", "x"), ("HRANDFIELD", "{k}", "0"),
        ("HRANDFIELD", "{k}", "0", "WITHVALUES"), ("HRANDFIELD", "{n}", "5"),
        ("HRANDFIELD", "{n}", "-5", "WITHVALUES"), ("HRANDFIELD", "{n}"),
        ("HRANDFIELD", "{k}", "5"), ("HRANDFIELD", "{k}", "1", "withvalues"),
        ("HRANDFIELD", "{k}", "-3"), ("HRANDFIELD", "{k}"),
        ("HSCAN", "{k}", "x"), ("HSCAN", "{k}", "0", "COUNT", "0"),
        ("HSCAN", "{k}", "0", "COUNT", "x"), ("HSCAN", "{k}", "0", "MATCH"),
        ("HSCAN", "{k}", "0", "TYPE", "string"), ("HSCAN", "{k}", "0", "NOPE", "1"),
        ("HSCAN", "{n}", "0", "COUNT", "0"), ("HSCAN", "{n}", "0", "NOPE"),
        ("HSCAN", "{n}", "x"), ("HSCAN", "{k}", "0"), ("HSCAN", "{k}", "0", "MATCH", "f*"),
        ("HSCAN", "{k}", "0", "MATCH", "z*", "COUNT", "100"),
        ("HSCAN", "{n}", "-1"), ("HSCAN", "{n}", "+5"), ("HSCAN", "{n}", ""),
        ("HSCAN", "{n}", " 1"), ("HSCAN", "{n}", "18446744073709551616"),
        ("HINCRBY", "{n}", "f", "x"), ("HINCRBYFLOAT", "{n}", "f", "x"),
    ],
    "wrongtype": [
        ("SET", "{s}", "str"), ("HSET", "{s}", "f", "v"), ("HMSET", "{s}", "f", "v"),
        ("HSETNX", "{s}", "f", "v"), ("HGET", "{s}", "f"), ("HMGET", "{s}", "f"),
        ("HGETALL", "{s}"), ("HDEL", "{s}", "f"), ("HEXISTS", "{s}", "f"), ("HKEYS", "{s}"),
        ("HVALS", "{s}"), ("HLEN", "{s}"), ("HSTRLEN", "{s}", "f"),
        ("HINCRBY", "{s}", "f", "1"), ("HINCRBYFLOAT", "{s}", "f", "1"),
        ("HRANDFIELD", "{s}"), ("HRANDFIELD", "{s}", "2"), ("HSCAN", "{s}", "0"),
        # syntax errors come first, as in Redis
        ("HINCRBY", "{s}", "f", "x"), ("HRANDFIELD", "{s}", "1", "nope"),
        ("HSCAN", "{s}", "nope"), ("HSET", "{s}", "f"),
        # and the other way round: string commands on a hash
        ("HSET", "{k}", "f", "v"), ("GET", "{k}"), ("APPEND", "{k}", "x"),
        ("STRLEN", "{k}"), ("GETRANGE", "{k}", "0", "1"), ("SETRANGE", "{k}", "0", "x"),
        ("GETDEL", "{k}"), ("GETSET", "{k}", "x"), ("HGET", "{k}", "f"), ("TYPE", "{k}"),
        ("SET", "{k}", "overwritten"), ("GET", "{k}"), ("HGET", "{k}", "f"),
    ],
    "empty_key_and_field": [
        ("HSET", "", "", ""), ("HGET", "", ""), ("HSTRLEN", "", ""), ("HLEN", ""),
        ("HEXISTS", "", ""), ("HGETALL", ""), ("HDEL", "", ""), ("EXISTS", ""),
        ("HSET", "{k}", "", "empty field"), ("HGET", "{k}", ""), ("HINCRBY", "{k}", "", "1"),
    ],
}


def expand(args, prefix):
    return [a.replace("{k}", prefix + ":k").replace("{s}", prefix + ":s")
            .replace("{n}", prefix + ":n") if a else a for a in args]


def replay(port, proto, script, prefix):
    out = []
    with RawConn(port) as c:
        if proto == 3:
            assert tagged_ok(run(c, "HELLO", "3"))
        for args in script:
            rep = run(c, *expand(args, prefix))
            if args[0] in UNORDERED:
                rep = unordered(rep)
            elif args[0] == "HGETALL":
                rep = unordered(rep) if proto == 3 else pairs_unordered(rep)
            elif args[0] == "HRANDFIELD" and len(args) > 2 and rep[0] == "*":
                # random picks: only the shape is comparable here
                rep = ("*", len(rep[1]), sorted({r[0] for r in rep[1]}))
            elif args[0] == "HRANDFIELD" and rep[0] == "$":
                rep = ("$", "some field")
            elif args[0] == "HSCAN" and rep[0] == "*" and rep[1][1][1]:
                rep = ("*", [rep[1][0], pairs_unordered(rep[1][1])])
            out.append((args, rep))
    return out


def tagged_ok(rep):
    return rep[0] in "%*"


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_side_by_side_with_redis(node, redis_port, name, proto):
    prefix = "sbs:%s:%d" % (name, proto)
    ours = replay(node.port, proto, SCRIPTS[name], prefix)
    theirs = replay(redis_port, proto, SCRIPTS[name], prefix)
    diffs = ["%r\n   ours:  %r\n   redis: %r" % (a, o, t)
             for (a, o), (_, t) in zip(ours, theirs) if o != t]
    assert not diffs, "replies differ from redis-server:\n" + "\n".join(diffs)


# ---------------------------------------------------------------------------
# redis-py, one command at a time


def test_hset_hget_hmset_hsetnx(r, key):
    assert r.hset(key, mapping={"a": "1", "b": "2"}) == 2
    assert r.hset(key, "a", "one") == 0
    assert r.hget(key, "a") == b"one"
    assert r.hmset(key, {"c": "3"}) is True
    assert r.hsetnx(key, "c", "x") == 0
    assert r.hsetnx(key, "d", "4") == 1
    assert r.hgetall(key) == {b"a": b"one", b"b": b"2", b"c": b"3", b"d": b"4"}
    assert r.hlen(key) == 4
    assert r.type(key) == b"hash"
    assert sorted(r.hkeys(key)) == [b"a", b"b", b"c", b"d"]
    assert sorted(r.hvals(key)) == [b"2", b"3", b"4", b"one"]
    assert r.hmget(key, ["a", "zz", "d"]) == [b"one", None, b"4"]


def test_binary_fields_and_values(r, key):
    f, v = b"\x00\xff\r\n", b"\r\n\x00" * 1000
    assert r.hset(key, f, v) == 1
    assert r.hget(key, f) == v
    assert r.hstrlen(key, f) == len(v)
    assert r.hgetall(key) == {f: v}


def test_hdel_last_field_removes_the_key(r, key):
    r.hset(key, mapping={"a": 1, "b": 2})
    assert r.hdel(key, "a", "a", "zz") == 1
    assert r.exists(key) == 1
    assert r.hdel(key, "b") == 1
    assert r.exists(key) == 0
    assert r.type(key) == b"none"
    assert r.hgetall(key) == {}
    assert r.hdel(key, "b") == 0


def test_hincrby_and_float_mix(r, key):
    assert r.hincrby(key, "n", 10) == 10
    assert r.hincrbyfloat(key, "n", 0.5) == 10.5
    assert r.hget(key, "n") == b"10.5"
    assert "hash value is not an integer" in err(r, "HINCRBY", key, "n", 1)
    r.hset(key, "n", "7")  # a new register replaces value and increments
    assert r.hincrby(key, "n", 1) == 8
    assert r.hget(key, "n") == b"8"
    assert r.hstrlen(key, "n") == 1
    assert r.hincrbyfloat(key, "m", "1.23") == 1.23


FLOAT_RUNS = [
    ["1.23", "0.77", "-0.1", "3.0e3", "1e-5", "-3000.00001"],  # Redis issue #2846 and on
    ["0.1"] * 10 + ["-1"],
    ["17179869184", "17179869184", "0.5", "-0.25"],
    ["1e-7", "2.5e-7", "-3.5e-7"],
    ["123456.789", "-0.789", "1e6", "-1123456"],
]


@pytest.mark.parametrize("run_no", range(len(FLOAT_RUNS)))
def test_hincrbyfloat_prints_like_redis(node, redis_port, key, run_no):
    """Each reply (and HGET after it) is the number Redis answers, to the
    last bit of a double, and the decimal sum of the increments: a total
    kept as a double counts as the shortest decimal that gives it back,
    printed from a long double as Redis prints, so most replies are Redis's
    bytes, noise included (1.9 + 3000 = "3001.89999999999999991"; Redis's
    issue #2846, the first three of run 0, byte for byte); where Redis's
    long double drifted below a double's precision the text differs
    (3001.90001 - 3000.00001: Redis "1.89999999999999991", here "1.9")."""
    total = decimal.Decimal(0)
    with RawConn(node.port) as ours, RawConn(redis_port) as theirs:
        for step, inc in enumerate(FLOAT_RUNS[run_no]):
            total += decimal.Decimal(inc)
            got = ours.cmd("HINCRBYFLOAT", key, "f", inc)
            want = theirs.cmd("HINCRBYFLOAT", key, "f", inc)
            assert float(got) == float(want), inc
            assert float(got) == pytest.approx(float(total), rel=1e-15, abs=1e-15), inc
            if run_no == 0 and step < 3:
                assert got == want
            assert ours.cmd("HGET", key, "f") == got


def test_hincrby_after_a_float(r, key):
    """As Redis, which adds to the text: an integral float takes HINCRBY,
    a fractional one or a register written "3.0" does not."""
    r.hincrbyfloat(key, "f", 1.5)
    assert r.hincrbyfloat(key, "f", 1.5) == 3
    assert r.hincrby(key, "f", 2) == 5
    assert r.hget(key, "f") == b"5"
    assert r.hincrbyfloat(key, "f", -0.25) == 4.75
    assert err(r, "HINCRBY", key, "f", 1) == "hash value is not an integer"
    r.hset(key, "g", "2.5")
    assert r.hincrbyfloat(key, "g", 0.5) == 3
    assert r.hincrby(key, "g", -10) == -7
    assert r.hget(key, "g") == b"-7"
    # beyond 2^53 a float total is no exact integer: refused
    r.hincrbyfloat(key, "h", str(2 ** 53))
    assert err(r, "HINCRBY", key, "h", 1) == "hash value is not an integer"


def test_hincrby_overflow_changes_nothing(r, key):
    r.hset(key, "n", str(2 ** 63 - 1))
    assert err(r, "HINCRBY", key, "n", 1) == "increment or decrement would overflow"
    assert r.hget(key, "n") == str(2 ** 63 - 1).encode()
    assert r.hincrby(key, "n", -5) == 2 ** 63 - 6
    r.hset(key, "m", str(-2 ** 63 + 1))
    assert r.hincrby(key, "m", -1) == -2 ** 63
    assert err(r, "HINCRBY", key, "m", -1) == "increment or decrement would overflow"
    assert r.hget(key, "m") == str(-2 ** 63).encode()


def test_wrongtype_both_ways(r, key):
    r.set(key, "s")
    assert err(r, "HSET", key, "f", "v") == WRONGTYPE
    assert err(r, "HGET", key, "f") == WRONGTYPE
    assert r.get(key) == b"s"
    r.delete(key)
    r.hset(key, "f", "v")
    assert err(r, "GET", key) == WRONGTYPE
    assert err(r, "INCR", key) == WRONGTYPE
    assert r.hget(key, "f") == b"v"


def test_hstrlen_counts_the_value_reads_show(r, key):
    r.hincrby(key, "n", -12345)
    assert r.hstrlen(key, "n") == 6
    r.hincrbyfloat(key, "n", 0.5)
    assert r.hget(key, "n") == b"-12344.5"
    assert r.hstrlen(key, "n") == 8


# ---------------------------------------------------------------------------
# HRANDFIELD


def test_hrandfield(r, key):
    fields = {("f%d" % i).encode(): ("v%d" % i).encode() for i in range(50)}
    r.hset(key, mapping=fields)
    assert r.hrandfield(key) in fields
    for count in (1, 2, 10, 17, 49, 50, 100):
        got = r.hrandfield(key, count)
        assert len(got) == min(count, 50) and len(set(got)) == len(got)
        assert set(got) <= set(fields)
        wv = r.execute_command("HRANDFIELD", key, count, "WITHVALUES")
        assert len(wv) == 2 * min(count, 50)
        pairs = dict(zip(wv[0::2], wv[1::2]))
        assert len(pairs) == min(count, 50)
        assert all(fields[f] == v for f, v in pairs.items())
    got = r.hrandfield(key, -500)
    assert len(got) == 500 and set(got) <= set(fields)
    assert len(set(got)) > 25  # 500 uniform picks of 50 fields miss fewer than 1
    wv = r.execute_command("HRANDFIELD", key, -7, "WITHVALUES")
    assert len(wv) == 14 and all(fields[f] == v for f, v in zip(wv[0::2], wv[1::2]))


def test_hrandfield_resp3_pairs(node, key):
    with RawConn(node.port) as c:
        c.cmd("HELLO", "3")
        c.cmd("HSET", key, "a", "1", "b", "2", "c", "3")
        rep = run(c, "HRANDFIELD", key, "2", "WITHVALUES")
        assert rep[0] == "*" and len(rep[1]) == 2
        for pair in rep[1]:
            assert pair[0] == "*" and len(pair[1]) == 2
            f, v = pair[1][0][1], pair[1][1][1]
            assert {b"a": b"1", b"b": b"2", b"c": b"3"}[f] == v
        rep = run(c, "HRANDFIELD", key, "-5", "WITHVALUES")
        assert len(rep[1]) == 5 and all(p[0] == "*" and len(p[1]) == 2 for p in rep[1])
        rep = run(c, "HRANDFIELD", key, "3")
        assert rep[0] == "*" and sorted(x[1] for x in rep[1]) == [b"a", b"b", b"c"]
        assert run(c, "HRANDFIELD", key + ":none") == ("_",)
        assert run(c, "HGETALL", key + ":none") == ("%", [])


def test_hrandfield_sparse_hash_after_mass_delete(r, key):
    """The table keeps its size when fields go; picks still find the few
    left and every one of them comes up."""
    r.hset(key, mapping={"f%d" % i: i for i in range(5000)})
    pipe = r.pipeline(transaction=False)
    for i in range(3, 5000):
        pipe.hdel(key, "f%d" % i)
    pipe.execute()
    assert r.hlen(key) == 3
    got = r.hrandfield(key, -300)
    assert set(got) == {b"f0", b"f1", b"f2"}
    two = r.hrandfield(key, 2)
    assert len(set(two)) == 2 and set(two) <= {b"f0", b"f1", b"f2"}
    assert sorted(r.hrandfield(key, 3)) == [b"f0", b"f1", b"f2"]


def test_hrandfield_huge_negative_count_is_bounded(r, key):
    r.hset(key, "f", "v" * 100)
    msg = err(r, "HRANDFIELD", key, -(10 ** 12), "WITHVALUES")
    assert msg.startswith("HRANDFIELD reply would exceed")
    assert r.hget(key, "f") == b"v" * 100  # the node still serves


# ---------------------------------------------------------------------------
# HSCAN


def scan_all(r, key, **kw):
    seen, cursor, calls = [], 0, 0
    while True:
        cursor, items = r.hscan(key, cursor, **kw)
        seen.extend(items.items())
        calls += 1
        if cursor == 0:
            return seen, calls


def test_hscan_whole_hash(r, key):
    fields = {("f%d" % i).encode(): str(i).encode() for i in range(1000)}
    r.hset(key, mapping=fields)
    seen, calls = scan_all(r, key, count=7)
    assert dict(seen) == fields
    assert len(seen) == 1000  # nothing changed meanwhile: each field once
    assert calls > 20
    seen, _ = scan_all(r, key, match="f1*", count=50)
    assert dict(seen) == {f: v for f, v in fields.items() if f.startswith(b"f1")}
    assert r.hscan(key + ":none", 0) == (0, {})


def test_hscan_returns_stable_fields_while_the_hash_changes(r, key):
    stable = {("s%d" % i).encode(): b"1" for i in range(300)}
    r.hset(key, mapping=stable)
    seen, cursor, extra = set(), 0, 0
    while True:
        cursor, items = r.hscan(key, cursor, count=5)
        seen.update(items)
        # the table doubles several times during the scan, fields come and go
        r.hset(key, mapping={"new%d" % (extra + i): 1 for i in range(40)})
        r.hdel(key, *["new%d" % (extra - 40 + i) for i in range(0, 40, 2)])
        extra += 40
        if cursor == 0:
            break
    assert set(stable) <= seen


# ---------------------------------------------------------------------------
# VHGET on one node (concurrent values need a partition: the cluster test)


def test_vhget_single_node(r, key):
    assert r.execute_command("VHGET", key, "f") is None
    r.hset(key, "f", "10")
    assert r.execute_command("VHGET", key, "f") == [[b"10"], b"0"]
    r.hincrby(key, "f", 5)
    assert r.execute_command("VHGET", key, "f") == [[b"10"], b"5"]
    assert r.hget(key, "f") == b"15"
    r.hincrby(key, "g", -3)
    r.hincrbyfloat(key, "g", 0.5)
    assert r.execute_command("VHGET", key, "g") == [[], b"-2.5"]
    assert r.execute_command("VHGET", key, "none") is None
    r.set(key + ":s", "x")
    assert err(r, "VHGET", key + ":s", "f") == WRONGTYPE
    assert "wrong number of arguments" in err(r, "VHGET", key)


# ---------------------------------------------------------------------------
# limits


def test_value_size_limit_is_proto_max_bulk_len(node_factory):
    n = node_factory("--proto-max-bulk-len", "1mb")
    r = n.client()
    assert r.hset("k", "f", b"x" * (1 << 20)) == 1
    assert r.hstrlen("k", "f") == 1 << 20
    with RawConn(n.port) as c:
        # only the headers: the node refuses the length and closes at once,
        # so sending the body could meet a reset before the reply is read
        full = harness.encode_command("HSET", "k", "g", b"x" * ((1 << 20) + 1))
        c.send(full[:full.index(b"$1048577\r\n") + len(b"$1048577\r\n")])
        rep = c.read_reply()
        assert isinstance(rep, harness.Err) and "invalid bulk length" in rep
    assert r.hlen("k") == 1
    r.close()


def test_large_hash_point_operations(r, key):
    """10 000 fields: point commands see one field each."""
    pipe = r.pipeline(transaction=False)
    for i in range(0, 10000, 500):
        pipe.hset(key, mapping={"f%d" % j: j for j in range(i, i + 500)})
    pipe.execute()
    assert r.hlen(key) == 10000
    assert r.hget(key, "f9999") == b"9999"
    assert r.hexists(key, "f5000") is True
    assert r.hincrby(key, "f1", 1) == 2
    assert r.hdel(key, "f2") == 1
    assert r.hlen(key) == 9999
    assert len(r.hgetall(key)) == 9999


# ---------------------------------------------------------------------------
# OBJECT ENCODING and MEMORY USAGE of a hash


def test_object_encoding_follows_the_listpack_thresholds(r, key, redis_port):
    """listpack while Redis would keep one, hashtable past
    hash-max-listpack-entries/-value (also set by their ziplist names), on
    both servers for the same commands."""
    theirs = redis.Redis(port=redis_port)
    try:
        for c in (r, theirs):
            assert c.config_get("hash-max-ziplist-value") == {"hash-max-ziplist-value": "64"}
            c.config_set("hash-max-ziplist-value", 10)
            c.hset(key, mapping={"a": "1", "b": "2"})
            c.hset(key + ":long", mapping={"a": "x" * 11})
            c.hset(key + ":field", mapping={"f" * 11: "1"})
            c.hincrbyfloat(key + ":float", "tmp", "0.0000005")  # 9 characters
            c.hincrbyfloat(key + ":float2", "tmp", "0.00000005")  # 10
        try:
            for k in ("", ":long", ":field", ":float", ":float2"):
                assert r.object("encoding", key + k) == theirs.object("encoding", key + k), k
            assert r.object("encoding", key) == b"listpack"
            assert r.object("encoding", key + ":long") == b"hashtable"
            r.config_set("hash-max-listpack-entries", 1)
            assert r.object("encoding", key) == b"hashtable"
        finally:
            for c in (r, theirs):
                c.config_set("hash-max-listpack-value", 64)
                c.config_set("hash-max-listpack-entries", 128)
        r.hset(key + ":big", mapping={"f%d" % i: i for i in range(200)})
        assert r.object("encoding", key + ":big") == b"hashtable"
        assert r.object("refcount", key) == 1
        assert r.object("encoding", key + ":none") is None
    finally:
        theirs.close()


def test_memory_usage_of_a_hash(r, key):
    assert r.memory_usage(key) is None
    r.hset(key, "f", "v")
    small = r.memory_usage(key)
    r.hset(key, mapping={"f%d" % i: "v" * 100 for i in range(100)})
    big = r.memory_usage(key, samples=0)
    assert 0 < small < big and big > 100 * 100
    r.set(key + ":s", "x" * 1000)
    assert r.memory_usage(key + ":s") > 1000
    assert err(r, "MEMORY", "USAGE", key, "SAMPLES", "-1") == "syntax error"
    assert err(r, "MEMORY", "USAGE", key, "NOPE", "1") == "syntax error"
    assert "unknown subcommand" in err(r, "MEMORY", "NOPE")

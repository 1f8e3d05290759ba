"""The sorted-set commands (src/cmd/cmd_zset*.c) on one real dynamo-node
(N = W = R = 1), side by side with a real redis-server 7.0: the same
command sequences are sent to both over raw sockets and the replies must be
the same BYTES (RESP2, and RESP3 after HELLO 3), errors included.  Where
replies are random (ZRANDMEMBER, ZSCAN's order) their properties are
checked instead.  redis-py checks the ordinary client view.

Run: DYNAMO_NODE_BIN=$PWD/build/src/dynamo-node \
     /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_zset.py
(ZSET_OTHER_PORT=P compares against the server at port P instead of the
node: a check of the test itself against Redis.)
"""
import math
import os
import random

import pytest
import redis

import harness
from harness import RawConn

WRONGTYPE = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"


class CaptureConn(RawConn):
    """A RawConn whose reply() returns the raw bytes of one whole reply."""

    def reply(self):
        self._cap = []
        self.read_reply()
        return b"".join(self._cap)

    def _line(self):
        line = super()._line()
        if hasattr(self, "_cap"):
            self._cap.append(line + b"\r\n")
        return line

    def _exact(self, n):
        data = super()._exact(n)
        if hasattr(self, "_cap"):
            self._cap.append(data + b"\r\n")
        return data

    def call(self, *args):
        self.send(encode(*args))
        return self.reply()


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


@pytest.fixture(scope="module")
def redis_server():
    with harness.redis_server() as port:
        yield port


@pytest.fixture(scope="module")
def ours_port(request):
    if os.environ.get("ZSET_OTHER_PORT"):
        return int(os.environ["ZSET_OTHER_PORT"])
    return request.getfixturevalue("node").port


class Pair:
    """One connection to each server; call() sends to both and compares."""

    def __init__(self, ours, theirs, proto):
        self.a = CaptureConn(ours)
        self.b = CaptureConn(theirs)
        if proto == 3:
            for c in (self.a, self.b):
                c.send(encode("HELLO", "3"))
                c.reply()
        self.calls = 0

    def both(self, *args):
        self.calls += 1
        return self.a.call(*args), self.b.call(*args)

    def ours(self, *args):
        """The parsed reply of our server alone."""
        self.a.send(encode(*args))
        return self.a.read_reply()

    def call(self, *args):
        x, y = self.both(*args)
        assert x == y, "%r: ours %r, redis %r" % (args, x, y)
        return x

    def close(self):
        self.a.close()
        self.b.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request, ours_port, redis_server):
    p = Pair(ours_port, redis_server, request.param)
    p.proto = request.param
    p.call("FLUSHALL")
    yield p
    p.close()


@pytest.fixture
def key(request):
    return "z:" + request.node.name


# ---------------------------------------------------------------------------
# ZADD and its options, ZINCRBY, ZSCORE, ZMSCORE, ZCARD, ZREM

def test_zadd_options_side_by_side(pair, key):
    c = pair.call
    c("ZADD", key, 1, "a", 2, "b", 3, "c")
    c("ZADD", key, 1, "a", 5, "b")
    c("ZADD", key, "CH", 1, "a", 6, "b", 9, "new")
    c("ZADD", key, "NX", 100, "a", 4, "d")
    c("ZADD", key, "XX", 100, "a", 4, "e")
    c("ZADD", key, "XX", "CH", 100, "a", 4, "e")
    c("ZADD", key, "GT", "CH", 50, "a", 200, "b", 7, "f")
    c("ZADD", key, "LT", "CH", 50, "a", 300, "b", 1, "c")
    c("ZADD", key, "XX", "GT", "CH", 1000, "a", 0, "b")
    c("ZADD", key, "INCR", 5, "a")
    c("ZADD", key, "INCR", 5, "zz")
    c("ZADD", key, "NX", "INCR", 5, "a")
    c("ZADD", key, "XX", "INCR", 5, "nope")
    c("ZADD", key, "GT", "INCR", -5, "a")
    c("ZADD", key, "LT", "INCR", -5, "a")
    c("ZADD", key, "INCR", 0, "a")
    c("ZADD", key, 1, "dup", 2, "dup")
    for m in ("a", "b", "c", "d", "e", "f", "new", "zz", "dup", "missing"):
        c("ZSCORE", key, m)
    c("ZMSCORE", key, "a", "missing", "b")
    c("ZMSCORE", key + ":none", "a", "b")
    c("ZCARD", key)
    c("ZCARD", key + ":none")
    c("ZRANGE", key, 0, -1, "WITHSCORES")


def test_zadd_errors_side_by_side(pair, key):
    c = pair.call
    c("ZADD", key, 1, "a")
    c("ZADD", key, "NX", "XX", 1, "a")
    c("ZADD", key, "GT", "LT", 1, "a")
    c("ZADD", key, "NX", "GT", 1, "a")
    c("ZADD", key, "NX", "LT", 1, "a")
    c("ZADD", key, "INCR", 1, "a", 2, "b")
    c("ZADD", key, 1, "a", 2)
    c("ZADD", key, "NX")
    c("ZADD", key, "abc", "a")
    c("ZADD", key, 1, "a", "nan", "b")
    c("ZADD", key, "", "a")
    c("ZADD", key, " 1", "a")
    c("ZADD", key, "1e400", "a")
    c("ZADD", key + ":new", "XX", "abc", "a")  # the float error wins
    c("ZADD", key)
    c("ZADD", key, 1)
    c("ZINCRBY", key, "abc", "a")
    c("ZINCRBY", key, "nx", "a")
    c("ZINCRBY", key, 1)
    c("ZSCORE", key)
    c("ZMSCORE", key)
    c("ZCARD")
    c("ZREM", key)
    c("EXISTS", key + ":new")


def test_infinities_and_nan(pair, key):
    c = pair.call
    c("ZADD", key, "inf", "p", "-inf", "n", "+inf", "p2", "-0", "z", 0, "y")
    c("ZADD", key, "INCR", "-inf", "p")         # inf + -inf: NaN error
    c("ZINCRBY", key, "+inf", "n")              # -inf + inf: NaN error
    c("ZINCRBY", key, "inf", "y")               # 0 + inf = inf
    c("ZINCRBY", key, 5, "p2")                  # inf + 5 = inf
    c("ZINCRBY", key, "1.5", "fresh")
    c("ZRANGE", key, 0, -1, "WITHSCORES")
    c("ZSCORE", key, "y")
    c("ZRANGEBYSCORE", key, "-inf", "+inf", "WITHSCORES")
    c("ZRANGEBYSCORE", key, "(-inf", "(+inf", "WITHSCORES")
    c("ZCOUNT", key, "-inf", "inf")


def test_zincrby_side_by_side(pair, key):
    c = pair.call
    c("ZINCRBY", key, 1, "a")
    c("ZINCRBY", key, 10, "a")
    c("ZINCRBY", key, -3, "a")
    c("ZINCRBY", key, "2.5", "a")
    c("ZINCRBY", key, "-2.5", "a")
    c("ZSCORE", key, "a")
    c("ZADD", key, 100, "a")          # an assignment replaces the increments
    c("ZINCRBY", key, 1, "a")
    c("ZSCORE", key, "a")


def test_zrem_side_by_side(pair, key):
    c = pair.call
    c("ZADD", key, 1, "a", 2, "b", 3, "c")
    c("ZREM", key, "a", "x", "a")
    c("ZREM", key + ":none", "a")
    c("ZCARD", key)
    c("ZREM", key, "b", "c")
    c("EXISTS", key)                   # the last member removed: gone
    c("TYPE", key)


# ---------------------------------------------------------------------------
# ranges

def fill(c, key, n=20, seed=1):
    rng = random.Random(seed)
    args = []
    for i in range(n):
        args += [rng.choice([0, 1, 1, 2, 3.5, -1, "inf", "-inf"]) if i % 3 else i,
                 "m%02d" % rng.randrange(100)]
    c("ZADD", key, *args)


def test_zrange_by_rank(pair, key):
    c = pair.call
    fill(c, key)
    for a, b in [(0, -1), (0, 0), (2, 5), (-3, -1), (-100, 100), (5, 2), (30, 40), (-1, -1),
                 (0, -100), (1, 1)]:
        c("ZRANGE", key, a, b)
        c("ZRANGE", key, a, b, "WITHSCORES")
        c("ZRANGE", key, a, b, "REV", "WITHSCORES")
        c("ZREVRANGE", key, a, b)
        c("ZREVRANGE", key, a, b, "WITHSCORES")
    c("ZRANGE", key + ":none", 0, -1)
    c("ZRANGE", key, 0, -1, "LIMIT", 0, 1)
    c("ZRANGE", key, "a", -1)
    c("ZRANGE", key, 0, -1, "BLAH")
    c("ZREVRANGE", key, 0, -1, "REV")
    c("ZRANGE", key, 0)


def test_zrange_by_score(pair, key):
    c = pair.call
    fill(c, key)
    ranges = [("-inf", "+inf"), (0, 2), ("(0", 2), (0, "(2"), ("(0", "(2"), (3, 1),
              ("(1", 1), (1, 1), ("-inf", 0), ("(3.5", "inf")]
    for lo, hi in ranges:
        c("ZRANGEBYSCORE", key, lo, hi)
        c("ZRANGEBYSCORE", key, lo, hi, "WITHSCORES")
        c("ZREVRANGEBYSCORE", key, hi, lo, "WITHSCORES")
        c("ZRANGE", key, lo, hi, "BYSCORE", "WITHSCORES")
        c("ZRANGE", key, hi, lo, "BYSCORE", "REV")
        c("ZCOUNT", key, lo, hi)
        for off, cnt in [(0, 1), (1, 2), (2, -1), (0, 0), (-1, 5), (100, 1), (3, 100)]:
            c("ZRANGEBYSCORE", key, lo, hi, "LIMIT", off, cnt)
            c("ZREVRANGEBYSCORE", key, hi, lo, "WITHSCORES", "LIMIT", off, cnt)
            c("ZRANGE", key, lo, hi, "BYSCORE", "LIMIT", off, cnt)
    c("ZRANGEBYSCORE", key, "abc", 1)
    c("ZRANGEBYSCORE", key, 1, "nan")
    c("ZRANGEBYSCORE", key, "((1", 2)
    c("ZRANGEBYSCORE", key, 0, 1, "LIMIT", "x", 1)
    c("ZRANGEBYSCORE", key, 0, 1, "LIMIT", 1)
    c("ZCOUNT", key, "x", 1)
    c("ZCOUNT", key + ":none", 0, 1)


def test_zrange_by_lex(pair, key):
    c = pair.call
    c("ZADD", key, *sum([[0, m] for m in ["a", "b", "c", "d", "e", "ab", "", "bcd", "z"]], []))
    ranges = [("-", "+"), ("[a", "[c"), ("(a", "(c"), ("[b", "+"), ("-", "(b"), ("[c", "[a"),
              ("+", "-"), ("-", "-"), ("[", "[a"), ("(b", "[b"), ("[b", "[b")]
    for lo, hi in ranges:
        c("ZRANGEBYLEX", key, lo, hi)
        c("ZREVRANGEBYLEX", key, hi, lo)
        c("ZRANGE", key, lo, hi, "BYLEX")
        c("ZRANGE", key, hi, lo, "BYLEX", "REV")
        c("ZLEXCOUNT", key, lo, hi)
        for off, cnt in [(0, 1), (1, 2), (2, -1), (0, 0), (-1, 5)]:
            c("ZRANGEBYLEX", key, lo, hi, "LIMIT", off, cnt)
            c("ZREVRANGEBYLEX", key, hi, lo, "LIMIT", off, cnt)
    c("ZRANGEBYLEX", key, "a", "[b")
    c("ZRANGEBYLEX", key, "[a", "b")
    c("ZRANGEBYLEX", key, "-", "+", "WITHSCORES")
    c("ZRANGE", key, "-", "+", "BYLEX", "WITHSCORES")
    c("ZLEXCOUNT", key, "x", "+")
    c("ZLEXCOUNT", key + ":none", "-", "+")


def test_zrangestore(pair, key):
    c = pair.call
    fill(c, key)
    dst = key + ":dst"
    c("ZRANGESTORE", dst, key, 0, 4)
    c("ZRANGE", dst, 0, -1, "WITHSCORES")
    c("ZRANGESTORE", dst, key, 1, 2, "BYSCORE", "LIMIT", 1, 3)
    c("ZRANGE", dst, 0, -1, "WITHSCORES")
    c("ZRANGESTORE", dst, key, "(m50", "-", "BYLEX", "REV")
    c("ZRANGE", dst, 0, -1, "WITHSCORES")
    c("ZRANGESTORE", dst, key, 5, 1)                 # empty: dst deleted
    c("EXISTS", dst)
    c("ZRANGESTORE", dst, key + ":none", 0, -1)
    c("ZRANGESTORE", key, key, 0, 2)                 # dst is src
    c("ZRANGE", key, 0, -1, "WITHSCORES")
    c("ZRANGESTORE", dst, key, 0, -1, "WITHSCORES")
    c("ZRANGESTORE", dst, key, 0, -1, "LIMIT", 0, 1)
    c("ZRANGESTORE", dst, key, 0)


def test_zrank(pair, key):
    c = pair.call
    fill(c, key)
    for m in ["m%02d" % i for i in range(0, 100, 7)] + ["missing"]:
        c("ZRANK", key, m)
        c("ZREVRANK", key, m)
    c("ZRANK", key + ":none", "a")
    c("ZRANK", key)


def test_zremrange(pair, key):
    c = pair.call
    for args in [("ZREMRANGEBYRANK", 0, 2), ("ZREMRANGEBYRANK", -3, -1),
                 ("ZREMRANGEBYRANK", 5, 2), ("ZREMRANGEBYRANK", 0, -1),
                 ("ZREMRANGEBYSCORE", 0, 2), ("ZREMRANGEBYSCORE", "(0", "(2"),
                 ("ZREMRANGEBYSCORE", "-inf", "+inf"), ("ZREMRANGEBYSCORE", 3, 1),
                 ("ZREMRANGEBYLEX", "[m10", "(m60"), ("ZREMRANGEBYLEX", "-", "+")]:
        c("DEL", key)
        fill(c, key)
        c(args[0], key, *args[1:])
        c("ZRANGE", key, 0, -1, "WITHSCORES")
        c("EXISTS", key)
    c("ZREMRANGEBYRANK", key, "a", 1)
    c("ZREMRANGEBYSCORE", key, "a", 1)
    c("ZREMRANGEBYLEX", key, "a", 1)
    c("ZREMRANGEBYRANK", key + ":none", 0, -1)


# ---------------------------------------------------------------------------
# ZPOPMIN / ZPOPMAX

def test_zpop(pair, key):
    c = pair.call
    fill(c, key)
    c("ZPOPMIN", key)
    c("ZPOPMAX", key)
    c("ZPOPMIN", key, 0)
    c("ZPOPMIN", key, 3)
    c("ZPOPMAX", key, 2)
    c("ZPOPMIN", key, 1)
    c("ZPOPMAX", key, 1000)
    c("EXISTS", key)
    c("ZPOPMIN", key)
    c("ZPOPMIN", key, 3)
    c("ZPOPMIN", key, -1)
    c("ZPOPMIN", key, "x")
    c("ZPOPMIN", key, 1, 2)
    c("ZPOPMIN")


# ---------------------------------------------------------------------------
# ZUNION / ZINTER / ZDIFF, STORE forms, ZINTERCARD

def test_algebra(pair, key):
    c = pair.call
    k1, k2, k3, none = key + ":{1}", key + ":{2}", key + ":{3}", key + ":none"
    c("ZADD", k1, 1, "a", 2, "b", 3, "c", "inf", "i")
    c("ZADD", k2, 10, "b", 20, "c", 30, "d", "-inf", "i")
    c("ZADD", k3, 5, "c", 6, "e")
    for op in ("ZUNION", "ZINTER", "ZDIFF"):
        for keys in ([k1], [k1, k2], [k1, k2, k3], [k2, none], [none, k1], [k1, k1]):
            c(op, len(keys), *keys)
            c(op, len(keys), *keys, "WITHSCORES")
            if op != "ZDIFF":
                w = [2] * len(keys)
                c(op, len(keys), *keys, "WEIGHTS", *w, "WITHSCORES")
                c(op, len(keys), *keys, "WEIGHTS", *([0] * len(keys)), "WITHSCORES")
                for agg in ("SUM", "MIN", "MAX", "min"):
                    c(op, len(keys), *keys, "AGGREGATE", agg, "WITHSCORES")
                c(op, len(keys), *keys, "WEIGHTS", *w, "AGGREGATE", "MAX", "WITHSCORES")
            dst = key + ":dst"
            c(op + "STORE", dst, len(keys), *keys)
            c("ZRANGE", dst, 0, -1, "WITHSCORES")
            c("EXISTS", dst)
        c("ZINTERCARD", 2, k1, k2)
        c("ZINTERCARD", 2, k1, k2, "LIMIT", 1)
        c("ZINTERCARD", 2, k1, k2, "LIMIT", 0)
        c("ZINTERCARD", 1, none)
    # errors
    c("ZUNION", 0, k1)
    c("ZINTER", -1, k1)
    c("ZUNIONSTORE", key, 0, k1)
    c("ZINTERCARD", 0, k1)
    c("ZUNION", 3, k1, k2)
    c("ZUNION", "x", k1)
    c("ZUNION", 2, k1, k2, "WEIGHTS", 1)
    c("ZUNION", 2, k1, k2, "WEIGHTS", 1, "x")
    c("ZUNION", 2, k1, k2, "AGGREGATE", "AVG")
    c("ZUNION", 2, k1, k2, "BLAH")
    c("ZDIFF", 2, k1, k2, "WEIGHTS", 1, 1)
    c("ZUNIONSTORE", key, 2, k1, k2, "WITHSCORES")
    c("ZINTERCARD", 2, k1, k2, "LIMIT", -1)
    c("ZINTERCARD", 2, k1, k2, "LIMIT", "x")
    c("ZINTERCARD", 2, k1, k2, "WITHSCORES")
    c("ZUNIONSTORE", key + ":d2", 2, k1, k1, "AGGREGATE", "SUM")
    c("ZRANGE", key + ":d2", 0, -1, "WITHSCORES")
    c("ZINTERSTORE", k1, 2, k1, k3)   # dst is a source
    c("ZRANGE", k1, 0, -1, "WITHSCORES")


# ---------------------------------------------------------------------------
# WRONGTYPE, arity

ALL_ONE_KEY = [
    ("ZADD", 1, "a"), ("ZINCRBY", 1, "a"), ("ZREM", "a"), ("ZSCORE", "a"), ("ZMSCORE", "a"),
    ("ZCARD",), ("ZCOUNT", 0, 1), ("ZLEXCOUNT", "-", "+"), ("ZRANK", "a"), ("ZREVRANK", "a"),
    ("ZRANGE", 0, -1), ("ZREVRANGE", 0, -1), ("ZRANGEBYSCORE", 0, 1),
    ("ZREVRANGEBYSCORE", 1, 0), ("ZRANGEBYLEX", "-", "+"), ("ZREVRANGEBYLEX", "+", "-"),
    ("ZREMRANGEBYSCORE", 0, 1), ("ZREMRANGEBYRANK", 0, 1), ("ZREMRANGEBYLEX", "-", "+"),
    ("ZPOPMIN",), ("ZPOPMAX", 2), ("ZRANDMEMBER",), ("ZRANDMEMBER", 2), ("ZSCAN", 0),
]


def test_wrongtype_against_a_string(pair, key):
    c = pair.call
    c("SET", key, "x")
    for cmd, *rest in ALL_ONE_KEY:
        assert c(cmd, key, *rest) == WRONGTYPE
    for cmd in ("ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD"):
        assert c(cmd, 1, key) == WRONGTYPE
    for cmd in ("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"):
        assert c(cmd, key + ":d", 1, key) == WRONGTYPE
    assert c("ZRANGESTORE", key + ":d", key, 0, -1) == WRONGTYPE
    assert c("GET", key) == b"$1\r\nx\r\n"


def test_arity(pair, key):
    for cmd, arity in [("ZADD", 4), ("ZINCRBY", 4), ("ZREM", 3), ("ZSCORE", 3), ("ZMSCORE", 3),
                       ("ZCARD", 2), ("ZCOUNT", 4), ("ZRANGE", 4), ("ZRANGESTORE", 5),
                       ("ZREVRANGE", 4), ("ZRANGEBYSCORE", 4), ("ZREVRANGEBYSCORE", 4),
                       ("ZRANGEBYLEX", 4), ("ZREVRANGEBYLEX", 4), ("ZRANK", 3),
                       ("ZREVRANK", 3), ("ZPOPMIN", 2), ("ZPOPMAX", 2), ("ZRANDMEMBER", 2),
                       ("ZREMRANGEBYSCORE", 4), ("ZREMRANGEBYRANK", 4),
                       ("ZREMRANGEBYLEX", 4), ("ZLEXCOUNT", 4), ("ZUNION", 3), ("ZINTER", 3),
                       ("ZDIFF", 3), ("ZUNIONSTORE", 4), ("ZINTERSTORE", 4),
                       ("ZDIFFSTORE", 4), ("ZINTERCARD", 3), ("ZSCAN", 3)]:
        r = pair.call(cmd, *([key] + ["1"] * arity)[:arity - 2])  # one argument short
        assert r.startswith(b"-ERR wrong number of arguments"), (cmd, r)


# ---------------------------------------------------------------------------
# random sequences side by side

def test_random_sequences(pair):
    rng = random.Random(14)
    keys = ["rz:%d" % i for i in range(3)]
    members = ["m%d" % i for i in range(12)]
    scores = ["0", "1", "-1", "2.5", "10", "-0.5", "inf", "-inf", "3"]

    def rnd_range():
        return rng.choice(scores + ["(1", "(0", "-inf", "+inf"]), rng.choice(scores + ["(3"])

    for _ in range(1500):
        k = rng.choice(keys)
        op = rng.randrange(14)
        if op < 4:
            opts = rng.sample(["NX", "XX", "GT", "LT", "CH"], rng.randrange(3))
            args = []
            for _ in range(rng.randrange(1, 4)):
                args += [rng.choice(scores), rng.choice(members)]
            pair.call("ZADD", k, *opts, *args)
        elif op == 4:
            pair.call("ZINCRBY", k, rng.choice(["1", "-2", "0.5"]), rng.choice(members))
        elif op == 5:
            pair.call("ZREM", k, *rng.sample(members, rng.randrange(1, 4)))
        elif op == 6:
            lo, hi = rnd_range()
            pair.call("ZRANGEBYSCORE", k, lo, hi, "WITHSCORES")
        elif op == 7:
            pair.call("ZRANGE", k, rng.randrange(-6, 6), rng.randrange(-6, 6), "WITHSCORES")
        elif op == 8:
            m = rng.choice(members)
            pair.call("ZRANK", k, m)
            pair.call("ZSCORE", k, m)
        elif op == 9:
            pair.call(rng.choice(["ZPOPMIN", "ZPOPMAX"]), k, rng.randrange(0, 3))
        elif op == 10:
            lo, hi = rnd_range()
            pair.call("ZCOUNT", k, lo, hi)
        elif op == 11:
            ks = rng.sample(keys, rng.randrange(1, 4))
            pair.call(rng.choice(["ZUNION", "ZINTER", "ZDIFF"]), len(ks), *ks, "WITHSCORES")
        elif op == 12:
            lo, hi = rnd_range()
            pair.call("ZREMRANGEBYSCORE", k, lo, hi)
        else:
            pair.call("ZCARD", k)
    for k in keys:
        pair.call("ZRANGE", k, 0, -1, "WITHSCORES")


# ---------------------------------------------------------------------------
# random replies: properties

def test_zrandmember(pair, key):
    c = pair.call
    c("ZRANDMEMBER", key)
    c("ZRANDMEMBER", key, 5)
    c("ZRANDMEMBER", key, 5, "WITHSCORES")
    c("ZRANDMEMBER", key, "x")
    c("ZRANDMEMBER", key, 1, "BLAH")
    c("ZRANDMEMBER", key, 1, "WITHSCORES", "x")
    c("ZRANDMEMBER", key, "-9223372036854775808")
    c("ZRANDMEMBER", key, "-9223372036854770000", "WITHSCORES")
    c("ZADD", key, *sum([[i, "m%d" % i] for i in range(10)], []))
    c("ZRANDMEMBER", key, 0)
    o = pair.ours
    everyone = {b"m%d" % i for i in range(10)}
    seen = set()
    for _ in range(200):
        m = o("ZRANDMEMBER", key)
        assert m in everyone
        seen.add(m)
    assert seen == everyone
    got = o("ZRANDMEMBER", key, 4)
    assert len(got) == 4 and len(set(got)) == 4 and set(got) <= everyone
    assert sorted(o("ZRANDMEMBER", key, 50)) == sorted(everyone)
    rep = o("ZRANDMEMBER", key, -30)
    assert len(rep) == 30 and set(rep) <= everyone
    ws = o("ZRANDMEMBER", key, -5, "WITHSCORES")
    pairs = ws if pair.proto == 3 else list(zip(ws[::2], ws[1::2]))
    assert len(pairs) == 5
    for m, s in pairs:
        assert float(s) == float(m[1:])
    ws = o("ZRANDMEMBER", key, 3, "WITHSCORES")
    pairs = ws if pair.proto == 3 else list(zip(ws[::2], ws[1::2]))
    assert len(pairs) == 3 and len({m for m, _ in pairs}) == 3


def test_zscan(pair, key):
    c = pair.call
    c("ZSCAN", key, 0)
    c("ZSCAN", key, "x")
    c("ZSCAN", key, "-1")
    c("ZSCAN", key, "")
    c("ZSCAN", key, "+5")
    c("ZSCAN", key + ":none", 0, "COUNT", 0)   # absent key: options not parsed
    c("ZADD", key, *sum([[i, "m%d" % i] for i in range(300)], []))
    c("ZSCAN", key, 0, "COUNT", 0)
    c("ZSCAN", key, 0, "COUNT", "x")
    c("ZSCAN", key, 0, "BLAH", 1)
    c("ZSCAN", key, 0, "MATCH")
    o = pair.ours
    got, cursor, calls = {}, 0, 0
    while True:
        cursor, items = o("ZSCAN", key, cursor, "COUNT", 25)
        calls += 1
        for m, s in zip(items[::2], items[1::2]):
            got[m] = s
        if int(cursor) == 0:
            break
    assert calls > 1
    assert got == {b"m%d" % i: b"%d" % i for i in range(300)}
    got = {}
    cursor = 0
    while True:
        cursor, items = o("ZSCAN", key, cursor, "MATCH", "m1*")
        got.update(zip(items[::2], items[1::2]))
        if int(cursor) == 0:
            break
    assert set(got) == {b"m%d" % i for i in range(300) if str(i).startswith("1")}


# ---------------------------------------------------------------------------
# redis-py's view

def test_redis_py(ours_port, key):
    r = redis.Redis(port=ours_port)
    assert r.zadd(key, {"a": 1, "b": 2.5, "c": -1}) == 3
    assert r.zscore(key, "b") == 2.5
    assert r.zrange(key, 0, -1, withscores=True) == [(b"c", -1.0), (b"a", 1.0), (b"b", 2.5)]
    assert r.zincrby(key, 2, "a") == 3.0
    assert r.zrevrange(key, 0, 0) == [b"a"]
    assert r.zpopmin(key) == [(b"c", -1.0)]
    assert r.zcard(key) == 2
    assert r.zrank(key, "a") == 1
    assert r.zmscore(key, ["a", "x"]) == [3.0, None]
    assert r.type(key) == b"zset"
    r.close()


def test_key_commands_on_a_zset(pair, key):
    """The key space's commands see a sorted set as Redis does."""
    c = pair.call
    c("ZADD", key, 1, "a", 2, "b")
    c("TYPE", key)
    c("EXISTS", key)
    c("DBSIZE")
    c("EXPIRE", key, 100)
    assert c("TTL", key) == b":100\r\n"
    c("PERSIST", key)
    c("TTL", key)
    for cmd in (("GET", key), ("INCR", key), ("APPEND", key, "x"), ("STRLEN", key),
                ("SETRANGE", key, 0, "x"), ("GETRANGE", key, 0, 1)):
        assert c(*cmd) == WRONGTYPE, cmd
    c("ZCARD", key)
    c("DEL", key)
    c("EXISTS", key)
    c("TYPE", key)
    c("ZCARD", key)
    # a counter (Redis: a string) is the wrong type for the sorted-set commands
    c("INCR", key + ":ctr")
    assert c("ZADD", key + ":ctr", 1, "a") == WRONGTYPE
    assert c("ZRANGE", key + ":ctr", 0, -1) == WRONGTYPE
    c("GET", key + ":ctr")
    # SET over a sorted set replaces it, as in Redis
    c("ZADD", key, 1, "a")
    c("SET", key, "v")
    c("GET", key)
    c("TYPE", key)
    c("ZADD", key + ":e", 1, "a")
    c("EXPIRE", key + ":e", 0)  # a past expiry deletes
    c("EXISTS", key + ":e")


def test_store_forms_overwrite_any_type(pair, key):
    c = pair.call
    c("ZADD", key, 1, "a", 2, "b")
    for cmd in (("ZRANGESTORE", key + ":d", key, 0, -1), ("ZUNIONSTORE", key + ":d", 1, key),
                ("ZINTERSTORE", key + ":d", 1, key), ("ZDIFFSTORE", key + ":d", 1, key)):
        c("SET", key + ":d", "x")
        c(*cmd)
        c("ZRANGE", key + ":d", 0, -1, "WITHSCORES")


def test_multi_exec_and_pipelining(pair, key):
    c = pair.call
    c("MULTI")
    c("ZADD", key, 1, "a", 2, "b")
    c("ZINCRBY", key, 5, "a")
    c("ZRANGE", key, 0, -1, "WITHSCORES")
    c("ZPOPMIN", key)
    c("ZADD", key, "x", "a")   # a syntax error inside MULTI: EXECABORT
    c("EXEC")
    c("MULTI")
    c("ZADD", key, 1, "a", 2, "b")
    c("ZINCRBY", key, 5, "a")
    c("ZRANGE", key, 0, -1, "WITHSCORES")
    c("ZPOPMIN", key)
    c("EXEC")
    # 200 commands in one write, replies in order
    batch = []
    for i in range(100):
        batch.append(("ZADD", key + ":p", i, "m%d" % (i % 7)))
        batch.append(("ZRANGE", key + ":p", 0, -1, "WITHSCORES"))
    data = b"".join(encode(*cmd) for cmd in batch)
    pair.a.send(data)
    pair.b.send(data)
    for cmd in batch:
        assert pair.a.reply() == pair.b.reply(), cmd


def test_a_set_as_a_source_scores_its_members_1(pair, key):
    """ZUNION/ZINTER/ZDIFF and their STORE forms take plain sets as sources,
    each member scored 1, as Redis does (zset.tcl's "ZUNIONSTORE with
    weights / ZINTERSTORE regular" on sets)."""
    c = pair.call
    c("SADD", key + ":s", "a", "b", "c")
    c("ZADD", key + ":z", 2, "b", 3, "d")
    c("ZUNION", 2, key + ":s", key + ":z", "WITHSCORES")
    c("ZINTER", 2, key + ":s", key + ":z", "WEIGHTS", 5, 1, "WITHSCORES")
    c("ZDIFF", 2, key + ":s", key + ":z", "WITHSCORES")
    c("ZUNIONSTORE", key + ":d", 2, key + ":s", key + ":z", "AGGREGATE", "MAX")
    c("ZRANGE", key + ":d", 0, -1, "WITHSCORES")
    c("SET", key + ":str", "x")
    c("ZUNION", 2, key + ":s", key + ":str")  # a string source: WRONGTYPE

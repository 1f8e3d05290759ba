"""The set commands (src/cmd/cmd_set.c, cmd_set_algebra.c) on one real
dynamo-node (N = W = R = 1), side by side with a redis-server 7.0 started
on a free port (no persistence; stopped by its PID at the end).

Most tests send the same command sequence to both servers over raw RESP
sockets (RESP2 and RESP3, harness.RawConn) and compare the replies: types,
values and error texts.  Replies whose order Redis does not define
(SMEMBERS, SINTER, SPOP with a count...) are compared as sorted lists, and
keep their RESP type (a RESP3 set stays a set).  Random commands (SPOP,
SRANDMEMBER) are checked for their properties.  Nothing sleeps a fixed
time.

Run: DYNAMO_NODE_BIN=$PWD/build/src/dynamo-node \
     /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_set.py
"""
import os

import pytest
import redis

import harness
from harness import Err, RawConn, Set

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


@pytest.fixture(scope="module")
def redis_server():
    """A redis-server 7.0 on a free loopback port; stopped by its PID."""
    with harness.redis_server() as port:
        yield port


class Pair:
    """The same commands to dynamo-node and redis-server, one protocol."""

    def __init__(self, node_port, redis_port, proto):
        self.ours = RawConn(node_port)
        self.theirs = RawConn(redis_port)
        if proto == 3:
            for c in (self.ours, self.theirs):
                c.cmd("HELLO", "3")
        for c in (self.ours, self.theirs):
            c.cmd("FLUSHALL")

    def both(self, *args):
        return self.ours.cmd(*args), self.theirs.cmd(*args)

    def same(self, *args, unordered=False):
        """Runs args on both; the replies must be equal (sorted when the
        order is undefined).  Returns ours."""
        a, b = self.both(*args)
        if unordered:
            a, b = norm(a), norm(b)
        assert (type(a), a) == (type(b), b), "%r: ours %r, redis %r" % (args, a, b)
        return a

    def close(self):
        self.ours.close()
        self.theirs.close()


def norm(v):
    """An unordered reply: sorted, keeping its type (Set or list)."""
    if isinstance(v, list):
        return type(v)(sorted(v))
    return v


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request, node, redis_server):
    p = Pair(node.port, redis_server, request.param)
    yield p
    p.close()


@pytest.fixture
def pair2(node, redis_server):
    p = Pair(node.port, redis_server, 2)
    yield p
    p.close()


# ---------------------------------------------------------------------------
# side by side: the deterministic commands


def test_sadd_srem_scard_sismember_smismember(pair):
    p = pair
    p.same("SADD", "s", "a", "b", "c", "a")
    p.same("SADD", "s", "a", "d")
    p.same("SCARD", "s")
    p.same("SCARD", "nosuch")
    p.same("SISMEMBER", "s", "a")
    p.same("SISMEMBER", "s", "zz")
    p.same("SISMEMBER", "nosuch", "a")
    p.same("SMISMEMBER", "s", "a", "zz", "d")
    p.same("SMISMEMBER", "nosuch", "a", "b")
    p.same("SMEMBERS", "s", unordered=True)
    p.same("SMEMBERS", "nosuch")
    p.same("SREM", "s", "a", "zz", "a")
    p.same("SREM", "nosuch", "a")
    p.same("SMEMBERS", "s", unordered=True)
    p.same("SREM", "s", "b", "c", "d")
    # the last member removed: the key is gone
    p.same("EXISTS", "s")
    p.same("TYPE", "s")
    p.same("SMEMBERS", "s")
    p.same("SADD", "s", "", "x" * 1000, "\x00\xff")
    p.same("SMEMBERS", "s", unordered=True)
    p.same("TYPE", "s")


def test_big_set_point_commands(pair):
    p = pair
    members = ["m%d" % i for i in range(3000)]
    p.same("SADD", "big", *members)
    p.same("SCARD", "big")
    p.same("SADD", "big", *members[::7])
    p.same("SREM", "big", *members[::3])
    p.same("SCARD", "big")
    p.same("SMISMEMBER", "big", *members[:50])
    p.same("SMEMBERS", "big", unordered=True)


def test_smove(pair):
    p = pair
    p.same("SADD", "src", "a", "b", "c")
    p.same("SADD", "dst", "x", "b")
    p.same("SMOVE", "src", "dst", "a")
    p.same("SMOVE", "src", "dst", "a")   # no longer there
    p.same("SMOVE", "src", "dst", "b")   # already in dst: still 1
    p.same("SMEMBERS", "src", unordered=True)
    p.same("SMEMBERS", "dst", unordered=True)
    p.same("SMOVE", "src", "newdst", "c")  # creates the destination, empties the source
    p.same("EXISTS", "src")
    p.same("SMEMBERS", "newdst", unordered=True)
    p.same("SMOVE", "nosuch", "dst", "a")
    p.same("SMOVE", "dst", "dst", "x")     # same key: membership, no change
    p.same("SMOVE", "dst", "dst", "zz")
    p.same("SMEMBERS", "dst", unordered=True)
    p.same("SET", "str", "v")
    p.same("SMOVE", "dst", "str", "x")     # wrong destination type: nothing moves
    p.same("SMOVE", "str", "dst", "x")
    p.same("SMEMBERS", "dst", unordered=True)
    p.same("SMOVE", "dst", "newdst", "x", "y")


def test_algebra(pair):
    p = pair
    p.same("SADD", "k1", *"abcdef")
    p.same("SADD", "k2", *"cdefgh")
    p.same("SADD", "k3", *"efghij")
    for cmd in ("SINTER", "SUNION", "SDIFF"):
        p.same(cmd, "k1", unordered=True)
        p.same(cmd, "k1", "k2", unordered=True)
        p.same(cmd, "k1", "k2", "k3", unordered=True)
        p.same(cmd, "k3", "k2", "k1", unordered=True)
        p.same(cmd, "k1", "k1", unordered=True)
        p.same(cmd, "k1", "nosuch", unordered=True)
        p.same(cmd, "nosuch", "k1", unordered=True)
        p.same(cmd, "nosuch", unordered=True)
    for cmd in ("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"):
        p.same(cmd, "dst", "k1", "k2")
        p.same("SMEMBERS", "dst", unordered=True)
        p.same(cmd, "dst", "k1", "k2", "k3")
        p.same("SMEMBERS", "dst", unordered=True)
        p.same(cmd, "k1c", "k1")  # a copy
        p.same(cmd, "k1c", "k1c", "k3")  # the destination among the sources
        p.same("SMEMBERS", "k1c", unordered=True)
        p.same(cmd, "dst", "nosuch", "nosuch2")  # empty result: the destination goes
        p.same("EXISTS", "dst")
        p.same("DEL", "k1c")
    p.same("SINTERCARD", "2", "k1", "k2")
    p.same("SINTERCARD", "3", "k1", "k2", "k3")
    p.same("SINTERCARD", "3", "k1", "k2", "k3", "LIMIT", "1")
    p.same("SINTERCARD", "2", "k1", "k2", "LIMIT", "0")
    p.same("SINTERCARD", "2", "k1", "k2", "LIMIT", "3")
    p.same("SINTERCARD", "2", "k1", "k2", "limit", "1", "LIMIT", "100")
    p.same("SINTERCARD", "1", "k1", "LIMIT", "100")
    p.same("SINTERCARD", "2", "k1", "nosuch")


def test_errors(pair):
    p = pair
    p.same("SET", "str", "v")
    p.same("SADD", "s", "a", "b")
    # wrong number of arguments
    for args in (("SADD", "s"), ("SREM", "s"), ("SMEMBERS",), ("SMEMBERS", "s", "x"),
                 ("SISMEMBER", "s"), ("SMISMEMBER", "s"), ("SCARD",), ("SPOP",),
                 ("SRANDMEMBER",), ("SMOVE", "s", "d"), ("SINTER",), ("SUNION",), ("SDIFF",),
                 ("SINTERSTORE", "d"), ("SUNIONSTORE", "d"), ("SDIFFSTORE", "d"),
                 ("SINTERCARD", "1"), ("SSCAN", "s")):
        a = p.same(*args)
        assert isinstance(a, Err) and "wrong number of arguments" in a
    # WRONGTYPE against a string, for every command
    for args in (("SADD", "str", "a"), ("SREM", "str", "a"), ("SMEMBERS", "str"),
                 ("SISMEMBER", "str", "a"), ("SMISMEMBER", "str", "a"), ("SCARD", "str"),
                 ("SPOP", "str"), ("SPOP", "str", "2"), ("SRANDMEMBER", "str"),
                 ("SRANDMEMBER", "str", "2"), ("SINTER", "s", "str"), ("SUNION", "str", "s"),
                 ("SDIFF", "s", "str"), ("SINTERSTORE", "d", "s", "str"),
                 ("SUNIONSTORE", "d", "str"), ("SDIFFSTORE", "d", "s", "str"),
                 ("SINTERCARD", "2", "s", "str"), ("SSCAN", "str", "0")):
        assert p.same(*args) == WRONGTYPE, args
    # syntax and value errors
    for args in (("SPOP", "s", "-1"), ("SPOP", "s", "x"), ("SPOP", "s", "1", "2"),
                 ("SPOP", "nosuch", "-1"), ("SRANDMEMBER", "s", "x"),
                 ("SRANDMEMBER", "s", "1", "2"),
                 ("SRANDMEMBER", "s", "-9223372036854775808"),
                 ("SRANDMEMBER", "s", "99999999999999999999"),
                 ("SINTERCARD", "0", "s"), ("SINTERCARD", "x", "s"), ("SINTERCARD", "-1", "s"),
                 ("SINTERCARD", "3", "s", "t"), ("SINTERCARD", "1", "s", "LIMIT"),
                 ("SINTERCARD", "1", "s", "LIMIT", "-1"), ("SINTERCARD", "1", "s", "LIMIT", "x"),
                 ("SINTERCARD", "1", "s", "FOO", "1"), ("SSCAN", "s", "x"),
                 ("SSCAN", "s", "0", "COUNT"),
                 ("SSCAN", "s", "0", "COUNT", "0"), ("SSCAN", "s", "0", "COUNT", "x"),
                 ("SSCAN", "s", "0", "FOO", "1"), ("SSCAN", "s", "0", "TYPE", "set"),
                 ("SSCAN", "str", "0", "FOO"), ("SSCAN", "nosuch", "0", "FOO"),
                 # the cursor as Redis's strtoul reads it
                 ("SSCAN", "nosuch", "-1"), ("SSCAN", "nosuch", "+5"), ("SSCAN", "nosuch", ""),
                 ("SSCAN", "nosuch", " 1"), ("SSCAN", "nosuch", "18446744073709551616")):
        p.same(*args)
    # an argument error wins over the key's type, as in Redis
    p.same("SPOP", "str", "-1")
    p.same("SINTERCARD", "1", "str", "LIMIT", "-1")


def test_store_overwrites_any_type(pair):
    p = pair
    p.same("SADD", "s", "a")
    p.same("SET", "dst", "string")
    p.same("SUNIONSTORE", "dst", "s")
    p.same("TYPE", "dst")
    p.same("SMEMBERS", "dst")
    p.same("SET", "dst", "string")
    p.same("SINTERSTORE", "dst", "nosuch", "s")
    p.same("EXISTS", "dst")
    # a source of another type: WRONGTYPE, and the destination is left alone
    p.same("SET", "dst", "string")
    p.same("SET", "str2", "x")
    for cmd in ("SUNIONSTORE", "SINTERSTORE", "SDIFFSTORE"):
        assert p.same(cmd, "dst", "s", "str2") == WRONGTYPE
        p.same("GET", "dst")
    p.same("SADD", "dstset", "q")
    assert p.same("SDIFFSTORE", "dstset", "str2", "s") == WRONGTYPE
    p.same("SMEMBERS", "dstset")


def test_wrongtype_against_another_type(node):
    """A set command on a key of another convergent type (a hash when HSET
    exists in this build) answers WRONGTYPE, and the other type's commands
    refuse a set."""
    r = node.client()
    r.delete("h", "s2")
    try:
        r.execute_command("HSET", "h", "f", "v")
    except redis.ResponseError as e:
        if "unknown command" in str(e):
            pytest.skip("HSET is not in this build (another slice of issue 14)")
        raise
    for args in (("SADD", "h", "a"), ("SCARD", "h"), ("SMEMBERS", "h"), ("SINTER", "h"),
                 ("SMOVE", "h", "s2", "a"), ("SPOP", "h")):
        with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
            r.execute_command(*args)
    r.sadd("s2", "a")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.execute_command("HGET", "s2", "f")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.get("s2")


def test_resp3_shapes(node, redis_server):
    """The reply types that differ in RESP3: sets for SMEMBERS, SINTER,
    SUNION, SDIFF and SPOP with a count; arrays for SRANDMEMBER with a
    count, SMISMEMBER and SSCAN; null for SPOP/SRANDMEMBER on no key."""
    p = Pair(node.port, redis_server, 3)
    try:
        p.same("SADD", "s", "a", "b", "c")
        assert isinstance(p.same("SMEMBERS", "s", unordered=True), Set)
        assert isinstance(p.same("SINTER", "s", "s", unordered=True), Set)
        assert isinstance(p.same("SUNION", "s", unordered=True), Set)
        assert isinstance(p.same("SDIFF", "s", unordered=True), Set)
        assert isinstance(p.same("SPOP", "nosuch", "2"), Set)
        assert isinstance(p.same("SPOP", "s", "0"), Set)
        assert isinstance(p.same("SRANDMEMBER", "s", "3", unordered=True), list)
        a, b = p.both("SPOP", "s", "2")
        assert type(a) is type(b) is Set and len(a) == len(b) == 2
        assert p.same("SPOP", "nosuch") is None
        assert p.same("SRANDMEMBER", "nosuch") is None
        assert p.same("SRANDMEMBER", "nosuch", "5") == []
        a, b = p.both("SSCAN", "s", "0")
        assert type(a[1]) is type(b[1]) is list
    finally:
        p.close()


# ---------------------------------------------------------------------------
# random commands: properties


def test_spop_single(r):
    r.delete("sp")
    r.sadd("sp", *[str(i) for i in range(20)])
    seen = set()
    for _ in range(20):
        m = r.spop("sp")
        assert m is not None and m not in seen and int(m) in range(20)
        seen.add(m)
    assert r.spop("sp") is None
    assert r.exists("sp") == 0
    assert r.type("sp") == b"none"


def fresh_set(r, key, size):
    """key made the set m0 .. m<size-1>; returns its members."""
    r.delete(key)
    members = {b"m%d" % i for i in range(size)}
    r.sadd(key, *members)
    return members


@pytest.mark.parametrize("size,count", [(10, 3), (100, 5), (100, 40), (100, 99), (10, 10),
                                        (10, 50)])
def test_spop_count(r, size, count):
    members = fresh_set(r, "spc", size)
    got = r.spop("spc", count)
    assert len(got) == min(count, size) and len(set(got)) == len(got)
    assert set(got) <= members
    left = set(r.smembers("spc"))
    assert left == members - set(got)
    assert r.scard("spc") == size - len(got)
    assert r.exists("spc") == (1 if left else 0)


@pytest.mark.parametrize("size,count", [(10, 3), (100, 5), (100, 40), (100, 99), (10, 10),
                                        (10, 50), (5, 1)])
def test_srandmember_count_distinct(r, size, count):
    members = fresh_set(r, "sr", size)
    got = r.srandmember("sr", count)
    assert len(got) == min(count, size) and len(set(got)) == len(got)
    assert set(got) <= members
    assert r.scard("sr") == size  # nothing removed


def test_srandmember_repetition_and_single(r):
    r.delete("sr2")
    r.sadd("sr2", "a", "b", "c")
    got = r.srandmember("sr2", -3000)
    assert len(got) == 3000 and set(got) == {b"a", b"b", b"c"}
    singles = {r.srandmember("sr2") for _ in range(200)}
    assert singles == {b"a", b"b", b"c"}
    assert r.srandmember("sr2", 0) == []
    assert r.srandmember("nosuch", -5) == []


def test_random_members_reach_every_member_of_a_big_set(r):
    """A 5000-member set thinned to 50 by SREM (a sparse element table):
    SRANDMEMBER and SPOP still return only members, and every member."""
    r.delete("sparse")
    r.sadd("sparse", *["m%d" % i for i in range(5000)])
    r.srem("sparse", *["m%d" % i for i in range(5000) if i % 100])
    members = {b"m%d" % i for i in range(0, 5000, 100)}
    assert set(r.smembers("sparse")) == members
    assert set(r.srandmember("sparse", -5000)) == members
    assert set(r.srandmember("sparse", 20)) <= members
    popped = set(r.spop("sparse", 49))
    assert len(popped) == 49 and popped <= members
    assert r.smembers("sparse") == members - popped


# ---------------------------------------------------------------------------
# SSCAN


def scan_all(r, key, cursor=0, **kw):
    out, calls = [], 0
    while True:
        cursor, items = r.sscan(key, cursor, **kw)
        out += items
        calls += 1
        assert calls < 100000
        if cursor == 0:
            return out, calls


def test_sscan_full_iteration(r):
    members = fresh_set(r, "sc", 1000)
    for count in (1, 10, 100, 10000):
        got, calls = scan_all(r, "sc", count=count)
        assert set(got) == members and len(got) == len(members)
        if count == 1:
            assert calls > 10  # a real cursor, many steps
    got, _ = scan_all(r, "sc", match="m1*")
    assert set(got) == {m for m in members if m.startswith(b"m1")}
    got, _ = scan_all(r, "sc", match="m[0-2]?")
    assert set(got) == {m for m in members if len(m) == 3 and m[1:2] in b"012"}
    assert r.sscan("nosuch", 0) == (0, [])
    # a cursor no call returned (past any table) is masked to the table, as
    # Redis reads it: the scan goes on from there, returns members only, ends
    got, _ = scan_all(r, "sc", cursor=2 ** 63 + 1)
    assert got and set(got) <= members


def test_sscan_members_removed_during_the_scan(r):
    """Members present for the whole scan are all returned although others
    are removed between steps."""
    r.delete("sc2")
    keep = {b"k%d" % i for i in range(300)}
    drop = [b"d%d" % i for i in range(300)]
    r.sadd("sc2", *keep, *drop)
    cursor, got = 0, set()
    while True:
        cursor, items = r.sscan("sc2", cursor, count=20)
        got |= set(items)
        if drop:
            r.srem("sc2", *drop[:30])
            drop = drop[30:]
        if cursor == 0:
            break
    assert keep <= got


# ---------------------------------------------------------------------------
# the rest of the key space sees sets


def test_keyspace_sees_sets(r):
    r.delete("ks1", "ks2")
    r.sadd("ks1", "a", "b")
    assert r.type("ks1") == b"set"
    assert r.exists("ks1") == 1
    assert r.delete("ks1") == 1
    assert r.exists("ks1") == 0
    assert r.smembers("ks1") == set()
    assert r.sadd("ks1", "c") == 1  # a new set after DEL
    assert r.smembers("ks1") == {b"c"}


def test_smove_in_multi_exec(r):
    """SMOVE inside MULTI/EXEC (its two steps under EXEC's redirect)."""
    r.delete("mx1", "mx2")
    r.sadd("mx1", "a", "b")
    pipe = r.pipeline(transaction=True)
    pipe.smove("mx1", "mx2", "a")
    pipe.smove("mx1", "mx2", "zz")
    pipe.smembers("mx2")
    pipe.sadd("mx2", "q")
    assert pipe.execute() == [True, False, {b"a"}, 1]
    assert r.smembers("mx1") == {b"b"}
    # a STORE form over a string destination (its three internal steps)
    r.set("mxs", "string")
    pipe = r.pipeline(transaction=True)
    pipe.sunionstore("mxs", ["mx1", "mx2"])
    pipe.smembers("mxs")
    pipe.sinterstore("mxs", ["mx1", "nosuch"])
    pipe.exists("mxs")
    assert pipe.execute() == [3, {b"a", b"b", b"q"}, 0, 0]


def test_pipelined_replies_keep_their_order(r):
    """Many set commands pipelined: each reply in its place."""
    r.delete("pp")
    pipe = r.pipeline(transaction=False)
    for i in range(200):
        pipe.sadd("pp", "m%d" % i)
        pipe.sismember("pp", "m%d" % i)
        pipe.scard("pp")
    res = pipe.execute()
    for i in range(200):
        assert res[3 * i:3 * i + 3] == [1, 1, i + 1]


def test_object_encoding(pair2):
    """OBJECT ENCODING names what Redis would use: intset for at most
    set-max-intset-entries integer members, else hashtable."""
    p = pair2
    p.same("SADD", "e", "1", "2", "-30")
    p.same("OBJECT", "ENCODING", "e")
    p.same("SADD", "e", "a")
    p.same("OBJECT", "ENCODING", "e")
    p.same("SADD", "e2", *range(512))
    p.same("OBJECT", "ENCODING", "e2")
    p.same("SADD", "e2", "512")
    p.same("OBJECT", "ENCODING", "e2")
    p.same("SADD", "e3", "007", "1")  # not canonical: not an intset integer
    p.same("OBJECT", "ENCODING", "e3")
    p.same("SADD", "e4", "9223372036854775807", "-9223372036854775808")
    p.same("OBJECT", "ENCODING", "e4")
    p.same("SADD", "e5", "9223372036854775808")
    p.same("OBJECT", "ENCODING", "e5")
    p.same("CONFIG", "SET", "set-max-intset-entries", "2")
    try:
        p.same("SADD", "e6", "1", "2", "3")
        p.same("OBJECT", "ENCODING", "e6")
    finally:
        p.same("CONFIG", "SET", "set-max-intset-entries", "512")
    p.same("OBJECT", "ENCODING", "nosuch")


def chi_square(counts, total):
    expected = total / len(counts)
    return sum((c - expected) ** 2 / expected for c in counts)


def test_srandmember_is_uniform_in_a_sparse_set(r):
    """50 members left of 5000 (the element table keeps its 8192 slots):
    20 000 single SRANDMEMBERs and SRANDMEMBER -40 (draws with repetition)
    hit every member about equally.  Chi-square over 49 degrees of freedom
    is about 49 +- 10 when uniform; 150 is never reached by chance (p <
    1e-10), while picking the member after a random slot (biased by the
    gaps before each member) gives thousands."""
    r.delete("uni")
    r.sadd("uni", *["m%d" % i for i in range(5000)])
    r.srem("uni", *["m%d" % i for i in range(5000) if i % 100])
    members = [b"m%d" % i for i in range(0, 5000, 100)]
    pipe = r.pipeline(transaction=False)
    for _ in range(20000):
        pipe.srandmember("uni")
    got = pipe.execute()
    counts = [got.count(m) for m in members]
    assert sum(counts) == 20000
    assert chi_square(counts, 20000) < 150, counts
    pipe = r.pipeline(transaction=False)
    for _ in range(500):
        pipe.srandmember("uni", -40)
    got = [m for rep in pipe.execute() for m in rep]
    counts = [got.count(m) for m in members]
    assert sum(counts) == 20000
    assert chi_square(counts, 20000) < 150, counts

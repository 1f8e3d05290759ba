"""The string family beyond GET/SET and the expiry commands (src/cmd_string.c)
on one real dynamo-node (N = W = R = 1), through redis-py.

Replies and error texts are Redis 7.0's, checked one by one.  Expiry waits
poll against a deadline; nothing sleeps a fixed time.

Run: DYNAMO_NODE_BIN=$PWD/build/src/dynamo-node \
     /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_strings.py
"""
import threading
import time

import pytest
import redis

from harness import RawConn, encode_command, wait_until

NOT_INT = "value is not an integer or out of range"
NOT_FLOAT = "value is not a valid float"
OVERFLOW = "increment or decrement would overflow"
NAN = "increment would produce NaN or Infinity"
TOO_BIG = "string exceeds maximum allowed size (proto-max-bulk-len)"
SYNTAX = "syntax error"
NX_COMPAT = "NX and XX, GT or LT options at the same time are not compatible"
GT_LT = "GT and LT options at the same time are not compatible"
LLONG_MAX = 2 ** 63 - 1
LLONG_MIN = -2 ** 63


@pytest.fixture
def key(request):
    """A key no other test of the module uses."""
    return "s:%s" % request.node.name


def err(r, *args):
    """The error text a command answers (fails when it does not fail)."""
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


def siblings(r, key):
    """Two blind VPUTs: the key holds two concurrent versions."""
    r.execute_command("VPUT", key, "", "a")
    r.execute_command("VPUT", key, "", "b")
    assert sorted(r.execute_command("VGET", key)[1]) == [b"a", b"b"]


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------------------
# APPEND, SETRANGE, STRLEN, GETRANGE, SUBSTR


class TestAppendRange:
    def test_append(self, r, key):
        assert r.append(key, "Hello") == 5
        assert r.append(key, " World") == 11
        assert r.get(key) == b"Hello World"
        assert r.append(key, "") == 11
        assert r.get(key) == b"Hello World"
        assert r.append(key, b"\x00\xff") == 13
        assert r.get(key) == b"Hello World\x00\xff"

    def test_append_empty_creates_the_key(self, r, key):
        assert r.append(key, "") == 0
        assert r.exists(key) == 1
        assert r.get(key) == b""

    def test_append_keeps_ttl(self, r, key):
        r.set(key, "a", ex=100)
        assert r.append(key, "b") == 2
        assert 98 <= r.ttl(key) <= 100

    def test_append_over_the_size_limit(self, node_factory, key):
        n = node_factory("--proto-max-bulk-len", "1mb")
        c = n.client()
        c.set(key, "x" * (1024 * 1024 - 1))
        assert c.append(key, "y") == 1024 * 1024
        assert err(c, "APPEND", key, "z") == TOO_BIG
        assert c.strlen(key) == 1024 * 1024
        c.close()

    def test_setrange(self, r, key):
        r.set(key, "Hello World")
        assert r.setrange(key, 6, "Redis") == 11
        assert r.get(key) == b"Hello Redis"
        assert r.setrange(key, 11, "!") == 12
        assert r.get(key) == b"Hello Redis!"

    def test_setrange_pads_with_zero_bytes(self, r, key):
        assert r.setrange(key, 5, "xy") == 7
        assert r.get(key) == b"\x00" * 5 + b"xy"
        assert r.setrange(key, 0, "AB") == 7
        assert r.get(key) == b"AB\x00\x00\x00xy"

    def test_setrange_empty_value_writes_nothing(self, r, key):
        assert r.setrange(key, 3, "") == 0
        assert r.exists(key) == 0
        r.set(key, "abc")
        ctx = r.execute_command("VGET", key)[0]
        assert r.setrange(key, 100, "") == 3
        assert r.execute_command("VGET", key) == [ctx, [b"abc"]]  # no new version

    def test_setrange_keeps_ttl(self, r, key):
        r.set(key, "abc", px=100000)
        assert r.setrange(key, 1, "X") == 3
        assert r.get(key) == b"aXc"
        assert 99000 <= r.pttl(key) <= 100000

    def test_setrange_errors(self, r, key):
        assert err(r, "SETRANGE", key, "-1", "x") == "offset is out of range"
        assert err(r, "SETRANGE", key, "abc", "x") == NOT_INT
        assert err(r, "SETRANGE", key, "1.5", "x") == NOT_INT
        assert err(r, "SETRANGE", key, str(LLONG_MAX + 1), "x") == NOT_INT
        # 512 MB is the default proto-max-bulk-len: refused before allocating
        assert err(r, "SETRANGE", key, str(512 * 1024 * 1024), "x") == TOO_BIG
        assert err(r, "SETRANGE", key, str(LLONG_MAX), "x") == TOO_BIG
        assert r.exists(key) == 0
        r.set(key, "v")
        assert err(r, "SETRANGE", key, str(512 * 1024 * 1024), "x") == TOO_BIG
        assert r.get(key) == b"v"

    def test_strlen(self, r, key):
        assert r.strlen(key) == 0
        r.set(key, "hello")
        assert r.strlen(key) == 5
        r.set(key, "")
        assert r.strlen(key) == 0

    def test_getrange(self, r, key):
        r.set(key, "This is a string")
        assert r.getrange(key, 0, 3) == b"This"
        assert r.getrange(key, -3, -1) == b"ing"
        assert r.getrange(key, 0, -1) == b"This is a string"
        assert r.getrange(key, 10, 100) == b"string"
        assert r.getrange(key, -100, 3) == b"This"
        assert r.getrange(key, 5, 2) == b""
        assert r.getrange(key, -1, -5) == b""
        assert r.getrange(key, 100, 200) == b""
        assert r.getrange(key, LLONG_MIN, LLONG_MAX) == b"This is a string"
        assert r.execute_command("SUBSTR", key, 0, 3) == b"This"
        assert r.getrange(key + ":missing", 0, -1) == b""
        r.set(key, "")
        assert r.getrange(key, 0, -1) == b""

    def test_getrange_errors(self, r, key):
        assert err(r, "GETRANGE", key, "a", "1") == NOT_INT
        assert err(r, "GETRANGE", key, "0", "b") == NOT_INT
        assert err(r, "SUBSTR", key, "0", "1.0") == NOT_INT


# ---------------------------------------------------------------------------
# INCR family


class TestCounters:
    def test_incr_decr(self, r, key):
        assert r.incr(key) == 1
        assert r.incr(key) == 2
        assert r.incrby(key, 10) == 12
        assert r.decr(key) == 11
        assert r.decrby(key, 20) == -9
        assert r.incrby(key, -1) == -10
        assert r.get(key) == b"-10"
        assert r.decrby(key + ":new", 5) == -5

    def test_incrby_zero_writes_nothing(self, r, key):
        r.set(key, "7")
        ctx = r.execute_command("VGET", key)[0]
        assert r.incrby(key, 0) == 7
        assert r.execute_command("VGET", key) == [ctx, [b"7"]]

    def test_incr_keeps_ttl(self, r, key):
        r.set(key, "1", ex=100)
        assert r.incr(key) == 2
        assert 98 <= r.ttl(key) <= 100

    def test_limits_and_overflow(self, r, key):
        r.set(key, str(LLONG_MAX - 1))
        assert r.incr(key) == LLONG_MAX
        assert err(r, "INCR", key) == OVERFLOW
        assert err(r, "INCRBY", key, "1") == OVERFLOW
        assert r.get(key) == str(LLONG_MAX).encode()
        r.set(key, str(LLONG_MIN))
        assert err(r, "DECR", key) == OVERFLOW
        assert err(r, "INCRBY", key, "-1") == OVERFLOW
        assert r.incrby(key, LLONG_MAX) == -1
        assert err(r, "DECRBY", key, str(LLONG_MIN)) == "decrement would overflow"
        assert r.decrby(key, LLONG_MAX) == LLONG_MIN

    @pytest.mark.parametrize("stored", [
        "abc", "", " 1", "1 ", "+1", "01", "-0", "1.5", "1e3", str(LLONG_MAX + 1), "0x10"])
    def test_value_not_an_integer(self, r, key, stored):
        r.set(key, stored)
        for cmd in (("INCR", key), ("DECR", key), ("INCRBY", key, "1"), ("DECRBY", key, "1")):
            assert err(r, *cmd) == NOT_INT
        assert r.get(key) == stored.encode()

    @pytest.mark.parametrize("arg", ["abc", "", "1.0", "+1", " 1", str(LLONG_MAX + 1)])
    def test_increment_not_an_integer(self, r, key, arg):
        assert err(r, "INCRBY", key, arg) == NOT_INT
        assert err(r, "DECRBY", key, arg) == NOT_INT
        assert r.exists(key) == 0

    def test_incr_exact_under_concurrency(self, node, key):
        threads, per = 8, 500
        errors = []

        def worker():
            c = node.client()
            try:
                for _ in range(per):
                    c.incr(key)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                c.close()

        ts = [threading.Thread(target=worker) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert errors == []
        c = node.client()
        assert c.get(key) == str(threads * per).encode()
        assert len(c.execute_command("VGET", key)[1]) == 1  # no siblings
        c.close()

    def test_incrbyfloat(self, r, key):
        def ibf(k, arg):
            """The stored text after INCRBYFLOAT (redis-py turns the reply,
            the same text, into a float)."""
            r.execute_command("INCRBYFLOAT", k, arg)
            return r.get(k)

        assert r.incrbyfloat(key, 10.5) == 10.5
        assert ibf(key, "0.1") == b"10.6"
        assert ibf(key, "-5e-1") == b"10.1"
        r.set(key, "5.0e3")
        assert ibf(key, "2.0e2") == b"5200"
        assert ibf(key, "-5200") == b"0"
        assert ibf(key + ":tiny", "-1e-30") == b"0"  # never "-0"
        assert ibf(key + ":hex", "0x10") == b"16"
        r.set(key, "3")
        assert ibf(key, "1.5") == b"4.5"
        # 17 decimals, as Redis prints them
        assert ibf(key + ":p", "0.1") == b"0.1"
        assert ibf(key + ":p", "0.2") == b"0.3"
        # INCRBYFLOAT makes a convergent counter whose float totals are IEEE
        # doubles (issue 14): past the double range it is refused, where
        # Redis's long double still counts (README "Counters")
        assert err(r, "INCRBYFLOAT", key + ":big", "1e4000") == NAN
        assert r.get(key + ":big") is None

    def test_incrbyfloat_keeps_ttl(self, r, key):
        r.set(key, "1", ex=100)
        r.incrbyfloat(key, 1)
        assert 98 <= r.ttl(key) <= 100

    def test_incrbyfloat_errors(self, r, key):
        r.set(key, "1")
        for arg in ("abc", "", " 1", "1 ", "nan", "1e5000"):
            assert err(r, "INCRBYFLOAT", key, arg) == NOT_FLOAT, arg
        assert err(r, "INCRBYFLOAT", key, "inf") == NAN
        assert err(r, "INCRBYFLOAT", key, "-inf") == NAN
        r.set(key, "1e308")
        r.incrbyfloat(key, 1e308)  # base + total in long double: no overflow yet
        for stored in ("abc", " 1", "nan", "1.5x"):
            r.set(key, stored)
            assert err(r, "INCRBYFLOAT", key, "1") == NOT_FLOAT, stored
            assert r.get(key) == stored.encode()
        r.set(key, "1e4932")
        assert err(r, "INCRBYFLOAT", key, "1e4932") == NAN


# ---------------------------------------------------------------------------
# SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX


class TestSetGetVariants:
    def test_setnx(self, r, key):
        assert r.setnx(key, "one") is True
        assert r.setnx(key, "two") is False
        assert r.get(key) == b"one"
        r.delete(key)
        assert r.setnx(key, "three") is True
        assert r.ttl(key) == -1

    def test_setex_psetex(self, r, key):
        assert r.setex(key, 100, "v") is True
        assert r.get(key) == b"v"
        assert 99 <= r.ttl(key) <= 100
        assert r.psetex(key, 50000, "w") is True
        assert r.get(key) == b"w"
        assert 49000 <= r.pttl(key) <= 50000

    @pytest.mark.parametrize("cmd,t,msg", [
        ("SETEX", "0", "invalid expire time in 'setex' command"),
        ("SETEX", "-1", "invalid expire time in 'setex' command"),
        ("SETEX", str(LLONG_MAX), "invalid expire time in 'setex' command"),
        ("SETEX", str(LLONG_MAX // 1000), "invalid expire time in 'setex' command"),
        ("SETEX", "abc", NOT_INT),
        ("SETEX", "1.5", NOT_INT),
        ("PSETEX", "0", "invalid expire time in 'psetex' command"),
        ("PSETEX", str(LLONG_MAX), "invalid expire time in 'psetex' command"),
        ("PSETEX", "x", NOT_INT),
    ])
    def test_setex_errors(self, r, key, cmd, t, msg):
        assert err(r, cmd, key, t, "v") == msg
        assert r.exists(key) == 0

    def test_getset(self, r, key):
        assert r.getset(key, "a") is None
        assert r.getset(key, "b") == b"a"
        assert r.get(key) == b"b"
        r.expire(key, 100)
        assert r.getset(key, "c") == b"b"
        assert r.ttl(key) == -1  # GETSET drops the TTL, as SET does

    def test_getdel(self, r, key):
        r.set(key, "v")
        assert r.getdel(key) == b"v"
        assert r.exists(key) == 0
        assert r.getdel(key) is None

    def test_getex(self, r, key):
        assert r.getex(key) is None
        assert r.getex(key, ex=10) is None
        assert r.exists(key) == 0
        r.set(key, "v")
        assert r.getex(key) == b"v"
        assert r.ttl(key) == -1
        assert r.getex(key, ex=100) == b"v"
        assert 99 <= r.ttl(key) <= 100
        assert r.getex(key, px=50000) == b"v"
        assert 49000 <= r.pttl(key) <= 50000
        at = int(time.time()) + 1000
        assert r.getex(key, exat=at) == b"v"
        assert r.execute_command("EXPIRETIME", key) == at
        assert r.getex(key, pxat=at * 1000 + 123) == b"v"
        assert r.execute_command("PEXPIRETIME", key) == at * 1000 + 123
        assert r.getex(key, persist=True) == b"v"
        assert r.ttl(key) == -1
        assert r.execute_command("GETEX", key, "PERSIST", "PERSIST") == b"v"
        assert r.execute_command("GETEX", key, "EX", "5", "EX", "100") == b"v"
        assert 99 <= r.ttl(key) <= 100

    def test_getex_past_time_deletes(self, r, key):
        r.set(key, "v")
        assert r.execute_command("GETEX", key, "EXAT", "1") == b"v"
        assert r.exists(key) == 0
        r.set(key, "v")
        assert r.execute_command("GETEX", key, "PXAT", str(now_ms() - 1000)) == b"v"
        assert r.get(key) is None

    def test_getex_errors(self, r, key):
        for opts in (("EX",), ("FOO",), ("EX", "10", "PX", "10"), ("PERSIST", "EX", "10"),
                     ("EX", "10", "PERSIST"), ("EXAT", "1", "PXAT", "1"), ("PX",)):
            assert err(r, "GETEX", key, *opts) == SYNTAX, opts
        # Redis 7.0 checks the time only when the key exists
        assert r.execute_command("GETEX", key, "EX", "abc") is None
        r.set(key, "v")
        bad = "invalid expire time in 'getex' command"
        assert err(r, "GETEX", key, "EX", "0") == bad
        assert err(r, "GETEX", key, "EX", "-5") == bad
        assert err(r, "GETEX", key, "EX", str(LLONG_MAX)) == bad
        assert err(r, "GETEX", key, "PX", str(LLONG_MAX)) == bad
        assert err(r, "GETEX", key, "EXAT", "0") == bad
        assert err(r, "GETEX", key, "EX", "abc") == NOT_INT
        assert r.ttl(key) == -1
        assert r.execute_command("GETEX", key, "EX", "abc", "EX", "100") == b"v"


# ---------------------------------------------------------------------------
# EXPIRE family, PERSIST, TTL family


class TestExpiry:
    def test_expire_then_ttl(self, r, key):
        assert r.expire(key, 100) is False  # missing key: 0
        r.set(key, "v")
        assert r.ttl(key) == -1
        assert r.pttl(key) == -1
        assert r.execute_command("EXPIRETIME", key) == -1
        assert r.execute_command("PEXPIRETIME", key) == -1
        assert r.expire(key, 100) is True
        assert 99 <= r.ttl(key) <= 100
        assert 99000 <= r.pttl(key) <= 100000
        assert abs(r.execute_command("EXPIRETIME", key) - (time.time() + 100)) <= 2
        assert r.get(key) == b"v"

    def test_missing_key_ttls(self, r, key):
        assert r.ttl(key) == -2
        assert r.pttl(key) == -2
        assert r.execute_command("EXPIRETIME", key) == -2
        assert r.execute_command("PEXPIRETIME", key) == -2

    def test_pexpire_then_gone(self, r, key):
        r.set(key, "v")
        assert r.pexpire(key, 100) is True
        wait_until(lambda: r.get(key) is None, timeout=5, msg="key to expire")
        assert r.exists(key) == 0
        assert r.ttl(key) == -2
        assert r.strlen(key) == 0

    def test_expireat_pexpireat(self, r, key):
        r.set(key, "v")
        at = int(time.time()) + 1000
        assert r.expireat(key, at) is True
        assert r.execute_command("EXPIRETIME", key) == at
        assert r.pexpireat(key, at * 1000 + 5) is True
        assert r.execute_command("PEXPIRETIME", key) == at * 1000 + 5
        assert r.execute_command("EXPIRETIME", key) == at  # rounded to the nearest second

    @pytest.mark.parametrize("cmd,t", [
        ("EXPIRE", "-1"), ("EXPIRE", "0"), ("PEXPIRE", "-100"), ("EXPIREAT", "1"),
        ("PEXPIREAT", "0"), ("EXPIRE", str(-(LLONG_MAX // 1000))), ("PEXPIRE", str(LLONG_MIN))])
    def test_time_in_the_past_deletes(self, r, key, cmd, t):
        r.set(key, "v")
        assert r.execute_command(cmd, key, t) == 1
        assert r.exists(key) == 0
        assert r.execute_command(cmd, key, t) == 0  # now missing

    def test_nx_xx_gt_lt(self, r, key):
        r.set(key, "v")
        assert r.execute_command("EXPIRE", key, "100", "XX") == 0  # no TTL yet
        assert r.execute_command("EXPIRE", key, "100", "GT") == 0  # none = infinite
        assert r.ttl(key) == -1
        assert r.execute_command("EXPIRE", key, "100", "NX") == 1
        assert r.execute_command("EXPIRE", key, "200", "NX") == 0
        assert 99 <= r.ttl(key) <= 100
        assert r.execute_command("EXPIRE", key, "50", "GT") == 0
        assert r.execute_command("EXPIRE", key, "500", "GT") == 1
        assert 499 <= r.ttl(key) <= 500
        assert r.execute_command("EXPIRE", key, "600", "LT") == 0
        assert r.execute_command("EXPIRE", key, "60", "LT") == 1
        assert 59 <= r.ttl(key) <= 60
        assert r.execute_command("EXPIRE", key, "70", "XX", "GT") == 1
        assert r.execute_command("EXPIRE", key, "80", "xx", "lt") == 0
        assert 69 <= r.ttl(key) <= 70
        assert r.persist(key) is True
        assert r.execute_command("EXPIRE", key, "60", "LT") == 1  # none = infinite
        assert 59 <= r.ttl(key) <= 60

    def test_nx_on_key_with_ttl_writes_nothing(self, r, key):
        r.set(key, "v", ex=100)
        ctx = r.execute_command("VGET", key)[0]
        assert r.execute_command("EXPIRE", key, "5", "NX") == 0
        assert r.execute_command("VGET", key)[0] == ctx

    def test_expire_errors(self, r, key):
        r.set(key, "v")
        assert err(r, "EXPIRE", key, "10", "foo") == "Unsupported option foo"
        assert err(r, "EXPIRE", key, "10", "NX", "XX") == NX_COMPAT
        assert err(r, "EXPIRE", key, "10", "nx", "gt") == NX_COMPAT
        assert err(r, "PEXPIRE", key, "10", "NX", "LT") == NX_COMPAT
        assert err(r, "EXPIRE", key, "10", "GT", "LT") == GT_LT
        assert err(r, "EXPIRE", key, "abc") == NOT_INT
        assert err(r, "EXPIRE", key, "abc", "bar") == "Unsupported option bar"
        assert err(r, "EXPIRE", key, "1.5") == NOT_INT
        for cmd, t in (("EXPIRE", str(LLONG_MAX)), ("EXPIRE", str(LLONG_MIN)),
                       ("EXPIRE", str(LLONG_MAX // 1000)), ("PEXPIRE", str(LLONG_MAX)),
                       ("EXPIREAT", str(LLONG_MAX))):
            want = "invalid expire time in '%s' command" % cmd.lower()
            assert err(r, cmd, key, t) == want
        assert r.execute_command("PEXPIREAT", key, str(LLONG_MAX)) == 1
        assert r.execute_command("PEXPIRETIME", key) == LLONG_MAX
        assert r.get(key) == b"v"

    def test_persist(self, r, key):
        assert r.persist(key) is False
        r.set(key, "v")
        ctx = r.execute_command("VGET", key)[0]
        assert r.persist(key) is False
        assert r.execute_command("VGET", key)[0] == ctx  # nothing written
        r.expire(key, 100)
        assert r.persist(key) is True
        assert r.ttl(key) == -1
        assert r.get(key) == b"v"

    def test_set_overwrites_ttl_but_incr_keeps_it(self, r, key):
        r.setex(key, 100, "1")
        r.incr(key)
        assert r.ttl(key) > 0
        r.set(key, "5")
        assert r.ttl(key) == -1


# ---------------------------------------------------------------------------
# siblings, arity, RESP3, COMMAND


class TestSiblingsAndProtocol:
    @pytest.mark.parametrize("cmd", [
        ("INCR",), ("DECRBY", "2"), ("INCRBYFLOAT", "1.5"), ("APPEND", "x"),
        ("SETRANGE", "0", "x"), ("GETRANGE", "0", "-1"), ("SUBSTR", "0", "1"), ("STRLEN",),
        ("TTL",), ("PTTL",), ("EXPIRETIME",), ("PEXPIRETIME",), ("EXPIRE", "100"),
        ("PEXPIRE", "100"), ("PERSIST",), ("GETSET", "x"), ("GETDEL",), ("GETEX",),
        ("GETEX", "EX", "10")])
    def test_siblings_error(self, r, key, cmd):
        siblings(r, key)
        msg = err(r, cmd[0], key, *cmd[1:])
        assert msg == ("key has 2 siblings (concurrent versions); use VGET to read them and "
                       "VPUT with the returned context to resolve")
        assert sorted(r.execute_command("VGET", key)[1]) == [b"a", b"b"]  # untouched

    def test_setnx_sees_siblings_as_existing(self, r, key):
        siblings(r, key)
        assert r.setnx(key, "c") is False

    def test_setex_supersedes_siblings(self, r, key):
        siblings(r, key)
        assert r.setex(key, 100, "c") is True
        assert r.get(key) == b"c"
        assert r.execute_command("VGET", key)[1] == [b"c"]

    @pytest.mark.parametrize("cmd,argc", [
        ("append", 3), ("setrange", 4), ("incr", 2), ("decr", 2), ("incrby", 3),
        ("decrby", 3), ("incrbyfloat", 3), ("setnx", 3), ("setex", 4), ("psetex", 4),
        ("getset", 3), ("getdel", 2), ("strlen", 2), ("getrange", 4), ("substr", 4),
        ("persist", 2), ("ttl", 2), ("pttl", 2), ("expiretime", 2), ("pexpiretime", 2)])
    def test_exact_arity(self, r, key, cmd, argc):
        want = "wrong number of arguments for '%s' command" % cmd
        assert err(r, cmd, key, *["1"] * (argc - 1)) == want  # one too many
        few = ([key] + ["1"] * argc)[:argc - 2]  # one word too few
        assert err(r, cmd, *few) == want

    @pytest.mark.parametrize("cmd", ["getex", "expire", "pexpire", "expireat", "pexpireat"])
    def test_minimum_arity(self, r, cmd):
        want = "wrong number of arguments for '%s' command" % cmd
        assert err(r, cmd) == want
        if cmd != "getex":
            assert err(r, cmd, "k") == want

    def test_left_out_commands_are_unknown(self, r, key):
        for cmd in (("MSETNX", key, "v"),):
            assert err(r, *cmd).startswith("unknown command '%s'" % cmd[0])

    def test_resp3_null_replies(self, node, key):
        with RawConn(node.port) as c:
            c.cmd("HELLO", "3")
            c.send(encode_command("GETDEL", key))
            assert c.read_exact(3, timeout=2) == b"_\r\n"
            c.send(encode_command("GETSET", key, "v"))
            assert c.read_exact(3, timeout=2) == b"_\r\n"
            c.send(encode_command("GETEX", key))
            assert c.read_exact(7, timeout=2) == b"$1\r\nv\r\n"
            c.send(encode_command("INCRBYFLOAT", key + ":f", "1.5"))
            assert c.read_exact(9, timeout=2) == b"$3\r\n1.5\r\n"

    def test_command_info_and_docs(self, node):
        with RawConn(node.port) as c:
            info = c.cmd("COMMAND", "INFO", "incr", "getex", "ttl", "msetnx")
            assert [i[:2] if i else i for i in info] == [
                [b"incr", 2], [b"getex", -2], [b"ttl", 2], None]
            assert set(info[0][2]) == {b"write", b"fast"}
            assert set(info[2][2]) == {b"readonly", b"fast"}
            assert info[0][3:6] == [1, 1, 1]
            docs = c.cmd("COMMAND", "DOCS", "expire", "getex")
            assert docs[0] == b"expire" and docs[2] == b"getex"  # RESP2: flat pairs
            assert b"generic" in docs[1] and b"string" in docs[3]

    def test_pipelined_mixed_replies_in_order(self, r, key):
        p = r.pipeline(transaction=False)
        p.set(key, "10")
        p.incr(key)
        p.append(key, "x")
        p.execute_command("INCR", key)
        p.strlen(key)
        p.getrange(key, 0, 1)
        p.expire(key, 100)
        p.ttl(key)
        p.getdel(key)
        p.exists(key)
        res = p.execute(raise_on_error=False)
        assert res[:3] == [True, 11, 3]
        assert isinstance(res[3], redis.ResponseError) and str(res[3]) == NOT_INT
        assert res[4:] == [3, b"11", True, 100, b"11x", 0]

"""Counters (issue 14): INCR, DECR, INCRBY, DECRBY and INCRBYFLOAT make the
key a convergent counter (src/core/crdt.h, CRDT_COUNTER) whose value is its
base (the string the key held) plus every coordinator's increments, on one
real dynamo-node through redis-py.  The string commands read a counter as
the string of its value; SET turns it back into a string.  Redis 7.0's
replies and error texts.

The cluster side (increments on both sides of a partition add up) is
tests/cluster/test_types_partition.py.

Run: DYNAMO_NODE_BIN=$PWD/build/src/dynamo-node \
     /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_counters.py
"""
import pytest
import redis

from harness import wait_until

NOT_INT = "value is not an integer or out of range"
NOT_FLOAT = "value is not a valid float"
OVERFLOW = "increment or decrement would overflow"
NAN = "increment would produce NaN or Infinity"
LLONG_MAX = 2 ** 63 - 1


@pytest.fixture
def key(request):
    return "c:%s" % request.node.name


def err(r, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


def vclock(r, key):
    return [x.decode() for x in r.execute_command("VCLOCK", key)]


def test_incr_creates_a_counter(r, key):
    assert r.incr(key) == 1
    assert r.incrby(key, 41) == 42
    assert r.decr(key) == 41
    assert r.decrby(key, 40) == 1
    assert r.get(key) == b"1"
    assert r.type(key) == b"string"
    assert r.exists(key) == 1
    # the key holds one counter state, not a string version
    clocks = vclock(r, key)
    assert len(clocks) == 1 and clocks[0].startswith("counter elements=1 "), clocks


def test_incr_of_a_string_keeps_it_as_base(r, key):
    r.set(key, "10")
    assert r.incr(key) == 11
    assert r.get(key) == b"11"
    assert vclock(r, key)[0].startswith("counter ")
    assert r.incrby(key, -20) == -9


def test_incr_keeps_the_ttl(r, key):
    r.set(key, "5", ex=100)
    assert r.incr(key) == 6
    assert 0 < r.ttl(key) <= 100


def test_incr_errors(r, key):
    r.set(key, "abc")
    assert err(r, "INCR", key) == NOT_INT
    assert r.get(key) == b"abc"  # unchanged, still a string
    assert not vclock(r, key)[0].startswith("counter ")
    r.set(key, " 1")
    assert err(r, "INCR", key) == NOT_INT
    r.set(key, str(LLONG_MAX))
    assert err(r, "INCR", key) == OVERFLOW
    assert err(r, "INCRBY", key, "1.5") == NOT_INT
    assert err(r, "DECRBY", key, "-9223372036854775808") == "decrement would overflow"
    assert err(r, "INCR") == "wrong number of arguments for 'incr' command"


def test_counter_overflow_is_refused_without_change(r, key):
    assert r.incrby(key, LLONG_MAX) == LLONG_MAX
    assert err(r, "INCR", key) == OVERFLOW
    assert r.get(key) == str(LLONG_MAX).encode()
    assert r.decrby(key, LLONG_MAX) == 0


def test_incrbyfloat(r, key):
    assert r.incrbyfloat(key, 10.5) == 10.5
    assert r.incrbyfloat(key, 0.1) == pytest.approx(10.6)
    assert r.get(key) == b"10.6"
    assert err(r, "INCR", key) == NOT_INT  # a float counter, as Redis's string
    r.set(key, "5.0e3")
    assert r.incrbyfloat(key, "2.0e2") == 5200
    assert r.get(key) == b"5200"
    assert err(r, "INCRBYFLOAT", key, "abc") == NOT_FLOAT
    r.set(key, "abc")
    assert err(r, "INCRBYFLOAT", key, "1") == NOT_FLOAT


def test_incrbyfloat_refuses_a_nul_inside_the_number(r, key):
    """Redis 7.0's string2ld reads the whole text: "1\\0x" is not a float,
    neither as the increment nor as the value held (checked against
    redis-server 7.0.15: both answer "value is not a valid float")."""
    assert err(r, "INCRBYFLOAT", key, b"1\x00x") == NOT_FLOAT
    assert r.exists(key) == 0
    r.set(key, b"2\x00y")
    assert err(r, "INCRBYFLOAT", key, "1") == NOT_FLOAT
    assert r.get(key) == b"2\x00y"


def test_incrbyfloat_infinity_is_refused(r, key):
    r.set(key, "1")
    assert err(r, "INCRBYFLOAT", key, "+inf") == NAN
    assert r.get(key) == b"1"


def test_string_commands_read_a_counter(r, key):
    assert r.incrby(key, 12) == 12
    assert r.strlen(key) == 2
    assert r.getrange(key, 0, 0) == b"1"
    assert r.mget(key, "nope:" + key) == [b"12", None]
    assert r.append(key, "3") == 3  # a string again
    assert r.get(key) == b"123"
    assert not vclock(r, key)[0].startswith("counter ")
    assert r.incr(key) == 124


def test_set_and_del_replace_a_counter(r, key):
    r.incr(key)
    assert r.set(key, "x") is True
    assert r.get(key) == b"x"
    assert len(vclock(r, key)) == 1  # the string superseded the counter
    r.delete(key)
    r.incr(key)
    assert r.delete(key) == 1
    assert r.get(key) is None
    assert r.exists(key) == 0
    assert r.incr(key) == 1  # counts from 0 again: nothing deleted comes back


def test_counter_survives_restart(node, key):
    r = node.client()
    for _ in range(50):
        r.incr(key)
    r.incrby(key, 950)
    node.restart()
    r = node.client()
    assert r.get(key) == b"1000"
    assert r.incr(key) == 1001


def test_counter_expires(r, key):
    r.incr(key)
    assert r.pexpire(key, 50) is True
    wait_until(lambda: r.get(key) is None, timeout=5)
    assert r.incr(key) == 1

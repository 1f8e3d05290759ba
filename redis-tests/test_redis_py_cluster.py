"""redis-py (plain redis.Redis, one connection pool per node) against a real
3-node cluster (N=3 W=2 R=2): commands, pipelines with and without
MULTI/EXEC, error replies as ResponseError, and values written through one
node read through the others.
"""
import itertools

import pytest
import redis

import harness


@pytest.fixture(scope="module")
def clients(cluster):
    cs = [n.client(decode_responses=True) for n in cluster.nodes]
    yield cs
    for c in cs:
        c.close()


@pytest.fixture(params=[0, 1, 2], ids=["via-n1", "via-n2", "via-n3"])
def via(request, clients):
    """(writer client, the other two clients, writer name)."""
    i = request.param
    return clients[i], [c for j, c in enumerate(clients) if j != i], "n%d" % (i + 1)


# ---- commands ---------------------------------------------------------------

def test_set_get_visible_everywhere(clients, via):
    w, rest, name = via
    key = "py:%s:k" % name
    assert w.set(key, "v1") is True
    assert w.get(key) == "v1"
    for c in rest:
        assert c.get(key) == "v1"
    # a sequential overwrite through another node supersedes it everywhere
    assert rest[0].set(key, "v2") is True
    for c in clients:
        assert c.get(key) == "v2"
    assert w.get("py:missing") is None


def test_mset_mget(clients, via):
    w, rest, name = via
    mapping = {"py:%s:m%d" % (name, i): "val%d" % i for i in range(20)}
    assert w.mset(mapping) is True
    keys = list(mapping) + ["py:missing"]
    want = list(mapping.values()) + [None]
    for c in clients:
        assert c.mget(keys) == want


def test_del_exists(clients, via):
    w, rest, name = via
    keys = ["py:%s:d%d" % (name, i) for i in range(3)]
    w.mset({k: "x" for k in keys})
    for c in clients:
        assert c.exists(*keys, "py:missing") == 3
        assert c.exists(keys[0], keys[0]) == 2  # Redis counts repeats
    assert rest[0].delete(keys[0], keys[1], "py:missing") == 2
    for c in clients:
        assert c.exists(*keys) == 1
        assert c.get(keys[0]) is None
    assert w.delete(keys[0]) == 0


def test_binary_and_large_values(cluster):
    """A 1 MiB value holding every byte value, written through each node and
    read back byte for byte through the others (bytes clients)."""
    blob = bytes(range(256)) * 4096
    bc = [n.client() for n in cluster.nodes]
    try:
        for i, w in enumerate(bc):
            key = "py:n%d:blob" % (i + 1)
            assert w.set(key, blob + b"%d" % i) is True
            for c in bc:
                assert c.get(key) == blob + b"%d" % i
    finally:
        for c in bc:
            c.close()


def test_incr(clients):
    key = "py:counter"
    # INCR through the three nodes in turn: one counter
    for i, c in zip(range(1, 31), itertools.cycle(clients)):
        assert c.incr(key) == i
    for c in clients:
        assert c.get(key) == "30"
    assert clients[1].incr("py:fresh-counter") == 1


def test_incr_non_integer_is_response_error(clients):
    clients[0].set("py:nan", "abc")
    for c in clients:
        with pytest.raises(redis.ResponseError, match="not an integer"):
            c.incr("py:nan")
    assert clients[2].get("py:nan") == "abc"


def test_expire_ttl(clients, via):
    w, rest, name = via
    key = "py:%s:e" % name
    w.set(key, "v")
    assert w.ttl(key) == -1
    assert w.ttl("py:missing") == -2
    assert w.expire(key, 100) is True
    for c in clients:
        assert 90 < c.ttl(key) <= 100
    assert w.expire("py:missing", 100) is False
    # a plain SET drops the expiry
    rest[0].set(key, "w")
    for c in clients:
        assert c.ttl(key) == -1


def test_keys_expire(clients, via):
    """A key with a short expiry is gone everywhere once it passes."""
    w, rest, name = via
    key = "py:%s:short" % name
    assert w.set(key, "v", px=300) is True
    assert w.get(key) == "v"
    harness.wait_until(lambda: all(c.get(key) is None for c in clients), timeout=5,
                       msg="%s expired on every node" % key)
    for c in clients:
        assert c.ttl(key) == -2
        assert c.exists(key) == 0


# ---- errors -----------------------------------------------------------------

def test_error_replies_are_response_errors(clients):
    for c in clients:
        with pytest.raises(redis.ResponseError, match="unknown command"):
            c.execute_command("NOSUCHCOMMAND", "x")
        with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
            c.execute_command("GET")
        with pytest.raises(redis.ResponseError, match="syntax error"):
            c.execute_command("SET", "py:e", "v", "BOGUS")
        assert c.ping() is True  # the connection survives


# ---- pipelines --------------------------------------------------------------

def test_pipeline_no_transaction(clients, via):
    w, rest, name = via
    keys = ["py:%s:p%d" % (name, i) for i in range(200)]
    p = w.pipeline(transaction=False)
    for i, k in enumerate(keys):
        p.set(k, "v%d" % i)
    assert p.execute() == [True] * len(keys)
    for c in clients:
        p = c.pipeline(transaction=False)
        for k in keys:
            p.get(k)
        assert p.execute() == ["v%d" % i for i in range(len(keys))]


def test_pipeline_no_transaction_write_then_read(clients, via):
    """In one pipeline (one write on the socket), a GET sees the SET before
    it: Redis runs a connection's commands in order."""
    w, rest, name = via
    key = "py:%s:wr" % name
    p = w.pipeline(transaction=False)
    p.set(key, "first").get(key).set(key, "second").get(key).delete(key).get(key)
    assert p.execute() == [True, "first", True, "second", 1, None]


def test_pipeline_no_transaction_error(clients):
    c = clients[0]
    p = c.pipeline(transaction=False)
    p.set("py:pe", "v").execute_command("NOSUCHCOMMAND").ping()
    res = p.execute(raise_on_error=False)
    assert res[0] is True and res[2] is True
    assert isinstance(res[1], redis.ResponseError) and "unknown command" in str(res[1])
    p = c.pipeline(transaction=False)
    p.set("py:pe", "v").execute_command("NOSUCHCOMMAND")
    with pytest.raises(redis.ResponseError, match="unknown command"):
        p.execute()
    assert c.get("py:pe") == "v"


def test_pipeline_transaction(clients, via):
    w, rest, name = via
    key, ctr = "py:%s:tx" % name, "py:%s:txc" % name
    p = w.pipeline()  # transaction=True: MULTI ... EXEC
    p.set(key, "a").incr(ctr).incr(ctr).get(key).mget(key, ctr)
    assert p.execute() == [True, 1, 2, "a", ["a", "2"]]
    for c in rest:
        assert c.mget(key, ctr) == ["a", "2"]


def test_transaction_runtime_error_does_not_roll_back(clients):
    """EXEC runs every queued command; one that fails at run time (INCR on a
    non-integer) gives an error in its slot, the others are applied."""
    c = clients[1]
    c.set("py:txe", "abc")
    p = c.pipeline()
    p.set("py:txe2", "x").incr("py:txe").get("py:txe2")
    res = p.execute(raise_on_error=False)
    assert res[0] is True and res[2] == "x"
    assert isinstance(res[1], redis.ResponseError) and "not an integer" in str(res[1])
    p = c.pipeline()
    p.incr("py:txe")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        p.execute()
    for other in clients:
        assert other.get("py:txe2") == "x"


def test_transaction_queueing_error_aborts(clients):
    """A command refused while queueing (unknown command) makes EXEC fail
    with EXECABORT; nothing queued is applied."""
    c = clients[2]
    p = c.pipeline()
    p.set("py:txa", "x").execute_command("NOSUCHCOMMAND")
    with pytest.raises(redis.ResponseError):
        p.execute()
    for other in clients:
        assert other.get("py:txa") is None

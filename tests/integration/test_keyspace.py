"""Key-space commands on one node (N = W = R = 1): KEYS, SCAN, DBSIZE,
RANDOMKEY, UNLINK, TOUCH, RENAME, RENAMENX, COPY, OBJECT, and transactions
(MULTI/EXEC/DISCARD, WATCH refused).  Cluster behaviour of the same commands:
tests/cluster/test_keyspace_cluster.py.

Run: DYNAMO_NODE_BIN=$PWD/build/src/dynamo-node \
     /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_keyspace.py
"""
import subprocess
import time

import pytest
import redis

from harness import Err, RawConn, encode_command, wait_until


@pytest.fixture
def c(node_factory):
    """A client of a fresh node: key-space listings see only this test's keys."""
    n = node_factory()
    cl = n.client()
    cl.port = n.port
    yield cl
    cl.close()


def full_scan(cl, count=None, match=None, _type=None):
    """Every key of a whole SCAN, in order, duplicates kept."""
    out, cursor, calls = [], 0, 0
    while True:
        cursor, keys = cl.scan(cursor, match=match, count=count, _type=_type)
        out += keys
        calls += 1
        assert calls < 100000, "SCAN does not terminate"
        if cursor == 0:
            return out


# ===========================================================================
# KEYS, SCAN, DBSIZE, RANDOMKEY
# ===========================================================================

class TestListing:
    def test_keys_patterns(self, c):
        for k in ("user:1", "user:2", "user:10", "item:1", "Hello", "hallo", "h*llo"):
            c.set(k, "v")
        assert sorted(c.keys("*")) == sorted([b"user:1", b"user:2", b"user:10", b"item:1",
                                              b"Hello", b"hallo", b"h*llo"])
        assert sorted(c.keys("user:*")) == [b"user:1", b"user:10", b"user:2"]
        assert sorted(c.keys("user:?")) == [b"user:1", b"user:2"]
        assert sorted(c.keys("h[ae]llo")) == [b"hallo"]  # case-sensitive, like Redis
        assert c.keys("h\\*llo") == [b"h*llo"]
        assert c.keys("nomatch*") == []

    def test_deleted_and_expired_keys_are_not_listed(self, c):
        c.set("live", "1")
        c.set("gone", "1")
        c.delete("gone")
        c.set("short", "1", px=50)
        wait_until(lambda: c.get("short") is None, timeout=5, msg="PX 50 key to expire")
        assert c.keys("*") == [b"live"]
        assert full_scan(c) == [b"live"]
        assert c.dbsize() == 1
        assert c.randomkey() == b"live"

    def test_scan_full_iteration_returns_each_key_once(self, c):
        keys = {("k:%d" % i).encode() for i in range(500)}
        pipe = c.pipeline(transaction=False)
        for k in keys:
            pipe.set(k, "v")
        pipe.execute()
        for count in (None, 1, 10, 1000):
            got = full_scan(c, count=count)
            assert len(got) == len(set(got)), "duplicates with COUNT %s" % count
            assert set(got) == keys
        assert set(c.keys("*")) == keys
        assert c.dbsize() == 500

    def test_scan_match_count_type(self, c):
        for i in range(50):
            c.set("a:%d" % i, "v")
            c.set("b:%d" % i, "v")
        assert sorted(full_scan(c, match="a:*", count=7)) == sorted(
            ("a:%d" % i).encode() for i in range(50))
        assert len(full_scan(c, _type="string")) == 100
        assert len(full_scan(c, _type="STRING")) == 100
        assert full_scan(c, _type="hash") == []  # only strings exist
        assert [k for k in c.scan_iter(match="b:1*", count=5)] != []
        assert sorted(c.scan_iter(match="b:1*", count=5)) == sorted(
            k.encode() for k in ["b:1"] + ["b:1%d" % i for i in range(10)])

    def test_scan_errors(self, c):
        with pytest.raises(redis.ResponseError, match="invalid cursor"):
            c.execute_command("SCAN", "abc")
        with pytest.raises(redis.ResponseError, match="invalid cursor"):
            c.execute_command("SCAN", "-1")
        with pytest.raises(redis.ResponseError, match="syntax error"):
            c.execute_command("SCAN", "0", "COUNT", "0")
        with pytest.raises(redis.ResponseError, match="not an integer"):
            c.execute_command("SCAN", "0", "COUNT", "x")
        with pytest.raises(redis.ResponseError, match="syntax error"):
            c.execute_command("SCAN", "0", "MATCH")
        with pytest.raises(redis.ResponseError, match="syntax error"):
            c.execute_command("SCAN", "0", "FOO", "bar")
        with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
            c.execute_command("SCAN")
        # Any unsigned 64-bit cursor is accepted (an unknown one ends quickly).
        cur, _ = c.execute_command("SCAN", str(2**64 - 1))
        assert int(cur) >= 0

    def test_empty_node(self, c):
        assert c.keys("*") == []
        assert c.scan(0) == (0, [])
        assert c.dbsize() == 0
        assert c.randomkey() is None

    def test_randomkey_returns_existing_keys(self, c):
        keys = {("r:%d" % i).encode() for i in range(20)}
        for k in keys:
            c.set(k, "v")
        seen = {c.randomkey() for _ in range(200)}
        assert seen <= keys
        assert len(seen) > 5  # random, not always the same key

    def test_redis_cli_scan(self, c):
        for i in range(30):
            c.set("cli:%d" % i, "v")
        c.set("other", "v")
        out = subprocess.run(["redis-cli", "-p", str(c.port), "--scan"],
                             check=True, capture_output=True, text=True, timeout=30).stdout
        lines = out.split()
        assert len(lines) == 31 and set(lines) == {"cli:%d" % i for i in range(30)} | {"other"}
        out = subprocess.run(["redis-cli", "-p", str(c.port), "--scan", "--pattern", "cli:1*"],
                             check=True, capture_output=True, text=True, timeout=30).stdout
        assert sorted(out.split()) == sorted(["cli:1"] + ["cli:1%d" % i for i in range(10)])

    def test_resp3_scan_and_keys(self, c):
        c.set("x", "1")
        with RawConn(c.port) as raw:
            raw.cmd("HELLO", "3")
            assert raw.cmd("SCAN", "0") == [b"0", [b"x"]]
            assert raw.cmd("KEYS", "*") == [b"x"]
            assert raw.cmd("RANDOMKEY") == b"x"
            raw.cmd("DEL", "x")
            raw.send(encode_command("RANDOMKEY"))
            assert raw.read_raw() == b"_\r\n"


# ===========================================================================
# UNLINK, TOUCH, RENAME, RENAMENX, COPY
# ===========================================================================

class TestKeyCommands:
    def test_unlink_touch(self, c):
        c.mset({"a": "1", "b": "2"})
        assert c.touch("a", "b", "missing", "a") == 3
        assert c.unlink("a", "missing") == 1
        assert c.get("a") is None
        assert c.touch("a", "b") == 1
        with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
            c.execute_command("UNLINK")

    def test_rename(self, c):
        c.set("src", "value")
        assert c.rename("src", "dst") is True
        assert c.get("src") is None and c.get("dst") == b"value"
        assert c.exists("src") == 0
        # The destination is overwritten.
        c.set("src", "new")
        assert c.rename("src", "dst") is True
        assert c.get("dst") == b"new"
        # Renaming to itself succeeds when the key exists.
        assert c.rename("dst", "dst") is True
        assert c.get("dst") == b"new"
        with pytest.raises(redis.ResponseError, match="^no such key$"):
            c.rename("missing", "x")
        with pytest.raises(redis.ResponseError, match="^no such key$"):
            c.rename("missing", "missing")

    def test_rename_keeps_the_ttl(self, c):
        c.set("t", "v", px=100000)
        c.set("plain", "v")
        assert c.rename("t", "t2") is True
        assert 90000 < c.pttl("t2") <= 100000
        c.set("t3", "old", px=100000)
        assert c.rename("plain", "t3") is True
        assert c.pttl("t3") == -1  # the destination takes the source's (lack of) TTL

    def test_renamenx(self, c):
        c.set("a", "1")
        c.set("b", "2")
        assert c.renamenx("a", "b") is False
        assert c.get("a") == b"1" and c.get("b") == b"2"
        assert c.renamenx("a", "c") is True
        assert c.get("a") is None and c.get("c") == b"1"
        assert c.renamenx("c", "c") is False
        with pytest.raises(redis.ResponseError, match="^no such key$"):
            c.renamenx("missing", "x")

    def test_copy(self, c):
        c.set("s", "v", px=100000)
        assert c.copy("s", "d") is True
        assert c.get("d") == b"v" and c.get("s") == b"v"
        assert 90000 < c.pttl("d") <= 100000
        c.set("s", "v2")
        assert c.copy("s", "d") is False  # exists, no REPLACE
        assert c.get("d") == b"v"
        assert c.copy("s", "d", replace=True) is True
        assert c.get("d") == b"v2"
        assert c.copy("missing", "d2") is False
        assert c.exists("d2") == 0
        assert c.execute_command("COPY", "s", "d3", "DB", "0") == 1
        with pytest.raises(redis.ResponseError, match="DB index is out of range"):
            c.execute_command("COPY", "s", "d4", "DB", "1")
        with pytest.raises(redis.ResponseError, match="not an integer"):
            c.execute_command("COPY", "s", "d4", "DB", "x")
        with pytest.raises(redis.ResponseError, match="source and destination objects are the same"):
            c.copy("s", "s")
        with pytest.raises(redis.ResponseError, match="syntax error"):
            c.execute_command("COPY", "s", "d5", "BOGUS")
        assert c.exists("d4", "d5") == 0

    def test_rename_of_a_key_with_siblings_is_refused(self, c):
        c.execute_command("VPUT", "sib", "", "one")
        c.execute_command("VPUT", "sib", "", "two")  # blind: a sibling
        with pytest.raises(redis.ResponseError, match="2 siblings"):
            c.rename("sib", "x")
        with pytest.raises(redis.ResponseError, match="2 siblings"):
            c.copy("sib", "x")
        assert c.exists("x") == 0

    def test_binary_keys(self, c):
        k1, k2 = b"\x00bin\r\nkey", b"\xffother"
        c.set(k1, b"\x00\x01")
        assert c.rename(k1, k2) is True
        assert c.get(k2) == b"\x00\x01"
        assert c.keys("*") == [k2]


# ===========================================================================
# OBJECT
# ===========================================================================

class TestObject:
    def test_encoding(self, c):
        c.set("i", "12345")
        c.set("neg", "-7")
        c.set("notint", "007")
        c.set("e", "x" * 44)
        c.set("r", "x" * 45)
        assert c.object("encoding", "i") == b"int"
        assert c.object("encoding", "neg") == b"int"
        assert c.object("encoding", "notint") == b"embstr"
        assert c.object("encoding", "e") == b"embstr"
        assert c.object("encoding", "r") == b"raw"
        assert c.object("encoding", "missing") is None

    def test_refcount_idletime_freq_help(self, c):
        c.set("k", "v")
        assert c.object("refcount", "k") == 1
        assert c.object("refcount", "missing") is None
        with pytest.raises(redis.ResponseError, match="IDLETIME is not supported"):
            c.object("idletime", "k")
        with pytest.raises(redis.ResponseError, match="FREQ is not supported"):
            c.object("freq", "k")
        with RawConn(c.port) as raw:  # (redis-py cannot parse these OBJECT replies)
            help_lines = raw.cmd("OBJECT", "HELP")
            assert help_lines[0].startswith(b"OBJECT <subcommand>")
            assert any(line.startswith(b"ENCODING") for line in help_lines)
            assert raw.cmd("OBJECT", "FOO", "k").startswith("ERR unknown subcommand")
            assert raw.cmd("OBJECT", "HELP", "x").startswith("ERR unknown subcommand")
            assert raw.cmd("OBJECT", "ENCODING") == Err(
                "ERR wrong number of arguments for 'object|encoding' command")


# ===========================================================================
# MULTI / EXEC / DISCARD / WATCH
# ===========================================================================

class TestTransactions:
    def test_pipeline_transaction(self, c):
        p = c.pipeline(transaction=True)
        p.set("a", "1").incr("a").get("a").delete("a").exists("a").rename("nokey", "x")
        with pytest.raises(redis.ResponseError, match="no such key"):
            p.execute()
        p = c.pipeline(transaction=True)
        p.set("a", "1").incr("a").get("a").keys("*").dbsize()
        assert p.execute() == [True, 2, b"2", [b"a"], 1]
        p = c.pipeline(transaction=True)
        p.set("b", "1").incr("a").rename("nokey", "x").get("b")
        res = p.execute(raise_on_error=False)
        assert res[0] is True and res[1] == 3 and res[3] == b"1"
        assert isinstance(res[2], redis.ResponseError)

    def test_raw_replies_and_execabort(self, c):
        with RawConn(c.port) as raw:
            assert raw.cmd("EXEC") == Err("ERR EXEC without MULTI")
            assert raw.cmd("DISCARD") == Err("ERR DISCARD without MULTI")
            assert raw.cmd("MULTI") == b"OK"
            assert raw.cmd("MULTI") == Err("ERR MULTI calls can not be nested")
            assert raw.cmd("SET", "k", "v") == b"QUEUED"
            assert raw.cmd("NOSUCHCMD", "x").startswith("ERR unknown command 'NOSUCHCMD'")
            assert raw.cmd("GET", "a", "b").startswith("ERR wrong number of arguments")
            assert raw.cmd("EXEC") == Err(
                "EXECABORT Transaction discarded because of previous errors.")
            assert raw.cmd("GET", "k") is None  # nothing ran
            assert raw.cmd("EXEC") == Err("ERR EXEC without MULTI")
            # DISCARD drops the queue.
            assert raw.cmd("MULTI") == b"OK"
            assert raw.cmd("SET", "k", "v") == b"QUEUED"
            assert raw.cmd("DISCARD") == b"OK"
            assert raw.cmd("GET", "k") is None
            # An empty transaction.
            assert raw.cmd("MULTI") == b"OK"
            assert raw.cmd("EXEC") == []
            # Run-time errors stay in their place; the rest runs.
            raw.cmd("SET", "s", "text")
            assert raw.cmd("MULTI") == b"OK"
            for args in (("SET", "k", "1"), ("INCR", "s"), ("INCR", "k"), ("PING",)):
                assert raw.cmd(*args) == b"QUEUED"
            res = raw.cmd("EXEC")
            assert res[0] == b"OK" and isinstance(res[1], Err) and res[2] == 2
            assert res[3] == b"PONG"

    def test_pipelined_with_other_requests(self, c):
        """MULTI ... EXEC sent in one write between other requests: every reply
        in order."""
        with RawConn(c.port) as raw:
            reqs = [("SET", "p", "0"), ("MULTI",), ("INCR", "p"), ("GET", "p"),
                    ("KEYS", "p"), ("EXEC",), ("GET", "p"), ("MULTI",), ("PING", "x"),
                    ("EXEC",), ("ECHO", "end")]
            raw.send(b"".join(encode_command(*r) for r in reqs))
            replies = [raw.read_reply() for _ in reqs]
            assert replies == [b"OK", b"OK", b"QUEUED", b"QUEUED", b"QUEUED",
                               [1, b"1", [b"p"]], b"1", b"OK", b"QUEUED", [b"x"], b"end"]

    def test_resp3_exec(self, c):
        with RawConn(c.port) as raw:
            raw.cmd("HELLO", "3")
            raw.cmd("MULTI")
            raw.cmd("GET", "missing")
            raw.cmd("SET", "x", "1")
            assert raw.cmd("EXEC") == [None, b"OK"]

    def test_watch_is_refused(self, c):
        with pytest.raises(redis.ResponseError, match="WATCH is not supported"):
            c.execute_command("WATCH", "k")
        assert c.execute_command("UNWATCH") is True
        with RawConn(c.port) as raw:
            assert raw.cmd("MULTI") == b"OK"
            assert raw.cmd("WATCH", "k") == Err("ERR WATCH inside MULTI is not allowed")
            assert raw.cmd("SET", "k", "v") == b"QUEUED"
            assert raw.cmd("EXEC") == [b"OK"]  # the refused WATCH does not abort
        # redis-py's WATCH-based transaction fails loudly.
        with pytest.raises(redis.ResponseError, match="WATCH is not supported"):
            c.transaction(lambda pipe: pipe.get("k"), "k")

    def test_disconnect_inside_multi(self, node_factory):
        """A connection that goes away with a queue is cleaned up (ASan build:
        a leak fails the node's exit code)."""
        n = node_factory()
        for _ in range(20):
            raw = RawConn(n.port)
            raw.send(encode_command("MULTI") + encode_command("SET", "k", "v" * 1000)
                     + encode_command("GET", "k"))
            raw.read_until(b"QUEUED\r\n+QUEUED\r\n")
            raw.close()
        cl = n.client()
        wait_until(lambda: cl.info("clients")["connected_clients"] == 1, timeout=5)
        assert cl.get("k") is None

    def test_command_docs_and_info(self, c):
        names = ["keys", "scan", "randomkey", "unlink", "touch", "rename", "renamenx", "copy",
                 "object", "multi", "exec", "discard", "watch", "unwatch"]
        with RawConn(c.port) as raw:
            info = raw.cmd("COMMAND", "INFO", *names)
            assert [i[0] for i in info] == [n.encode() for n in names]
            docs = raw.cmd("COMMAND", "DOCS", *names)
            assert docs[0::2] == [n.encode() for n in names]
        out = subprocess.run(["redis-cli", "-p", str(c.port), "SCAN", "0", "COUNT", "5"],
                             check=True, capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() == "0"

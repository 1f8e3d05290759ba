"""One real dynamo-node (N = W = R = 1) through redis-py, raw sockets and its CLI.

Run: DYNAMO_NODE_BIN=$PWD/build/src/dynamo-node \
     /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration
"""
import os
import re
import select
import socket
import subprocess
import time

import pytest
import redis

import harness
from harness import Err, Map, RawConn, Verbatim, encode_command, wait_until


@pytest.fixture
def key(request):
    """A key no other test of the module uses."""
    return "t:%s" % request.node.name


def err_text(excinfo):
    return str(excinfo.value)


# ===========================================================================
# Plain Redis commands through redis-py
# ===========================================================================

class TestStrings:
    def test_set_get_overwrite_and_missing(self, r, key):
        assert r.get(key) is None
        assert r.set(key, "v1") is True
        assert r.get(key) == b"v1"
        assert r.set(key, "v2") is True
        assert r.get(key) == b"v2"

    def test_sequential_sets_supersede_without_siblings(self, r, key):
        for i in range(5):
            r.set(key, "v%d" % i)
        assert r.get(key) == b"v4"
        ctx, values = r.execute_command("VGET", key)
        assert values == [b"v4"]
        assert len(r.execute_command("VCLOCK", key)) == 1

    def test_del_exists(self, r, key):
        a, b, missing = key + ":a", key + ":b", key + ":missing"
        r.set(a, "1")
        r.set(b, "2")
        assert r.exists(a, b, missing) == 2
        assert r.exists(a, a) == 2  # Redis counts repeated keys
        assert r.delete(a, b, missing) == 2
        assert r.exists(a, b) == 0
        assert r.get(a) is None
        assert r.delete(a) == 0  # already deleted
        r.set(a, "again")  # a tombstoned key can be written again
        assert r.get(a) == b"again"

    def test_mset_mget(self, r, key):
        assert r.mset({key + ":1": "one", key + ":2": b"two", key + ":3": ""}) is True
        assert r.mget(key + ":1", key + ":missing", key + ":2", key + ":3") == [
            b"one", None, b"two", b""]

    def test_mset_odd_arguments(self, r, key):
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("MSET", key, "v", key + ":2")
        assert "wrong number of arguments for 'mset' command" in err_text(e)
        assert r.get(key) is None

    def test_type(self, r, key):
        assert r.type(key) == b"none"
        r.set(key, "x")
        assert r.type(key) == b"string"
        r.delete(key)
        assert r.type(key) == b"none"

    def test_dbsize_flushall(self, node_factory):
        c = node_factory().client()
        assert c.dbsize() == 0
        c.mset({"a": 1, "b": 2, "c": 3})
        assert c.dbsize() == 3
        c.delete("a")  # a tombstone is not a key
        assert c.dbsize() == 2
        assert c.flushall() is True
        assert c.dbsize() == 0
        assert c.get("b") is None
        assert c.execute_command("VGET", "b") is None
        with pytest.raises(redis.ResponseError) as e:
            c.execute_command("FLUSHALL", "NOW")
        assert "syntax error" in err_text(e)

    def test_binary_keys_and_values(self, r, key):
        val = bytes(range(256)) * 4 + b"\r\n\x00$3\r\n*1\r\n"
        bkey = key.encode() + b"\x00\xff\r\n"
        assert r.set(bkey, val)
        assert r.get(bkey) == val
        assert r.get(key.encode() + b"\x00\xff") is None  # key bytes all count
        assert r.execute_command("VGET", bkey)[1] == [val]

    @pytest.mark.parametrize("size", [1 << 20, 20 << 20])
    def test_large_values(self, r, key, size):
        val = os.urandom(1024) * (size // 1024)
        assert r.set(key, val)
        got = r.get(key)
        assert len(got) == size and got == val
        assert r.execute_command("ECHO", val) == val

    def test_empty_value(self, r, key):
        r.set(key, "")
        assert r.get(key) == b""
        assert r.exists(key) == 1

    def test_pipeline_1000_replies_in_order(self, r, key):
        p = r.pipeline(transaction=False)
        for i in range(500):
            p.set("%s:%d" % (key, i), "v%d" % i)
            p.get("%s:%d" % (key, i))
        res = p.execute()
        assert len(res) == 1000
        for i in range(500):
            assert res[2 * i] is True
            assert res[2 * i + 1] == b"v%d" % i

    def test_pipeline_error_in_the_middle(self, r, key):
        p = r.pipeline(transaction=False)
        p.set(key, "a")
        p.execute_command("NOSUCHCOMMAND", "x")
        p.execute_command("GET")
        p.get(key)
        res = p.execute(raise_on_error=False)
        assert res[0] is True
        assert isinstance(res[1], redis.ResponseError)
        assert "unknown command 'NOSUCHCOMMAND'" in str(res[1])
        assert isinstance(res[2], redis.ResponseError)
        assert "wrong number of arguments for 'get' command" in str(res[2])
        assert res[3] == b"a"


class TestSetOptions:
    def test_nx_xx(self, r, key):
        assert r.set(key, "a", xx=True) is None
        assert r.get(key) is None
        assert r.set(key, "a", nx=True) is True
        assert r.set(key, "b", nx=True) is None
        assert r.get(key) == b"a"
        assert r.set(key, "c", xx=True) is True
        assert r.get(key) == b"c"
        r.delete(key)
        assert r.set(key, "d", xx=True) is None  # deleted = absent
        assert r.set(key, "d", nx=True) is True

    def test_get_option(self, r, key):
        assert r.set(key, "first", get=True) is None
        assert r.set(key, "second", get=True) == b"first"
        assert r.get(key) == b"second"
        # NX GET on an existing key: not set, returns the old value
        assert r.set(key, "third", nx=True, get=True) == b"second"
        assert r.get(key) == b"second"

    def test_expiry_ex_px_pxat_keepttl(self, r, key):
        now_ms = int(time.time() * 1000)
        k_px, k_pxat, k_keep, k_plain, k_ex, k_exat = (
            key + s for s in (":px", ":pxat", ":keep", ":plain", ":ex", ":exat"))
        assert r.set(k_px, "v", px=1000)
        assert r.set(k_pxat, "v", pxat=now_ms + 1000)
        assert r.set(k_keep, "old", px=1000)
        assert r.set(k_keep, "new", keepttl=True)
        assert r.set(k_plain, "old", px=1000)
        assert r.set(k_plain, "new")  # a plain SET drops the TTL, as in Redis
        assert r.set(k_ex, "v", ex=100)
        assert r.set(k_exat, "v", exat=int(time.time()) + 100)
        assert r.get(k_keep) == b"new"
        assert "expire_ms=" in r.execute_command("VCLOCK", k_keep)[0].decode()
        assert "expire_ms=" not in r.execute_command("VCLOCK", k_plain)[0].decode()

        def all_expired():
            return r.mget(k_px, k_pxat, k_keep) == [None, None, None]
        wait_until(all_expired, timeout=5, msg="PX/PXAT/KEEPTTL keys to expire")
        assert r.exists(k_px, k_pxat, k_keep) == 0
        assert r.get(k_plain) == b"new"
        assert r.get(k_ex) == b"v"
        assert r.get(k_exat) == b"v"

    def test_exat_in_the_past_is_gone(self, r, key):
        assert r.execute_command("SET", key, "v", "PXAT", "1000")
        assert r.get(key) is None

    @pytest.mark.parametrize("opts,msg", [
        (["EX", "0"], "invalid expire time in 'set' command"),
        (["PX", "-5"], "invalid expire time in 'set' command"),
        (["EX", "abc"], "value is not an integer or out of range"),
        (["EX", "1.5"], "value is not an integer or out of range"),
        (["NX", "XX"], "syntax error"),
        (["EX", "10", "PX", "100"], "syntax error"),
        (["EX", "10", "KEEPTTL"], "syntax error"),
        (["KEEPTTL", "PX", "100"], "syntax error"),
        (["EX"], "syntax error"),
        (["FOO"], "syntax error"),
        (["NX", "BOGUS"], "syntax error"),
        (["EXX", "10"], "syntax error"),
    ])
    def test_bad_options_are_errors_not_ignored(self, r, key, opts, msg):
        r.set(key, "original")
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("SET", key, "changed", *opts)
        assert msg in err_text(e)
        assert r.get(key) == b"original"


class TestErrors:
    def test_wrong_arity(self, r):
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("GET")
        assert err_text(e) == "wrong number of arguments for 'get' command"
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("GET", "a", "b")
        assert err_text(e) == "wrong number of arguments for 'get' command"
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("SET", "a")
        assert err_text(e) == "wrong number of arguments for 'set' command"

    def test_unknown_command(self, r):
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("NOSUCHCMD", "a", "b")
        assert err_text(e).startswith("unknown command 'NOSUCHCMD', with args beginning with:")
        assert "'a' 'b'" in err_text(e)
        assert r.ping() is True  # connection still usable

    def test_syntax_error(self, r, key):
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("SET", key, "v", "WHATEVER")
        assert err_text(e) == "syntax error"

    def test_select(self, r):
        with RawConn(r.connection_pool.connection_kwargs["port"]) as c:
            assert c.cmd("SELECT", "0") == b"OK"
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("SELECT", "1")
        assert "DB index is out of range" in err_text(e)
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("SELECT", "x")
        assert "value is not an integer" in err_text(e)

    def test_command_names_are_case_insensitive(self, node, key):
        with RawConn(node.port) as c:
            assert c.cmd("sEt", key, "v") == b"OK"
            assert c.cmd("get", key) == b"v"
            assert c.cmd("Ping") == b"PONG"


class TestConnectionCommands:
    def test_ping_echo(self, r):
        assert r.ping() is True
        with RawConn(r.connection_pool.connection_kwargs["port"]) as c:
            assert c.cmd("PING", "hello") == b"hello"
            assert c.cmd("PING") == b"PONG"
        assert r.echo(b"a\r\nb\x00") == b"a\r\nb\x00"
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("PING", "a", "b")
        assert "wrong number of arguments for 'ping' command" in err_text(e)

    def test_client_name_id_setinfo_list(self, node):
        c1, c2 = node.client(), node.client()
        assert c1.execute_command("CLIENT", "GETNAME") is None
        assert c1.client_setname("tester-one") is True
        assert c1.execute_command("CLIENT", "GETNAME") == b"tester-one"
        id1, id2 = c1.client_id(), c2.client_id()
        assert isinstance(id1, int) and isinstance(id2, int) and id1 != id2
        assert c1.execute_command("CLIENT", "SETINFO", "LIB-NAME", "pytest-lib") == b"OK"
        assert c1.execute_command("CLIENT", "SETINFO", "LIB-VER", "1.2.3") == b"OK"
        with pytest.raises(redis.ResponseError):
            c1.execute_command("CLIENT", "SETINFO", "NOSUCH", "x")
        with pytest.raises(redis.ResponseError) as e:
            c1.execute_command("CLIENT", "SETNAME", "has space")
        assert "cannot contain spaces" in err_text(e)
        listing = c2.execute_command("CLIENT", "LIST")
        listing = listing.decode() if isinstance(listing, bytes) else listing
        mine = [ln for ln in listing.splitlines() if re.search(r"\bid=%d\b" % id1, ln)]
        assert len(mine) == 1, listing
        assert "name=tester-one" in mine[0]
        assert "lib-name=pytest-lib" in mine[0] and "lib-ver=1.2.3" in mine[0]
        assert re.search(r"\bid=%d\b" % id2, listing)
        c1.close()
        c2.close()

    def test_quit_closes(self, node):
        with RawConn(node.port) as c:
            assert c.cmd("QUIT") == b"OK"
            assert c.closed_by_server(2.0)
        with RawConn(node.port) as c:
            c.send(b"QUIT\r\nPING\r\n")  # nothing after QUIT is answered
            assert c.read_until(b"\r\n", timeout=2) == b"+OK\r\n"
            assert c.closed_by_server(2.0)
            assert c.buf == b""


class TestConfig:
    def test_config_get_exact_and_glob(self, node, r):
        assert r.config_get("n") == {"n": "1"}
        assert r.config_get("port") == {"port": str(node.port)}
        assert set(r.config_get("*timeout")) == {"put-timeout", "get-timeout", "timeout"}
        assert r.config_get("w") == {"w": "1"}
        assert r.config_get("no-such-option") == {}
        both = r.execute_command("CONFIG", "GET", "n", "r")
        assert both == [b"n", b"1", b"r", b"1"]
        everything = r.config_get("*")
        assert {"n", "w", "r", "port", "requirepass", "client-output-buffer-limit"} <= set(everything)

    def test_config_get_save_appendonly(self, r):
        # redis-benchmark and other tools read these
        assert r.config_get("save") == {"save": ""}
        # the append-only log is on by default (see README: durability)
        assert r.config_get("appendonly") == {"appendonly": "yes"}
        assert r.config_get("appendfsync") == {"appendfsync": "everysec"}

    def test_config_get_resp2_list_resp3_map(self, node):
        with RawConn(node.port) as c:
            want2 = b"*2\r\n$1\r\nn\r\n$1\r\n1\r\n"
            c.send(encode_command("CONFIG", "GET", "n"))
            assert c.read_exact(len(want2), timeout=2) == want2
            assert isinstance(c.cmd("HELLO", "3"), Map)
            want3 = b"%1\r\n$1\r\nn\r\n$1\r\n1\r\n"
            c.send(encode_command("CONFIG", "GET", "n"))
            assert c.read_exact(len(want3), timeout=2) == want3
            m = c.cmd("CONFIG", "GET", "*-timeout")
            assert isinstance(m, Map) and set(m) == {b"put-timeout", b"get-timeout"}

    def test_config_set_validation(self, node_factory):
        c = node_factory().client()
        for name, value, msg in [
            ("w", "2", "w (2) must be between 1 and n (1)"),
            ("r", "3", "r (3) must be between 1 and n (1)"),
            ("w", "0", "out of range"),
            ("n", "0", "out of range"),
            ("n", "abc", "is not an integer"),
            ("port", "1234", "can't be changed at runtime"),
            ("no-such-option", "1", "unknown option"),
            ("save", "x", "read-only"),
        ]:
            with pytest.raises(redis.ResponseError) as e:
                c.config_set(name, value)
            assert msg in err_text(e), (name, value, err_text(e))
        assert c.config_get("[nwr]") == {"n": "1", "w": "1", "r": "1"}
        with pytest.raises(redis.ResponseError):
            c.execute_command("CONFIG", "SET", "put-timeout")  # value missing

    def test_config_set_takes_effect(self, node_factory):
        n = node_factory()
        c = n.client()
        assert c.config_set("put-timeout", "1234") is True
        assert c.config_get("put-timeout") == {"put-timeout": "1234"}
        assert c.config_set("client-output-buffer-limit", "2mb") is True
        assert c.config_get("client-output-buffer-limit") == {
            "client-output-buffer-limit": str(2 * 1024 * 1024)}
        # a limit set at run time is enforced on the very next request
        assert c.config_set("proto-max-bulk-len", "1kb") is True
        with RawConn(n.port) as raw:
            raw.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000\r\n")
            reply = raw.read_reply()
            assert isinstance(reply, Err) and "Protocol error" in reply, reply
        assert c.set("small", "x" * 1000)
        assert c.config_set("maxclients", "1") is True
        with RawConn(n.port) as extra:
            assert extra.read_until(b"\r\n", timeout=2).startswith(
                b"-ERR max number of clients reached")
        assert c.ping() is True

    def test_config_set_several_is_atomic(self, node_factory):
        # Redis 7: CONFIG SET with several pairs applies all of them or none.
        c = node_factory().client()
        with pytest.raises(redis.ResponseError):
            c.execute_command("CONFIG", "SET", "put-timeout", "2222", "w", "5")
        assert c.config_get("put-timeout") == {"put-timeout": "5000"}


class TestInfo:
    def test_sections_and_fields(self, node, r, key):
        r.set(key, "v")
        with RawConn(node.port) as c:
            text = c.cmd("INFO")
        assert isinstance(text, bytes)
        text = text.decode()
        for section in ("# Server", "# Clients", "# Memory", "# Stats", "# Keyspace"):
            assert section + "\r\n" in text, section
        fields = dict(ln.split(":", 1) for ln in text.split("\r\n") if ":" in ln
                      and not ln.startswith("#"))
        if harness.binary_is_sanitized(node.binary):
            assert fields["mem_allocator"] == "libc"
        else:
            assert fields["mem_allocator"].startswith("jemalloc-"), fields["mem_allocator"]
            assert int(fields["used_memory"]) > 0
            assert int(fields["used_memory_rss"]) > 0
        assert int(fields["process_id"]) == node.pid
        assert int(fields["tcp_port"]) == node.port
        assert int(fields["connected_clients"]) >= 2
        assert int(fields["total_commands_processed"]) > 0
        assert re.search(r"^db0:keys=\d+", text, re.M)

    def test_info_parsed_by_redis_py(self, r, key):
        info = r.info()
        assert "redis_version" in info and "used_memory" in info
        before = r.info("stats")["total_commands_processed"]
        for _ in range(5):
            r.ping()
        after = r.info("stats")["total_commands_processed"]
        assert after >= before + 5
        server_only = r.info("server")
        assert "redis_version" in server_only and "used_memory" not in server_only
        r.set(key, "x")
        assert r.info("keyspace")["db0"]["keys"] >= 1

    def test_config_resetstat_zeroes_traffic_and_keyspace_counters(self, r, key):
        # The traffic counters are the server's (srv_traffic), the keyspace
        # ones the node's: RESETSTAT zeroes both.
        r.set(key, "x")
        for _ in range(20):
            r.get(key)
        before = r.info("stats")
        assert before["keyspace_hits"] >= 20 and before["total_commands_processed"] > 20
        assert r.config_resetstat()
        after = r.info("stats")
        assert after["keyspace_hits"] == 0
        assert after["total_commands_processed"] < 5
        assert after["total_connections_received"] < before["total_connections_received"] or \
            before["total_connections_received"] <= 1
        assert after["total_net_input_bytes"] < 200
        assert after["total_net_output_bytes"] < 2000


class TestResp3:
    def test_hello3_switches_reply_types(self, node, key):
        node.client().set(key, "v")
        with RawConn(node.port) as c:
            hello = c.cmd("HELLO", "3")
            assert isinstance(hello, Map)
            assert hello[b"proto"] == 3 and hello[b"server"] == b"redis"
            c.send(encode_command("GET", key + ":missing"))
            assert c.read_until(b"\r\n", timeout=2) == b"_\r\n"
            assert c.cmd("GET", key) == b"v"
            info = c.cmd("INFO", "server")
            assert isinstance(info, Verbatim) and info.fmt == b"txt"
            assert b"redis_version:" in info
            hello2 = c.cmd("HELLO", "2")
            assert isinstance(hello2, list) and hello2[hello2.index(b"proto") + 1] == 2
            c.send(encode_command("GET", key + ":missing"))
            assert c.read_until(b"\r\n", timeout=2) == b"$-1\r\n"

    def test_hello2_reply_is_flat_list(self, node):
        with RawConn(node.port) as c:
            c.send(encode_command("HELLO", "2"))
            assert c.read_until(b"\r\n", timeout=2) == b"*14\r\n"

    def test_hello_bad_version(self, node):
        with RawConn(node.port) as c:
            assert c.cmd("HELLO", "4").startswith("NOPROTO")
            assert c.cmd("HELLO", "x").startswith("ERR")
            assert c.cmd("PING") == b"PONG"


class TestAuth:
    PASS = "s3cret-pass"

    @pytest.fixture
    def pnode(self, node_factory):
        return node_factory("--requirepass", self.PASS)

    def test_noauth_wrongpass_then_ok(self, pnode):
        with pytest.raises(redis.AuthenticationError) as e:
            pnode.client().ping()
        assert "Authentication required" in err_text(e)
        with RawConn(pnode.port) as c:
            assert c.cmd("GET", "k") == Err("NOAUTH Authentication required.")
            assert c.cmd("SET", "k", "v").startswith("NOAUTH")
            assert c.cmd("AUTH", "wrong").startswith("WRONGPASS")
            assert c.cmd("AUTH", "default", "wrong").startswith("WRONGPASS")
            assert c.cmd("AUTH", "nosuchuser", self.PASS).startswith("WRONGPASS")
            assert c.cmd("GET", "k").startswith("NOAUTH")
            assert c.cmd("AUTH", self.PASS) == b"OK"
            assert c.cmd("SET", "k", "v") == b"OK"
            assert c.cmd("GET", "k") == b"v"
        with RawConn(pnode.port) as c:
            assert c.cmd("AUTH", "default", self.PASS) == b"OK"
            assert c.cmd("GET", "k") == b"v"

    def test_redis_py_password(self, pnode):
        ok = pnode.client(password=self.PASS)
        assert ok.set("a", "b") and ok.get("a") == b"b"
        ok2 = pnode.client(username="default", password=self.PASS)
        assert ok2.get("a") == b"b"
        # redis-py 4 raises WRONGPASS from its AUTH handshake as a ResponseError
        with pytest.raises((redis.AuthenticationError, redis.ResponseError)) as e:
            pnode.client(password="nope").ping()
        assert "WRONGPASS" in err_text(e) or "Invalid" in err_text(e)

    def test_hello3_auth(self, pnode):
        with RawConn(pnode.port) as c:
            assert c.cmd("HELLO", "3").startswith("NOAUTH")
            assert c.cmd("HELLO", "3", "AUTH", "default", "bad").startswith("WRONGPASS")
            hello = c.cmd("HELLO", "3", "AUTH", "default", self.PASS)
            assert isinstance(hello, Map) and hello[b"proto"] == 3
            c.send(encode_command("GET", "nothing"))
            assert c.read_until(b"\r\n", timeout=2) == b"_\r\n"

    def test_auth_without_password_configured(self, r):
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("AUTH", "whatever")
        assert "without any password configured" in err_text(e)


# ===========================================================================
# The Dynamo data model on one node
# ===========================================================================

def vget(r, key, *extra):
    return r.execute_command("VGET", key, *extra)


class TestVersioned:
    def test_blind_writes_become_siblings_and_merge(self, node, r, key):
        c1 = r.execute_command("VPUT", key, "", "v1")
        c2 = r.execute_command("VPUT", key, "", "v2")
        assert isinstance(c1, bytes) and c1 and isinstance(c2, bytes)
        # v2's dot skipped v1's counter (dotted version vectors, issue 11):
        # its context leaves the dot out so it cannot cover v1 unseen, and
        # having seen nothing, v2's is the empty context.
        assert c2 == b""
        ctx, values = vget(r, key)
        assert isinstance(ctx, bytes) and ctx
        assert sorted(values) == [b"v1", b"v2"]
        with pytest.raises(redis.ResponseError) as e:
            r.get(key)
        assert "2 siblings" in err_text(e) and "VGET" in err_text(e)
        clocks = r.execute_command("VCLOCK", key)
        assert len(clocks) == 2
        for cl in clocks:
            cl = cl.decode()
            assert cl.startswith("value len=2 ")
            # readable entries: actor:counter@timestamp, the actor names the node
            assert re.search(r"\[.*127\.0\.0\.1:%d[^\]]*:\d+@\d+" % node.port, cl), cl
        assert r.exists(key) == 1
        assert r.type(key) == b"string"

        new_ctx = r.execute_command("VPUT", key, ctx, "merged")
        assert isinstance(new_ctx, bytes) and new_ctx != ctx
        assert r.get(key) == b"merged"
        ctx2, values2 = vget(r, key)
        assert values2 == [b"merged"]
        assert ctx2 == new_ctx
        assert len(r.execute_command("VCLOCK", key)) == 1

        assert r.execute_command("VDEL", key, ctx2)
        assert r.get(key) is None
        assert vget(r, key) is None
        assert r.exists(key) == 0

    def test_vput_with_current_context_supersedes(self, r, key):
        r.set(key, "a")
        ctx, _ = vget(r, key)
        r.execute_command("VPUT", key, ctx, "b")
        assert vget(r, key)[1] == [b"b"]
        assert r.get(key) == b"b"

    def test_stale_context_keeps_both_versions(self, r, key):
        # The server never silently drops a concurrent version.
        r.set(key, "base")
        stale, _ = vget(r, key)
        r.set(key, "newer")
        r.execute_command("VPUT", key, stale, "from-stale")
        _, values = vget(r, key)
        assert sorted(values) == [b"from-stale", b"newer"]

    def test_siblings_holding_the_same_value_read_as_that_value(self, r, key):
        # e.g. one write applied twice after a coordinator failover
        r.execute_command("VPUT", key, "", "same")
        r.execute_command("VPUT", key, "", "same")
        assert vget(r, key)[1] == [b"same", b"same"]  # VGET tells the truth
        assert r.get(key) == b"same"
        assert r.mget([key]) == [b"same"]
        assert r.strlen(key) == 4
        r.execute_command("VPUT", key, "", "different")
        with pytest.raises(redis.ResponseError, match="3 siblings"):
            r.get(key)

    def test_set_after_blind_siblings_resolves(self, r, key):
        r.execute_command("VPUT", key, "", "x")
        r.execute_command("VPUT", key, "", "y")
        r.set(key, "z")  # SET writes with the coordinator's context
        assert r.get(key) == b"z"
        assert vget(r, key)[1] == [b"z"]

    def test_missing_key(self, r, key):
        assert vget(r, key) is None
        assert r.execute_command("VCLOCK", key) is None

    def test_malformed_contexts_rejected(self, r, key):
        r.set(key, "keep")
        ctx, _ = vget(r, key)
        ctx = ctx.decode()
        mid = len(ctx) // 2
        flipped = ctx[:mid] + ("A" if ctx[mid] != "A" else "B") + ctx[mid + 1:]
        bad = ["garbage!!", "not base64 at all", ctx[:-3], ctx[:mid], flipped,
               ctx + "AAAA", "=" * 8, "\x00\xff", "x" * 100000]
        for b in bad:
            for cmd in (("VPUT", key, b, "bad"), ("VDEL", key, b)):
                with pytest.raises(redis.ResponseError) as e:
                    r.execute_command(*cmd)
                assert "invalid context" in err_text(e), (b[:40], err_text(e))
        assert r.ping() is True
        assert r.get(key) == b"keep"
        assert vget(r, key)[1] == [b"keep"]

    def test_quorum_overrides(self, r, key):
        assert r.execute_command("VPUT", key, "", "v", "W", "1")
        assert vget(r, key, "R", "1")[1] == [b"v"]
        assert r.execute_command("VCLOCK", key, "R", "1")
        for cmd, msg in [
            (("VPUT", key, "", "v", "W", "0"), "W must be between 1 and n (1)"),
            (("VPUT", key, "", "v", "W", "2"), "W must be between 1 and n (1)"),
            (("VPUT", key, "", "v", "W", "abc"), "not an integer"),
            (("VPUT", key, "", "v", "X", "1"), "syntax error"),
            (("VPUT", key, "", "v", "W"), "syntax error"),
            (("VPUT", key, "", "v", "W", "1", "W"), "syntax error"),
            (("VGET", key, "R", "0"), "R must be between 1 and n (1)"),
            (("VGET", key, "R", "9"), "R must be between 1 and n (1)"),
            (("VGET", key, "W", "1"), "syntax error"),
            (("VDEL", key, "", "W", "-1"), "W must be between 1 and n (1)"),
        ]:
            with pytest.raises(redis.ResponseError) as e:
                r.execute_command(*cmd)
            assert msg in err_text(e), (cmd, err_text(e))
        assert vget(r, key)[1] == [b"v"]  # none of the refused writes happened

    def test_arity(self, r, key):
        for cmd, name in [(("VPUT", key, ""), "vput"), (("VGET",), "vget"),
                          (("VDEL", key), "vdel"), (("VCLOCK",), "vclock")]:
            with pytest.raises(redis.ResponseError) as e:
                r.execute_command(*cmd)
            assert err_text(e) == "wrong number of arguments for '%s' command" % name


# ===========================================================================
# Raw-socket protocol robustness
# ===========================================================================

BAD_REQUESTS = [
    (b"*abc\r\n", "invalid multibulk length"),
    (b"*1\r\n$x\r\n", "invalid bulk length"),
    (b"*1\r\n$-3\r\n", "invalid bulk length"),
    (b"*1\r\nfoo\r\n", "expected '$', got 'f'"),
    (b"*1\r\n$2147483648\r\n", "invalid bulk length"),
    (b"*1\r\n$536870913\r\n", "invalid bulk length"),  # 512 MB + 1
    (b"*2000000\r\n", "invalid multibulk length"),
    (b"*99999999999999999999\r\n", "invalid multibulk length"),
    (b"*1\r\n$3\r\nfooXX", "expected CRLF after bulk data"),
    (b'SET "a b\r\n', "unbalanced quotes in request"),
    (b"SET 'a'b c\r\n", "unbalanced quotes in request"),
    (b"A" * 70000, "too big inline request"),
]


def expect_protocol_error_and_close(conn, msg):
    conn.sock.settimeout(2.0)  # the error must come without more input
    line = conn.read_until(b"\r\n")
    assert line.startswith(b"-ERR Protocol error: "), line
    assert msg.encode() in line, line
    assert conn.closed_by_server(2.0), "connection left open after a protocol error"


class TestProtocol:
    @pytest.mark.parametrize("data,msg", BAD_REQUESTS, ids=lambda v: repr(v)[:30])
    def test_malformed_request_error_then_close(self, node, data, msg):
        with RawConn(node.port) as bystander, RawConn(node.port) as c:
            assert bystander.cmd("PING") == b"PONG"
            c.send(data)
            expect_protocol_error_and_close(c, msg)
            assert bystander.cmd("SET", "bystander", "ok") == b"OK"
            assert bystander.cmd("GET", "bystander") == b"ok"

    def test_replies_before_protocol_error_are_sent(self, node):
        with RawConn(node.port) as c:
            c.send(b"PING\r\n*1\r\n$4\r\nECHO\r\n*zz\r\n")
            assert c.read_until(b"+PONG\r\n", timeout=2) == b"+PONG\r\n"
            # ECHO with no argument: an arity error, still before the close
            assert c.read_reply() == Err("ERR wrong number of arguments for 'echo' command")
            expect_protocol_error_and_close(c, "invalid multibulk length")

    def test_configured_bulk_limit(self, node_factory):
        n = node_factory("--proto-max-bulk-len", "1000", "--max-multibulk-len", "10")
        with RawConn(n.port) as c:
            c.send(b"*2\r\n$4\r\nECHO\r\n$1001\r\n")
            expect_protocol_error_and_close(c, "invalid bulk length")
        with RawConn(n.port) as c:
            c.send(b"*11\r\n")
            expect_protocol_error_and_close(c, "invalid multibulk length")
        with RawConn(n.port) as c:
            assert c.cmd("ECHO", "x" * 1000) == b"x" * 1000
            assert c.cmd("MGET", *["k%d" % i for i in range(9)]) == [None] * 9

    def test_unknown_command_and_arity_keep_connection(self, node):
        with RawConn(node.port) as c:
            c.send(encode_command("NOSUCHC", "a"))
            assert c.read_until(b"\r\n", timeout=2) == (
                b"-ERR unknown command 'NOSUCHC', with args beginning with: 'a' \r\n")
            c.send(encode_command("GET"))
            assert c.read_until(b"\r\n", timeout=2) == (
                b"-ERR wrong number of arguments for 'get' command\r\n")
            c.send(b"NOSUCHINLINE x y\r\n")
            assert c.read_reply().startswith("ERR unknown command 'NOSUCHINLINE'")
            assert c.cmd("PING") == b"PONG"

    def test_inline_commands(self, node, r):
        with RawConn(node.port) as c:
            c.send(b"PING\r\n")
            assert c.read_until(b"\r\n", timeout=2) == b"+PONG\r\n"
            c.send(b"PING\n")  # bare LF, as redis-server accepts
            assert c.read_until(b"\r\n", timeout=2) == b"+PONG\r\n"
            c.send(b"\r\n  \r\nPING\r\n")  # blank lines are skipped
            assert c.read_until(b"\r\n", timeout=2) == b"+PONG\r\n"
            c.send(b"SET inl:a b\r\n")
            assert c.read_until(b"\r\n", timeout=2) == b"+OK\r\n"
            c.send(b'SET "inl:key with space" "hello world"\r\n')
            assert c.read_until(b"\r\n", timeout=2) == b"+OK\r\n"
            c.send(b"SET 'inl:sq' 'it\\'s'\r\n")
            assert c.read_until(b"\r\n", timeout=2) == b"+OK\r\n"
            c.send(b'SET inl:esc "a\\r\\nb\\x00\\x41"\r\n')
            assert c.read_until(b"\r\n", timeout=2) == b"+OK\r\n"
            c.send(b"GET inl:a\r\n")
            assert c.read_reply() == b"b"
        assert r.get("inl:key with space") == b"hello world"
        assert r.get("inl:sq") == b"it's"
        assert r.get("inl:esc") == b"a\r\nb\x00A"

    def test_misbehaving_client_does_not_block_others(self, node):
        with RawConn(node.port) as slow, RawConn(node.port) as good:
            # half a request, then silence
            slow.send(b"*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$100\r\nxxxx")
            for i in range(20):
                assert good.cmd("SET", "good", str(i)) == b"OK"
                assert good.cmd("GET", "good") == str(i).encode()
            slow.send(b"x" * 96 + b"\r\n")
            assert slow.read_reply() == b"OK"
            # a client announcing a huge bulk and sending nothing
            with RawConn(node.port) as hog:
                hog.send(b"*2\r\n$4\r\nECHO\r\n$500000000\r\nabc")
                for i in range(20):
                    assert good.cmd("PING") == b"PONG"
            slow.send(b"*zz\r\n")
            expect_protocol_error_and_close(slow, "invalid multibulk length")
            assert good.cmd("GET", "slow") == b"x" * 100

    def test_one_byte_writes(self, node):
        data = encode_command("SET", "bytewise", "hello world") + encode_command("GET", "bytewise") \
            + b"PING\r\n"
        with RawConn(node.port) as c:
            for i in range(len(data)):
                c.send(data[i:i + 1])
            assert c.read_reply() == b"OK"
            assert c.read_reply() == b"hello world"
            assert c.read_reply() == b"PONG"

    def test_pipelined_mixed_requests_in_order(self, node):
        payload = b"".join([
            encode_command("SET", "pl:1", "v1"),
            b"GET pl:1\r\n",
            encode_command("NOSUCH"),
            b"PING\r\n",
            encode_command("ECHO", "hi"),
            encode_command("GET"),
            encode_command("MGET", "pl:1", "pl:missing"),
            encode_command("VPUT", "pl:2", "", "a"),
            encode_command("VPUT", "pl:2", "", "b"),
            encode_command("GET", "pl:2"),
            encode_command("VPUT", "pl:2", "bad-ctx", "c"),
            encode_command("DEL", "pl:1"),
            encode_command("GET", "pl:1"),
            b"\r\n",
            encode_command("PING", "last"),
        ])
        with RawConn(node.port) as c:
            c.send(payload)
            got = [c.read_reply() for _ in range(14)]
        assert got[0] == b"OK"
        assert got[1] == b"v1"
        assert isinstance(got[2], Err) and "unknown command 'NOSUCH'" in got[2]
        assert got[3] == b"PONG"
        assert got[4] == b"hi"
        assert got[5] == Err("ERR wrong number of arguments for 'get' command")
        assert got[6] == [b"v1", None]
        assert isinstance(got[7], bytes) and isinstance(got[8], bytes)
        assert isinstance(got[9], Err) and "2 siblings" in got[9]
        assert isinstance(got[10], Err) and "invalid context" in got[10]
        assert got[11] == 1
        assert got[12] is None
        assert got[13] == b"last"

    def test_many_pipelined_echoes_in_order(self, node):
        n = 5000
        with RawConn(node.port, timeout=10) as c:
            c.send(b"".join(encode_command("ECHO", "m%d" % i) for i in range(n)))
            for i in range(n):
                assert c.read_reply() == b"m%d" % i


class TestClientLimits:
    def test_idle_timeout_closes_idle_clients(self, node_factory):
        # `timeout` is documented in --help and reported by CONFIG GET.
        n = node_factory("--timeout", "1")
        with RawConn(n.port) as idle:
            assert idle.cmd("PING") == b"PONG"
            assert idle.closed_by_server(5.0), "a client idle past --timeout 1 is still open"
        with RawConn(n.port) as c:
            assert c.cmd("PING") == b"PONG"

    def test_query_buffer_limit_closes(self, node_factory):
        n = node_factory("--client-query-buffer-limit", "1mb")
        with RawConn(n.port) as bystander, RawConn(n.port) as c:
            c.send(b"*2\r\n$4\r\nECHO\r\n$3000000\r\n")
            try:
                for _ in range(3000000 // 65536):
                    c.send(b"x" * 65536)
            except (ConnectionResetError, BrokenPipeError):
                pass
            assert c.closed_by_server(5.0)
            assert bystander.cmd("PING") == b"PONG"
        with RawConn(n.port) as c:  # below the limit: fine
            assert c.cmd("ECHO", b"y" * 500000) == b"y" * 500000


# ===========================================================================
# Back-pressure: a client that sends and never reads
# ===========================================================================

def flood_without_reading(port, request, max_bytes, timeout=20.0, stall=1.0, settle=10.0):
    """Sends request over and over on one connection and never reads.
    Returns (outcome, bytes sent), outcome being
      'closed'   the server closed the connection (EOF or RST),
      'blocked'  our sends stayed blocked for `stall` seconds: the server
                 stopped reading (TCP back-pressure) and kept it open,
      'sent-all' max_bytes went out and the server neither closed nor
                 pushed back within `settle` seconds."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    sent = 0
    deadline = time.monotonic() + timeout
    blocked_since = None
    view = memoryview(request)
    off = 0
    try:
        while sent < max_bytes and time.monotonic() < deadline:
            try:
                n = s.send(view[off:])
            except BlockingIOError:
                now = time.monotonic()
                blocked_since = blocked_since or now
                if now - blocked_since >= stall:
                    return ("closed" if _peer_closed(s, 0.5) else "blocked"), sent
                select.select([], [s], [], 0.05)
                continue
            except (ConnectionResetError, BrokenPipeError):
                return "closed", sent
            blocked_since = None
            sent += n
            off = (off + n) % len(request)
        # Everything fit in the kernel's buffers: the server may still be
        # working through it.
        return ("closed" if _peer_closed(s, settle) else "sent-all"), sent
    finally:
        s.close()


def _peer_closed(s, wait):
    """True if the peer closes (EOF or RST) within wait seconds; replies
    that arrive meanwhile are read and dropped."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.05)
        if not r:
            continue
        try:
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    return True
        except BlockingIOError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


# Generous: one output buffer at the limit plus allocator slack.  ASan's
# quarantine keeps freed buffers resident, hence the larger bound there.
RSS_BOUND_MB = 400 if harness.binary_is_sanitized() else 200


class TestBackPressure:
    def test_output_buffer_limit_bounds_memory(self, node_factory):
        n = node_factory("--client-output-buffer-limit", "1mb")
        c = n.client()
        c.set("big", b"v" * 100_000)
        base_kb = n.peak_rss_kb()
        # 4.6 million GETs of 100 KB: far more than any buffer could hold.
        outcome, sent = flood_without_reading(n.port, b"GET big\r\n" * 1000,
                                              max_bytes=40 << 20)
        growth_mb = (n.peak_rss_kb() - base_kb) / 1024
        assert growth_mb < RSS_BOUND_MB, "server RSS peak grew by %.0f MB" % growth_mb
        assert outcome in ("closed", "blocked"), (outcome, sent)
        assert c.ping() is True
        assert c.get("big") == b"v" * 100_000
        if outcome == "closed":
            stats = c.info("stats")
            assert stats["client_output_buffer_limit_disconnections"] >= 1

    def test_default_limit_also_bounded(self, node_factory):
        n = node_factory()
        c = n.client()
        c.set("big", b"v" * 100_000)
        base_kb = n.peak_rss_kb()
        outcome, sent = flood_without_reading(n.port, b"GET big\r\n" * 1000,
                                              max_bytes=40 << 20)
        growth_mb = (n.peak_rss_kb() - base_kb) / 1024
        assert growth_mb < RSS_BOUND_MB, "server RSS peak grew by %.0f MB" % growth_mb
        assert outcome in ("closed", "blocked"), (outcome, sent)
        assert c.ping() is True


# ===========================================================================
# Command line
# ===========================================================================

def run_bin(*args, timeout=10):
    return subprocess.run([harness.node_binary(), *args], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=timeout)


class TestCommandLine:
    def test_help(self):
        p = run_bin("--help")
        assert p.returncode == 0
        assert b"--port" in p.stdout and b"--requirepass" in p.stdout

    @pytest.mark.parametrize("args,needles", [
        (["--no-such-flag", "1"], [b"no-such-flag"]),
        (["--port", "abc"], [b"--port", b"abc"]),
        (["--port", "70000"], [b"--port", b"out of range"]),
        (["--port"], [b"--port", b"missing value"]),
        (["--n", "2", "--w", "3"], [b"w (3) must be between 1 and n (2)"]),
        (["--loglevel", "loud"], [b"loglevel", b"loud"]),
        (["--client-output-buffer-limit", "lots"], [b"client-output-buffer-limit", b"lots"]),
    ])
    def test_bad_flags_refused(self, args, needles):
        p = run_bin(*args)
        assert p.returncode != 0
        for n in needles:
            assert n in p.stderr, (n, p.stderr)

    @pytest.mark.parametrize("body,lineno,needle", [
        ("# comment\nn 1\nbogus-option 5\n", 3, b"unknown option 'bogus-option'"),
        ("port 70000\n", 1, b"out of range"),
        ("\n\nrequirepass \"abc\n", 3, b"unterminated quotes"),
        ("n\n", 1, b"missing value"),
        ("node n1 127.0.0.1:notaport\n", 1, b"not a port"),
        ("config other.conf\n", 1, b"command-line flag"),
    ])
    def test_broken_config_file_names_line(self, tmp_path, body, lineno, needle):
        path = tmp_path / "broken.conf"
        path.write_text(body)
        p = run_bin("--config", str(path))
        assert p.returncode != 0
        assert ("%s:%d:" % (path, lineno)).encode() in p.stderr, p.stderr
        assert needle in p.stderr, p.stderr

    def test_missing_config_file(self, tmp_path):
        p = run_bin("--config", str(tmp_path / "nope.conf"))
        assert p.returncode != 0
        assert b"nope.conf" in p.stderr and b"cannot open" in p.stderr

    def test_config_file_applies_and_flags_override(self, node_factory, tmp_path):
        path = tmp_path / "ok.conf"
        path.write_text('requirepass "file pass"\nput-timeout 777\nport 1\n')
        n = node_factory("--config", str(path))  # --port from the harness beats the file
        with pytest.raises(redis.AuthenticationError):
            n.client().ping()
        c = n.client(password="file pass")
        assert c.config_get("put-timeout") == {"put-timeout": "777"}
        assert c.config_get("port") == {"port": str(n.port)}

    def test_port_in_use_refused(self, node):
        p = run_bin("--port", str(node.port), "--cluster-port", str(harness.free_port()))
        assert p.returncode != 0
        assert b"cannot listen" in p.stderr

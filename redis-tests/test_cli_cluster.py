"""redis-cli and redis-benchmark (Debian's redis-tools) against a real 3-node
cluster (N=3 W=2 R=2, the session's `cluster` fixture): one-shot commands
through every node, RESP3 (-3), repeats (-r), mass insertion (--pipe),
key listing (--scan) and redis-benchmark.

Run: DYNAMO_NODE_BIN=$PWD/build/src/dynamo-node \
     /usr/bin/python3 -m pytest -q -p no:cacheprovider redis-tests
"""
import os
import random
import re
import shutil
import subprocess

import pytest

import harness

REDIS_CLI = shutil.which("redis-cli")
REDIS_BENCHMARK = shutil.which("redis-benchmark")

pytestmark = pytest.mark.skipif(not REDIS_CLI or not REDIS_BENCHMARK,
                                reason="redis-tools (redis-cli, redis-benchmark) not installed")

PIPE_KEYS = 100000


def cli(node, *args, input=None, timeout=30):
    env = dict(os.environ, REDISCLI_HISTFILE="/dev/null", REDISCLI_RCFILE="/dev/null")
    return subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(node.port), *args],
                          stdin=subprocess.DEVNULL if input is None else None, input=input,
                          capture_output=True, timeout=timeout, env=env)


def out(p):
    return p.stdout.decode("utf-8", "replace")


def err(p):
    return p.stderr.decode("utf-8", "replace")


def others(cluster, node):
    return [n for n in cluster.nodes if n is not node]


# ---- one-shot commands ------------------------------------------------------

class TestOneShot:
    def test_set_through_one_get_through_all(self, cluster, cluster_node):
        key = "clic:%s:k" % cluster_node.name
        p = cli(cluster_node, "SET", key, "hello world")
        assert p.returncode == 0 and out(p) == "OK\n", out(p) + err(p)
        for n in cluster.nodes:
            p = cli(n, "GET", key)
            assert p.returncode == 0 and out(p) == "hello world\n", (n.name, out(p) + err(p))
        p = cli(cluster_node, "--no-raw", "GET", "clic:missing")
        assert out(p) == "(nil)\n"

    def test_mset_mget_del_exists(self, cluster, cluster_node):
        k = ["clic:%s:m%d" % (cluster_node.name, i) for i in range(3)]
        p = cli(cluster_node, "MSET", k[0], "a", k[1], "b", k[2], "c")
        assert out(p) == "OK\n", out(p) + err(p)
        for n in others(cluster, cluster_node):
            p = cli(n, "--no-raw", "MGET", k[0], "clic:missing", k[1], k[2])
            assert out(p) == '1) "a"\n2) (nil)\n3) "b"\n4) "c"\n', (n.name, out(p))
            assert out(cli(n, "--no-raw", "EXISTS", *k, "clic:missing")) == "(integer) 3\n"
        assert out(cli(cluster_node, "--no-raw", "DEL", k[0], k[1])) == "(integer) 2\n"
        for n in cluster.nodes:
            assert out(cli(n, "--no-raw", "MGET", k[0], k[2])) == '1) (nil)\n2) "c"\n', n.name

    def test_error_reply(self, cluster_node):
        p = cli(cluster_node, "-e", "NOSUCHCOMMAND", "x")
        assert p.returncode != 0
        assert "unknown command" in out(p) + err(p)
        p = cli(cluster_node, "-e", "GET")
        assert p.returncode != 0
        assert "wrong number of arguments" in out(p) + err(p)

    def test_large_value_from_stdin(self, cluster, cluster_node):
        """-x reads the last argument from stdin: a 1 MB value, read back
        through the other nodes byte for byte."""
        key = "clic:%s:large" % cluster_node.name
        value = random.Random(7).randbytes(1 << 19).hex().encode()
        p = cli(cluster_node, "-x", "SET", key, input=value)
        assert p.returncode == 0 and out(p) == "OK\n", out(p) + err(p)
        for n in others(cluster, cluster_node):
            p = cli(n, "GET", key)
            assert p.returncode == 0 and p.stdout == value + b"\n", (n.name, len(p.stdout))


# ---- RESP3 ------------------------------------------------------------------

def test_resp3_hello_map(cluster_node):
    """redis-cli -3 sends HELLO 3; map replies then show as RESP3 maps."""
    p = cli(cluster_node, "-3", "--no-raw", "HELLO", "3")
    assert p.returncode == 0, out(p) + err(p)
    text = out(p)
    assert re.search(r'^1# "server" => "\S+"$', text, re.M), text
    assert re.search(r'^\d+# "proto" => \(integer\) 3$', text, re.M), text
    assert re.search(r'^\d+# "version" => "[\d.]+"$', text, re.M), text


def test_resp3_config_get_is_a_map(cluster_node):
    port = cluster_node.port
    p = cli(cluster_node, "-3", "--no-raw", "CONFIG", "GET", "port")
    assert out(p) == '1# "port" => "%d"\n' % port, out(p) + err(p)
    # the same in RESP2 is a flat array
    p = cli(cluster_node, "--no-raw", "CONFIG", "GET", "port")
    assert out(p) == '1) "port"\n2) "%d"\n' % port, out(p) + err(p)


def test_resp3_null_and_integer(cluster_node):
    assert out(cli(cluster_node, "-3", "--no-raw", "GET", "clic:resp3-missing")) == "(nil)\n"
    assert out(cli(cluster_node, "-3", "--no-raw", "EXISTS", "clic:resp3-missing")) \
        == "(integer) 0\n"


# ---- repeats ----------------------------------------------------------------

def test_repeat_incr(cluster):
    """redis-cli -r 100 INCR: 100 increments, 1..100, and 100 seen by every node."""
    n1 = cluster.nodes[0]
    key = "clic:counter"
    p = cli(n1, "-r", "100", "INCR", key)
    assert p.returncode == 0, out(p) + err(p)
    assert out(p).split() == [str(i) for i in range(1, 101)], out(p) + err(p)
    for n in cluster.nodes:
        assert out(cli(n, "GET", key)) == "100\n", n.name


# ---- mass insertion and scanning --------------------------------------------

def _resp_set(key, value):
    return b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value)


def pipe_key(i):
    return b"pipe:%d" % i


def pipe_value(i):
    return b"value-%d" % i


@pytest.fixture(scope="module")
def piped(cluster):
    """redis-cli --pipe of PIPE_KEYS SET commands into n1: (completed
    process, the keys)."""
    data = b"".join(_resp_set(pipe_key(i), pipe_value(i)) for i in range(PIPE_KEYS))
    p = cli(cluster.nodes[0], "--pipe", input=data, timeout=120)
    return p, {pipe_key(i).decode() for i in range(PIPE_KEYS)}


def test_pipe_mass_insertion(cluster, piped):
    p, _ = piped
    text = out(p) + err(p)
    assert p.returncode == 0, text
    assert "errors: 0, replies: %d" % PIPE_KEYS in text, text
    # a sample reads back through the other nodes
    sample = random.Random(1).sample(range(PIPE_KEYS), 500)
    for n in cluster.nodes[1:]:
        c = n.client()
        try:
            got = c.mget([pipe_key(i) for i in sample])
        finally:
            c.close()
        bad = [(i, v) for i, v in zip(sample, got) if v != pipe_value(i)]
        assert not bad, "%s: %d of %d sampled keys wrong, e.g. %r" % (n.name, len(bad),
                                                                     len(sample), bad[:5])


def test_scan_lists_exactly_the_piped_keys(cluster, cluster_node, piped):
    """--scan --pattern 'pipe:*' through any node: every inserted key, once.
    (The node gathers the keys of the whole cluster; a key is reported by
    the first node of its preference list, whose replica of a write may land
    a little after the W=2 reply, so this polls until the listing is
    complete.)"""
    _, keys = piped
    last = {}

    def listed():
        p = cli(cluster_node, "--scan", "--pattern", "pipe:*", timeout=60)
        if p.returncode != 0:  # an error reply is final: no point in polling
            pytest.fail("redis-cli --scan exited %d: %s" % (p.returncode, (out(p) + err(p))[:500]),
                        pytrace=False)
        lines = out(p).splitlines()
        last.update(rc=p.returncode, stderr=err(p), n=len(lines), lines=lines)
        return len(lines) == len(keys) and set(lines) == keys

    try:
        harness.wait_until(listed, timeout=10, msg="--scan listing every pipe:* key once")
    except AssertionError as e:
        lines = last.get("lines", [])
        seen = set(lines)
        raise AssertionError(
            "%s: rc=%s, %d lines, %d distinct, %d duplicates, %d missing (e.g. %s), "
            "%d unexpected (e.g. %s); stderr: %s" % (
                e, last.get("rc"), len(lines), len(seen), len(lines) - len(seen),
                len(keys - seen), sorted(keys - seen)[:3], len(seen - keys),
                sorted(seen - keys)[:3], last.get("stderr", "")[:500])) from None


# ---- redis-benchmark --------------------------------------------------------

def test_redis_benchmark(cluster):
    node = cluster.nodes[1]
    p = subprocess.run([REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(node.port),
                        "-t", "set,get,incr,mset", "-n", "20000", "-P", "16", "-q"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    text = out(p) + err(p)
    assert p.returncode == 0, text
    assert "WARNING" not in text, text
    assert "ERR" not in text, text
    for name in ("SET", "GET", "INCR", r"MSET \(10 keys\)"):
        assert re.search(r"%s: [\d.]+ requests per second" % name, text), (name, text)


def test_keys_lists_exactly_the_piped_keys(cluster, piped):
    """KEYS 'pipe:*' through one node: the same keys, once each."""
    _, keys = piped
    last = {}

    def listed():
        p = cli(cluster.nodes[2], "KEYS", "pipe:*", timeout=60)
        if p.returncode != 0 or out(p).startswith("ERR"):
            pytest.fail("redis-cli KEYS failed (%d): %s" % (p.returncode, (out(p) + err(p))[:500]),
                        pytrace=False)
        lines = out(p).splitlines()
        last["lines"] = lines
        return len(lines) == len(keys) and set(lines) == keys

    try:
        harness.wait_until(listed, timeout=10, msg="KEYS listing every pipe:* key once")
    except AssertionError as e:
        lines = last.get("lines", [])
        raise AssertionError("%s: %d lines, %d distinct, %d missing, %d unexpected" % (
            e, len(lines), len(set(lines)), len(keys - set(lines)), len(set(lines) - keys))) \
            from None

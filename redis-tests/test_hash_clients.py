"""The hash commands through real clients on the session's 3-node cluster
(N=3 W=2 R=2): node-redis (`node redis-tests/node/hash.mjs <node> <others>`
must exit 0; it writes through one node and reads through all three),
redis-cli (replies as it prints them), and redis-py through each node.

Run: /usr/bin/python3 -m pytest -q -p no:cacheprovider redis-tests/test_hash_clients.py
"""
import os
import shutil
import subprocess

import pytest
import redis

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, "node")
NODE = shutil.which("node")
REDIS_CLI = shutil.which("redis-cli")


def test_node_redis_hashes(cluster, cluster_node):
    if not NODE or not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "redis")):
        pytest.fail("node or the npm package redis is missing; run ./deps/install.sh",
                    pytrace=False)
    others = [cluster.addr(n) for n in cluster.nodes if n is not cluster_node]
    p = subprocess.run([NODE, os.path.join(NODE_DIR, "hash.mjs"), cluster.addr(cluster_node)]
                       + others, stdin=subprocess.DEVNULL, capture_output=True, timeout=90,
                       cwd=NODE_DIR)
    text = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0, "node hash.mjs against %s exited %d:\n%s" % (
        cluster_node.name, p.returncode, text)


def cli(node, *args):
    p = subprocess.run([REDIS_CLI, "-p", str(node.port), *args], capture_output=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    return p.stdout.decode()


@pytest.mark.skipif(not REDIS_CLI, reason="redis-tools not installed")
def test_redis_cli_hashes(cluster):
    a, b, c = cluster.nodes
    key = "cli:hash"
    assert cli(a, "HSET", key, "f1", "v1", "f2", "v2") == "2\n"
    assert cli(b, "HGET", key, "f1") == "v1\n"
    assert cli(c, "HINCRBY", key, "n", "41") == "41\n"
    assert cli(a, "HINCRBYFLOAT", key, "n", "0.5") == "41.5\n"
    assert sorted(cli(b, "HKEYS", key).split()) == ["f1", "f2", "n"]
    assert cli(c, "VHGET", key, "n") == "\n41.5\n"  # [[], "41.5"]: no register
    assert cli(a, "HGET", key, "nope") == "\n"
    assert cli(b, "HLEN", key) == "3\n"
    assert cli(c, "HSET", key, "odd").strip() == \
        "ERR wrong number of arguments for 'hset' command"
    assert cli(a, "DEL", key) == "1\n"
    assert cli(b, "EXISTS", key) == "0\n"


def test_redis_py_hashes_through_each_node(cluster, cluster_node):
    r = redis.Redis(port=cluster_node.port, decode_responses=True)
    key = "py:hash:%s" % cluster_node.name
    try:
        assert r.hset(key, mapping={"a": "1", "b": "2"}) == 2
        for i, n in enumerate(cluster.nodes):
            other = redis.Redis(port=n.port, decode_responses=True)
            try:
                want = {"a": "1", "b": "2"}
                if i:
                    want["ctr"] = str(i)
                assert other.hgetall(key) == want
                assert other.hincrby(key, "ctr", 1) == i + 1
            finally:
                other.close()
        assert r.hget(key, "ctr") == "3"
        assert r.delete(key) == 1
    finally:
        r.close()

"""The set commands (src/cmd/cmd_set.c) through cluster-aware clients on the
session's 3-node cluster (conftest.py `cluster`, N=3 W=2 R=2): redis-py
RedisCluster, node-redis createCluster (redis-tests/node/sets.mjs) and
redis-cli -c.  Keys are spread over every coordinator; multi-key commands
use keys of one hash tag, as cluster clients require."""
import os
import shutil
import subprocess

import pytest
from redis.cluster import RedisCluster

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, "node")
NODE = shutil.which("node")
REDIS_CLI = shutil.which("redis-cli")


def test_redis_py_cluster_sets(cluster):
    rc = RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port, decode_responses=True,
                      socket_timeout=10)
    try:
        for i in range(50):
            k = "rpset:%d" % i
            rc.delete(k)
            assert rc.sadd(k, "a", "b", "m%d" % i) == 3
            assert rc.smembers(k) == {"a", "b", "m%d" % i}
            assert rc.sismember(k, "b")
            assert rc.srem(k, "b") == 1
            assert rc.scard(k) == 2
            assert rc.spop(k) in {"a", "m%d" % i}
        a, b, d = "{rpt}a", "{rpt}b", "{rpt}d"
        rc.delete(a, b, d)
        rc.sadd(a, *"1234")
        rc.sadd(b, *"345")
        assert rc.smove(a, b, "1")
        assert rc.sinter(a, b) == {"3", "4"}
        assert rc.sunion(a, b) == set("12345")
        assert rc.sdiff(a, b) == {"2"}
        assert rc.sinterstore(d, [a, b]) == 2
        assert rc.smembers(d) == {"3", "4"}
        assert set(rc.sscan_iter(b, count=1)) == {"1", "3", "4", "5"}
    finally:
        rc.close()


def test_redis_cli_cluster_sets(cluster):
    if not REDIS_CLI:
        pytest.fail("redis-cli not found; run ./deps/install.sh", pytrace=False)
    port = str(cluster.nodes[1].port)

    def cli(*args):
        p = subprocess.run([REDIS_CLI, "-c", "-p", port] + list(args), capture_output=True,
                           timeout=30, stdin=subprocess.DEVNULL)
        return p.stdout.decode()

    cli("DEL", "cliset")
    assert cli("SADD", "cliset", "x", "y").strip() == "2"
    assert sorted(cli("SMEMBERS", "cliset").split()) == ["x", "y"]
    assert cli("SCARD", "cliset").strip() == "2"
    assert "WRONGTYPE" in cli("GET", "cliset")


def test_node_redis_cluster_sets(cluster):
    if not NODE:
        pytest.fail("node (Node.js) not found; run ./deps/install.sh", pytrace=False)
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "redis")):
        pytest.fail("npm package redis missing in %s; run ./deps/install.sh" % NODE_DIR,
                    pytrace=False)
    p = subprocess.run([NODE, os.path.join(NODE_DIR, "sets.mjs"), cluster.addr(cluster.nodes[2])],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=90, cwd=NODE_DIR)
    text = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0, text
    assert text.count("ok ") == 3, text

"""node-redis (npm "redis" v4, RESP2) against every node of a real 3-node
cluster: `node redis-tests/node/test.mjs <node> <other nodes>` must exit 0.

The package is installed by deps/install.sh (npm install in redis-tests/node,
pinned by package-lock.json).  What the script checks is listed in test.mjs;
each check prints "ok <name>" or "FAIL <name>: ...".
"""
import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, "node")
SCRIPT = os.path.join(NODE_DIR, "test.mjs")
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def node_redis_installed():
    if not NODE:
        pytest.fail("node (Node.js) not found; run ./deps/install.sh", pytrace=False)
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "redis")):
        pytest.fail("npm package redis missing in %s; run ./deps/install.sh" % NODE_DIR,
                    pytrace=False)


def test_node_redis(node_redis_installed, cluster, cluster_node):
    others = [cluster.addr(n) for n in cluster.nodes if n is not cluster_node]
    p = subprocess.run([NODE, SCRIPT, cluster.addr(cluster_node)] + others,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=90, cwd=NODE_DIR)
    text = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0, "node test.mjs against %s exited %d:\n%s" % (
        cluster_node.name, p.returncode, text)

"""The hiredis C client (redis-tests/hiredis_client.c, built by meson next to
dynamo-node) against every node of a real 3-node cluster (N=3 W=2 R=2).

Each run checks hiredis's sync API (SET/GET/DEL/MGET/MSET/EXISTS/INCR,
binary and large values, error replies, redisAppendCommand/redisGetReply
pipelining) and its async API on libevent (N SETs then N GETs in flight at
once), against one node, reading values back through the other two.
"""
import os
import subprocess

import pytest

import harness

SECTIONS = ["basic", "incr", "pipeline", "errors", "large", "async"]


def client_binary():
    """build*/redis-tests/hiredis_client next to the dynamo-node under test."""
    node_bin = harness.node_binary()
    build_dir = os.path.dirname(os.path.dirname(os.path.abspath(node_bin)))
    return os.path.join(build_dir, "redis-tests", "hiredis_client")


@pytest.fixture(scope="module")
def hiredis_client():
    path = client_binary()
    if not os.access(path, os.X_OK):
        pytest.fail("hiredis_client not built: %s (run ./scripts/build.sh)" % path,
                    pytrace=False)
    return path


def run_client(binary, cluster, target, sections=None, timeout=60):
    others = [cluster.addr(n) for n in cluster.nodes if n is not target]
    argv = [binary] + (["-s", ",".join(sections)] if sections else []) + \
        [cluster.addr(target)] + others
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


@pytest.mark.parametrize("section", SECTIONS)
def test_hiredis_client(hiredis_client, cluster, cluster_node, section):
    rc, text = run_client(hiredis_client, cluster, cluster_node, [section])
    assert rc == 0, "hiredis_client -s %s against %s (exit %d):\n%s" % (
        section, cluster_node.name, rc, text)
    assert ("ok %s\n" % section) in text, text


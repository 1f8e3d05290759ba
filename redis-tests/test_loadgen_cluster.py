"""The benchmark's cluster-aware load generator (redis-tests/loadgen.c -C,
used by bench.py --only cluster) routes like a cluster client: it reads
CLUSTER SLOTS once and sends every key to its slot's master, so on a real
3-node cluster no node forwards a single request (INFO forwarded_requests
stays put on every node), and the writes are really there afterwards.
Without -C the same run does get forwarded, which is what the figure of the
benchmark's cluster-aware rows rests on.
"""
import os
import re
import subprocess

import pytest

import harness

KEYS = 40           # loadgen writes key:000000000000 .. key:000000000039
OPS = 3000          # each key is picked ~75 times: every one gets written


def loadgen_binary():
    """build*/redis-tests/loadgen next to the dynamo-node under test."""
    build_dir = os.path.dirname(os.path.dirname(os.path.abspath(harness.node_binary())))
    return os.path.join(build_dir, "redis-tests", "loadgen")


@pytest.fixture(scope="module")
def loadgen():
    path = loadgen_binary()
    if not os.access(path, os.X_OK):
        pytest.fail("loadgen not built: %s (run ./scripts/build.sh)" % path, pytrace=False)
    return path


def forwarded_all(nodes):
    out = {}
    for n in nodes:
        c = n.client(decode_responses=True)
        try:
            out[n.name] = int(c.info("cluster")["forwarded_requests"])
        finally:
            c.close()
    return out


def run(loadgen, servers, *extra):
    p = subprocess.run([loadgen, "-s", ",".join(servers), "-c", "8", "-n", str(OPS),
                        "-r", str(KEYS), "-d", "16", *extra],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, "loadgen %s: exit %d\n%s%s" % (extra, p.returncode, p.stdout,
                                                              p.stderr)
    fields = dict(kv.split("=", 1) for kv in p.stdout.split())
    assert fields["ops"] == str(OPS) and fields["errors"] == "0", p.stdout
    return fields


def test_loadgen_cluster_mode_sends_each_key_to_its_master(loadgen, cluster):
    # given one node only, -C finds all three masters through CLUSTER SLOTS
    before = forwarded_all(cluster.nodes)
    out = run(loadgen, [cluster.addr(cluster.nodes[1])], "-C", "-t", "set")
    assert out["servers"] == "3", out
    assert forwarded_all(cluster.nodes) == before
    c = cluster.nodes[2].client()
    try:
        for i in range(KEYS):
            assert c.get("key:%012d" % i) == b"x" * 16, i
    finally:
        c.close()
    out = run(loadgen, [cluster.addr(cluster.nodes[0])], "-C", "-t", "get")
    assert out["servers"] == "3", out
    assert forwarded_all(cluster.nodes) == before


def test_loadgen_any_node_mode_is_forwarded(loadgen, cluster):
    """The contrast: spreading the same SETs over the nodes without -C makes
    the nodes that do not coordinate a key forward it."""
    before = forwarded_all(cluster.nodes)
    out = run(loadgen, cluster.addrs(), "-t", "set")
    assert out["servers"] == "3", out
    after = forwarded_all(cluster.nodes)
    assert sum(after.values()) > sum(before.values()), (before, after)


def test_loadgen_reports_percentiles(loadgen, cluster):
    out = run(loadgen, [cluster.addr(cluster.nodes[0])], "-C", "-t", "get")
    for f in ("ops_per_sec", "p50_us", "p99_us", "p999_us"):
        assert re.fullmatch(r"\d+", out[f]), out
    assert int(out["p50_us"]) <= int(out["p99_us"]) <= int(out["p999_us"]), out

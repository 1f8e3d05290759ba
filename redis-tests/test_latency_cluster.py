"""Latency on a real 3-node cluster (issue 15), through redis-py: a write
that waits on replicas is timed until its reply (not until its handler
returned), per-peer replica round trips appear in INFO cluster, and
LATENCY HISTOGRAM / INFO latencystats agree with the slow log.

A cluster of its own (put-timeout 400 ms) so that pausing a node cannot
disturb the session cluster's other tests; nodes are paused and resumed by
PID, nothing sleeps a fixed time.
"""
import time

import pytest
import redis

import harness
from conftest import LocalCluster

PUT_TIMEOUT_MS = 400


@pytest.fixture(scope="module")
def lc():
    c = LocalCluster(settings={"put-timeout": PUT_TIMEOUT_MS}).start()
    yield c
    problems = c.stop()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def test_peer_round_trips_in_info_cluster(lc):
    """Requests n1 sends on its data channel (replica reads and writes of
    the keys it coordinates, liveness probes) are counted per peer."""
    r = lc.nodes[0].client(decode_responses=True)
    before = r.info("cluster")
    for i in range(200):
        r.set("rtt:%d" % i, "v")
    info = r.info("cluster")
    for peer in ("n2", "n3"):
        p = info["peer_rtt_usec_%s" % peer]
        # N=3: n1 coordinates about a third of the keys, each written to
        # both peers (its pre-read asks them too)
        assert p["count"] >= before.get("peer_rtt_usec_%s" % peer, {}).get("count", 0) + 40
        assert 0 < p["p50"] <= p["p99"] <= p["p99.9"]
    assert "peer_rtt_usec_n1" not in info  # not itself
    r.close()


def test_deferred_write_is_timed_until_its_reply(lc):
    """VPUT ... W 3 with n3 stopped waits put-timeout for n3, then answers
    NOQUORUM: its recorded latency covers that wait."""
    r = lc.nodes[0].client(decode_responses=True)
    r.config_set("slowlog-log-slower-than", "0")
    r.execute_command("SLOWLOG", "RESET")
    r.execute_command("CONFIG", "RESETSTAT")
    n3 = lc.nodes[2]
    n3.pause()
    try:
        t0 = time.monotonic()
        with pytest.raises(redis.ResponseError, match="NOQUORUM"):
            r.execute_command("VPUT", "deferred:k", "", "v", "W", "3")
        client_us = (time.monotonic() - t0) * 1e6
    finally:
        n3.resume()
    entries = r.execute_command("SLOWLOG", "GET", "-1")
    vput = [e for e in entries if e[3][:1] == ["VPUT"]]
    assert len(vput) == 1
    _, _, dur_us, args, addr, _ = vput[0]
    assert args == ["VPUT", "deferred:k", "", "v", "W", "3"]
    assert PUT_TIMEOUT_MS * 1000 <= dur_us <= client_us
    p = r.info("latencystats")["latency_percentiles_usec_vput"]
    assert p["p50"] >= PUT_TIMEOUT_MS * 1000  # the only call
    raw = r.execute_command("LATENCY", "HISTOGRAM", "vput")
    assert raw[0] == "vput" and raw[1][1] == 1
    hist = raw[1][3]
    # one call, in the bucket whose bound is above put-timeout
    assert len(hist) == 2 and hist[1] == 1 and hist[0] * 1.024 >= PUT_TIMEOUT_MS * 1000
    r.config_set("slowlog-log-slower-than", "10000")
    harness.wait_until(lc.linked, timeout=15, msg="n3 linked again after SIGCONT")
    r.close()

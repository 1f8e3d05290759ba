"""Cluster behaviour through real dynamo-node processes (tests/cluster/run.sh).

Every test starts its own 3-node cluster n1..n3 on 127.0.0.11..13 with
N=3 W=2 R=2 and short put/get timeouts, so a wait on a dead replica costs
about a second.  Waits poll against deadlines (wait_for); time bounds on
replies are asserted with explicit slack.
"""
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

import cluster_harness
import peer_handshake
from cluster_harness import CLIENT_PORT, host_of, wait_for

PUT_MS = 1000
GET_MS = 1000
SETTINGS = {"put-timeout": PUT_MS, "get-timeout": GET_MS}
SLACK = 0.75          # seconds allowed on top of a timeout for scheduling/IO
FAST = 0.5            # seconds: a request that should not wait on any timeout
SUSPECT_WITHIN = 5.0  # probe every 0.5 s, 1 s probe timeout, plus margin
RELINK_WITHIN = 15.0  # after heal/resume: TCP retransmission back-off + reconnect


def start3(cluster, **settings):
    return cluster.start(3, dict(SETTINGS, **settings))


def timed(fn, *args):
    """(result, exception, seconds)."""
    t0 = time.monotonic()
    try:
        return fn(*args), None, time.monotonic() - t0
    except Exception as e:  # noqa: BLE001 - returned to the caller
        return None, e, time.monotonic() - t0


def keys_for_each_coordinator(cluster, per_node, prefix):
    keys = []
    for name in cluster.names():
        keys += cluster.keys_coordinated_by(name, per_node, prefix=prefix)
    return keys


def assert_noquorum(exc, what):
    assert isinstance(exc, redis.ResponseError), "%s: expected -NOQUORUM, got %r" % (what, exc)
    assert str(exc).startswith("NOQUORUM"), "%s: expected -NOQUORUM, got %r" % (what, str(exc))


def clock_entries(line):
    """'value len=1 [n1.17:2@99, n1.17.3:1@98]' -> [('n1.17', 2), ('n1.17.3', 1)]."""
    m = re.search(r"\[(.*)\]\s*$", line)
    assert m, "unreadable VCLOCK line %r" % line
    out = []
    for part in filter(None, (p.strip() for p in m.group(1).split(","))):
        em = re.fullmatch(r"(\S+):(\d+)@(\d+)", part)
        assert em, "unreadable clock entry %r in %r" % (part, line)
        out.append((em.group(1), int(em.group(2))))
    return out


def write_round(cluster, via, keys, value, limit):
    """SET every key through every node in via; each must answer OK within
    limit seconds.  Returns a list of failures (empty = all fine)."""
    bad = []
    for k in keys:
        for i in via:
            res, exc, dt = timed(cluster.client(i).set, k, value)
            if exc is not None or res is not True or dt > limit:
                bad.append("SET %s via n%d: %r %r after %.2fs" % (k, i, res, exc, dt))
    return bad


def ping_while(cluster, i, fn):
    """Runs fn() in a thread while a second connection to node i PINGs it in
    a loop.  Returns (fn's result, fn's exception, fn's seconds, slowest PING
    in seconds, number of PINGs)."""
    box = {}

    def run():
        box["r"] = timed(fn)

    pinger = cluster.new_client(i, timeout=5.0)
    pinger.ping()
    th = threading.Thread(target=run)
    th.start()
    slowest, count = 0.0, 0
    while th.is_alive():
        t0 = time.monotonic()
        assert pinger.ping() is True
        slowest = max(slowest, time.monotonic() - t0)
        count += 1
        th.join(0.02)
    th.join()
    res, exc, dt = box["r"]
    return res, exc, dt, slowest, count


# ---------------------------------------------------------------------------
# replication and versions


def test_write_through_one_node_read_through_the_others(cluster):
    start3(cluster)
    keys = keys_for_each_coordinator(cluster, 2, "rw")
    for j, k in enumerate(keys):
        assert cluster.client(1).set(k, "v%d" % j) is True
    for j, k in enumerate(keys):
        for i in (2, 3):
            assert cluster.client(i).get(k) == "v%d" % j, (k, i)
    assert cluster.client(2).mget(keys) == ["v%d" % j for j in range(len(keys))]
    cluster.wait_for_convergence([1, 2, 3], keys)


def test_sequential_sets_through_different_nodes_supersede(cluster):
    start3(cluster)
    keys = keys_for_each_coordinator(cluster, 1, "seq")
    for k in keys:
        for rnd in range(2):
            for i in (1, 2, 3):
                assert cluster.client(i).set(k, "%s-r%d-n%d" % (k, rnd, i)) is True
    states = cluster.wait_for_convergence([1, 2, 3], keys)
    for k in keys:
        last = "%s-r1-n3" % k
        assert states[k][1] == [last], states[k]
        for i in (1, 2, 3):
            ctx, vals = cluster.vget(i, k)
            assert vals == [last], (k, i, vals)
            assert cluster.client(i).get(k) == last
            lines = cluster.client(i).execute_command("VCLOCK", k)
            assert len(lines) == 1, "one sibling expected for %s via n%d: %r" % (k, i, lines)


def test_concurrent_blind_vputs_become_siblings_on_every_node(cluster):
    start3(cluster)
    keys = keys_for_each_coordinator(cluster, 1, "sib")
    for k in keys:
        vals = {i: "%s-from-n%d" % (k, i) for i in (1, 2, 3)}
        with ThreadPoolExecutor(3) as ex:
            futs = [ex.submit(cluster.client(i).execute_command, "VPUT", k, "", vals[i])
                    for i in (1, 2, 3)]
            ctxs = [f.result() for f in futs]
        # One coordinator stamps all three: the first on an empty key gets
        # a context naming its dot; the others' dots skip counters they did
        # not see, so their contexts leave the dot out and are empty (DVV,
        # issue 11).
        assert all(isinstance(c, str) for c in ctxs), ctxs
        assert any(ctxs), ctxs
        want = sorted(vals.values())
        for i in (1, 2, 3):
            got = cluster.vget(i, k)
            assert got is not None and got[1] == want, "VGET %s via n%d: %r" % (k, i, got)
            with pytest.raises(redis.ResponseError, match="3 siblings"):
                cluster.client(i).get(k)
            assert len(cluster.client(i).execute_command("VCLOCK", k)) == 3
        states = cluster.wait_for_convergence([1, 2, 3], [k])
        assert states[k][1] == want
        # Resolving with the merged context leaves one value everywhere.
        ctx = states[k][0]
        assert cluster.client(2).execute_command("VPUT", k, ctx, "merged")
        for i in (1, 2, 3):
            assert cluster.client(i).get(k) == "merged"
        cluster.wait_for_convergence([1, 2, 3], [k])


def test_writes_are_forwarded_to_the_coordinator(cluster):
    start3(cluster)
    keys = ["fwd-%d" % j for j in range(12)]
    coord = {}
    for k in keys:
        views = [cluster.preflist(k, via=i) for i in (1, 2, 3)]
        assert views[0] == views[1] == views[2], "nodes disagree on PREFLIST %s: %r" % (k, views)
        assert len(views[0]) == 3 and views[0][0][1], views[0]
        coord[k] = views[0][0][0]
    assert set(coord.values()) == {"n1", "n2", "n3"}, coord
    before = {i: cluster.info_cluster(i)["forwarded_requests"] for i in (1, 2, 3)}
    rounds = 2
    expected = {1: 0, 2: 0, 3: 0}
    for rnd in range(rounds):
        for i in (1, 2, 3):
            for k in keys:
                assert cluster.client(i).set(k, "%s-%d-%d" % (k, rnd, i)) is True
                if coord[k] != "n%d" % i:
                    expected[i] += 1
    for k in keys:
        lines = cluster.client(1).execute_command("VCLOCK", k)
        assert len(lines) == 1, (k, lines)
        entries = clock_entries(lines[0])
        actors = {a for a, _ in entries}
        assert len(actors) == 1 and re.fullmatch(re.escape(coord[k]) + r"\.\d+", actors.pop()), \
            "%s: clock %r should hold only coordinator %s's actor" % (k, lines[0], coord[k])
        assert entries[0][1] == rounds * 3, "%s: %d SETs, counter %r" % (k, rounds * 3, lines)
        assert cluster.client(2).get(k) == "%s-%d-3" % (k, rounds - 1)
    after = {i: cluster.info_cluster(i)["forwarded_requests"] for i in (1, 2, 3)}
    for i in (1, 2, 3):
        assert after[i] - before[i] == expected[i], \
            "n%d forwarded %d, expected %d" % (i, after[i] - before[i], expected[i])
        assert expected[i] > 0


# ---------------------------------------------------------------------------
# node failures and quorum


def test_kill_one_node_quorum_still_met(cluster):
    start3(cluster)
    keys = keys_for_each_coordinator(cluster, 2, "k1")
    cluster.kill(3)
    cluster.wait_link_state([1, 2], 3, ("down", "connecting"))
    assert write_round(cluster, (1, 2), keys, "while-n3-dead", PUT_MS / 1000) == []
    for k in keys:
        for i in (1, 2):
            res, exc, dt = timed(cluster.client(i).get, k)
            assert exc is None and res == "while-n3-dead" and dt <= GET_MS / 1000, (k, i, res,
                                                                                     exc, dt)
    # n3 comes back empty: reads through it still see the writes (R=2 from
    # n1/n2), writes through it work.
    cluster.restart(3)
    for k in keys:
        assert cluster.client(3).get(k) == "while-n3-dead"
    assert write_round(cluster, (3,), keys, "after-restart", PUT_MS / 1000) == []
    for k in keys:
        assert cluster.client(1).get(k) == "after-restart"


def test_kill_two_nodes_noquorum_in_time_then_w1_and_r1(cluster):
    start3(cluster)
    keys = keys_for_each_coordinator(cluster, 1, "k2")
    for k in keys:
        assert cluster.client(1).set(k, "before")
    q0 = cluster.info_cluster(1)["quorum_failures"]
    cluster.kill(2)
    cluster.kill(3)
    cluster.wait_link_state([1], 2, ("down", "connecting"))
    cluster.wait_link_state([1], 3, ("down", "connecting"))
    for k in keys:
        res, exc, dt, slowest, _ = ping_while(cluster, 1,
                                              lambda k=k: cluster.client(1).set(k, "lost"))
        assert_noquorum(exc, "SET %s with 2 of 3 nodes dead" % k)
        assert dt <= PUT_MS / 1000 + SLACK, "NOQUORUM took %.2fs" % dt
        assert slowest < FAST, "PING took %.2fs while a write waited" % slowest
        res, exc, dt = timed(cluster.client(1).get, k)
        assert_noquorum(exc, "GET %s (R=2) with 2 of 3 nodes dead" % k)
        assert dt <= GET_MS / 1000 + SLACK
    assert cluster.info_cluster(1)["quorum_failures"] >= q0 + 2 * len(keys)
    # W=1: writes succeed at once on the survivor alone.
    assert cluster.client(1).config_set("w", 1) is True
    for k in keys:
        res, exc, dt = timed(cluster.client(1).set, k, "w1")
        assert exc is None and res is True, exc
        assert dt < FAST, "SET with W=1 took %.2fs" % dt
    assert_noquorum(timed(cluster.client(1).get, keys[0])[1], "GET with R=2")
    assert cluster.client(1).config_set("r", 1) is True
    for k in keys:
        assert cluster.client(1).get(k) == "w1"
    assert cluster.client(1).ping() is True


def test_config_set_quorum_settings(cluster):
    start3(cluster)
    r = cluster.client(1)
    for name, value, words in (("w", 4, "must be between 1 and n"),
                               ("r", 4, "must be between 1 and n"),
                               ("w", 0, "out of range"),
                               ("n", 4, "must not exceed the number of nodes")):
        with pytest.raises(redis.ResponseError, match=words):
            r.config_set(name, value)
    assert r.config_get("w") == {"w": "2"} and r.config_get("n") == {"n": "3"}
    assert r.config_set("r", 1) is True
    assert r.config_get("r") == {"r": "1"}
    assert r.info("cluster")["r"] == 1
    assert r.config_set("n", 2) is True
    assert r.config_get("n") == {"n": "2"}
    info = r.info("cluster")
    assert (info["n"], info["w"], info["r"]) == (2, 2, 1)
    assert len(cluster.preflist("cfg-key", via=1)) == 2
    with pytest.raises(redis.ResponseError, match="must be between 1 and n"):
        r.config_set("w", 3)
    # the other nodes keep their own settings
    assert cluster.client(2).config_get("n") == {"n": "3"}
    assert r.set("cfg-key", "x") is True and r.get("cfg-key") == "x"
    assert r.config_set("n", 3) is True and r.info("cluster")["n"] == 3


# ---------------------------------------------------------------------------
# partitions and pauses


def test_isolated_node_does_not_fail_the_majority(cluster, nft):
    start3(cluster)
    keys = keys_for_each_coordinator(cluster, 2, "iso")
    cluster.isolate(3)
    cluster.wait_link_state([1, 2], 3, "suspect", timeout=SUSPECT_WITHIN)
    assert write_round(cluster, (1, 2), keys, "majority", PUT_MS / 1000) == []
    for k in keys:
        for i in (1, 2):
            res, exc, dt = timed(cluster.client(i).execute_command, "VGET", k)
            assert exc is None and res[1] == ["majority"] and dt <= GET_MS / 1000, \
                (k, i, res, exc, dt)
    # The isolated node alone cannot meet W=2 and says so in time.
    cluster.wait_link_state([3], 1, "suspect", timeout=SUSPECT_WITHIN)
    cluster.wait_link_state([3], 2, "suspect", timeout=SUSPECT_WITHIN)
    res, exc, dt = timed(cluster.client(3).set, keys[0], "minority")
    assert_noquorum(exc, "SET through the isolated node")
    assert dt <= PUT_MS / 1000 + SLACK, "NOQUORUM took %.2fs" % dt
    cluster.heal()
    cluster.wait_linked(timeout=RELINK_WITHIN)
    assert write_round(cluster, (3,), keys, "healed", PUT_MS / 1000) == []
    for k in keys:
        assert cluster.client(1).get(k) == "healed"


@pytest.mark.parametrize("direction", ["into_n3", "out_of_n3"])
def test_oneway_cut_majority_keeps_writing(cluster, nft, direction):
    """into_n3: n1 and n2 cannot open connections to n3 (nor send on the ones
    they opened); out_of_n3: n3 cannot do so towards n1 and n2.  Either way
    n1 and n2 still reach each other, so W=2 writes through them must
    succeed once failure detection has reacted."""
    start3(cluster)
    keys = keys_for_each_coordinator(cluster, 1, "ow")
    for other in (1, 2):
        if direction == "into_n3":
            cluster.partition(other, 3, oneway=True)
        else:
            cluster.partition(3, other, oneway=True)
    limit = PUT_MS / 1000 + SLACK
    wait_for(lambda: write_round(cluster, (1, 2), keys, "cut", limit) == [],
             timeout=SUSPECT_WITHIN + 2 * PUT_MS / 1000,
             msg="a full round of W=2 writes through n1/n2 succeeding (%s)" % direction)
    failures = write_round(cluster, (1, 2), keys, "cut-again", limit)
    assert failures == [], "writes through n1/n2 failed with n3 cut one way (%s):\n%s" % (
        direction, "\n".join(failures))
    # One client wrote each key in sequence: every replica must hold that
    # last value only.  R 3 through a node that can reach all three.
    reader = 3 if direction == "into_n3" else 1
    for k in keys:
        assert cluster.vget(reader, k, r=3)[1] == ["cut-again"], \
            "%s after sequential SETs, all replicas (VGET R 3 via n%d)" % (k, reader)
        assert cluster.client(1).get(k) == "cut-again"
        assert cluster.client(2).get(k) == "cut-again"
    cluster.heal()
    cluster.wait_linked(timeout=RELINK_WITHIN)
    wait_for(lambda: write_round(cluster, (3,), keys, "healed", limit) == [],
             timeout=RELINK_WITHIN, msg="writes through n3 after heal")
    assert cluster.client(1).get(keys[0]) == "healed"


def test_paused_node_majority_keeps_writing(cluster):
    start3(cluster)
    keys = keys_for_each_coordinator(cluster, 2, "pz")
    cluster.pause(3)
    cluster.wait_link_state([1, 2], 3, "suspect", timeout=SUSPECT_WITHIN)
    assert write_round(cluster, (1, 2), keys, "paused", PUT_MS / 1000) == []
    for k in keys:
        for i in (1, 2):
            res, exc, dt = timed(cluster.client(i).get, k)
            assert exc is None and res == "paused" and dt <= GET_MS / 1000, (k, i, res, exc, dt)
    cluster.resume(3)
    wait_for(lambda: cluster.client(3).ping(), timeout=5, msg="n3 answering PING after SIGCONT")
    cluster.wait_linked(timeout=RELINK_WITHIN)
    wait_for(lambda: write_round(cluster, (3,), keys, "resumed", PUT_MS / 1000) == [],
             timeout=5, msg="writes through n3 after resume")
    for k in keys:
        assert cluster.client(2).get(k) == "resumed"


def test_noquorum_within_put_timeout_when_two_nodes_paused(cluster):
    """A SET through the only running node, for a key whose two first
    preference-list nodes are paused (not yet suspected): the client must get
    NOQUORUM within put-timeout (+ slack), and the node keeps answering
    other connections meanwhile."""
    start3(cluster)
    key = cluster.keys_coordinated_by("n2", 1, prefix="p2", order=["n2", "n3", "n1"])[0]
    cluster.pause(2)
    cluster.pause(3)
    res, exc, dt, slowest, pings = ping_while(cluster, 1,
                                              lambda: cluster.client(1).set(key, "x"))
    assert pings > 0
    assert slowest < FAST, "PING took %.2fs while a write waited" % slowest
    assert_noquorum(exc, "SET with the 2 other nodes paused")
    assert dt <= PUT_MS / 1000 + SLACK, \
        "NOQUORUM came after %.2fs, put-timeout is %.1fs" % (dt, PUT_MS / 1000)


def test_forward_that_timed_out_is_not_replayed_later(cluster):
    """SET k old through n1 while k's coordinator n3 is paused (n1 forwards and
    times out: NOQUORUM, outcome unknown), then SET k new.  After n3 resumes, every node must
    read 'new': the forwarded request n3 finds in its socket must not turn
    into a write that resurrects 'old' or makes it a sibling."""
    start3(cluster)
    keys = cluster.keys_coordinated_by("n3", 2, prefix="replay")
    cluster.pause(3)
    with ThreadPoolExecutor(len(keys)) as ex:  # all forwarded before n3 is suspected
        results = list(ex.map(lambda k: timed(cluster.client(1, timeout=15.0).set, k, "old"),
                              keys))
    # A forward that timed out is not failed over (the coordinator may be slow,
    # not gone): the client learns the outcome is unknown (NOQUORUM).
    for k, (res, exc, dt) in zip(keys, results):
        assert (exc is None and res is True) or "NOQUORUM" in str(exc), (k, exc)
    cluster.wait_link_state([1, 2], 3, "suspect", timeout=SUSPECT_WITHIN)
    for k in keys:
        assert cluster.client(1).set(k, "new") is True
        assert cluster.client(2).get(k) == "new"
    cluster.resume(3)
    cluster.wait_linked(timeout=RELINK_WITHIN)
    states = cluster.wait_for_convergence([1, 2, 3], keys)
    wrong = {k: s for k, s in states.items() if s is None or s[1] != ["new"]}
    assert not wrong, "after n3 resumed, keys last SET to 'new' read as %r" % (
        {k: s[1] if s else None for k, s in wrong.items()},)
    for k in keys:
        for i in (1, 2, 3):
            assert cluster.client(i).get(k) == "new"


# ---------------------------------------------------------------------------
# the cluster port


def test_peer_commands_are_unknown_on_the_client_port(cluster):
    start3(cluster)
    with cluster.raw(1) as c:
        for argv in (("PGET", "k"), ("PPUT", "k", "x"), ("PFWD", "SET", "k", "v"),
                     ("PHELLO", "x" * 32, "n2"), ("PPING",)):
            rep = c.cmd(*argv)
            assert isinstance(rep, cluster_harness.harness.Err), (argv, rep)
            assert rep.startswith("ERR unknown command '%s'" % argv[0]), (argv, rep)
        assert c.cmd("PING") == b"PONG"
    assert cluster.client(1).get("k") is None


def test_cluster_port_requires_the_secret(cluster):
    start3(cluster)
    Err = cluster_harness.harness.Err
    # Since issue 11 a refused command also closes the connection, so each
    # gets its own; the secret is proved by the peer handshake (PHELLO,
    # PPROVE: tests/peer_handshake.py), PAUTH is gone.
    for argv in (("PGET", "k"), ("PPUT", "k", "x"), ("PFWD", "SET", "k", "v"),
                 ("PPING",), ("PAUTH", "s3cret", "n9")):
        with cluster.raw(1, cluster_port=True) as c:
            rep = c.cmd(*argv)
            assert isinstance(rep, Err) and rep.code == "NOAUTH", (argv, rep)
            with pytest.raises((cluster_harness.harness.Closed, ConnectionError)):
                c.cmd("PPING")  # the server closed this connection
    with cluster.raw(1, cluster_port=True) as c:
        with pytest.raises(peer_handshake.HandshakeError) as e:
            peer_handshake.handshake(c, "wrong-secret", "n9", verify=False)
        assert "secret" in str(e.value)
        with pytest.raises((cluster_harness.harness.Closed, ConnectionError)):
            c.cmd("PPING")  # the server closed this connection
    assert cluster.client(1).get("k") is None  # the PFWD SET never ran
    with cluster.raw(1, cluster_port=True) as c:
        assert peer_handshake.handshake(c, "s3cret", "tester") == "n1"
        assert c.cmd("PPING") == b"PONG"
        assert isinstance(c.cmd("PGET", "k"), bytes)
    assert "wrong cluster secret" in cluster.logs(1)


# ---------------------------------------------------------------------------
# the harness itself


def _can_connect(src, dst, timeout=0.3):
    try:
        with socket.create_connection((host_of(dst), CLIENT_PORT), timeout=timeout,
                                      source_address=(host_of(src), 0)):
            return True
    except OSError:
        return False


def _matrix():
    return {(a, b): _can_connect(a, b) for a in (1, 2, 3) for b in (1, 2, 3) if a != b}


def test_harness_cuts_exactly_the_links_asked_for(cluster, nft):
    start3(cluster)
    assert cluster_harness.private_netns_problem() is None
    assert all(_matrix().values())
    cluster.split([1], [2, 3])
    m = _matrix()
    assert m == {(1, 2): False, (2, 1): False, (1, 3): False, (3, 1): False,
                 (2, 3): True, (3, 2): True}, m
    cluster.heal()
    assert all(_matrix().values())
    cluster.partition(1, 2, oneway=True)
    m = _matrix()
    assert not m.pop((1, 2)) and all(m.values()), m
    cluster.heal()
    assert all(_matrix().values())

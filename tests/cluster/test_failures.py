"""Failure handling through real dynamo-node processes (tests/cluster/run.sh):
gossip failure detection, sloppy quorum + hinted handoff, read repair,
tombstones, restarts (with and without their append-only log), and a bounded
chaos run.

Every test starts its own 3-node cluster n1..n3 (N=3 W=2 R=2) with short
put/get timeouts (1 s) and fast gossip (200 ms rounds, suspect after 1 s,
dead after 2 s).  Waits poll against deadlines (wait_for); figures the lead
reports (drain rate, convergence times, chaos counts) are printed (-s or the
captured output of a failing test shows them).
"""
import random
import threading
import time

import pytest
import redis

from cluster_harness import wait_for

PUT_MS = 1000
GET_MS = 1000
GOSSIP = {"gossip-interval": 200, "gossip-suspect-after": 1000, "gossip-dead-after": 2000}
SETTINGS = dict({"put-timeout": PUT_MS, "get-timeout": GET_MS}, **GOSSIP)
SLACK = 0.75            # seconds on top of a configured delay for scheduling/IO
DETECT_WITHIN = 6.0     # a fault is routed around: probes / gossip-dead-after + margin
RELINK_WITHIN = 15.0    # after heal/resume: TCP retransmission back-off + reconnect
CONVERGE_WITHIN = 20.0  # after heal: links back, hints drained at 5000/s


def start3(cluster, **settings):
    return cluster.start(3, dict(SETTINGS, **settings))


def keys_for_each_coordinator(cluster, per_node, prefix):
    keys = []
    for name in cluster.names():
        keys += cluster.keys_coordinated_by(name, per_node, prefix=prefix)
    return keys


def set_many(cluster, via, items, chunk=100):
    """SETs every (key, value) of items, pipelined in chunks, spreading the
    chunks over the nodes in via.  Returns the failures [(key, reply)]."""
    bad = []
    items = list(items)
    for n, s in enumerate(range(0, len(items), chunk)):
        part = items[s:s + chunk]
        pipe = cluster.client(via[n % len(via)]).pipeline(transaction=False)
        for k, v in part:
            pipe.set(k, v)
        for (k, _), rep in zip(part, pipe.execute(raise_on_error=False)):
            if rep is not True:
                bad.append((k, rep))
    return bad


def missing_locally(cluster, i, expected):
    """Keys of expected ({key: value}) whose value node i does not hold in
    DYNAMO LOCAL (values are shown up to 64 bytes; ours are shorter)."""
    got = cluster.local_many(i, expected)
    miss = []
    for k, v in expected.items():
        vals = [cluster.parse_local(line) for line in got[k]]
        if not any(kind == "value" and val == v for kind, val, _ in vals):
            miss.append(k)
    return miss


def wait_held_everywhere(cluster, nodes, expected, timeout, what):
    """Polls until every node in nodes holds every expected value locally
    and no node has hints pending; returns the seconds it took."""
    t0 = time.monotonic()
    last = {}

    def done():
        for i in nodes:
            miss = missing_locally(cluster, i, expected)
            if miss:
                last["miss"] = (i, len(miss), miss[:5])
                return False
        for i in cluster.running():
            p = cluster.hints_pending(i)
            if p:
                last["miss"] = ("hints", i, p)
                return False
        return True

    try:
        wait_for(done, timeout, what)
    except AssertionError as e:
        raise AssertionError("%s; last state: %r; hints: %r"
                             % (e, last.get("miss"),
                                {i: cluster.hints(i) for i in cluster.running()})) from None
    return time.monotonic() - t0


def vget_values(cluster, i, key, r=None):
    got = cluster.vget(i, key, r=r)
    return None if got is None else got[1]


# ---------------------------------------------------------------------------
# gossip


def test_gossip_detects_suspect_dead_and_new_generation(cluster, nft):
    start3(cluster)
    view = cluster.nodes_view(1)
    assert set(view) == {"n1", "n2", "n3"}
    for name, f in view.items():
        for field in ("gossip", "generation", "heartbeat", "silent_ms", "up"):
            assert field in f, "DYNAMO NODES on n1, %s lacks %s: %r" % (name, field, f)
    # Heartbeats advance: every node hears about every other one.
    wait_for(lambda: all(cluster.nodes_view(i)[n]["gossip"] == "alive"
                         and cluster.nodes_view(i)[n]["heartbeat"] > 0
                         and cluster.nodes_view(i)[n]["up"] == 1
                         for i in (1, 2, 3) for n in ("n1", "n2", "n3")),
             timeout=5, msg="every node alive with a heartbeat in every table")
    gen3 = cluster.nodes_view(1)["n3"]["generation"]
    assert gen3 == cluster.nodes_view(3)["n3"]["generation"]

    # Cut n3 off: its heartbeat stalls in n1/n2's tables -> suspect -> dead.
    t0 = time.monotonic()
    cluster.isolate(3)
    cluster.wait_gossip([1, 2], 3, ("suspect", "dead"), timeout=1.0 + 2 * SLACK + 1.0)
    t_suspect = time.monotonic() - t0
    cluster.wait_gossip([1, 2], 3, "dead", timeout=2.0 + 2 * SLACK + 1.0)
    t_dead = time.monotonic() - t0
    assert t_suspect >= 0.2, "n3 suspected %.2fs after the cut, before its heartbeat " \
        "could have stalled for gossip-suspect-after (1 s)" % t_suspect
    assert t_dead >= 1.0, "n3 declared dead %.2fs after the cut (gossip-dead-after 2 s)" % t_dead
    assert cluster.nodes_view(1)["n3"]["up"] == 0
    assert cluster.nodes_view(1)["n3"]["silent_ms"] >= 1500
    # ... and n3 sees both others dead; n1 and n2 still see each other alive.
    cluster.wait_gossip([3], 1, "dead", timeout=4.0)
    cluster.wait_gossip([3], 2, "dead", timeout=4.0)
    assert cluster.nodes_view(1)["n2"]["gossip"] == "alive"
    print("\ngossip: n3 suspect after %.2fs, dead after %.2fs (suspect-after 1 s, "
          "dead-after 2 s, interval 0.2 s)" % (t_suspect, t_dead))

    cluster.heal()
    cluster.wait_linked(timeout=RELINK_WITHIN)
    cluster.wait_gossip([1, 2], 3, "alive", timeout=5)
    cluster.wait_routed([1, 2], 3, up=True, timeout=5)
    assert cluster.nodes_view(1)["n3"]["generation"] == gen3  # same process

    # A restarted node comes back with a new generation.
    cluster.kill(3)
    cluster.restart(3)
    wait_for(lambda: all(cluster.nodes_view(i)["n3"]["generation"] not in (gen3, 0)
                         and cluster.nodes_view(i)["n3"]["gossip"] == "alive"
                         for i in (1, 2)),
             timeout=5, msg="n1/n2 see n3's new generation, alive")
    assert cluster.nodes_view(3)["n3"]["generation"] != gen3
    # The new incarnation's heartbeats (restarting from 0) are taken as
    # progress: n3 stays alive, well past gossip-suspect-after.
    hb0 = min(cluster.nodes_view(i)["n3"]["heartbeat"] for i in (1, 2))
    end = time.monotonic() + 10
    while True:
        views = [cluster.nodes_view(i)["n3"] for i in (1, 2)]
        for v in views:
            assert v["gossip"] == "alive" and v["up"] == 1, \
                "restarted n3 seen as %r (heartbeat was %d)" % (v, hb0)
        if all(v["heartbeat"] >= hb0 + 8 for v in views):
            break
        assert time.monotonic() < end, "n3's heartbeat stuck at %r" % views
        time.sleep(0.05)


# ---------------------------------------------------------------------------
# hinted handoff


def test_killed_node_gets_every_write_by_hinted_handoff(cluster):
    start3(cluster)
    nkeys = 1000
    expected = {"hh-%04d" % j: "v%04d" % j for j in range(nkeys)}
    cluster.kill(3)
    cluster.wait_routed([1, 2], 3, up=False, timeout=DETECT_WITHIN)
    t0 = time.monotonic()
    assert set_many(cluster, (1, 2), expected.items()) == []
    t_write = time.monotonic() - t0
    # N=3 on three nodes: no node past the owners, so each coordinator keeps
    # the hint for n3 itself -- one per key.
    pend = {i: cluster.hints(i).get("n3", (0, 0))[0] for i in (1, 2)}
    assert sum(pend.values()) == nkeys, "hints for n3 held by n1/n2: %r" % pend
    assert sum(cluster.hints_pending(i) for i in (1, 2)) == nkeys
    assert sum(cluster.info_cluster(i)["hinted_writes"] for i in (1, 2)) >= nkeys
    for k in list(expected)[:20]:
        assert cluster.client(1).get(k) == expected[k]
    # The copy a coordinator keeps as a hint for an owner does not count:
    # two reachable nodes cannot acknowledge W=3.
    with pytest.raises(redis.ResponseError, match="^NOQUORUM"):
        cluster.client(1).execute_command("VPUT", "hh-w3", "", "x", "W", 3)

    cluster.restart(3, wait_linked=False)
    t0 = time.monotonic()
    cluster.wait_routed([1, 2], 3, up=True, timeout=RELINK_WITHIN)
    t_up = time.monotonic() - t0
    wait_held_everywhere(cluster, [3], expected, CONVERGE_WITHIN,
                         "n3 holding all %d keys locally after restart" % nkeys)
    took = time.monotonic() - t0
    print("\nhinted handoff: %d keys written in %.2fs with n3 dead; restarted n3 routed to "
          "after %.2fs, held every key after %.2fs: drain %.2fs = %.0f keys/s "
          "(handoff-rate 5000/s per owner, hints split over n1/n2: %r)"
          % (nkeys, t_write, t_up, took, took - t_up, nkeys / max(took - t_up, 1e-3), pend))
    delivered = sum(cluster.hints(i).get("n3", (0, 0))[1] for i in (1, 2))
    assert delivered in (nkeys, nkeys + 1), "DYNAMO HINTS delivered to n3: %r" % (
        {i: cluster.hints(i) for i in (1, 2)},)
    for i in (1, 2, 3):
        info = cluster.info_cluster(i)
        assert info["hints_pending"] == 0, (i, info)
    for k in list(expected)[:50]:
        assert vget_values(cluster, 3, k, r=1) == [expected[k]]
        assert cluster.local_values(3, k) == [expected[k]]


@pytest.mark.parametrize("rate", [200, 4])
def test_handoff_rate_paces_the_drain(cluster, rate):
    """handoff-rate (hints/s per owner) bounds how fast a holder replays
    hints, so a returning node is not flooded -- also for rates below the
    drain's 10 ticks per second."""
    start3(cluster, **{"handoff-rate": rate})
    nkeys = 3 * rate
    expected = {"pace-%04d" % j: "p%04d" % j for j in range(nkeys)}
    cluster.kill(3)
    cluster.wait_routed([1, 2], 3, up=False, timeout=DETECT_WITHIN)
    assert set_many(cluster, (1, 2), expected.items()) == []
    share = max(cluster.hints(i).get("n3", (0, 0))[0] for i in (1, 2))
    assert share > 0
    cluster.restart(3, wait_linked=False)
    cluster.wait_routed([1, 2], 3, up=True, timeout=RELINK_WITHIN)
    t0 = time.monotonic()
    wait_held_everywhere(cluster, [3], expected, CONVERGE_WITHIN, "paced drain to n3")
    took = time.monotonic() - t0
    floor = share / rate
    print("\npaced drain: %d hints (largest holder %d) at handoff-rate %d/s took %.2fs "
          "(floor %.2fs)" % (nkeys, share, rate, took, floor))
    assert took >= 0.7 * floor, "drained %d hints in %.2fs = %.1f/s, handoff-rate is %d/s" % (
        share, took, share / took, rate)
    assert took <= floor + 5.0


FAULTS = ["isolate", "oneway_out_of_n3", "oneway_into_n3", "pause"]


@pytest.mark.parametrize("fault", FAULTS)
def test_cut_off_node_converges_after_heal(cluster, nft, fault):
    """n3 is cut off (both ways, one way, or SIGSTOPped) while the majority
    takes writes; after heal n3 holds every one of them locally and no hints
    are left anywhere."""
    start3(cluster)
    nkeys = 300
    expected = {"cut-%s-%03d" % (fault, j): "%s-%03d" % (fault, j) for j in range(nkeys)}
    probes = keys_for_each_coordinator(cluster, 1, "probe-" + fault)
    if fault == "isolate":
        cluster.isolate(3)
    elif fault == "oneway_out_of_n3":
        cluster.partition(3, 1, oneway=True)
        cluster.partition(3, 2, oneway=True)
    elif fault == "oneway_into_n3":
        cluster.partition(1, 3, oneway=True)
        cluster.partition(2, 3, oneway=True)
    else:
        cluster.pause(3)
    # Failure detection reacts first; after that every W=2 write through the
    # majority must succeed (keys coordinated by each node, n3 included).
    wait_for(lambda: all(set_many(cluster, (i,), [(k, "probe") for k in probes]) == []
                         for i in (1, 2)),
             timeout=DETECT_WITHIN + 2 * PUT_MS / 1000,
             msg="W=2 writes through n1/n2 succeeding (%s)" % fault)
    bad = set_many(cluster, (1, 2), expected.items())
    assert bad == [], "%d of %d writes through the majority failed (%s): %r" % (
        len(bad), nkeys, fault, bad[:5])
    for k in list(expected)[:10]:
        assert cluster.client(2).get(k) == expected[k]

    t0 = time.monotonic()
    if fault == "pause":
        cluster.resume(3)
    else:
        cluster.heal()
    wait_held_everywhere(cluster, [1, 2, 3], expected, CONVERGE_WITHIN,
                         "n3 holding all %d keys after heal (%s)" % (nkeys, fault))
    took = time.monotonic() - t0
    print("\n%s: %d keys converged on n3 %.2fs after heal" % (fault, nkeys, took))
    cluster.wait_linked(timeout=RELINK_WITHIN)
    for k in list(expected)[:20]:
        assert cluster.local_values(3, k) == [expected[k]], k
        assert cluster.client(3).get(k) == expected[k]


def test_sloppy_quorum_substitute_holds_the_hint_and_counts_toward_w(cluster):
    """Four nodes, N=3 W=3: with owner n3 dead, the write goes to n4 (the
    next node past the owners) with a hint naming n3, and that copy counts
    toward W; n4 hands it to n3 when n3 is back."""
    cluster.start(4, dict(SETTINGS, w=3))
    keys = cluster.keys_coordinated_by("n1", 6, prefix="sloppy", order=["n1", "n2", "n3"])
    assert all([n for n, _ in cluster.preflist(k, via=4)] == ["n1", "n2", "n3"] for k in keys)
    cluster.kill(3)
    cluster.wait_routed([1, 2, 4], 3, up=False, timeout=DETECT_WITHIN)
    for j, k in enumerate(keys):
        via = (1, 2, 4)[j % 3]
        assert cluster.client(via).set(k, "sloppy-%d" % j) is True, (k, via)
    hints4 = cluster.hints(4)
    assert hints4.get("n3", (0, 0))[0] == len(keys), \
        "n4 should hold one hint for n3 per key: %r" % hints4
    for i in (1, 2):
        assert cluster.hints(i).get("n3", (0, 0))[0] == 0, (i, cluster.hints(i))
    for j, k in enumerate(keys):
        assert cluster.client(2).get(k) == "sloppy-%d" % j
    cluster.restart(3, wait_linked=False)
    expected = {k: "sloppy-%d" % j for j, k in enumerate(keys)}
    wait_held_everywhere(cluster, [1, 2, 3], expected, CONVERGE_WITHIN,
                         "n3 holding the keys n4 held hints for")
    assert cluster.hints(4)["n3"] == (0, len(keys)), cluster.hints(4)
    for k, v in expected.items():
        assert vget_values(cluster, 3, k, r=3) == [v]


def test_write_no_coordinator_can_take_answers_noquorum(cluster):
    """W=3 with n3 dead: no node can reach a write quorum.  Whatever path
    the write takes -- coordinated where it arrives, or forwarded to the
    coordinator, declined there and passed down the preference list -- the
    client gets -NOQUORUM (DESIGN 3), never an internal peer error."""
    start3(cluster, w=3)
    keys = {"n2,n3,n1": cluster.keys_coordinated_by("n2", 1, prefix="nq",
                                                     order=["n2", "n3", "n1"])[0],
            "n2,n1,n3": cluster.keys_coordinated_by("n2", 1, prefix="nq",
                                                     order=["n2", "n1", "n3"])[0],
            "n1,...": cluster.keys_coordinated_by("n1", 1, prefix="nq")[0]}
    cluster.kill(3)
    cluster.wait_routed([1, 2], 3, up=False, timeout=DETECT_WITHIN)
    bad = []
    for order, k in keys.items():
        for via in (1, 2):
            for cmd in (("SET", k, "x"), ("VPUT", k, "", "y"), ("DEL", k)):
                try:
                    rep = cluster.client(via).execute_command(*cmd)
                except redis.ResponseError as e:
                    rep = e
                if not (isinstance(rep, redis.ResponseError) and str(rep).startswith("NOQUORUM")):
                    bad.append("%s (preflist %s) via n%d: %r" % (" ".join(cmd), order, via, rep))
    assert not bad, "expected -NOQUORUM:\n" + "\n".join(bad)


def test_max_hints_bounds_the_hints_read_repair_fills_the_rest(cluster):
    """max-hints caps the hints a node keeps (writes still succeed, refusals
    are counted); the writes whose hint was refused reach the returning node
    by read repair."""
    cap = 20
    start3(cluster, **{"max-hints": cap})
    nkeys = 100
    expected = {"cap-%03d" % j: "c%03d" % j for j in range(nkeys)}
    cluster.kill(3)
    cluster.wait_routed([1, 2], 3, up=False, timeout=DETECT_WITHIN)
    assert set_many(cluster, (1, 2), expected.items(), chunk=10) == []
    infos = {i: cluster.info_cluster(i) for i in (1, 2)}
    for i, info in infos.items():
        assert info["hints_pending"] <= cap, (i, info)
    pending = sum(info["hints_pending"] for info in infos.values())
    refused = sum(info["hints_refused"] for info in infos.values())
    assert pending + refused == nkeys, infos
    assert pending >= cap, infos  # at least one node filled its store
    cluster.restart(3, wait_linked=False)
    cluster.wait_hints_drained([1, 2], timeout=CONVERGE_WITHIN)
    held = nkeys - len(missing_locally(cluster, 3, expected))
    assert held == pending, "n3 holds %d keys after the drain of %d hints" % (held, pending)
    repairs0 = cluster.info_cluster(1)["read_repairs"]
    for k, v in expected.items():
        assert cluster.client(1).get(k) == v
    wait_for(lambda: not missing_locally(cluster, 3, expected), timeout=5,
             msg="read repair bringing every key to n3")
    assert cluster.info_cluster(1)["read_repairs"] - repairs0 >= nkeys - pending


def test_read_repair_updates_stale_replicas(cluster, nft):
    """n3 misses updates (isolated, no hints kept: max-hints 0); reads after
    heal -- GET through n1, MGET through n2, VGET through n3 itself -- leave
    the new version on n3 and count read repairs."""
    start3(cluster, **{"max-hints": 0})
    groups = {via: ["rr%d-%d" % (via, j) for j in range(6)] for via in (1, 2, 3)}
    allkeys = [k for ks in groups.values() for k in ks]
    assert set_many(cluster, (1,), [(k, "v1") for k in allkeys]) == []
    wait_for(lambda: all(cluster.local_values(3, k) == ["v1"] for k in allkeys), timeout=5,
             msg="v1 on n3")
    cluster.isolate(3)
    cluster.wait_routed([1, 2], 3, up=False, timeout=DETECT_WITHIN)
    assert set_many(cluster, (1, 2), [(k, "v2") for k in allkeys]) == []
    assert all(cluster.hints_pending(i) == 0 for i in (1, 2))
    cluster.heal()
    cluster.wait_linked(timeout=RELINK_WITHIN)
    assert all(cluster.local_values(3, k) == ["v1"] for k in allkeys)  # stale
    before = {i: cluster.info_cluster(i)["read_repairs"] for i in (1, 2, 3)}
    for k in groups[1]:
        assert cluster.client(1).get(k) == "v2"
    assert cluster.client(2).mget(groups[2]) == ["v2"] * len(groups[2])
    for k in groups[3]:
        assert vget_values(cluster, 3, k) == ["v2"]
    wait_for(lambda: all(cluster.local_values(3, k) == ["v2"] for k in allkeys), timeout=5,
             msg="read repair replacing v1 by v2 on n3")
    for i in (1, 2, 3):
        assert cluster.info_cluster(i)["read_repairs"] - before[i] >= len(groups[i]), i


def test_late_hints_do_not_overwrite_newer_writes(cluster):
    """Hints drained slowly (handoff-rate 20/s) to a returning n3 that
    meanwhile takes newer writes of the same keys: the old hinted versions
    arrive later and must not replace (nor join) the newer ones."""
    start3(cluster, **{"handoff-rate": 20})
    keys = ["late-%03d" % j for j in range(60)]
    cluster.kill(3)
    cluster.wait_routed([1, 2], 3, up=False, timeout=DETECT_WITHIN)
    assert set_many(cluster, (1, 2), [(k, "hinted") for k in keys], chunk=10) == []
    cluster.restart(3)
    cluster.wait_routed([1, 2], 3, up=True, timeout=RELINK_WITHIN)
    assert sum(cluster.hints_pending(i) for i in (1, 2)) >= len(keys) // 3, \
        "the drain should still be under way"
    assert set_many(cluster, (3, 1, 2), [(k, "newer") for k in keys], chunk=10) == []
    cluster.wait_hints_drained([1, 2], timeout=CONVERGE_WITHIN)
    for k in keys:
        for i in (1, 2, 3):
            assert cluster.local_values(i, k) == ["newer"], (k, i, cluster.local(i, k))


def test_set_and_del_through_a_stale_coordinator_supersede_acked_writes(cluster, nft):
    """SET/DEL read before they write so that sequential writes supersede
    each other (DESIGN 3).  n3 coordinates the keys but missed the majority's
    acknowledged SET while isolated; the hint holder n1 then stops, so n3's
    own replica stays stale.  A SET and a DEL through n3 afterwards (a quorum
    of n3 + n2, which holds the acknowledged version, is reachable) must
    supersede that SET: no sibling, no surviving value."""
    start3(cluster)
    # Preference list n3, n1, n2: while n3 is away n1 coordinates and keeps
    # the hints for n3.
    kset, kdel = cluster.keys_coordinated_by("n3", 2, prefix="stale", order=["n3", "n1", "n2"])
    for k in (kset, kdel):
        assert cluster.client(1).set(k, "old") is True
    wait_for(lambda: all(cluster.local_values(i, k) == ["old"]
                         for i in (1, 2, 3) for k in (kset, kdel)),
             timeout=5, msg="'old' on every replica")
    cluster.isolate(3)
    cluster.wait_routed([1, 2], 3, up=False, timeout=DETECT_WITHIN)
    for k in (kset, kdel):
        assert cluster.client(1).set(k, "acked") is True
        assert cluster.local_values(2, k) == ["acked"]
    cluster.pause(1)  # it holds the hints for n3
    cluster.heal()
    cluster.wait_routed([2], 1, up=False, timeout=DETECT_WITHIN)
    cluster.wait_routed([3], 1, up=False, timeout=DETECT_WITHIN)
    cluster.wait_routed([2], 3, up=True, timeout=RELINK_WITHIN)
    cluster.wait_routed([3], 2, up=True, timeout=RELINK_WITHIN)
    for k in (kset, kdel):
        assert cluster.local_values(3, k) == ["old"]  # stale, as intended
    assert cluster.client(3).set(kset, "after") is True
    assert cluster.client(3).delete(kdel) == 1
    problems = []
    for i in (2, 3):
        got = vget_values(cluster, i, kset, r=2)
        if got != ["after"]:
            problems.append("VGET %s R 2 via n%d after SET 'after': %r" % (kset, i, got))
        try:
            got = cluster.client(i).get(kdel)
        except redis.ResponseError as e:
            got = e
        if got is not None:
            problems.append("GET %s via n%d after DEL: %r" % (kdel, i, got))
    cluster.resume(1)
    cluster.wait_linked(timeout=RELINK_WITHIN)
    cluster.wait_hints_drained(timeout=CONVERGE_WITHIN)
    for i in (1, 2, 3):
        got = vget_values(cluster, i, kset, r=3)
        if got != ["after"]:
            problems.append("after heal, VGET %s R 3 via n%d: %r" % (kset, i, got))
        got = vget_values(cluster, i, kdel, r=3)
        if got is not None:
            problems.append("after heal, VGET %s R 3 via n%d (deleted): %r" % (kdel, i, got))
    assert not problems, "writes through a coordinator with a stale replica did not " \
        "supersede the acknowledged SET:\n" + "\n".join(problems) + "\nDYNAMO LOCAL: %r" % (
            {(i, k): cluster.local(i, k) for i in (1, 2, 3) for k in (kset, kdel)},)


# ---------------------------------------------------------------------------
# siblings, tombstones


def test_blind_writes_on_both_sides_of_a_partition_become_siblings(cluster, nft):
    start3(cluster)
    keys = keys_for_each_coordinator(cluster, 1, "both")
    cluster.isolate(3)
    cluster.wait_routed([1, 2], 3, up=False, timeout=DETECT_WITHIN)
    cluster.wait_routed([3], 1, up=False, timeout=DETECT_WITHIN)
    cluster.wait_routed([3], 2, up=False, timeout=DETECT_WITHIN)
    for k in keys:
        assert cluster.client(1).execute_command("VPUT", k, "", k + "-majority")
        assert cluster.client(3).execute_command("VPUT", k, "", k + "-minority", "W", 1)
    for k in keys:
        assert cluster.local_values(3, k) == [k + "-minority"]
        assert cluster.local_values(1, k) == [k + "-majority"]
    cluster.heal()
    cluster.wait_linked(timeout=RELINK_WITHIN)
    # Hinted handoff alone (no read yet) brings both versions everywhere.
    want = {k: sorted([k + "-majority", k + "-minority"]) for k in keys}
    wait_for(lambda: all(cluster.local_values(i, k) == want[k]
                         for i in (1, 2, 3) for k in keys),
             timeout=CONVERGE_WITHIN, msg="both versions in DYNAMO LOCAL on every node")
    for k in keys:
        for i in (1, 2, 3):
            assert vget_values(cluster, i, k, r=3) == want[k], (k, i)
            with pytest.raises(redis.ResponseError, match="2 siblings"):
                cluster.client(i).get(k)
    # A write with the merged context resolves them on every replica.
    for k in keys:
        ctx = cluster.vget(2, k, r=3)[0]
        assert cluster.client(2).execute_command("VPUT", k, ctx, k + "-merged")

    def resolved():
        for k in keys:
            for i in (1, 2, 3):
                lines = cluster.local(i, k)
                if len(lines) != 1 or cluster.parse_local(lines[0])[:2] != ("value",
                                                                             k + "-merged"):
                    return False
        return True

    wait_for(resolved, timeout=5, msg="one version (merged) on every replica")
    for k in keys:
        for i in (1, 2, 3):
            assert cluster.client(i).get(k) == k + "-merged"


@pytest.mark.parametrize("fault", ["isolate", "kill"])
def test_delete_during_fault_never_resurrects(cluster, nft, fault):
    """SET, then n3 is cut off (isolate) or killed -9 (restarted later with
    its log, so it still holds the old value), DEL through the majority:
    after heal the tombstone wins everywhere."""
    start3(cluster)
    keys = keys_for_each_coordinator(cluster, 2, "del")
    for k in keys:
        assert cluster.client(1).set(k, "old-" + k) is True
    wait_for(lambda: all(cluster.local_values(i, k) == ["old-" + k]
                         for i in (1, 2, 3) for k in keys),
             timeout=5, msg="the old values on every replica")
    if fault == "isolate":
        cluster.isolate(3)
    else:
        cluster.kill(3)
    cluster.wait_routed([1, 2], 3, up=False, timeout=DETECT_WITHIN)
    for k in keys:
        assert cluster.client(1).delete(k) == 1, k
        assert cluster.client(2).get(k) is None
    if fault == "isolate":
        cluster.heal()
    else:
        cluster.restart(3, wait_linked=False)
    for k in keys:
        lines = cluster.local(3, k)  # n3 saw nothing yet, or the tombstone
        kinds = sorted(cluster.parse_local(line)[:2] for line in lines)
        assert kinds in ([("value", "old-" + k)], [("tombstone", None)]), (k, lines)
    cluster.wait_linked(timeout=RELINK_WITHIN)
    # R + W > N: a quorum read through the formerly isolated node already
    # meets the delete.
    for k in keys:
        assert cluster.client(3).get(k) is None, k

    def no_value_anywhere():
        for k in keys:
            for i in (1, 2, 3):
                kinds = [cluster.parse_local(line)[0] for line in cluster.local(i, k)]
                if any(kind != "tombstone" for kind in kinds):
                    return False
        return True

    wait_for(no_value_anywhere, timeout=CONVERGE_WITHIN,
             msg="only tombstones (or nothing) for the deleted keys on every node")
    cluster.wait_hints_drained(timeout=CONVERGE_WITHIN)
    # Asking n3 directly (GET, VGET R 1) must not bring the old value back.
    for k in keys:
        assert cluster.client(3).get(k) is None, k
        assert cluster.client(3).execute_command("VGET", k, "R", 1) is None, k
        assert cluster.client(3).exists(k) == 0
    for k in keys:
        for i in (1, 2, 3):
            assert cluster.client(i).get(k) is None, (k, i)
            assert cluster.client(i).execute_command("VGET", k, "R", 3) is None, (k, i)
    # Read repair runs asynchronously after those reads: watch the replicas
    # for a while -- the old value must never reappear.
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        for k in keys:
            for i in (1, 2, 3):
                lines = cluster.local(i, k)
                assert all(cluster.parse_local(line)[0] == "tombstone" for line in lines), \
                    "n%d holds %r for deleted %s" % (i, lines, k)
        time.sleep(0.05)


# ---------------------------------------------------------------------------
# restart with an empty store


@pytest.mark.parametrize("restart", ["empty", "with_log"])
def test_restarted_coordinator_does_not_lose_writes(cluster, nft, restart):
    """n3, the coordinator of some keys, is killed -9 and restarted -- empty
    (its append-only log deleted, as after a lost disk) or with its log --
    and then coordinates writes of keys that existed before: none of them
    may be discarded as stale (each is readable everywhere afterwards, alone
    or as a sibling), and a write acknowledged before the crash survives as
    long as one replica holds it."""
    start3(cluster)
    kset, kblind, kctx, kone = cluster.keys_coordinated_by("n3", 4, prefix="rs")
    for k in (kset, kblind, kctx):
        assert cluster.client(1).set(k, "before") is True     # forwarded to n3
        assert cluster.client(3).set(k, "before") is True     # n3: counter 2
    old_ctx = cluster.vget(1, kctx)[0]
    wait_for(lambda: all(cluster.local_values(i, k) == ["before"]
                         for i in (1, 2, 3) for k in (kset, kblind, kctx)),
             timeout=5, msg="'before' on every replica")
    # kone: acknowledged by n3 + n1 only (n2 cut off; n3 keeps n2's hint).
    cluster.isolate(2)
    cluster.wait_routed([1, 3], 2, up=False, timeout=DETECT_WITHIN)
    assert cluster.client(3).set(kone, "acked-by-n3-n1") is True
    assert cluster.local_values(1, kone) == ["acked-by-n3-n1"]
    assert cluster.local_values(2, kone) == []
    assert cluster.hints(3).get("n2", (0, 0))[0] == 1
    gen = cluster.nodes_view(1)["n3"]["generation"]

    cluster.kill(3)
    if restart == "empty":
        cluster.wipe_data(3)  # n2's hint dies with n3's disk: n1 alone holds kone
    cluster.heal()
    cluster.restart(3)
    cluster.wait_linked(timeout=RELINK_WITHIN)
    wait_for(lambda: cluster.nodes_view(1)["n3"]["generation"] not in (gen, 0),
             timeout=5, msg="n1 sees n3's new generation")
    # Every node routes to every other again (n2 was cut off: its probes of
    # n1 timed out, so it must see n1 answer again before an R=3 read).
    for target in (1, 2, 3):
        cluster.wait_routed([i for i in (1, 2, 3) if i != target], target, up=True,
                            timeout=RELINK_WITHIN)
    assert cluster.coordinator(kset) == "n3"
    if restart == "empty":
        for k in (kset, kblind, kctx, kone):
            assert cluster.local(3, k) == [], "n3 restarted empty, yet holds %s" % k
    else:
        for k in (kset, kblind, kctx):
            assert cluster.local_values(3, k) == ["before"], (k, cluster.local(3, k))
        assert cluster.local_values(3, kone) == ["acked-by-n3-n1"]
        # The hint for n2 survived the crash and is delivered without a read.
        wait_for(lambda: cluster.local_values(2, kone) == ["acked-by-n3-n1"], timeout=5,
                 msg="n3's hint for n2 (from before the crash) delivered")

    # The write held by one surviving replica is readable through every node.
    for i in (1, 2, 3):
        assert vget_values(cluster, i, kone, r=3) == ["acked-by-n3-n1"], i
    # A SET coordinated by the restarted node reads first: supersedes 'before'.
    assert cluster.client(3).set(kset, "after") is True
    # A blind VPUT from it is concurrent with 'before': a sibling, not stale.
    assert cluster.client(3).execute_command("VPUT", kblind, "", "blind-after")
    # A VPUT with the client's pre-crash context supersedes 'before'.
    assert cluster.client(2).execute_command("VPUT", kctx, old_ctx, "ctx-after")
    # A SET (forwarded to the restarted n3) of the key n1 alone held.
    assert cluster.client(1).set(kone, "next") is True

    want = {kset: ["after"], kblind: ["before", "blind-after"], kctx: ["ctx-after"],
            kone: ["next"]}
    for k, vals in want.items():
        for i in (1, 2, 3):
            assert vget_values(cluster, i, k, r=3) == vals, (k, i)
    wait_for(lambda: all(cluster.local_values(i, k) == vals
                         for i in (1, 2, 3) for k, vals in want.items()),
             timeout=5, msg="every replica holding the writes made through restarted n3")


# ---------------------------------------------------------------------------
# chaos


CHAOS_FAULT_S = 45.0


def test_chaos_no_acknowledged_write_is_lost(cluster, nft):
    start3(cluster)
    rng = random.Random(20240611)
    stop = threading.Event()
    lock = threading.Lock()
    acked = {}             # key -> value (each key written at most once)
    counts = {"attempted": 0, "acked": 0, "noquorum": 0, "timeout": 0, "conn": 0,
              "other": 0}
    nodes_pool = {}
    odd = []               # the first unexpected replies, for the report

    def client_for(t, i):
        if (t, i) not in nodes_pool:
            nodes_pool[(t, i)] = cluster.new_client(i, timeout=3.0)
        return nodes_pool[(t, i)]

    def writer(t):
        wr = random.Random(t)
        seq = 0
        while not stop.is_set():
            i = wr.choice((1, 2, 3))
            k, v = "chaos-%d-%06d" % (t, seq), "w%d-%d" % (t, seq)
            seq += 1
            try:
                ok = client_for(t, i).set(k, v)
                kind = "acked" if ok is True else "other"
                err = ok
            except redis.ResponseError as e:
                kind = "noquorum" if str(e).startswith("NOQUORUM") else "other"
                err = e
            except redis.TimeoutError:
                kind = "timeout"
            except redis.ConnectionError:
                kind = "conn"
                stop.wait(0.05)
            with lock:
                counts["attempted"] += 1
                counts[kind] += 1
                if kind == "acked":
                    acked[k] = v
                elif kind == "other" and len(odd) < 5:
                    odd.append("SET %s via n%d: %r" % (k, i, err))
            stop.wait(0.015)

    killed = set()

    def kill_restart(i, wipe):
        killed.add(i)
        cluster.kill_restart(i, wipe, 3)

    schedule = [
        ("isolate n1", lambda: cluster.isolate(1), 4),
        ("split n2 | n1 n3", lambda: cluster.split([2], [1, 3]), 3),
        ("one-way: n3 cannot open to n1, n2",
         lambda: (cluster.partition(3, 1, oneway=True), cluster.partition(3, 2, oneway=True)), 3),
        ("pause n2", lambda: cluster.pause(2), 3),
        ("kill -9 n3, restart with its log after 3 s", lambda: kill_restart(3, False), 1),
        ("one-way: n1, n2 cannot open to n3",
         lambda: (cluster.partition(1, 3, oneway=True), cluster.partition(2, 3, oneway=True)), 3),
        ("kill -9 n2, restart empty (log deleted) after 3 s", lambda: kill_restart(2, True), 1),
        ("one-way: n1 cannot open to n2 + pause n3",
         lambda: (cluster.partition(1, 2, oneway=True), cluster.pause(3)), 3),
    ]
    threads = [threading.Thread(target=writer, args=(t,), daemon=True) for t in range(4)]
    for th in threads:
        th.start()
    t_start = time.monotonic()
    log = []
    try:
        time.sleep(1.5)
        # healthy 1.5-2 s between faults
        log = cluster.run_faults(schedule, rng, CHAOS_FAULT_S, (1.5, 2.0), t_start)
    finally:
        # The last fault is healed: writers stop, convergence is timed from here.
        t_heal = time.monotonic()
        cluster.heal_all()
        stop.set()
        for th in threads:
            th.join(10)
    t_faults = t_heal - t_start
    assert all(not th.is_alive() for th in threads)
    assert cluster.running() == [1, 2, 3]

    # Convergence: links, gossip, routing back; every hint delivered.
    t0 = t_heal
    cluster.wait_linked(timeout=RELINK_WITHIN)
    for i in (1, 2, 3):
        cluster.wait_routed([j for j in (1, 2, 3) if j != i], i, up=True, timeout=10)
    cluster.wait_hints_drained([1, 2, 3], timeout=CONVERGE_WITHIN)
    t_conv = time.monotonic() - t0

    # Every acknowledged write, through every node, all replicas asked.
    t0 = time.monotonic()
    lost, wrong = {}, {}
    keys = sorted(acked)
    for i in (1, 2, 3):
        todo = keys
        deadline = time.monotonic() + 20
        while todo:
            retry = []
            for s in range(0, len(todo), 200):
                part = todo[s:s + 200]
                pipe = cluster.client(i).pipeline(transaction=False)
                for k in part:
                    pipe.execute_command("VGET", k, "R", 3)
                for k, rep in zip(part, pipe.execute(raise_on_error=False)):
                    if isinstance(rep, redis.ResponseError):
                        retry.append(k)  # NOQUORUM while a replica is slow
                    elif rep is None or acked[k] not in rep[1]:
                        lost.setdefault(k, []).append((i, rep))
                    elif rep[1] != [acked[k]]:
                        wrong.setdefault(k, []).append((i, rep))
            todo = retry
            if todo and time.monotonic() > deadline:
                lost.update({k: [(i, "VGET R 3 kept failing")] for k in todo})
                break
    t_read = time.monotonic() - t0

    # After those reads (read repair has run): held locally on every node.
    t0 = time.monotonic()
    expected = {k: acked[k] for k in keys}
    never_killed = [i for i in (1, 2, 3) if i not in killed]
    miss = {}

    def held():
        miss.clear()
        for i in (1, 2, 3):
            m = missing_locally(cluster, i, expected)
            if m:
                miss[i] = m
        return not miss

    try:
        wait_for(held, timeout=10, msg="every acknowledged write in DYNAMO LOCAL everywhere")
    except AssertionError:
        pass
    t_local = time.monotonic() - t0
    infos = {i: cluster.info_cluster(i) for i in (1, 2, 3)}
    print("\nchaos: faults %.1fs: %s" % (t_faults, "; ".join(log)))
    print("chaos: attempted %d, acknowledged %d, NOQUORUM %d, timeouts %d, connection errors "
          "%d, other %d; lost %d, wrong %d" % (
              counts["attempted"], counts["acked"], counts["noquorum"], counts["timeout"],
              counts["conn"], counts["other"], len(lost), len(wrong)))
    if odd:
        print("chaos: unexpected replies: %s" % "; ".join(odd))
    print("chaos: converged (links, routing, hints drained) %.2fs after heal; VGET R 3 of "
          "%d keys x 3 nodes %.2fs; DYNAMO LOCAL complete after %.2fs; missing locally: %s"
          % (t_conv, len(keys), t_read, t_local,
             {"n%d" % i: len(m) for i, m in miss.items()} or "none"))
    print("chaos: hinted_writes %s, hints_delivered %s, read_repairs %s" % tuple(
        [infos[i][f] for i in (1, 2, 3)] for f in ("hinted_writes", "hints_delivered",
                                                   "read_repairs")))
    assert counts["acked"] > 0.3 * counts["attempted"], counts
    assert not lost, "%d acknowledged writes lost, e.g. %r" % (len(lost), list(lost.items())[:5])
    assert not wrong, "%d keys read with other values, e.g. %r" % (
        len(wrong), list(wrong.items())[:5])
    for i in never_killed:
        assert i not in miss, "n%d (never killed) lacks %d acknowledged writes locally, e.g. %r" % (
            i, len(miss[i]), miss[i][:5])
    for i in killed:
        assert i not in miss, "n%d (restarted) lacks %d acknowledged writes after VGET R 3 " \
            "read repair, e.g. %r" % (i, len(miss[i]), miss[i][:5])

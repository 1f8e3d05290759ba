"""Membership changes through real dynamo-node processes (tests/cluster/run.sh):
a node that cluster.conf does not list joins through the listed nodes (its
seeds), DYNAMO LEAVE, DYNAMO REMOVE, dead-node-evict-after (off by default),
and the key ranges moving with their data each time.

"Placement" below is what the user depends on after a ring change: every key
is held (DYNAMO LOCAL) by exactly the nodes of its current preference list —
the new owner got it, the old one let it go — and reads with R = N through
any node return every acknowledged value.
"""
import re
import threading
import time

import pytest
import redis

from cluster_harness import wait_for

GOSSIP = {"gossip-interval": 200, "gossip-suspect-after": 1000, "gossip-dead-after": 2000,
          "put-timeout": 1000, "get-timeout": 1000, "anti-entropy-interval": 1000}
PLACE_WITHIN = 30.0   # keys moved after a ring change (5000 keys/s pacing + AE rounds)


def write_keys(cluster, via, n, prefix="m"):
    """SETs n keys through node via (pipelined); returns {key: value}."""
    items = {"%s-%d" % (prefix, j): "v%d" % j for j in range(n)}
    pipe = cluster.client(via).pipeline(transaction=False)
    for k, v in items.items():
        pipe.set(k, v)
    assert all(r is True for r in pipe.execute())
    return items


def preflists(cluster, via, keys):
    """{key: set of owner names} from DYNAMO PREFLIST on node via."""
    pipe = cluster.client(via).pipeline(transaction=False)
    for k in keys:
        pipe.execute_command("DYNAMO", "PREFLIST", k)
    return {k: {line.split()[0] for line in rep} for k, rep in zip(keys, pipe.execute())}


def holders(cluster, nodes, keys):
    """{key: set of names of the nodes in nodes that hold key locally}."""
    out = {k: set() for k in keys}
    for i in nodes:
        for k, lines in cluster.local_many(i, keys).items():
            if lines:
                out[k].add(cluster.nodes[i].name)
    return out


def misplaced(cluster, nodes, keys):
    """Keys not held by exactly their preference list (as nodes[0] sees it)."""
    want = preflists(cluster, nodes[0], keys)
    have = holders(cluster, nodes, keys)
    return {k: (sorted(want[k]), sorted(have[k])) for k in keys if want[k] != have[k]}


def wait_placed(cluster, nodes, keys, timeout=PLACE_WITHIN):
    t0 = time.monotonic()
    last = {}

    def placed():
        last.clear()
        last.update(misplaced(cluster, nodes, keys))
        return not last

    try:
        wait_for(placed, timeout, "keys placed on their preference lists")
    except AssertionError:
        sample = dict(list(last.items())[:5])
        xfer = {cluster.nodes[i].name: {k: v for k, v in cluster.info_cluster(i).items()
                                        if k.startswith(("xfer", "ring_v"))} for i in nodes}
        raise AssertionError("%d keys misplaced, e.g. %s; transfers: %s"
                             % (len(last), sample, xfer))
    return time.monotonic() - t0


def assert_readable(cluster, via, items, r=3):
    pipe = cluster.client(via).pipeline(transaction=False)
    for k in items:
        pipe.execute_command("VGET", k, "R", r)
    bad = {}
    for (k, v), rep in zip(items.items(), pipe.execute(raise_on_error=False)):
        if isinstance(rep, Exception) or rep is None or rep[1] != [v]:
            bad[k] = rep
    assert not bad, "%d keys unreadable through n%d, e.g. %s" % (
        len(bad), via, dict(list(bad.items())[:5]))


def stored_keys(cluster, i):
    """Keys node i holds (tombstones included), from INFO keyspace."""
    ks = cluster.client(i).info("keyspace").get("db0")
    return int(ks["stored_keys"]) if ks else 0


def test_join_moves_ranges_to_the_new_node(cluster):
    """n4 is not in cluster.conf: started with its own address it joins
    through n1..n3; every node's ring gains it; the ranges it takes over move
    to it and leave their previous owners, with writes going on meanwhile."""
    cluster.start(3, GOSSIP)
    before = write_keys(cluster, 1, 1000)
    wait_placed(cluster, [1, 2, 3], list(before))
    assert all(stored_keys(cluster, i) == 1000 for i in (1, 2, 3))

    acked = {}
    stop = threading.Event()
    errors = []

    def writer():
        c = redis.Redis(host=cluster.nodes[2].host, port=cluster.nodes[2].port,
                        socket_timeout=10, decode_responses=True)
        j = 0
        while not stop.is_set():
            k, v = "during-%d" % j, "w%d" % j
            try:
                if c.set(k, v):
                    acked[k] = v
            except redis.RedisError as e:
                errors.append(repr(e))
            j += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        t0 = time.monotonic()
        cluster.add_node(4)
        joined = time.monotonic() - t0
        time.sleep(0.5)
    finally:
        stop.set()
        t.join()
    assert cluster.ring_members(1) == {"n1", "n2", "n3", "n4"}
    took = wait_placed(cluster, [1, 2, 3, 4], list(before) + list(acked))
    print("join: ring on every node %.2f s after start; %d keys placed %.2f s later; "
          "%d writes acked during the join, %d errors" % (joined, len(before) + len(acked),
                                                          took, len(acked), len(errors)))
    moved = sum(int(cluster.info_cluster(i)["xfer_keys_moved"]) for i in (1, 2, 3))
    assert moved > 0
    # Replication factor 3 exactly: 3 copies of every key, over 4 nodes.
    total = sum(stored_keys(cluster, i) for i in (1, 2, 3, 4))
    assert total == 3 * (len(before) + len(acked))
    assert 0 < stored_keys(cluster, 4) < len(before) + len(acked)
    assert_readable(cluster, 4, before)
    assert_readable(cluster, 1, acked)
    # The new member is in every node's table, with its address.
    for i in (1, 2, 3):
        line = [l for l in cluster.client(i).execute_command("DYNAMO", "NODES")
                if l.startswith("n4 ")][0]
        assert "%s:7001" % cluster.nodes[4].host in line and "ring=member" in line


def node_status(cluster, viewer, name):
    """The ring= field (member/left/gone) of name in viewer's DYNAMO NODES."""
    for line in cluster.client(viewer).execute_command("DYNAMO", "NODES"):
        if line.startswith(name + " "):
            return re.search(r"ring=(\S+)", line).group(1)
    return None


def test_leave_hands_every_key_over(cluster):
    """DYNAMO LEAVE on n4: it drops out of every ring, hands each key to the
    key's new owners, then says it is gone (holds nothing); stopping it
    loses nothing and, being gone, it does not hold tombstone reaping back;
    restarting it joins again."""
    cluster.start(3, dict(GOSSIP, **{"tombstone-reap-after": 500}))
    cluster.add_node(4)
    items = write_keys(cluster, 4, 1000, prefix="l")
    wait_placed(cluster, [1, 2, 3, 4], list(items))
    assert stored_keys(cluster, 4) > 0

    assert cluster.client(4).execute_command("DYNAMO", "LEAVE") == "OK"
    cluster.wait_ring([1, 2, 3, 4], lambda m: m == {"n1", "n2", "n3"}, "n4 out of every ring")
    try:
        wait_for(lambda: stored_keys(cluster, 4) == 0, PLACE_WITHIN, "n4 handed off all keys")
    except AssertionError:
        info = cluster.info_cluster(4)
        raise AssertionError("n4 still holds %d keys; %s" % (stored_keys(cluster, 4), {
            k: v for k, v in info.items() if k.startswith(("xfer", "ring", "hints"))}))
    wait_for(lambda: all(node_status(cluster, i, "n4") == "gone" for i in (1, 2, 3, 4)),
             10.0, "n4 gone in every table")
    wait_placed(cluster, [1, 2, 3], list(items))
    cluster.stop(4)
    assert_readable(cluster, 1, items)
    for i in (1, 2, 3):
        assert stored_keys(cluster, i) == 1000

    deleted = list(items)[:100]
    assert cluster.client(1).delete(*deleted) == len(deleted)
    wait_for(lambda: all(stored_keys(cluster, i) == 900 for i in (1, 2, 3)), PLACE_WITHIN,
             "tombstones reaped although n4 is down (it is gone, not just left)")
    items = {k: v for k, v in items.items() if k not in deleted}

    cluster.restart(4, wait_linked=False)
    cluster.wait_ring([1, 2, 3, 4], lambda m: "n4" in m, "n4 back in every ring")
    wait_placed(cluster, [1, 2, 3, 4], list(items))
    assert_readable(cluster, 4, items)
    assert all(v is None for v in cluster.client(4).mget(deleted))


def test_dead_node_keeps_its_place_by_default(cluster):
    """Temporary failure is not departure: without dead-node-evict-after a
    node dead for well past gossip-dead-after stays in every ring."""
    cluster.start(3, GOSSIP)
    cluster.kill(3)
    wait_for(lambda: all("gossip=dead" in [l for l in cluster.client(i).execute_command(
        "DYNAMO", "NODES") if l.startswith("n3 ")][0] for i in (1, 2)), 10.0, "n3 dead")
    time.sleep(3.0)  # well past gossip-dead-after (2 s)
    for i in (1, 2):
        assert cluster.ring_members(i) == {"n1", "n2", "n3"}
        assert cluster.client(i).config_get("dead-node-evict-after") == {
            "dead-node-evict-after": "0"}


def test_evicted_node_ranges_re_replicated_and_it_can_rejoin(cluster):
    """With dead-node-evict-after, a node dead that long leaves the ring; its
    ranges get a third replica again from the survivors; when it comes back
    (with its log) it joins again and placement follows."""
    cluster.start(3, dict(GOSSIP, **{"dead-node-evict-after": 3000}))
    cluster.add_node(4)
    items = write_keys(cluster, 1, 1000, prefix="e")
    wait_placed(cluster, [1, 2, 3, 4], list(items))
    killed_at = time.monotonic()
    cluster.kill(4)
    cluster.wait_ring([1, 2, 3], lambda m: m == {"n1", "n2", "n3"}, "n4 evicted", timeout=20)
    evicted_after = time.monotonic() - killed_at
    took = wait_placed(cluster, [1, 2, 3], list(items))
    print("evict: n4 left every ring %.2f s after kill -9; 3 copies restored %.2f s later"
          % (evicted_after, took))
    for i in (1, 2, 3):
        assert stored_keys(cluster, i) == 1000
    # Writes while it is gone.
    more = write_keys(cluster, 2, 200, prefix="e2")
    cluster.restart(4, wait_linked=False)
    cluster.wait_ring([1, 2, 3, 4], lambda m: m == {"n1", "n2", "n3", "n4"}, "n4 rejoined")
    allkeys = list(items) + list(more)
    wait_placed(cluster, [1, 2, 3, 4], allkeys)
    assert_readable(cluster, 4, dict(items, **more))


def test_remove_takes_a_dead_node_out(cluster):
    """DYNAMO REMOVE (operator removal) of a dead node: every ring drops it and
    its ranges are re-replicated; unknown names and self are refused."""
    cluster.start(3, GOSSIP)
    cluster.add_node(4)
    items = write_keys(cluster, 1, 500, prefix="r")
    wait_placed(cluster, [1, 2, 3, 4], list(items))
    c = cluster.client(1)
    with pytest.raises(redis.ResponseError, match="no node named"):
        c.execute_command("DYNAMO", "REMOVE", "nosuch")
    with pytest.raises(redis.ResponseError, match="DYNAMO LEAVE"):
        c.execute_command("DYNAMO", "REMOVE", "n1")
    cluster.kill(4)
    assert c.execute_command("DYNAMO", "REMOVE", "n4") == "OK"
    cluster.wait_ring([1, 2, 3], lambda m: m == {"n1", "n2", "n3"}, "n4 removed everywhere")
    wait_placed(cluster, [1, 2, 3], list(items))
    assert_readable(cluster, 3, items)


def test_join_through_seed_lines_and_dynamo_join(cluster):
    """A node whose file lists no node, only `seed HOST:PORT` lines, joins
    through the seed; a node with no reachable seed joins when told
    DYNAMO JOIN host:port.  Each takes over its ranges with their data."""
    cluster.start(3, GOSSIP)
    items = write_keys(cluster, 1, 600, prefix="s")
    wait_placed(cluster, [1, 2, 3], list(items))
    cluster.add_node(4, seeds=[2])
    wait_placed(cluster, [1, 2, 3, 4], list(items))

    cluster.add_node(5, seeds=["127.0.0.99:7001"], wait=False)  # a seed nobody runs
    time.sleep(1.0)  # five gossip rounds: nobody hears of n5 through a dead seed
    assert cluster.ring_members(5) == {"n5"}
    assert "n5" not in cluster.ring_members(1)
    c5 = cluster.client(5)
    with pytest.raises(redis.ResponseError, match="not HOST:PORT"):
        c5.execute_command("DYNAMO", "JOIN", "nowhere")
    assert c5.execute_command("DYNAMO", "JOIN", "%s:7001" % cluster.nodes[3].host) == "OK"
    cluster.wait_ring([1, 2, 3, 4, 5], lambda m: m == {"n1", "n2", "n3", "n4", "n5"},
                      "n5 in every ring")
    wait_placed(cluster, [1, 2, 3, 4, 5], list(items))
    assert_readable(cluster, 5, items)
    assert sum(stored_keys(cluster, i) for i in (1, 2, 3, 4, 5)) == 3 * len(items)


def test_acknowledged_writes_survive_join_then_leave(cluster):
    """Writers keep going through n1 and n3 while n4 joins and then n2 (one
    of the original nodes) leaves: every acknowledged write is readable
    with R = 3 through every remaining node afterwards, and held exactly by
    its preference list."""
    cluster.start(3, GOSSIP)
    acked = {}
    lock = threading.Lock()
    stop = threading.Event()
    counts = {"attempted": 0, "errors": 0}
    uncertain = set()

    def writer(w, via):
        c = redis.Redis(host=cluster.nodes[via].host, port=cluster.nodes[via].port,
                        socket_timeout=10, decode_responses=True)
        j = 0
        while not stop.is_set():
            k, v = "c%d-%d" % (w, j % 400), "w%d-%d" % (w, j)  # overwrites too
            with lock:
                counts["attempted"] += 1
            try:
                if c.set(k, v):
                    with lock:
                        acked[k] = v
                        uncertain.discard(k)
            except redis.RedisError:
                with lock:  # may or may not be applied: not checked until acked again
                    counts["errors"] += 1
                    uncertain.add(k)
            j += 1

    threads = [threading.Thread(target=writer, args=(w, via)) for w, via in ((0, 1), (1, 3))]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        cluster.add_node(4)
        time.sleep(0.5)
        assert cluster.client(2).execute_command("DYNAMO", "LEAVE") == "OK"
        cluster.wait_ring([1, 2, 3, 4], lambda m: m == {"n1", "n3", "n4"}, "n2 out")
        wait_for(lambda: stored_keys(cluster, 2) == 0, PLACE_WITHIN, "n2 handed off")
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
    took = wait_placed(cluster, [1, 3, 4], list(acked))
    cluster.stop(2)
    checked = {k: v for k, v in acked.items() if k not in uncertain}
    for via in (1, 3, 4):
        assert_readable(cluster, via, checked)
    print("join+leave under load: %d attempted, %d acknowledged keys (last values), "
          "%d errors, 0 lost; placed %.2f s after the hand-off"
          % (counts["attempted"], len(acked), counts["errors"], took))


def reaped(cluster, i):
    return int(cluster.info_cluster(i).get("tombstones_reaped", 0))


def test_tombstones_reaped_only_once_nothing_older_can_return(cluster):
    """Keys deleted while n3 is down (it still holds their old values in
    its log) keep their tombstones, however old, until n3 is back and has
    them too; then every node drops them, and no deleted key ever reads
    back.  Reaping is also a plain local removal on a single node."""
    cluster.start(3, dict(GOSSIP, **{"tombstone-reap-after": 1000}))
    items = write_keys(cluster, 1, 300, prefix="t")
    wait_placed(cluster, [1, 2, 3], list(items))
    cluster.kill(3)
    gone = list(items)[:200]
    pipe = cluster.client(1).pipeline(transaction=False)
    for k in gone:
        pipe.delete(k)
    assert pipe.execute() == [1] * len(gone)
    time.sleep(2.5)  # the tombstones are older than tombstone-reap-after now
    for i in (1, 2):
        assert stored_keys(cluster, i) == 300  # 200 tombstones kept: n3 is down
        assert reaped(cluster, i) == 0
    cluster.restart(3)  # comes back with the deleted values in its log

    def deleted_everywhere():
        for i in (1, 2, 3):
            pipe = cluster.client(i).pipeline(transaction=False)
            for k in gone:
                pipe.get(k)
            assert pipe.execute() == [None] * len(gone), "a deleted key read back"
        return all(stored_keys(cluster, i) == 100 for i in (1, 2, 3))

    wait_for(deleted_everywhere, PLACE_WITHIN, "tombstones reaped on every node")
    # At least once each (a tombstone that anti-entropy copied back from an
    # owner that had not yet applied its PREAP is reaped again later).
    assert sum(reaped(cluster, i) for i in (1, 2, 3)) >= len(gone)
    for i in (1, 2, 3):
        assert all(not lines for lines in cluster.local_many(i, gone).values())
    assert_readable(cluster, 2, {k: items[k] for k in list(items)[200:]})
    time.sleep(2.0)  # anti-entropy rounds after the reap bring nothing back
    for i in (1, 2, 3):
        assert stored_keys(cluster, i) == 100
        assert all(v is None for v in cluster.client(i).mget(gone))


def test_join_while_a_node_is_cut_off_converges_after_heal(cluster, nft):
    """n4 joins while n3 is cut off from everyone, so for a while n3's ring
    lacks n4 and n3 keeps coordinating (its minority side) with the old
    ring.  After heal every ring agrees, every key — written before, on the
    majority side and on n3's side — sits on its preference list, and all
    are readable with R = 3."""
    cluster.start(3, GOSSIP)
    before = write_keys(cluster, 1, 300, prefix="p")
    wait_placed(cluster, [1, 2, 3], list(before))
    cluster.isolate(3)
    cluster.partition(3, 4)  # n4's address too, before it exists
    cluster.wait_routed([1, 2], 3, up=False, timeout=10)
    for j in (1, 2):  # and n3 routes around them: its writes below are its own
        cluster.wait_routed([3], j, up=False, timeout=10)
    cluster.add_node(4, wait=False)
    cluster.wait_ring([1, 2, 4], lambda m: m == {"n1", "n2", "n3", "n4"}, "n4 on the majority")
    assert "n4" not in cluster.ring_members(3)
    majority = write_keys(cluster, 4, 200, prefix="maj")
    minority = {}
    c3 = cluster.client(3)
    c3.config_set("w", 1)  # n3 alone takes writes (always writable), W=1
    for j in range(100):
        k, v = "min-%d" % j, "m%d" % j
        assert c3.set(k, v) is True
        minority[k] = v
    c3.config_set("w", 2)
    cluster.heal()
    cluster.wait_ring([1, 2, 3, 4], lambda m: m == {"n1", "n2", "n3", "n4"}, "rings agree",
                      timeout=30)
    allkeys = dict(before, **majority, **minority)
    took = wait_placed(cluster, [1, 2, 3, 4], list(allkeys))
    print("join during a partition: %d keys placed %.2f s after the rings agreed"
          % (len(allkeys), took))
    for target in (1, 2, 3, 4):  # n3's probes timed out while it was cut off
        cluster.wait_routed([i for i in (1, 2, 3, 4) if i != target], target, up=True,
                            timeout=15)
    for via in (1, 3):
        assert_readable(cluster, via, allkeys)


def typed_values(cluster, via, n):
    """Reads back the typed keys write_typed made."""
    pipe = cluster.client(via).pipeline(transaction=False)
    for j in range(n):
        pipe.smembers("ts-%d" % j)
        pipe.hgetall("th-%d" % j)
        pipe.zrange("tz-%d" % j, 0, -1, withscores=True)
        pipe.get("tc-%d" % j)
    return pipe.execute()


def expected_typed(n):
    out = []
    for j in range(n):
        out += [{"a%d" % j, "b"}, {"f": "v%d" % j, "n": str(10 + j)},
                [("m", 1.0), ("x%d" % j, float(j + 2))], str(100 + j)]
    return out


def test_join_and_leave_move_hashes_sets_sorted_sets_and_counters(cluster):
    """Typed keys ride the transfers like strings: after n4 joins, each is
    held by exactly its preference list and reads the same through n4;
    after n4 leaves, n1..n3 hold them all again, values intact."""
    cluster.start(3, GOSSIP)
    n = 150
    pipe = cluster.client(1).pipeline(transaction=False)
    for j in range(n):
        pipe.sadd("ts-%d" % j, "a%d" % j, "b")
        pipe.hset("th-%d" % j, mapping={"f": "v%d" % j, "n": "10"})
        pipe.hincrby("th-%d" % j, "n", j)
        pipe.zadd("tz-%d" % j, {"m": 1, "x%d" % j: 2})
        pipe.zincrby("tz-%d" % j, j, "x%d" % j)
        pipe.incrby("tc-%d" % j, 100 + j)
    pipe.execute()
    keys = ["%s-%d" % (p, j) for p in ("ts", "th", "tz", "tc") for j in range(n)]
    wait_placed(cluster, [1, 2, 3], keys)
    cluster.add_node(4)
    wait_placed(cluster, [1, 2, 3, 4], keys)
    assert 0 < sum(1 for k, h in holders(cluster, [4], keys).items() if h) < len(keys)
    assert typed_values(cluster, 4, n) == expected_typed(n)
    assert cluster.client(4).execute_command("DYNAMO", "LEAVE") == "OK"
    cluster.wait_ring([1, 2, 3, 4], lambda m: m == {"n1", "n2", "n3"}, "n4 out of every ring")
    wait_for(lambda: stored_keys(cluster, 4) == 0, PLACE_WITHIN, "n4 handed off all keys")
    wait_placed(cluster, [1, 2, 3], keys)
    assert typed_values(cluster, 2, n) == expected_typed(n)

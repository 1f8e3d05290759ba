"""Issue 16: FLUSHALL / FLUSHDB empty the whole cluster (tests/cluster/run.sh).

A flush sent to any node raises the cluster's flush epoch; every version
carries the epoch its coordinator knew when it stamped it, and every node
drops the versions stamped before the epoch it knows (README, "Cluster-wide
FLUSHALL").  These tests check, through the real binary and real clients:

  (a) a flush through one node: every old key reads nil through every node,
      at R=1 and R=N, no node holds a copy (DYNAMO LOCAL), DBSIZE / KEYS /
      SCAN / RANDOMKEY agree at once, and anti-entropy rounds afterwards
      bring nothing back; a key written right after the flush survives;
  (b) a node partitioned away during the flush keeps its copies; once it is
      back it learns the epoch, anti-entropy runs, and nothing old returns;
  (c) the same with a node killed -9 during the flush and restarted from its
      log; and a node killed -9 after the flush keeps the epoch in its log;
  (d) hints pending for a down node are dropped by the flush and nothing old
      comes back when the node returns;
  (e) a flush that cannot reach W nodes answers NOQUORUM and drops nothing;
  (f) INFO shows the epoch, and ASYNC / SYNC / FLUSHDB are accepted.

Waits poll against deadlines (wait_for); nothing sleeps a fixed time.
"""
import redis

from cluster_harness import wait_for

AE_MS = 300
SETTINGS = {"put-timeout": 1000, "get-timeout": 1000, "anti-entropy-interval": AE_MS}
NKEYS = 200


def keys(prefix="old", n=NKEYS):
    return ["%s:%d" % (prefix, i) for i in range(n)]


def set_all(cluster, via, ks):
    pipe = cluster.client(via).pipeline(transaction=False)
    for k in ks:
        pipe.set(k, "v-" + k)
    assert all(r is True for r in pipe.execute())


def info_field(cluster, i, section, field):
    return cluster.client(i).info(section).get(field)


def epoch(cluster, i):
    return int(info_field(cluster, i, "persistence", "flush_epoch"))


def ae_exchanges(cluster, i):
    return int(info_field(cluster, i, "cluster", "ae_exchanges"))


def wait_ae_rounds(cluster, nodes, rounds=3):
    """Until every node in nodes ran `rounds` more anti-entropy exchanges."""
    start = {i: ae_exchanges(cluster, i) for i in nodes}
    wait_for(lambda: all(ae_exchanges(cluster, i) >= start[i] + rounds for i in nodes),
             timeout=30.0, msg="anti-entropy exchanges on %s" % (list(nodes),))


def held_locally(cluster, i, ks):
    """The keys of ks node i holds any version of (its own copy)."""
    return [k for k, lines in cluster.local_many(i, ks).items() if lines]


def assert_all_gone(cluster, nodes, ks):
    """Every key of ks reads nil through every node at R=1 and R=N, and no
    node holds any version of it."""
    for i in nodes:
        c = cluster.client(i)
        for r in (1, 3):
            pipe = c.pipeline(transaction=False)
            for k in ks:
                pipe.execute_command("VGET", k, "R", r)
            got = pipe.execute()
            back = [k for k, v in zip(ks, got) if v is not None]
            assert back == [], "n%d R=%d still returns %d old keys, e.g. %s" % (
                i, r, len(back), back[:5])
        assert c.mget(ks[:50]) == [None] * 50
        assert held_locally(cluster, i, ks) == [], "n%d still holds old keys" % i


def assert_keyspace_empty(cluster, nodes):
    for i in nodes:
        c = cluster.client(i)
        assert c.dbsize() == 0, "n%d DBSIZE" % i
        assert c.keys("*") == [], "n%d KEYS" % i
        assert c.randomkey() is None, "n%d RANDOMKEY" % i
        cur, found = c.scan(0, count=1000)
        while cur != 0:
            cur, more = c.scan(cur, count=1000)
            found += more
        assert found == [], "n%d SCAN" % i


def test_flush_through_one_node_empties_every_node(cluster):
    cluster.start(3, SETTINGS)
    old = keys()
    set_all(cluster, 1, old)
    for i in (1, 2, 3):
        wait_for(lambda: len(held_locally(cluster, i, old)) == NKEYS, timeout=10.0,
                 msg="every replica holds the keys before the flush")
    assert cluster.client(2).execute_command("FLUSHALL") in (True, "OK", b"OK")
    # At once, on every node: no key, through any command.
    assert_keyspace_empty(cluster, (1, 2, 3))
    assert_all_gone(cluster, (1, 2, 3), old)
    e = epoch(cluster, 2)
    assert e >= 1 and all(epoch(cluster, i) == e for i in (1, 3))
    # A key written right after the flush survives, through every node.
    new = keys("new", 50)
    set_all(cluster, 3, new)
    wait_ae_rounds(cluster, (1, 2, 3))
    assert_all_gone(cluster, (1, 2, 3), old)
    for i in (1, 2, 3):
        assert cluster.client(i).mget(new) == ["v-" + k for k in new]
        assert cluster.client(i).dbsize() == len(new)
    # A second flush through another node, with FLUSHDB ASYNC: the epoch grows.
    assert cluster.client(1).execute_command("FLUSHDB", "ASYNC") in (True, "OK", b"OK")
    assert all(epoch(cluster, i) == e + 1 for i in (1, 2, 3))
    assert_all_gone(cluster, (1, 2, 3), new)
    info = cluster.client(1).info("persistence")
    assert int(info["flushes"]) == 2 and int(info["last_flush_time"]) > 0


def written_everywhere(cluster):
    """The old keys, written through n1 and held by n3 too."""
    old = keys()
    set_all(cluster, 1, old)
    wait_for(lambda: len(held_locally(cluster, 3, old)) == NKEYS, timeout=10.0,
             msg="n3 holds the keys")
    return old


def test_partitioned_node_rejoins_without_old_data(cluster, nft):
    cluster.start(3, SETTINGS)
    old = written_everywhere(cluster)
    cluster.isolate(3)
    cluster.wait_routed([1, 2], 3, up=False)
    assert cluster.client(1).execute_command("FLUSHALL", "SYNC") in (True, "OK", b"OK")
    # n3 was cut off: its copies are intact.
    assert len(held_locally(cluster, 3, old)) == NKEYS
    assert epoch(cluster, 3) == 0
    cluster.heal()
    cluster.wait_linked()
    wait_for(lambda: epoch(cluster, 3) == epoch(cluster, 1), timeout=15.0,
             msg="n3 learns the flush epoch through gossip")
    wait_ae_rounds(cluster, (1, 2, 3))
    assert_all_gone(cluster, (1, 2, 3), old)
    assert_keyspace_empty(cluster, (1, 2, 3))


def test_killed_node_restarted_from_its_log(cluster):
    cluster.start(3, dict(SETTINGS, appendfsync="always"))
    old = written_everywhere(cluster)
    cluster.kill(3)
    cluster.wait_routed([1, 2], 3, up=False)
    assert cluster.client(1).execute_command("FLUSHALL") in (True, "OK", b"OK")
    cluster.restart(3)  # its log still holds every old key
    wait_for(lambda: epoch(cluster, 3) == epoch(cluster, 1), timeout=15.0,
             msg="the restarted n3 learns the flush epoch")
    wait_ae_rounds(cluster, (1, 2, 3))
    assert_all_gone(cluster, (1, 2, 3), old)
    assert_keyspace_empty(cluster, (1, 2, 3))
    # Killed after the flush: the epoch is in its log, and so is the drop.
    e = epoch(cluster, 1)
    new = keys("new", 50)
    set_all(cluster, 2, new)
    cluster.kill(2)
    cluster.restart(2)
    assert epoch(cluster, 2) == e
    assert held_locally(cluster, 2, old) == []
    assert len(held_locally(cluster, 2, new)) == len(new)


def test_hints_for_a_down_node_are_flushed(cluster):
    cluster.start(3, SETTINGS)
    cluster.kill(3)
    cluster.wait_routed([1, 2], 3, up=False)
    old = keys()
    set_all(cluster, 1, old)
    pending = lambda: sum(p for p, _ in cluster.hints(1).values()) + \
        sum(p for p, _ in cluster.hints(2).values())
    assert pending() > 0, "writes while n3 is down leave hints for it"
    assert cluster.client(2).execute_command("FLUSHALL") in (True, "OK", b"OK")
    assert pending() == 0, "the flush drops the hints stamped before it"
    new = keys("new", 50)
    set_all(cluster, 1, new)
    cluster.restart(3)
    wait_for(lambda: epoch(cluster, 3) == epoch(cluster, 1), timeout=15.0,
             msg="n3 learns the flush epoch")
    wait_for(lambda: pending() == 0, timeout=15.0, msg="hints for the new keys delivered")
    wait_ae_rounds(cluster, (1, 2, 3))
    assert_all_gone(cluster, (1, 2, 3), old)
    for i in (1, 2, 3):
        assert cluster.client(i).mget(new) == ["v-" + k for k in new]


def test_flush_without_quorum_answers_noquorum(cluster, nft):
    cluster.start(3, SETTINGS)
    old = keys("old", 50)
    set_all(cluster, 1, old)
    wait_for(lambda: len(held_locally(cluster, 1, old)) == 50, timeout=10.0,
             msg="n1 holds the keys")
    cluster.isolate(1)
    cluster.wait_routed([1], 2, up=False)
    cluster.wait_routed([1], 3, up=False)
    try:
        cluster.client(1).execute_command("FLUSHALL")
        raise AssertionError("FLUSHALL without W nodes answered OK")
    except redis.ResponseError as e:
        assert str(e).startswith("NOQUORUM"), str(e)
    # Refused before anything was done: n1 still holds everything.
    assert epoch(cluster, 1) == 0
    assert len(held_locally(cluster, 1, old)) == 50
    cluster.heal()
    cluster.wait_linked()
    assert cluster.client(2).mget(old) == ["v-" + k for k in old]


def test_restarted_node_never_serves_old_keys_before_gossip_tells_it(cluster):
    """The window between a node's return and its first gossip exchange:
    with gossip rounds 30 s apart, n3 (killed -9 during the flush, its log
    full of old keys) is restarted and read through at once, as soon as its
    links are up.  Its quorum reads (R=2) must not return the old keys: the
    replicas' answers tell it the flush epoch, and it drops what it holds
    from before it before answering."""
    slow = {"gossip-interval": 30000, "gossip-suspect-after": 120000,
            "gossip-dead-after": 240000}
    cluster.start(3, dict(SETTINGS, appendfsync="always", **slow))
    old = written_everywhere(cluster)
    cluster.kill(3)
    cluster.wait_routed([1, 2], 3, up=False)
    assert cluster.client(1).execute_command("FLUSHALL") in (True, "OK", b"OK")
    e = epoch(cluster, 1)
    cluster.restart(3)  # links up (wait_linked); no gossip round yet
    c3 = cluster.client(3)
    got = [c3.get(k) for k in old[:50]]
    assert got == [None] * 50, "n3 served %d old keys" % sum(g is not None for g in got)
    assert epoch(cluster, 3) == e
    assert held_locally(cluster, 3, old) == []

"""Durability and Merkle anti-entropy in a 3-node cluster (tests/cluster/run.sh).

  (a) kill -9 of a replica during a write stream with appendfsync always:
      after a restart with its log it holds (nearly) every write acked
      before the kill without any repair (anti-entropy off), and once
      anti-entropy is switched on every write acked to a client is on all
      three nodes.
  (b) a node whose data directory is lost (log deleted) and restarted while
      nothing else was down: no hint exists, no client reads, and yet
      anti-entropy alone refills it; the time and the bytes exchanged for
      20,000 keys are printed.
  (c) DYNAMO CHECK: the wiped node's trees differ from its peers' (roots,
      differing_leaves > 0) before the repair and match (0) after.
  (d) tombstones travel through anti-entropy: deleted keys come back to the
      wiped node as tombstones, and stay deleted everywhere.
  (e) clock identity: a wiped node's new writes are stamped with a new
      incarnation and supersede what its previous life wrote.

Every test starts its own cluster n1..n3 (N=3 W=2 R=2, put/get timeouts
1 s).  "Holds" always means the node's own copy (DYNAMO LOCAL / INFO
keyspace), never a quorum read, which would repair what it reads.  Waits poll
against deadlines; figures are printed (run with -s to see them).
"""
import re
import threading
import time

import redis

from cluster_harness import CLIENT_PORT, host_of, wait_for

PUT_MS = 1000
GET_MS = 1000
SETTINGS = {"put-timeout": PUT_MS, "get-timeout": GET_MS}
AE_MS = 300                 # anti-entropy-interval while it is on
N_KEYS = 20000              # (b)/(c): keys the wiped node must get back
VALUE_SIZE = 100
REPAIR_WITHIN = 60.0        # seconds for anti-entropy to refill a wiped node


def start3(cluster, **settings):
    return cluster.start(3, dict(SETTINGS, **settings))


def value_of(k):
    v = "v:%s:" % k
    return v + "x" * (VALUE_SIZE - len(v))


def shown(v):
    """What DYNAMO LOCAL shows of a value (its first 64 bytes)."""
    return v[:64]


def set_many(cluster, via, items, chunk=500):
    """Pipelined SETs, chunks spread over the nodes in via; all must be OK."""
    items = list(items)
    for n, s in enumerate(range(0, len(items), chunk)):
        part = items[s:s + chunk]
        pipe = cluster.client(via[n % len(via)]).pipeline(transaction=False)
        for k, v in part:
            pipe.set(k, v)
        reps = pipe.execute(raise_on_error=False)
        bad = [(k, r) for (k, _), r in zip(part, reps) if r is not True]
        assert not bad, "SET failed: %r" % bad[:5]


def keyspace(cluster, i):
    """Node i's own (live keys, stored keys incl. tombstones) from INFO keyspace."""
    db = cluster.client(i).info("keyspace").get("db0")
    return (db["keys"], db["stored_keys"]) if db else (0, 0)


def missing_locally(cluster, i, expected):
    """Keys of expected ({key: value}) whose value node i does not hold."""
    got = cluster.local_many(i, expected)
    miss = []
    for k, v in expected.items():
        vals = [cluster.parse_local(line) for line in got[k]]
        if not any(kind == "value" and val == shown(v) for kind, val, _ in vals):
            miss.append(k)
    return miss


def check(cluster, i):
    """DYNAMO CHECK on node i: {peer name: {field: int or str}}."""
    out = {}
    for line in cluster.client(i).execute_command("DYNAMO", "CHECK"):
        parts = line.split()
        fields = {}
        for p in parts[1:]:
            k, sep, v = p.partition("=")
            if sep:
                fields[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
        out[parts[0]] = fields
    return out


def poll_fast(fn, timeout, what):
    """wait_for without its back-off: polls fn() back to back (each call
    costs a few round trips) so that short-lived states are seen."""
    deadline = time.monotonic() + timeout
    while not fn():
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(0.001)


def info_int(cluster, i, field, section="cluster"):
    return int(cluster.client(i).info(section)[field])


def set_ae(cluster, ms, nodes=(1, 2, 3)):
    for i in nodes:
        assert cluster.client(i).config_set("anti-entropy-interval", ms) is True


def load_and_settle(cluster, n_keys):
    """Writes n_keys keys (spread over the three nodes) and waits until each
    node holds all of them; returns {key: value}."""
    expected = {"ae-%06d" % j: value_of("ae-%06d" % j) for j in range(n_keys)}
    set_many(cluster, (1, 2, 3), expected.items())
    wait_for(lambda: all(keyspace(cluster, i)[0] == n_keys for i in (1, 2, 3)), 30.0,
             "every node holds the %d keys" % n_keys)
    return expected


# ---------------------------------------------------------------------------
# (a) kill -9 of a replica during a write stream


class Writer(threading.Thread):
    """SETs unique keys through node `via` until stopped; keeps the acked
    ones as {key: (value, monotonic time of the OK)}.  Errors (NOQUORUM,
    timeouts) just mean 'not acked'."""

    def __init__(self, via, prefix):
        super().__init__(daemon=True)
        self.via = via
        self.prefix = prefix
        self.acked = {}
        self.errors = 0
        self.halt = threading.Event()

    def run(self):
        c = redis.Redis(host=host_of(self.via), port=CLIENT_PORT, socket_timeout=5.0,
                        decode_responses=True)
        i = 0
        while not self.halt.is_set():
            k = "%s-%06d" % (self.prefix, i)
            v = "w:" + k
            i += 1
            try:
                if c.set(k, v) is True:
                    self.acked[k] = (v, time.monotonic())
                    continue
            except (redis.ResponseError, redis.TimeoutError, redis.ConnectionError):
                pass
            self.errors += 1
            self.halt.wait(0.01)
        c.close()


def test_a_killed_replica_recovers_its_acked_writes_from_its_log(cluster):
    start3(cluster, **{"appendfsync": "always", "anti-entropy-interval": 0})
    for i in (1, 2, 3):
        assert cluster.client(i).config_get("appendfsync")["appendfsync"] == "always"
    ws = [Writer(via, "a%d%d" % (via, j)) for via in (1, 2) for j in range(2)]
    for w in ws:
        w.start()
    wait_for(lambda: sum(len(w.acked) for w in ws) >= 2000, 30.0, "2000 acked writes")
    t_kill = time.monotonic()
    cluster.kill(3)
    assert cluster.nodes[3].proc.returncode == -9
    # keep writing a little while n3 is down (W=2 still met by n1, n2)
    wait_for(lambda: sum(1 for w in ws for _, t in w.acked.values() if t > t_kill) >= 300,
             20.0, "300 writes acked while n3 is down")
    for w in ws:
        w.halt.set()
    for w in ws:
        w.join(10.0)
        assert not w.is_alive()
    acked = {k: v for w in ws for k, (v, _) in w.acked.items()}
    before_kill = {k: v for w in ws for k, (v, t) in w.acked.items() if t < t_kill}

    cluster.restart(3)
    pers = cluster.client(3).info("persistence")
    # Straight after the restart, before anti-entropy and (mostly) before any
    # hint arrives: what n3 holds comes from its log.
    miss = missing_locally(cluster, 3, before_kill)
    held = len(before_kill) - len(miss)
    print("(a) %d writes acked before kill -9 of n3 (%d in all); n3 after restart: "
          "%d records replayed, %d truncated bytes, holds %d of them (%.2f%%)"
          % (len(before_kill), len(acked), pers["aof_loaded_records"],
             pers["aof_load_truncated_bytes"], held, 100.0 * held / len(before_kill)))
    assert pers["aof_loaded_records"] >= 0.95 * len(before_kill), pers
    assert held >= 0.95 * len(before_kill), miss[:10]

    set_ae(cluster, AE_MS)
    t0 = time.monotonic()
    last = {}

    def everywhere():
        for i in (1, 2, 3):
            m = missing_locally(cluster, i, acked)
            if m:
                last["miss"] = (i, len(m), m[:5])
                return False
        return True

    try:
        wait_for(everywhere, 30.0, "every acked write on all three nodes")
    except AssertionError as e:
        raise AssertionError("%s; last: n%d misses %d, e.g. %r" % ((e,) + last["miss"])) \
            from None
    print("(a) all %d acked writes on all three nodes %.2f s after anti-entropy was "
          "switched on (ae_keys_repaired: %s)"
          % (len(acked), time.monotonic() - t0,
             [info_int(cluster, i, "ae_keys_repaired") for i in (1, 2, 3)]))
    # and they read back through every node
    c = cluster.client(3)
    sample = list(acked.items())[::17]
    assert c.mget([k for k, _ in sample]) == [v for _, v in sample]


# ---------------------------------------------------------------------------
# (b) a wiped node refilled by anti-entropy alone


def test_b_wiped_node_is_refilled_by_anti_entropy_alone(cluster):
    start3(cluster, **{"anti-entropy-interval": AE_MS})
    expected = load_and_settle(cluster, N_KEYS)
    # settled: the trees agree (no repair traffic left to confuse the figures)
    wait_for(lambda: all(f["differing_leaves"] == 0 and f["compared_ms_ago"] >= 0
                         for i in (1, 2, 3) for f in check(cluster, i).values()), 20.0,
             "every pair compared and in sync")
    hints0 = {i: info_int(cluster, i, "hints_delivered") + info_int(cluster, i, "hints_stored")
              for i in (1, 2)}
    rr0 = {i: info_int(cluster, i, "read_repairs") for i in (1, 2)}
    bytes0 = {i: info_int(cluster, i, "ae_bytes_exchanged") for i in (1, 2)}

    cluster.stop(3)
    gone = cluster.wipe_data(3)
    assert "n3.aol" in gone, gone
    cluster.restart(3)
    t0 = time.monotonic()
    assert keyspace(cluster, 3) == (0, 0) or keyspace(cluster, 3)[0] < N_KEYS
    max_diff = {"v": 0}

    def refilled():
        for i in (1, 2, 3):
            for peer, f in check(cluster, i).items():
                if "n3" in (peer, "n%d" % i):
                    max_diff["v"] = max(max_diff["v"], f["differing_leaves"])
        return keyspace(cluster, 3)[0] == N_KEYS

    poll_fast(refilled, REPAIR_WITHIN, "n3 holding all %d keys again" % N_KEYS)
    dt = time.monotonic() - t0
    miss = missing_locally(cluster, 3, expected)
    assert miss == [], "n3 lacks %d keys, e.g. %r" % (len(miss), miss[:5])

    sent = {i: info_int(cluster, i, "ae_bytes_exchanged") - bytes0.get(i, 0) for i in (1, 2, 3)}
    total = sum(sent.values())
    data = N_KEYS * VALUE_SIZE
    repaired = [info_int(cluster, i, "ae_keys_repaired") for i in (1, 2, 3)]
    print("(b) anti-entropy refilled wiped n3 with %d keys in %.2f s (%.0f keys/s); "
          "ae_bytes_exchanged since the wipe %s = %d bytes for %d bytes of values "
          "(%.2fx); ae_keys_repaired %s; max differing_leaves seen %d of 4096"
          % (N_KEYS, dt, N_KEYS / dt, sent, total, data, total / data, repaired,
             max_diff["v"]))
    # Nothing but anti-entropy did it: no hints, no read repair.
    for i in (1, 2):
        assert info_int(cluster, i, "hints_delivered") + \
            info_int(cluster, i, "hints_stored") == hints0[i]
        assert info_int(cluster, i, "read_repairs") == rr0[i]
    assert info_int(cluster, 3, "read_repairs") == 0
    assert sum(repaired) >= N_KEYS
    # Cost.  Per key and per repairing exchange: the key listing (key +
    # digest), a PGET (sent even when the listing showed the peer lacks the
    # key) and a PPUT of value + clock.  n1->n3, n2->n3 and n3->n1 run at
    # the same time and each repairs what the others are repairing, so about
    # 3 x (1.5 to 2.5) x the data moves (measured ~7x).  The bound only
    # catches a runaway (e.g. exchanges that repeat full repairs).
    assert total < 12 * data, "anti-entropy moved %d bytes for %d bytes of data" % (total, data)
    assert keyspace(cluster, 1)[0] == keyspace(cluster, 2)[0] == N_KEYS


# ---------------------------------------------------------------------------
# (c) DYNAMO CHECK before and after the repair


def test_c_dynamo_check_shows_divergence_then_sync(cluster):
    start3(cluster, **{"anti-entropy-interval": 0})
    load_and_settle(cluster, N_KEYS)
    for i in (1, 2, 3):
        view = check(cluster, i)
        assert sorted(view) == sorted({"n1", "n2", "n3"} - {"n%d" % i}), view
        for f in view.values():
            assert f["exchanges"] == 0 and f["compared_ms_ago"] == -1, view
        assert all(" of 4096 " in line
                   for line in cluster.client(i).execute_command("DYNAMO", "CHECK"))

    def roots():
        return {(i, peer): f["root"] for i in (1, 2, 3) for peer, f in check(cluster, i).items()}

    r = roots()
    # Each pair's two trees cover the same keys (N = 3: all of them) and agree.
    for a, b in ((1, 2), (1, 3), (2, 3)):
        assert r[(a, "n%d" % b)] == r[(b, "n%d" % a)], r

    cluster.stop(3)
    cluster.restart(3, wipe=True)
    assert keyspace(cluster, 3) == (0, 0)
    r = roots()
    assert r[(1, "n3")] != r[(3, "n1")] and r[(2, "n3")] != r[(3, "n2")], r
    assert r[(1, "n2")] == r[(2, "n1")], r

    # Switch anti-entropy on and watch DYNAMO CHECK: some comparison with n3
    # finds differing leaves, and in the end every pair reports 0.
    seen = {}
    set_ae(cluster, AE_MS, nodes=(3, 1, 2))
    t0 = time.monotonic()

    def synced():
        done = keyspace(cluster, 3)[0] == N_KEYS
        views = {i: check(cluster, i) for i in (1, 2, 3)}
        for i, view in views.items():
            for peer, f in view.items():
                if f["differing_leaves"] > 0:
                    seen[(i, peer)] = max(seen.get((i, peer), 0), f["differing_leaves"])
        if not done:
            return False
        rr = {(i, peer): f["root"] for i, view in views.items() for peer, f in view.items()}
        return all(f["differing_leaves"] == 0 and 0 <= f["in_sync_ms_ago"] <= 5000
                   and f["compared_ms_ago"] >= 0
                   for view in views.values() for f in view.values()) and \
            all(rr[(a, "n%d" % b)] == rr[(b, "n%d" % a)] for a, b in ((1, 2), (1, 3), (2, 3)))

    poll_fast(synced, REPAIR_WITHIN, "DYNAMO CHECK: every pair in sync")
    print("(c) DYNAMO CHECK: differing leaves seen during the repair %r; all pairs at 0 "
          "after %.2f s" % (seen, time.monotonic() - t0))
    assert any("n3" in (peer, "n%d" % i) for (i, peer) in seen), \
        "no comparison with the wiped node ever reported differing leaves: %r" % seen
    assert max(seen.values()) > 4096 // 2, seen   # 20,000 keys spread over all leaves
    for i in (1, 2, 3):
        full = info_int(cluster, i, "ae_last_full_pass")
        assert abs(full - time.time()) < 60, full
        assert info_int(cluster, i, "ae_exchanges") > 0


# ---------------------------------------------------------------------------
# (d) tombstones travel through anti-entropy


def test_d_deleted_keys_stay_deleted_after_a_wiped_node_is_repaired(cluster):
    start3(cluster, **{"anti-entropy-interval": AE_MS})
    keys = ["del-%05d" % j for j in range(2000)]
    set_many(cluster, (1, 2, 3), ((k, value_of(k)) for k in keys))
    dead = keys[::2]
    live = {k: value_of(k) for k in keys[1::2]}
    for s in range(0, len(dead), 250):
        part = dead[s:s + 250]
        pipe = cluster.client(1 + (s // 250) % 3).pipeline(transaction=False)
        for k in part:
            pipe.delete(k)
        assert pipe.execute() == [1] * len(part)
    want = (len(live), len(keys))
    wait_for(lambda: all(keyspace(cluster, i) == want for i in (1, 2, 3)), 30.0,
             "every node: %d live keys, %d stored (tombstones)" % want)

    cluster.stop(3)
    cluster.restart(3, wipe=True)
    t0 = time.monotonic()
    wait_for(lambda: keyspace(cluster, 3) == want, REPAIR_WITHIN,
             "n3 back to %d live keys and %d stored" % want)
    print("(d) %d values + %d tombstones back on wiped n3 in %.2f s"
          % (len(live), len(dead), time.monotonic() - t0))
    got = cluster.local_many(3, dead)
    not_tomb = [k for k in dead
                if [cluster.parse_local(x)[0] for x in got[k]] != ["tombstone"]]
    assert not_tomb == [], "n3 has no (lone) tombstone for %d deleted keys, e.g. %r" % (
        len(not_tomb), [(k, got[k]) for k in not_tomb[:3]])
    assert missing_locally(cluster, 3, live) == []
    # Nothing came back to life anywhere, by any path.
    for i in (1, 2, 3):
        assert keyspace(cluster, i) == want
        assert cluster.client(i).mget(dead[::25]) == [None] * len(dead[::25])
        assert cluster.client(i).exists(*dead[::25]) == 0
    # ... and the reads (with their read repair) changed nothing either.
    for i in (1, 2, 3):
        assert keyspace(cluster, i) == want


# ---------------------------------------------------------------------------
# (e) a wiped node's new clock identity


def test_e_wiped_node_writes_with_a_new_incarnation(cluster):
    start3(cluster, **{"anti-entropy-interval": 0})
    keys = cluster.keys_coordinated_by("n3", 5, prefix="inc")
    for k in keys:
        for r in range(4):
            assert cluster.client(3).set(k, "old-%d" % r) is True
    wait_for(lambda: all(cluster.local_values(i, k) == ["old-3"] for i in (1, 2, 3)
                         for k in keys), 10.0, "old-3 everywhere")
    old_actor = {a for _, _, clock in map(cluster.parse_local, cluster.local(1, keys[0]))
                 for a, _ in clock}
    assert len(old_actor) == 1 and old_actor.pop().startswith("n3."), old_actor
    cluster.stop(3)
    cluster.restart(3, wipe=True)
    for k in keys:
        assert cluster.local(3, k) == []
        assert cluster.client(3).set(k, "new") is True   # n3 coordinates it
    for k in keys:
        wait_for(lambda k=k: all(cluster.local_values(i, k) == ["new"] for i in (1, 2)), 10.0,
                 "%s = new on n1, n2" % k)
        lines = cluster.local(1, k)
        assert len(lines) == 1, lines   # superseded, no sibling
        actors = dict(cluster.parse_local(lines[0])[2])
        n3s = sorted(a for a in actors if a.startswith("n3."))
        # the old life's entry is kept, the new one is another incarnation
        assert len(n3s) == 2 and actors[n3s[0]] == 4 and actors[n3s[1]] == 1, actors
        for i in (1, 2, 3):
            assert cluster.client(i).get(k) == "new"


# ---------------------------------------------------------------------------
# (f) hints are durable too


def test_f_hints_survive_a_crash_of_the_node_holding_them(cluster):
    start3(cluster, **{"anti-entropy-interval": 0})
    keys = cluster.keys_coordinated_by("n1", 300, prefix="hint")
    cluster.kill(3)
    cluster.wait_link_state([1, 2], 3, ("down", "connecting"))
    expected = {k: "h:" + k for k in keys}
    # n1 coordinates; n3 is down and there is no 4th node: n1 keeps the hints
    for k in keys[:200]:
        assert cluster.client(1).set(k, expected[k]) is True
    wait_for(lambda: cluster.hints(1).get("n3", (0, 0))[0] == 200, 10.0, "200 hints on n1")
    # the compacted log must carry the hints, and the ones appended after it
    assert cluster.client(1).execute_command("BGREWRITEAOF") is True
    wait_for(lambda: int(cluster.client(1).info("persistence")["aof_rewrites"]) == 1 and
             int(cluster.client(1).info("persistence")["aof_rewrite_in_progress"]) == 0,
             10.0, "n1's compaction")
    for k in keys[200:]:
        assert cluster.client(1).set(k, expected[k]) is True
    assert cluster.hints(1)["n3"][0] == 300

    cluster.kill(1)
    cluster.restart(1)
    assert cluster.hints(1).get("n3", (0, 0))[0] == 300, cluster.hints(1)
    cluster.restart(3)
    cluster.wait_hints_drained([1, 2], timeout=20.0)
    assert missing_locally(cluster, 3, expected) == []   # handoff, not anti-entropy
    assert info_int(cluster, 3, "ae_keys_repaired") == 0
    # delivered hints are gone from the log as well
    cluster.kill(1)
    cluster.restart(1)
    assert cluster.hints(1).get("n3", (0, 0))[0] == 0, cluster.hints(1)
    assert info_int(cluster, 1, "hints_pending") == 0

"""Sloppy reads (issue 13): reads use the first N healthy nodes of a key's
ring walk, as writes do, so a read-then-write succeeds on both sides of a
partition whenever R nodes of that side can answer; PR / PW ask for answers
from the key's owners themselves and fail where too few are reachable.

5 nodes n1..n5, N=3 W=2 R=2, split n1 n2 | n3 n4 n5.  Every key has at
most 3 owners, so on the 2-node side most keys have one owner or none:
before sloppy reads almost every read there failed (NOQUORUM) although
both nodes of that side could answer.
"""
import pytest
import redis

from cluster_harness import wait_for

GOSSIP = {"gossip-interval": 200, "gossip-suspect-after": 1000, "gossip-dead-after": 2000}
SETTINGS = dict({"put-timeout": 1000, "get-timeout": 1000}, **GOSSIP)
DETECT_WITHIN = 6.0
RELINK_WITHIN = 15.0
CONVERGE_WITHIN = 30.0
SIDE_A, SIDE_B = [1, 2], [3, 4, 5]
NKEYS = 60


def owners(cluster, key):
    return [int(name[1:]) for name, _ in cluster.preflist(key)]


def split(cluster):
    cluster.split(SIDE_A, SIDE_B)
    for a in SIDE_A:
        for b in SIDE_B:
            cluster.wait_routed([a], b, up=False, timeout=DETECT_WITHIN)
            cluster.wait_routed([b], a, up=False, timeout=DETECT_WITHIN)


def read_then_write(cluster, side, keys, tag):
    """GET then SET of every key through the nodes of side, in turn.
    Returns the failures [(key, step, error)]."""
    bad = []
    for n, k in enumerate(keys):
        c = cluster.client(side[n % len(side)])
        try:
            c.get(k)
        except redis.ResponseError as e:
            bad.append((k, "GET", str(e)))
            continue
        try:
            c.set(k, "%s-%s" % (k, tag))
        except redis.ResponseError as e:
            bad.append((k, "SET", str(e)))
    return bad


def test_sloppy_reads_succeed_on_both_sides_of_a_split(cluster, nft):
    cluster.start(5, SETTINGS)
    keys = ["rw-%d" % i for i in range(NKEYS)]
    pipe = cluster.client(1).pipeline(transaction=False)
    for k in keys:
        pipe.set(k, k + "-before")
    assert pipe.execute() == [True] * NKEYS
    owned_on_a = {k: sum(o in SIDE_A for o in owners(cluster, k)) for k in keys}
    # the case sloppy reads exist for: keys with fewer than R owners on a side
    assert sum(1 for k in keys if owned_on_a[k] < 2) > NKEYS // 4
    split(cluster)
    # Read-then-write on both sides: every one succeeds.
    bad_a = read_then_write(cluster, SIDE_A, keys, "a")
    bad_b = read_then_write(cluster, SIDE_B, keys, "b")
    assert not bad_a, "side n1 n2: %d of %d failed, e.g. %r" % (len(bad_a), NKEYS, bad_a[:3])
    assert not bad_b, "side n3..n5: %d of %d failed, e.g. %r" % (len(bad_b), NKEYS, bad_b[:3])
    # Each side reads its own writes (R=2 among the nodes that took W=2).
    for k in keys:
        assert cluster.client(1).get(k) == k + "-a"
        assert cluster.client(4).get(k) == k + "-b"
    # Among them keys with no owner at all on side A: substitutes answered.
    assert any(owned_on_a[k] == 0 for k in keys)
    # Heal: nothing acknowledged is lost; each key holds both sides' writes.
    cluster.heal()
    cluster.wait_linked(timeout=RELINK_WITHIN)
    want = {k: sorted([k + "-a", k + "-b"]) for k in keys}

    def converged():
        return all(cluster.vget(1 + n % 5, k, r=3)[1] == want[k] for n, k in enumerate(keys))

    wait_for(converged, CONVERGE_WITHIN, "both sides' writes on every key after heal")


def test_primary_quorums_fail_where_too_few_owners_are_reachable(cluster, nft):
    cluster.start(5, SETTINGS)
    keys = ["pr-%d" % i for i in range(40)]
    for k in keys:
        assert cluster.client(3).set(k, k)
    split(cluster)
    few = [k for k in keys if sum(o in SIDE_A for o in owners(cluster, k)) < 2]
    many = [k for k in keys if sum(o in SIDE_B for o in owners(cluster, k)) >= 2]
    assert few and many
    c_a, c_b = cluster.client(1), cluster.client(3)
    for k in few:
        # a plain (sloppy) read succeeds on side A ...
        c_a.execute_command("VGET", k)
        c_a.get(k)
        # ... PR 2 cannot: fewer than 2 owners of k are reachable there
        with pytest.raises(redis.ResponseError, match="NOQUORUM"):
            c_a.execute_command("VGET", k, "PR", 2)
        with pytest.raises(redis.ResponseError, match="NOQUORUM"):
            c_a.execute_command("VPUT", k, "", "x", "PW", 2)
    for k in many:
        ctx, vals = c_b.execute_command("VGET", k, "R", 2, "PR", 2)
        assert k in vals
        assert c_b.execute_command("VPUT", k, ctx, k + "-pw", "PW", 2)
    # config defaults: pr / pw apply to plain GET / SET too
    c_a.config_set("pr", 2)
    try:
        with pytest.raises(redis.ResponseError, match="NOQUORUM"):
            c_a.get(few[0])
    finally:
        c_a.config_set("pr", 0)
    # (not GET: the refused blind VPUT above may have left a sibling where
    # it was stored before the quorum was missed, as any NOQUORUM write may)
    assert c_a.execute_command("VGET", few[0]) is not None
    with pytest.raises(redis.ResponseError, match="pr"):
        c_a.config_set("pr", 4)  # above n
    with pytest.raises(redis.ResponseError):
        c_a.execute_command("VGET", few[0], "PR", 0)
    with pytest.raises(redis.ResponseError, match="syntax"):
        c_a.execute_command("VGET", few[0], "PR", 1, "PR", 1)

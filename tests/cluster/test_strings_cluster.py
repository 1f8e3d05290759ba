"""String and expiry commands (src/cmd_string.c) on a 3-node cluster
(N=3 W=2 R=2), run with tests/cluster/run.sh.

Read-modify-writes (INCR, APPEND, EXPIRE...) run at the key's coordinator:
sent to any node, they are forwarded there, so concurrent INCRs through
different nodes are exact.  Reads (TTL, GETRANGE...) are quorum reads, so
what one node wrote is visible through the others.  Waits poll against
deadlines (wait_for); nothing sleeps a fixed time.
"""
import threading
import time

import pytest
import redis

from cluster_harness import wait_for

SETTINGS = {"put-timeout": 1000, "get-timeout": 1000}
SIBLINGS = ("key has 2 siblings (concurrent versions); use VGET to read them and VPUT "
            "with the returned context to resolve")


def start3(cluster):
    return cluster.start(3, dict(SETTINGS))


def keys_for_each_coordinator(cluster, prefix):
    """One key per node, coordinated by that node: every command then runs
    locally through one node and is forwarded through the two others."""
    return [cluster.keys_coordinated_by(name, 1, prefix=prefix)[0] for name in cluster.names()]


def test_concurrent_incr_through_every_node_is_exact(cluster):
    start3(cluster)
    key = "ctr"
    per_thread, threads_per_node = 150, 2
    errors = []

    def worker(i):
        c = cluster.new_client(i)
        try:
            for _ in range(per_thread):
                c.incr(key)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append((i, e))

    ts = [threading.Thread(target=worker, args=(i,))
          for i in (1, 2, 3) for _ in range(threads_per_node)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    total = str(3 * threads_per_node * per_thread)
    for i in (1, 2, 3):
        assert cluster.client(i).get(key) == total, "GET via n%d" % i
    states = cluster.wait_for_convergence([1, 2, 3], [key])
    assert states[key][1] == [total]  # one version, no siblings


def test_string_commands_through_every_node(cluster):
    start3(cluster)
    for k in keys_for_each_coordinator(cluster, "str"):
        c1, c2, c3 = (cluster.client(i) for i in (1, 2, 3))
        assert c1.append(k, "Hello") == 5
        assert c2.append(k, " World") == 11
        assert c3.setrange(k, 6, "Redis") == 11
        assert c1.getrange(k, 0, 4) == "Hello"
        assert c2.execute_command("SUBSTR", k, -5, -1) == "Redis"
        assert c3.strlen(k) == 11
        assert c1.getset(k, "10") == "Hello Redis"
        assert c2.incrby(k, 5) == 15
        assert c3.decr(k) == 14
        c1.execute_command("INCRBYFLOAT", k, "0.5")
        assert c2.get(k) == "14.5"
        with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
            c3.incr(k)
        assert c1.setnx(k, "x") is False
        assert c2.getdel(k) == "14.5"
        for c in (c1, c2, c3):
            assert c.get(k) is None
        assert c3.setnx(k, "x") is True
        assert c1.get(k) == "x"


def test_expire_through_one_node_is_visible_through_the_others(cluster):
    start3(cluster)
    for k in keys_for_each_coordinator(cluster, "ttl"):
        cluster.client(1).set(k, "v")
        for i in (1, 2, 3):
            assert cluster.client(i).ttl(k) == -1
        assert cluster.client(2).expire(k, 100) is True
        for i in (1, 2, 3):
            assert 98 <= cluster.client(i).ttl(k) <= 100, "TTL via n%d" % i
            assert 98000 <= cluster.client(i).pttl(k) <= 100000
        at = int(time.time()) + 1000
        assert cluster.client(3).expireat(k, at) is True
        for i in (1, 2, 3):
            assert cluster.client(i).execute_command("EXPIRETIME", k) == at
        assert cluster.client(1).execute_command("EXPIRE", k, "5", "NX") == 0
        assert cluster.client(1).persist(k) is True
        for i in (1, 2, 3):
            assert cluster.client(i).ttl(k) == -1
            assert cluster.client(i).get(k) == "v"
        cluster.wait_for_convergence([1, 2, 3], [k])


def test_expired_keys_read_nil_on_every_node(cluster):
    start3(cluster)
    keys = keys_for_each_coordinator(cluster, "exp")
    for j, k in enumerate(keys):
        cluster.client(1).set(k, "v")
        assert cluster.client(1 + (j + 1) % 3).pexpire(k, 300) is True
    assert cluster.client(3).psetex("exp-psetex", 300, "w") is True
    keys.append("exp-psetex")

    def all_gone():
        return all(cluster.client(i).get(k) is None for i in (1, 2, 3) for k in keys)

    wait_for(all_gone, timeout=10, msg="expired keys to read nil on every node")
    for i in (1, 2, 3):
        c = cluster.client(i)
        for k in keys:
            assert c.ttl(k) == -2
            assert c.exists(k) == 0
            assert c.strlen(k) == 0
            assert c.getdel(k) is None
            assert c.persist(k) is False


def test_a_past_expiry_deletes_everywhere(cluster):
    start3(cluster)
    for k in keys_for_each_coordinator(cluster, "past"):
        cluster.client(1).set(k, "v")
        assert cluster.client(2).expire(k, -1) is True
        for i in (1, 2, 3):
            assert cluster.client(i).get(k) is None
            assert cluster.client(i).ttl(k) == -2


def test_siblings_error_through_every_node(cluster):
    start3(cluster)
    for k in keys_for_each_coordinator(cluster, "sib"):
        cluster.client(1).execute_command("VPUT", k, "", "a")
        cluster.client(2).execute_command("VPUT", k, "", "b")
        for i in (1, 2, 3):
            c = cluster.client(i)
            for cmd in (("INCR", k), ("APPEND", k, "x"), ("GETRANGE", k, 0, -1), ("TTL", k),
                        ("EXPIRE", k, 10)):
                with pytest.raises(redis.ResponseError) as e:
                    c.execute_command(*cmd)
                assert str(e.value) == SIBLINGS, (i, cmd)
        assert cluster.vget(3, k)[1] == ["a", "b"]

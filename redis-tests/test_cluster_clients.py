"""Cluster-aware Redis clients against a real dynamo-node cluster (issue 13):
the Redis Cluster topology (CLUSTER SLOTS / SHARDS / NODES ...) announces
each slot's coordinator as its master, so redis-py `RedisCluster`, node-redis
`createCluster`, `redis-benchmark --cluster` and `redis-cli -c` send each key
straight to its coordinator (INFO `forwarded_requests` does not move), and
keep working when a node dies, comes back or joins.

The session's 3-node cluster (conftest.py `cluster`) serves the tests that
change nothing; the kill/restart and join tests get a 3-node cluster of their
own (same class, fresh ports) and stop only their own processes, by PID.
"""
import os
import random
import re
import shutil
import subprocess
import threading

import pytest
import redis
from redis.cluster import RedisCluster
from redis.crc import key_slot

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, "node")
NODE = shutil.which("node")
REDIS_CLI = shutil.which("redis-cli")
REDIS_BENCHMARK = shutil.which("redis-benchmark")


def forwarded(node):
    c = node.client(decode_responses=True)
    try:
        return int(c.info("cluster")["forwarded_requests"])
    finally:
        c.close()


def forwarded_all(nodes):
    return {n.name: forwarded(n) for n in nodes}


def cluster_client(node, **kw):
    return RedisCluster(host="127.0.0.1", port=node.port, decode_responses=True,
                        socket_timeout=10, **kw)


def slots_map(node):
    """{slot: [master port, replica ports...]} from node's CLUSTER SLOTS."""
    c = node.client(decode_responses=True)
    try:
        rows = c.execute_command("CLUSTER", "SLOTS")
    finally:
        c.close()
    out = {}
    for row in rows:
        ports = [int(n[1]) for n in row[2:]]
        for s in range(int(row[0]), int(row[1]) + 1):
            assert s not in out, "slot %d in two rows" % s
            out[s] = ports
    return out


def masters_of(node):
    return {ports[0] for ports in slots_map(node).values()}


# ---- the topology commands ---------------------------------------------------

def test_slots_follow_the_preference_lists(cluster):
    """Every node announces the same map; a slot's master is the coordinator
    DYNAMO PREFLIST names for its keys and its replicas are the rest of the
    list; CLUSTER KEYSLOT is Redis's slot (redis-py's own CRC16)."""
    maps = [slots_map(n) for n in cluster.nodes]
    assert len(maps[0]) == 16384
    assert maps[0] == maps[1] == maps[2]
    port_of = {n.name: n.port for n in cluster.nodes}
    c = cluster.nodes[0].client(decode_responses=True)
    rng = random.Random(13)
    for i in range(300):
        key = "slots:%d:%x" % (i, rng.getrandbits(40))
        if i % 3 == 0:
            key = "{tag%d}%s" % (i % 7, key)
        slot = c.execute_command("CLUSTER", "KEYSLOT", key)
        assert slot == key_slot(key.encode())
        pl = c.execute_command("DYNAMO", "PREFLIST", key)
        names = [line.split()[0] for line in pl]
        assert "coordinator" in pl[0]
        assert maps[0][slot] == [port_of[name] for name in names]
    c.close()


def test_dynamo_ring_counts_the_slots_each_node_coordinates(cluster):
    """With every node up, DYNAMO RING's slots= is the number of slots the
    node is the master of in CLUSTER SLOTS."""
    c = cluster.nodes[0].client(decode_responses=True)
    lines = c.execute_command("DYNAMO", "RING")[1:]
    c.close()
    port_of = {n.name: n.port for n in cluster.nodes}
    mastered = {}
    for ports in slots_map(cluster.nodes[0]).values():
        mastered[ports[0]] = mastered.get(ports[0], 0) + 1
    got = {port_of[l.split()[0]]: int(re.search(r"slots=(\d+)", l).group(1)) for l in lines}
    assert got == mastered
    assert sum(got.values()) == 16384


def test_nodes_shards_myid_info(cluster):
    ids = {}
    for n in cluster.nodes:
        c = n.client(decode_responses=True)
        myid = c.execute_command("CLUSTER", "MYID")
        assert re.fullmatch(r"[0-9a-f]{40}", myid)
        ids[n.port] = myid
        lines = c.execute_command("CLUSTER", "NODES").splitlines()
        assert len(lines) == 3
        owned = 0
        for line in lines:
            f = line.split()
            port = int(f[1].split(":")[1].split("@")[0])
            if "myself" in f[2]:
                assert f[0] == myid and port == n.port
            assert "master" in f[2] and f[7] == "connected"
            for r in f[8:]:
                a, _, b = r.partition("-")
                owned += int(b or a) - int(a) + 1
        assert owned == 16384
        info = dict(l.split(":", 1) for l in c.execute_command("CLUSTER", "INFO").splitlines()
                    if ":" in l)
        assert info["cluster_state"] == "ok"
        assert info["cluster_slots_ok"] == "16384"
        assert info["cluster_known_nodes"] == "3"
        assert c.info("cluster")["cluster_enabled"] == 1
        shards = c.execute_command("CLUSTER", "SHARDS")
        covered = 0
        for sh in shards:
            sh = dict(zip(sh[::2], sh[1::2])) if isinstance(sh, list) else sh
            r = sh["slots"]
            covered += sum(r[i + 1] - r[i] + 1 for i in range(0, len(r), 2))
            roles = [dict(zip(x[::2], x[1::2]))["role"] for x in sh["nodes"]]
            assert roles == ["master", "replica", "replica"]
        assert covered == 16384
        with harness.RawConn(n.port) as raw:
            for cmd in ("READONLY", "READWRITE", "ASKING"):
                raw.send(harness.encode_command(cmd))
                assert raw.read_exact(5) == b"+OK\r\n"
        with pytest.raises(redis.ResponseError, match="Invalid slot"):
            c.execute_command("CLUSTER", "COUNTKEYSINSLOT", 16384)
        with pytest.raises(redis.ResponseError, match="unknown subcommand"):
            c.execute_command("CLUSTER", "NOSUCH")
        c.close()
    # IDs are the same on every node and distinct per node
    assert len(set(ids.values())) == 3
    lines = cluster.nodes[1].client(decode_responses=True).execute_command("CLUSTER", "NODES")
    for line in lines.splitlines():
        f = line.split()
        assert ids[int(f[1].split(":")[1].split("@")[0])] == f[0]


def test_countkeysinslot_and_getkeysinslot(cluster):
    """Keys sharing a hash tag share a slot; every replica of the slot (all
    three nodes, N=3) counts and lists them."""
    w = cluster.nodes[0].client(decode_responses=True)
    keys = ["{ckis}%d" % i for i in range(25)]
    w.mset({k: "x" for k in keys})
    w.delete(keys[0])   # a tombstone is not a key
    slot = key_slot(b"ckis")
    # other tests of the session may have keys in this slot too

    def listed(c):
        got = c.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1000000)
        return set(got) if set(keys[1:]) <= set(got) and keys[0] not in got else None

    for n in cluster.nodes:
        c = n.client(decode_responses=True)
        got = harness.wait_until(lambda: listed(c), timeout=10,
                                 msg="%s listing the slot's 24 keys" % n.name)
        assert all(key_slot(k.encode()) == slot for k in got)
        assert c.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == len(got)
        assert len(c.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 5)) == 5
        assert c.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 0) == []
        c.close()


def test_single_node_is_a_one_node_cluster(node):
    """Without a cluster the node owns every slot itself, so cluster clients
    work against a lone node too."""
    c = node.client(decode_responses=True)
    rows = c.execute_command("CLUSTER", "SLOTS")
    assert len(rows) == 1
    assert rows[0][:2] == [0, 16383]
    assert rows[0][2][:3] == ["127.0.0.1", node.port, c.execute_command("CLUSTER", "MYID")]
    assert len(rows[0]) == 3   # no replicas
    assert c.info("cluster")["cluster_enabled"] == 1
    c.close()
    rc = cluster_client(node)
    assert rc.set("{one}a", "1") and rc.mget("{one}a", "{one}b") == ["1", None]
    rc.close()


# ---- clients ------------------------------------------------------------------

def test_redis_py_cluster_goes_straight_to_coordinators(cluster):
    """redis-py RedisCluster: many keys written and read, hash-tag multi-key
    commands, and no request forwarded by any node; the same writes through
    one node with a plain client are forwarded (the counter counts)."""
    rc = cluster_client(cluster.nodes[0])
    assert {n.port for n in rc.get_nodes()} == {n.port for n in cluster.nodes}
    before = forwarded_all(cluster.nodes)
    for i in range(600):
        assert rc.set("rpc:%d" % i, "v%d" % i) is True
    for i in range(600):
        assert rc.get("rpc:%d" % i) == "v%d" % i
    tag = "{rpc:user}"
    assert rc.mset({tag + "a": "1", tag + "b": "2"}) is True
    assert rc.mget(tag + "a", tag + "b", tag + "none") == ["1", "2", None]
    assert rc.rename(tag + "a", tag + "c") is True
    assert rc.mget(tag + "a", tag + "c") == [None, "1"]
    assert rc.incr(tag + "n") == 1 and rc.incrby(tag + "n", 4) == 5
    assert rc.delete(tag + "b", tag + "c") == 2
    # cross-slot: the client refuses MGET itself; its non-atomic form works
    assert rc.mget_nonatomic("rpc:1", "rpc:2", "rpc:3") == ["v1", "v2", "v3"]
    assert forwarded_all(cluster.nodes) == before
    rc.close()

    # the control: a plain client on one node has 2/3 of its writes forwarded
    plain = cluster.nodes[0].client(decode_responses=True)
    for i in range(300):
        plain.set("rpc:plain:%d" % i, "x")
    plain.close()
    assert forwarded(cluster.nodes[0]) > before[cluster.nodes[0].name] + 100


@pytest.mark.skipif(not REDIS_CLI, reason="redis-cli not installed")
def test_redis_cli_cluster_mode(cluster):
    env = dict(os.environ, REDISCLI_HISTFILE="/dev/null", REDISCLI_RCFILE="/dev/null")
    cmds = "".join("SET cli:c:%d v%d\n" % (i, i) for i in range(200))
    cmds += "MSET {cli}a 1 {cli}b 2\nMGET {cli}a {cli}b\n"
    p = subprocess.run([REDIS_CLI, "-c", "-p", str(cluster.nodes[1].port)], input=cmds.encode(),
                       capture_output=True, timeout=60, env=env)
    out = p.stdout.decode()
    assert p.returncode == 0, p.stderr.decode()
    assert out.split("\n")[:201] == ["OK"] * 201
    assert out.split("\n")[201:203] == ["1", "2"]
    for n in cluster.nodes:
        p = subprocess.run([REDIS_CLI, "-c", "-p", str(n.port), "GET", "cli:c:77"],
                           capture_output=True, timeout=30, env=env)
        assert p.stdout.decode().strip() == "v77"


@pytest.mark.skipif(not REDIS_BENCHMARK, reason="redis-benchmark not installed")
def test_redis_benchmark_cluster(cluster):
    """redis-benchmark --cluster reads CLUSTER NODES, finds the three
    masters and sends each its own slots' keys: nothing is forwarded."""
    before = forwarded_all(cluster.nodes)
    p = subprocess.run([REDIS_BENCHMARK, "--cluster", "-p", str(cluster.nodes[2].port),
                        "-t", "set,get", "-n", "6000", "-r", "1000", "-c", "10", "-q"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out + p.stderr.decode("utf-8", "replace")
    masters = re.findall(r"Master \d+: [0-9a-f]{40} 127\.0\.0\.1:(\d+)", out)
    assert sorted(int(m) for m in masters) == sorted(n.port for n in cluster.nodes)
    assert re.search(r"SET: [\d.]+ requests per second", out)
    assert re.search(r"GET: [\d.]+ requests per second", out)
    assert "error" not in out.lower()
    assert forwarded_all(cluster.nodes) == before


def test_node_redis_create_cluster(cluster):
    if not NODE:
        pytest.fail("node (Node.js) not found; run ./deps/install.sh", pytrace=False)
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "redis")):
        pytest.fail("npm package redis missing in %s; run ./deps/install.sh" % NODE_DIR,
                    pytrace=False)
    before = forwarded_all(cluster.nodes)
    p = subprocess.run([NODE, os.path.join(NODE_DIR, "cluster.mjs"), cluster.addr(cluster.nodes[1]),
                        "400"], stdin=subprocess.DEVNULL, capture_output=True, timeout=90,
                       cwd=NODE_DIR)
    text = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0, text
    assert text.count("ok ") == 3, text
    assert forwarded_all(cluster.nodes) == before


# ---- failures and membership, on a cluster of their own -------------------------

@pytest.fixture
def own_cluster(cluster):
    c = type(cluster)().start()
    extra = []
    c.extra = extra
    yield c
    c.nodes.extend(extra)
    problems = c.stop()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


class Writer:
    """A RedisCluster client writing fresh keys in a thread; remembers
    which writes were acknowledged."""

    def __init__(self, node, prefix):
        self.rc = cluster_client(node)
        self.prefix = prefix
        self.acked = {}
        self.errors = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        i = 0
        while not self.stop.is_set():
            k, v = "%s:%d" % (self.prefix, i), "v%d" % i
            try:
                if self.rc.set(k, v):
                    self.acked[k] = v
            except redis.RedisError as e:
                self.errors.append(repr(e))
            i += 1

    def wait_acked(self, more, what):
        n = len(self.acked) + more
        harness.wait_until(lambda: len(self.acked) >= n, timeout=30,
                           msg="%d more acknowledged writes %s (errors: %s)"
                           % (more, what, self.errors[-3:]))

    def finish(self):
        self.stop.set()
        self.thread.join()


def test_client_survives_kill_and_restart(own_cluster):
    """n2 is killed while a RedisCluster client writes: the others stop
    announcing it, the client refreshes its map and keeps writing; n2 comes
    back and its slots reappear.  Every acknowledged write reads back."""
    c = own_cluster
    n1, n2, n3 = c.nodes
    w = Writer(n1, "kr")
    w.thread.start()
    try:
        w.wait_acked(200, "before the kill")
        n2.kill()
        harness.wait_until(lambda: n2.port not in masters_of(n1) and
                           n2.port not in masters_of(n3), timeout=20,
                           msg="n1 and n3 no longer announcing the killed n2")
        assert all(n2.port not in ports for ports in slots_map(n1).values())
        w.wait_acked(500, "with n2 dead")
        harness.wait_until(lambda: n2.port not in {n.port for n in w.rc.get_nodes()},
                           timeout=20, msg="the client dropping n2 from its map")
        n2.start()
        harness.wait_until(lambda: slots_map(n1) == slots_map(n2) == slots_map(n3) and
                           n2.port in masters_of(n1), timeout=30,
                           msg="n2's slots announced again by every node")
        w.wait_acked(200, "after the restart")
    finally:
        w.finish()
    # a fresh map has all three masters again
    rc = cluster_client(n3)
    assert {n.port for n in rc.get_primaries()} | {n.port for n in rc.get_nodes()} == \
        {n.port for n in c.nodes}
    assert {nodes[0] for nodes in slots_map(n3).values()} == {n.port for n in c.nodes}
    bad = [k for k, v in w.acked.items() if rc.get(k) != v]
    assert bad == [], "%d acknowledged writes lost, e.g. %s" % (len(bad), bad[:5])
    print("kill/restart: %d writes acknowledged, %d errors" % (len(w.acked), len(w.errors)))
    rc.close()


def test_joining_node_gets_slots(own_cluster):
    """n4 (not in the config file) joins: every node then announces it as
    the master of some slots, a client that refreshes its map sends it those
    keys directly, and the keys written before stay readable."""
    c = own_cluster
    rc = cluster_client(c.nodes[0])
    for i in range(300):
        rc.set("join:old:%d" % i, "o%d" % i)
    p4, cp4 = harness.free_ports(2)
    n4 = harness.Node("--config", c.config_path, "--node", "n4", "--port", p4,
                      "--cluster-port", cp4, name="n4", port=p4, cluster_port=cp4)
    n4.start()
    c.extra.append(n4)
    everyone = c.nodes + [n4]
    harness.wait_until(lambda: all(len(masters_of(n)) == 4 and slots_map(n) == slots_map(n4)
                                   for n in c.nodes), timeout=40,
                       msg="every node announcing n4 as a master")
    owned = [s for s, ports in slots_map(n4).items() if ports[0] == p4]
    assert 0 < len(owned) < 16384
    rc.close()
    rc = cluster_client(c.nodes[1])
    assert p4 in {n.port for n in rc.get_nodes()}
    before = forwarded_all(everyone)
    for i in range(400):
        assert rc.set("join:new:%d" % i, "n%d" % i) is True
    assert forwarded_all(everyone) == before
    for i in range(400):
        assert rc.get("join:new:%d" % i) == "n%d" % i
    harness.wait_until(lambda: all(rc.get("join:old:%d" % i) == "o%d" % i for i in range(300)),
                       timeout=30, msg="the keys written before the join readable")
    rc.close()


def test_dbsize_from_slot_counts_and_with_expiring_keys(own_cluster):
    """Cluster DBSIZE sums each node's per-slot counts over the slots it
    coordinates; keys with a TTL make a node scan instead, so expired keys
    are never counted.  Same answer through every node, also with a node
    down (its slots are then reported by their next live owner)."""
    c = own_cluster
    rc = cluster_client(c.nodes[0])
    for i in range(500):
        rc.set("dbs:%d" % i, "v")
    clients = [n.client() for n in c.nodes]
    assert [x.dbsize() for x in clients] == [500] * 3
    c.nodes[2].kill()
    harness.wait_until(lambda: clients[0].dbsize() == 500 and clients[1].dbsize() == 500,
                       timeout=20, msg="DBSIZE 500 through n1 and n2 with n3 down")
    c.nodes[2].start()
    harness.wait_until(c.linked, timeout=20, msg="n3 linked again")
    clients[2] = c.nodes[2].client()
    harness.wait_until(lambda: [x.dbsize() for x in clients] == [500] * 3, timeout=20,
                       msg="DBSIZE 500 everywhere with n3 back")
    for i in range(40):
        rc.set("dbs:ttl:%d" % i, "v", px=400)
    for i in range(10):
        rc.set("dbs:long:%d" % i, "v", px=600000)
    # the 40 short-lived keys leave the count once they expire
    harness.wait_until(lambda: [x.dbsize() for x in clients] == [510] * 3, timeout=20,
                       msg="DBSIZE 510 on every node once the 400 ms keys expired")
    rc.delete(*["dbs:%d" % i for i in range(100)])
    assert [x.dbsize() for x in clients] == [410] * 3
    for x in clients:
        x.close()
    rc.close()

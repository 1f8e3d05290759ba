"""DYNAMO STATUS and /status.json show long work while it runs (issue 15):
a hint drain to a node that comes back, and the transfer of keys to a node
that joins, each with done / total, a rate and a finish estimate, observed
by polling a real cluster (handoff-rate kept low so both take seconds).
"""
import json
import urllib.error
import urllib.request

from cluster_harness import host_of, wait_for

ADMIN_PORT = 8080
SETTINGS = {"gossip-interval": 200, "gossip-suspect-after": 1000, "gossip-dead-after": 2000,
            "put-timeout": 1000, "get-timeout": 1000, "handoff-rate": 400}


def status(cluster, i):
    """DYNAMO STATUS parsed: {"health": (word, {}), "transfer": (state, fields),
    ("hints", node): (None, fields), "anti-entropy": (stage, fields)}."""
    out = {}
    for line in cluster.client(i).execute_command("DYNAMO", "STATUS"):
        words = line.split()
        fields = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        if words[0] == "hints":
            out[("hints", words[1])] = (None, fields)
        else:
            out[words[0]] = (words[1].rstrip(":"), fields)
    return out


def status_json(i):
    with urllib.request.urlopen("http://%s:%d/status.json" % (host_of(i), ADMIN_PORT),
                                timeout=10) as r:
        return json.loads(r.read())


def test_hint_drain_progress(cluster):
    cluster.start(3, SETTINGS, flags=["--admin-port", ADMIN_PORT])
    assert status(cluster, 1)["health"][0] == "ok"
    cluster.kill(3)
    wait_for(lambda: status_json(1)["nodes"][2]["state"] == "dead", 10.0, "n3 dead on n1")
    c = cluster.client(1)
    for i in range(1500):
        c.set("hint:%d" % i, "v")
    held = int(status(cluster, 1)[("hints", "n3")][1]["pending"])
    assert held > 0
    assert status_json(1)["nodes"][2]["hints"]["pending"] == held
    seen = []
    cluster.restart(3)

    def drained():
        st = status(cluster, 1).get(("hints", "n3"))
        f = st[1] if st else {"pending": "0", "delivered": str(held)}
        seen.append(f)
        return int(f["pending"]) == 0

    wait_for(drained, 30.0, "n1's hints for n3 delivered")
    # mid-drain: part delivered, a measured rate and a finite estimate
    mid = [f for f in seen if 0 < int(f["pending"]) < held and int(f["delivered"]) > 0
           and float(f["rate"].rstrip("/s")) > 0]
    assert mid, seen
    assert any(float(f["eta_s"]) > 0 for f in mid), mid
    print("hint drain: %d hints; mid-drain samples %s ... %s" % (held, mid[:2], mid[-1]))
    final = status(cluster, 1).get(("hints", "n3"))
    assert final is None or int(final[1]["delivered"]) >= held


def test_join_transfer_progress(cluster):
    cluster.start(3, SETTINGS, flags=["--admin-port", ADMIN_PORT])
    c = cluster.client(1)
    for i in range(4000):
        c.set("xfer:%d" % i, "v")
    seen = []
    cluster.add_node(4, flags=["--admin-port", ADMIN_PORT])

    def done():
        state, f = status(cluster, 1)["transfer"]
        seen.append((state, f))
        return state == "idle" and int(f["moved_total"]) > 0

    wait_for(done, 60.0, "n1's transfer to n4 finished")
    running = [f for s, f in seen if s == "running"]
    assert running, seen
    mid = [f for f in running
           if 0 < int(f["scanned"].split("/")[0]) < int(f["scanned"].split("/")[1])
           and int(f["moved"]) > 0]
    assert mid, running
    assert any(float(f["rate"].rstrip("/s")) > 0 and float(f["eta_s"]) > 0 for f in mid), mid
    st = status_json(1)["transfer"]
    assert st["state"] == "idle" and st["moved_total"] == int(seen[-1][1]["moved_total"])
    print("join transfer: n1 moved %s keys; mid-pass samples %s ... %s"
          % (st["moved_total"], mid[:2], mid[-1]))


def http(i, path):
    try:
        with urllib.request.urlopen("http://%s:%d%s" % (host_of(i), ADMIN_PORT, path),
                                    timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric(i, family, name, **labels):
    from prometheus_client.parser import text_string_to_metric_families
    status, text = http(i, "/metrics")
    assert status == 200
    for f in text_string_to_metric_families(text):
        if f.name == family:
            for s in f.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    return s.value
    return None


def test_health_and_metrics_follow_the_cluster(cluster):
    """/health answers 503 with the reason once W nodes cannot be reached,
    200 again when they are back; /metrics (parsed by prometheus_client)
    shows each member's state and the peers' round trips."""
    cluster.start(3, SETTINGS, flags=["--admin-port", ADMIN_PORT])
    c = cluster.client(1)
    for i in range(100):
        c.set("h:%d" % i, "v")
    assert http(1, "/health") == (200, "ok\n")
    assert metric(1, "dynamo_peer_rtt_seconds", "dynamo_peer_rtt_seconds_count", peer="n2") > 0
    assert metric(1, "dynamo_node_state", "dynamo_node_state", node="n3", state="alive") == 1
    cluster.kill(3)
    wait_for(lambda: metric(1, "dynamo_node_state", "dynamo_node_state", node="n3",
                            state="dead") == 1, 10.0, "n3 dead in n1's /metrics")
    assert http(1, "/health")[0] == 200  # n1 + n2 still make W=2
    cluster.kill(2)
    wait_for(lambda: http(1, "/health")[0] == 503, 10.0, "n1 unhealthy without W nodes")
    status, body = http(1, "/health")
    assert "cannot reach a write quorum" in body and "W=2" in body, body
    assert metric(1, "dynamo_healthy", "dynamo_healthy") == 0
    assert status_json(1)["health"]["ok"] is False
    cluster.restart(2)
    wait_for(lambda: http(1, "/health")[0] == 200, 15.0, "n1 healthy again with n2 back")
    assert metric(1, "dynamo_healthy", "dynamo_healthy") == 1


def test_anti_entropy_progress(cluster):
    """With hints refused (max-hints 0), keys written while n3 was down
    reach it only through Merkle anti-entropy (each exchange repairs both
    ways, counted by the node that ran it): DYNAMO STATUS and /status.json
    show the repairs counted and the trees back in sync."""
    cluster.start(3, dict(SETTINGS, **{"max-hints": 0, "anti-entropy-interval": 500}),
                  flags=["--admin-port", ADMIN_PORT])
    cluster.kill(3)
    wait_for(lambda: status_json(1)["nodes"][2]["state"] == "dead", 10.0, "n3 dead on n1")
    c = cluster.client(1)
    for i in range(2000):
        c.set("ae:%d" % i, "v")
    cluster.restart(3)
    seen = []

    def total():
        return sum(int(status(cluster, i)["anti-entropy"][1]["repaired_total"])
                   for i in (1, 2, 3))

    def repaired():
        st = status(cluster, 3)["anti-entropy"]
        seen.append(st)
        views = [status_json(3)["nodes"][0]["ae"], status_json(1)["nodes"][2]["ae"]]
        return (total() >= 2000 and all(v["diff_leaves"] == 0 and 0 <= v["in_sync_ms_ago"] < 5000
                                        for v in views))

    wait_for(repaired, 60.0, "anti-entropy repairing n3 and the trees back in sync")
    js = status_json(3)
    per_peer = {n["name"]: n["ae"]["repaired"] for n in js["nodes"] if n["ae"]}
    assert sum(per_peer.values()) == int(status(cluster, 3)["anti-entropy"][1]["repaired_total"])
    print("anti-entropy: %d keys repaired in all; n3's stages seen %s; n3 per peer %s"
          % (total(), sorted({s for s, _ in seen}), per_peer))

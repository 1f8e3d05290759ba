"""The admin HTTP endpoint (issue 15) on one real dynamo-node: /metrics
parsed by prometheus_client's own text parser (Debian's
python3-prometheus-client) with a counter that moves after traffic,
/health, /status.json, the /status page's bytes (self-contained: nothing
loaded from elsewhere), requirepass protecting all of it (Bearer token and
HTTP Basic), methods other than GET/HEAD refused, and admin-port 0 meaning
no listener at all.  The page rendered in a browser is tests/cluster/
test_status_page.py.

Run: DYNAMO_NODE_BIN=$PWD/build/src/dynamo-node \
     /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_admin.py
"""
import base64
import http.client
import json
import re
import socket
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness import free_port, port_open, wait_until


def get(port, path, headers=None, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def metrics(port, headers=None):
    status, hdrs, body = get(port, "/metrics", headers)
    assert status == 200
    assert hdrs["Content-Type"].startswith("text/plain; version=0.0.4")
    fams = {f.name: f for f in text_string_to_metric_families(body.decode())}
    return fams


def sample(fams, family, name, **labels):
    for s in fams[family].samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise KeyError((family, name, labels))


@pytest.fixture
def admin_node(node_factory):
    port = free_port()
    n = node_factory("--admin-port", str(port))
    n.admin_port = port
    wait_until(lambda: port_open(port), msg="admin port open")
    return n


def test_metrics_parse_and_counters_move(admin_node):
    port = admin_node.admin_port
    r = admin_node.client(decode_responses=True)
    before = metrics(port)
    # every family carries HELP and TYPE, names follow the conventions
    for name, f in before.items():
        assert name.startswith("dynamo_")
        assert f.documentation, name
        assert f.type in ("counter", "gauge", "histogram"), name
    assert before["dynamo_commands_processed"].type == "counter"
    processed0 = sample(before, "dynamo_commands_processed", "dynamo_commands_processed_total")
    for i in range(50):
        r.set("m:%d" % i, "v")
    for i in range(20):
        r.get("m:%d" % i)
    after = metrics(port)
    assert sample(after, "dynamo_commands_processed",
                  "dynamo_commands_processed_total") >= processed0 + 70
    assert sample(after, "dynamo_commands", "dynamo_commands_total", cmd="set") == 50
    assert sample(after, "dynamo_commands", "dynamo_commands_total", cmd="get") == 20
    assert sample(after, "dynamo_keys", "dynamo_keys") == 50
    # the histogram: cumulative buckets in seconds, +Inf == _count, _sum > 0
    h = after["dynamo_command_duration_seconds"]
    assert h.type == "histogram"
    buckets = [(float(s.labels["le"]), s.value) for s in h.samples
               if s.name.endswith("_bucket") and s.labels["cmd"] == "set"]
    assert buckets == sorted(buckets)
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)
    assert buckets[-1] == (float("inf"), 50)
    assert sample(after, "dynamo_command_duration_seconds",
                  "dynamo_command_duration_seconds_count", cmd="set") == 50
    assert sample(after, "dynamo_command_duration_seconds",
                  "dynamo_command_duration_seconds_sum", cmd="set") > 0
    assert sample(after, "dynamo_healthy", "dynamo_healthy") == 1
    r.close()


def test_health_status_json_and_page(admin_node):
    port = admin_node.admin_port
    status, _, body = get(port, "/health")
    assert (status, body) == (200, b"ok\n")
    status, hdrs, body = get(port, "/status.json")
    assert status == 200 and hdrs["Content-Type"] == "application/json"
    st = json.loads(body)
    assert st["health"] == {"ok": True, "reason": "ok"}
    assert [n["state"] for n in st["nodes"]] == ["alive"]
    assert st["nodes"][0]["self"] is True
    # one node owns the whole ring
    assert st["ring"]["arcs"] and st["ring"]["arcs"][0][0] == 0 and st["ring"]["arcs"][-1][1] == 1
    assert abs(st["nodes"][0]["owned"] - 1.0) < 1e-3
    for path in ("/status", "/"):
        status, hdrs, page = get(port, path)
        assert status == 200 and hdrs["Content-Type"].startswith("text/html")
        text = page.decode()
        assert "status.json" in text and "<svg" in text
        # self-contained: no script, style, font or image from anywhere else
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
        assert "@import" not in text and "url(" not in text
    status, _, body = get(port, "/nope")
    assert status == 404


def test_requirepass_protects_the_endpoint(node_factory):
    port = free_port()
    n = node_factory("--admin-port", str(port), "--requirepass", "s3cret-pass")
    wait_until(lambda: port_open(port), msg="admin port open")
    for path in ("/metrics", "/health", "/status", "/status.json"):
        status, hdrs, body = get(port, path)
        assert status == 401, path
        assert hdrs["WWW-Authenticate"].startswith("Basic realm=")
        assert b"s3cret" not in body
    bad = base64.b64encode(b"default:wrong").decode()
    assert get(port, "/health", {"Authorization": "Basic " + bad})[0] == 401
    assert get(port, "/health", {"Authorization": "Bearer wrong"})[0] == 401
    assert get(port, "/health", {"Authorization": "Bearer s3cret-pass-longer"})[0] == 401
    good = base64.b64encode(b"anyone:s3cret-pass").decode()
    assert get(port, "/health", {"Authorization": "Basic " + good})[:1] == (200,)
    assert get(port, "/health", {"Authorization": "Bearer s3cret-pass"})[0] == 200
    metrics(port, {"Authorization": "Bearer s3cret-pass"})
    # the password can change at run time: the endpoint follows it
    r = n.client(password="s3cret-pass")
    r.config_set("requirepass", "other-pass")
    assert get(port, "/health", {"Authorization": "Bearer s3cret-pass"})[0] == 401
    assert get(port, "/health", {"Authorization": "Bearer other-pass"})[0] == 200
    r.close()


def test_only_get_and_head(admin_node):
    port = admin_node.admin_port
    assert get(port, "/health", method="POST")[0] == 501  # evhttp: not implemented
    status, _, body = get(port, "/health", method="HEAD")
    assert status == 200 and body == b""
    # garbage instead of HTTP: the connection is closed, the node keeps serving
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"\x00\xff garbage \r\n\r\n")
    try:
        s.recv(100)
    except OSError:
        pass
    s.close()
    assert get(port, "/health")[0] == 200
    assert admin_node.client().ping()


def listening_ports(pid):
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout
    ports = set()
    for line in out.splitlines():
        if "pid=%d," % pid in line:
            ports.add(int(line.split()[3].rsplit(":", 1)[1]))
    return ports


def test_admin_port_zero_listens_nowhere(node_factory, admin_node):
    n = node_factory()  # admin-port defaults to 0
    assert n.client().config_get("admin-port") == {"admin-port": "0"}
    # a node without a cluster listens on its client port only
    assert listening_ports(n.pid) == {n.port}
    # and with an admin port, on that one more
    assert listening_ports(admin_node.pid) == {admin_node.port, admin_node.admin_port}

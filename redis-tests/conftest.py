"""redis-tests share the fixtures and hooks of tests/integration/conftest.py
(node, node_factory, r, crash check, logs of failed tests), and add

  cluster   a real 3-node cluster (N=3 W=2 R=2) on 127.0.0.1 with free ports,
            shared by the whole session; every node must still be running
            at the end and exit 0 on SIGTERM.

The cluster nodes are harness.Node objects, so the hooks above check after
every test that none of them died and attach their logs to failed tests.
"""
import importlib.util
import os
import re
import shutil
import tempfile

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "dynamo_integration_conftest",
    os.path.join(_HERE, "..", "tests", "integration", "conftest.py"))
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)

for _name in dir(_mod):
    if _name.startswith("pytest_") or _name in ("node", "node_factory", "r",
                                                 "_nodes_stay_alive"):
        globals()[_name] = getattr(_mod, _name)

import harness  # noqa: E402  (tests/, put on sys.path by the module above)

CLUSTER_SETTINGS = {"n": 3, "w": 2, "r": 2, "cluster-secret": "x"}


class LocalCluster:
    """Three dynamo-node processes n1..n3 on 127.0.0.1 (distinct free client
    and cluster ports) sharing one generated config file."""

    def __init__(self, size=3, settings=None):
        self.size = size
        self.settings = dict(CLUSTER_SETTINGS, **(settings or {}))
        self.dir = tempfile.mkdtemp(prefix="dynamo-redis-tests-cluster-")
        self.config_path = os.path.join(self.dir, "cluster.conf")
        ports = harness.free_ports(2 * size)
        self.nodes = []
        with open(self.config_path, "w") as f:
            for i in range(size):
                f.write("node n%d 127.0.0.1:%d %d\n" % (i + 1, ports[2 * i], ports[2 * i + 1]))
            for k, v in self.settings.items():
                f.write("%s %s\n" % (k, v))
        for i in range(size):
            self.nodes.append(harness.Node("--config", self.config_path, "--node", "n%d" % (i + 1),
                                           name="n%d" % (i + 1), port=ports[2 * i],
                                           cluster_port=ports[2 * i + 1]))

    def start(self, timeout=15.0):
        try:
            for n in self.nodes:
                n.start()
            harness.wait_until(self.linked, timeout=timeout,
                               msg="every node of the cluster seeing the others link=up")
        except BaseException:
            for n in self.nodes:
                if n.alive():
                    n.kill()
            raise
        return self

    def links(self, node):
        """node's view of its peers: {name: link state} from DYNAMO NODES."""
        c = node.client(timeout=2.0, decode_responses=True)
        try:
            lines = c.execute_command("DYNAMO", "NODES")
        finally:
            c.close()
        out = {}
        for line in lines:
            m = re.search(r"link=(\S+)", line)
            out[line.split()[0]] = m.group(1) if m else "?"
        return out

    def linked(self):
        for n in self.nodes:
            view = self.links(n)
            if any(view.get(o.name) != "up" for o in self.nodes if o is not n):
                return False
        return True

    def addr(self, node):
        return "127.0.0.1:%d" % node.port

    def addrs(self):
        return [self.addr(n) for n in self.nodes]

    def stop(self):
        """Stops the nodes (only these processes, by PID); returns problems."""
        problems = _mod._shutdown(self.nodes)
        if not problems:
            shutil.rmtree(self.dir, ignore_errors=True)
        return problems

    def __repr__(self):
        return "LocalCluster(%s)" % ", ".join("%s=%d" % (n.name, n.port) for n in self.nodes)


@pytest.fixture(scope="session")
def cluster():
    """The session's 3-node cluster (N=3 W=2 R=2).  Tests share it: use key
    names of their own."""
    c = LocalCluster().start()
    yield c
    problems = c.stop()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture(params=[0, 1, 2], ids=["n1", "n2", "n3"])
def cluster_node(request, cluster):
    """Each node of the session cluster in turn."""
    return cluster.nodes[request.param]

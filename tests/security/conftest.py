"""Fixtures for the security tests (run them with tests/security/run.sh,
which runs pytest inside a private network and mount namespace).

Each test performs one attack named in issue 11 against real dynamo-node
processes.  Fixtures reused from the other suites:
  cluster        tests/cluster/conftest.py (fixed loopback addresses, nft)
  node_factory   tests/integration/conftest.py (one node on free ports)
  foreign_addr   a non-loopback address (10.99.0.1) added to lo inside the
                 namespace, so a connection from it is "from the network"
                 for protected mode while its traffic never leaves the host
"""
import importlib.util
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_cl = _load("_cluster_conftest", os.path.join(HERE, "..", "cluster", "conftest.py"))
_it = _load("_integration_conftest", os.path.join(HERE, "..", "integration", "conftest.py"))

cluster = _cl.cluster
_private_netns = _cl._private_netns
node_factory = _it.node_factory
_nodes_stay_alive = _it._nodes_stay_alive

FOREIGN_ADDR = "10.99.0.1"


@pytest.fixture(scope="session")
def foreign_addr(_private_netns):
    """A non-loopback address on lo inside the test's own namespace."""
    env = dict(os.environ, PATH=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    have = subprocess.run(["ip", "-4", "addr", "show", "dev", "lo"], env=env,
                          capture_output=True, text=True, check=True).stdout
    if FOREIGN_ADDR + "/" not in have:
        subprocess.run(["ip", "addr", "add", FOREIGN_ADDR + "/32", "dev", "lo"],
                       env=env, check=True)
    return FOREIGN_ADDR


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, the logs of the nodes the test used: its cluster's (as
    tests/cluster does) and those of single nodes it started."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    if not rep.failed:
        return
    c = item.funcargs.get("cluster") if hasattr(item, "funcargs") else None
    if c is not None and c.dir is not None and os.path.isdir(c.dir):
        for title, text in c.all_logs():
            rep.sections.append(("dynamo-node " + title, text))
    for n in _it.harness.ALL_NODES:
        if n.started_at is not None and os.path.exists(n.log_path):
            n.keep_files = True
            rep.sections.append(("dynamo-node %r log" % (n,), n.log(tail=_it.LOG_TAIL) or ""))

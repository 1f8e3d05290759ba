"""Fixtures for the cluster tests (start them with tests/cluster/run.sh).

  cluster   an unstarted TestCluster; the test calls cluster.start(n, settings).
            Teardown: every node the test did not kill/stop must still be
            running (a crash fails the test), then all its processes are
            stopped by PID and its nft table is deleted.
On failure, the logs of every node of the test's cluster are attached to the
report; DYNAMO_KEEP_LOGS=1 also keeps the cluster's temp dir.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cluster_harness  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _private_netns():
    """The tests bind fixed loopback addresses and install nftables rules:
    they run only inside a private network namespace (tests/cluster/run.sh)."""
    why = cluster_harness.private_netns_problem()
    if why:
        pytest.fail("the cluster tests cut real network links and bind fixed loopback "
                    "addresses: run them with tests/cluster/run.sh (private network "
                    "namespace). " + why, pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    if not rep.failed:
        return
    c = item.funcargs.get("cluster") if hasattr(item, "funcargs") else None
    if not isinstance(c, cluster_harness.TestCluster) or c.dir is None \
            or not os.path.isdir(c.dir):
        return  # (a teardown failure carries its own log tails)
    for title, text in c.all_logs():
        rep.sections.append(("dynamo-node " + title, text))
    rules = c.nft_rules()
    if rules:
        rep.sections.append(("nft table", rules))


@pytest.fixture
def cluster(request):
    c = cluster_harness.TestCluster()
    yield c
    problems = c.close()
    # The report carries the logs; DYNAMO_KEEP_LOGS=1 also keeps the temp dir
    # (config and full logs) of a failed test.
    call = getattr(request.node, "rep_call", None)
    failed = bool(problems) or (call is not None and call.failed)
    c.keep_files = failed and os.environ.get("DYNAMO_KEEP_LOGS") == "1"
    c.cleanup_files()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def nft():
    """Skips the test when nftables cannot be used here."""
    why = cluster_harness.nft_problem()
    if why:
        pytest.skip("network partitions need nftables: " + why)


def pytest_sessionfinish(session, exitstatus):
    # Safety net: a cluster a test left open (e.g. interrupted) is closed.
    for c in list(cluster_harness.OPEN_CLUSTERS):
        c.close()
        c.cleanup_files()

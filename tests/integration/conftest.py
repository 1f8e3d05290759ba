"""Fixtures for tests that run real dynamo-node processes.

  node          one node (N=W=R=1) shared by the tests of a module
  node_factory  make(*flags) -> started Node, stopped at the end of the test
  (autouse)     after every test, each node that nobody stopped must still be
                running: a crash fails the test that caused it
On failure the logs of the nodes involved are attached to the report.
redis-tests/conftest.py reuses this file.
"""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness  # noqa: E402

LOG_TAIL = 200


def _crash_report(n):
    return "%r is not running any more (exit code %s); log tail:\n%s" % (
        n, n.proc.returncode, n.log(tail=LOG_TAIL))


def _unexpectedly_dead(nodes):
    return [n for n in nodes
            if n.proc is not None and not n.expected_dead and n.proc.poll() is not None]


def _shutdown(nodes):
    """Checks every node is alive, then stops it; returns failure texts."""
    problems = [_crash_report(n) for n in _unexpectedly_dead(nodes)]
    for n in nodes:
        if n.proc is None or n.expected_dead:
            continue
        rc = n.stop()
        if rc != 0:
            problems.append("%r exited with %s after SIGTERM (expected 0); log tail:\n%s"
                            % (n, rc, n.log(tail=LOG_TAIL)))
    for n in nodes:
        if not getattr(n, "keep_files", False) and not problems:
            n.cleanup()
    return problems


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item._dynamo_t0 = time.monotonic()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    t0 = getattr(item, "_dynamo_t0", 0.0)
    for n in harness.ALL_NODES:
        if n.started_at is None or (n.stopped_at is not None and n.stopped_at < t0):
            continue
        n.keep_files = True
        state = "running" if n.alive() else "exit code %s" % n.proc.returncode
        rep.sections.append(("dynamo-node %r (%s) log %s" % (n, state, n.log_path),
                             n.log(tail=LOG_TAIL) or "(empty)"))


@pytest.fixture(autouse=True)
def _nodes_stay_alive():
    """A node process that died during a test fails that test."""
    yield
    dead = _unexpectedly_dead(harness.ALL_NODES)
    for n in dead:
        n.expected_dead = True  # report once
    if dead:
        pytest.fail("\n\n".join(_crash_report(n) for n in dead), pytrace=False)


@pytest.fixture(scope="module")
def node():
    n = harness.Node().start()
    yield n
    problems = _shutdown([n])
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def node_factory():
    made = []

    def make(*flags, **kw):
        n = harness.Node(*flags, **kw)
        made.append(n)
        return n.start()

    yield make
    problems = _shutdown(made)
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def r(node):
    """redis-py client of the module's node."""
    c = node.client()
    yield c
    c.close()

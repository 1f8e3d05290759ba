"""The /status page in a real browser (issue 15): headless Chromium
(Debian's chromium package) opens n1's page on a real 3-node cluster inside
the test namespace and the DOM it built from /status.json is checked:

  - three nodes alive, each with its arcs on the ring, a screenshot taken;
  - n3 killed (SIGKILL, by PID): the page shows it suspect, then dead,
    within the gossip timeouts;
  - n4 joins: its arcs appear on the ring and the transfer section shows
    keys moved to it; a screenshot taken (docs/status-page.png is one).

Screenshots are kept as test artefacts in $DYNAMO_ARTIFACTS (default
build/test-artifacts).  Waiting is polling the page against a deadline.
"""
import html.parser
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from cluster_harness import host_of, wait_for

ADMIN_PORT = 8080
# suspect after 1 s, dead after 6 s: a wide window to see "suspect" in
SETTINGS = {"gossip-interval": 200, "gossip-suspect-after": 1000, "gossip-dead-after": 6000,
            "put-timeout": 1000, "get-timeout": 1000, "anti-entropy-interval": 1000}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.environ.get("DYNAMO_ARTIFACTS", os.path.join(ROOT, "build", "test-artifacts"))


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("chromium is not installed (deps/packages.txt lists it; ./deps/install.sh)",
                pytrace=False)


class Browser:
    """Headless Chromium, one run per page load (its own profile dir)."""

    def __init__(self):
        self.bin = chromium()
        self.profile = tempfile.mkdtemp(prefix="dynamo-chromium-")

    def _run(self, url, *extra):
        argv = [self.bin, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
                "--user-data-dir=" + self.profile, "--window-size=1600,1050",
                "--virtual-time-budget=4000", *extra, url]
        out = subprocess.run(argv, capture_output=True, timeout=120,
                             env=dict(os.environ, HOME=self.profile))
        if out.returncode != 0:
            raise AssertionError("chromium failed (%d): %s" % (out.returncode,
                                                               out.stderr.decode()[-2000:]))
        return out.stdout.decode()

    def dom(self, url):
        return Page(self._run(url, "--dump-dom"))

    def screenshot(self, url, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._run(url, "--screenshot=" + path)
        assert os.path.getsize(path) > 10000, path
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        return path

    def close(self):
        shutil.rmtree(self.profile, ignore_errors=True)


class Page(html.parser.HTMLParser):
    """The rendered DOM: every element's tag and attributes, with the text
    of member rows."""

    def __init__(self, text):
        super().__init__()
        self.elements = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def find(self, tag, **attrs):
        return [a for t, a in self.elements
                if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def loaded(self):
        return bool(self.find("body", data_loaded="1"))

    def states(self):
        """{node: state} from the membership table."""
        return {a["data-node"]: a["data-state"] for a in self.find("tr") if "data-node" in a}

    def arc_nodes(self):
        return {a["data-node"] for a in self.find("path") if a.get("class") == "arc"}

    def transfer(self):
        t = self.find("div", id="transfer")
        return t[0] if t else {}


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


def url(i):
    return "http://%s:%d/status" % (host_of(i), ADMIN_PORT)


def test_status_page_in_chromium(cluster, browser):
    cluster.start(3, SETTINGS, flags=["--admin-port", ADMIN_PORT])
    c = cluster.client(1)
    for i in range(3000):
        c.set("page:%d" % i, "v%d" % i)

    page = browser.dom(url(1))
    assert page.loaded(), "the page did not render status.json"
    assert page.states() == {"n1": "alive", "n2": "alive", "n3": "alive"}
    assert page.arc_nodes() == {"n1", "n2", "n3"}
    assert page.find("span", id="health", **{"class": "ok"})
    assert page.find("tr", data_cmd="set")  # latency row of the SETs just sent
    shot = browser.screenshot(url(1), os.path.join(ARTIFACTS, "status-3-nodes.png"))
    print("screenshot:", shot)

    # n3 crashes: suspect first, then dead, within the gossip timeouts
    t0 = time.monotonic()
    cluster.kill(3)
    seen = []

    def n3_state():
        st = browser.dom(url(1)).states().get("n3")
        if not seen or seen[-1] != st:
            seen.append(st)
        return st

    wait_for(lambda: n3_state() == "suspect", 6.0, "the page showing n3 suspect")
    t_suspect = time.monotonic() - t0
    wait_for(lambda: n3_state() == "dead", 15.0, "the page showing n3 dead")
    t_dead = time.monotonic() - t0
    assert seen[-2:] == ["suspect", "dead"], seen
    print("n3 killed: page showed suspect after %.1f s, dead after %.1f s (gossip: suspect "
          "1 s, dead 6 s)" % (t_suspect, t_dead))
    browser.screenshot(url(1), os.path.join(ARTIFACTS, "status-n3-dead.png"))
    cluster.restart(3)
    wait_for(lambda: browser.dom(url(1)).states().get("n3") == "alive", 15.0,
             "n3 alive again on the page")

    # a fourth node joins: its arcs appear, keys move to it
    moved_before = int(browser.dom(url(1)).transfer().get("data-moved-total", "0"))
    cluster.add_node(4, flags=["--admin-port", ADMIN_PORT])

    def joined():
        p = browser.dom(url(1))
        return ("n4" in p.arc_nodes() and p.states().get("n4") == "alive"
                and int(p.transfer().get("data-moved-total", "0")) > moved_before)

    wait_for(joined, 30.0, "n4's arcs and keys moved to it on n1's page")
    p = browser.dom(url(1))
    assert p.arc_nodes() == {"n1", "n2", "n3", "n4"}
    print("after the join: n1's page shows %s keys moved" % p.transfer()["data-moved-total"])
    # the new node's own page knows the whole cluster too
    assert set(browser.dom(url(4)).states()) == {"n1", "n2", "n3", "n4"}
    shot = browser.screenshot(url(1), os.path.join(ARTIFACTS, "status-4-nodes.png"))
    print("screenshot:", shot)

"""Cluster test harness: several real dynamo-node processes on their own
loopback addresses, with real network partitions (nftables).

    from cluster_harness import TestCluster
    c = TestCluster().start(3, {"w": 2, "put-timeout": 1000})
    c.client(1).set("k", "v")          # node 1 = n1 on 127.0.0.11:7001
    c.isolate(3); ...; c.heal()
    c.close()

Node i (1-based) is named n<i>, listens on 127.0.0.<10+i>:7001 (clients) and
:17001 (peers), and binds its outgoing peer sockets to that address, so an
nftables rule on an (source . destination) address pair cuts exactly one
link.  The rules follow /work/shared/recipes/netfault-demo.sh:

  set cut      { ipv4_addr . ipv4_addr }  every packet from src to dst dropped
                                          (partition() adds both directions)
  set nostart  { ipv4_addr . ipv4_addr }  'ct direction original' drop: src
                                          cannot open connections to dst (nor
                                          send on connections it opened); dst
                                          still reaches src.

Because these rules and the fixed addresses would disturb the host, the
harness refuses to run outside a private network namespace: start the tests
with tests/cluster/run.sh (unshare -n / -rn).  Clients of the test itself
connect from 127.0.0.1, which no rule names, so a partitioned node stays
reachable by the test.

Rules kept (STYLE.md section 7): only processes this harness started are
signalled, by PID; waiting is polling against a deadline (wait_for), never
a fixed sleep; every node logs to a file in the cluster's temp dir, and
close() reports nodes that died without the test killing them.
"""
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import redis

import harness  # tests/harness.py: node_binary, RawConn, Err

CLIENT_PORT = 7001
CLUSTER_PORT = CLIENT_PORT + 10000
NFT_TABLE = "dynamo_test"
LOG_TAIL = 200

DEFAULT_SETTINGS = {
    "n": 3,
    "w": 2,
    "r": 2,
    "vnodes-per-node": 128,
    "put-timeout": 1500,
    "get-timeout": 1500,
    "cluster-secret": "s3cret",
}

# Every TestCluster not yet closed (the conftest closes leftovers at exit).
OPEN_CLUSTERS = []


class HarnessError(RuntimeError):
    pass


class NftMissing(HarnessError):
    """nft is not installed or not usable here (tests that cut links skip)."""


# ---- environment checks ---------------------------------------------------

def host_of(i):
    return "127.0.0.%d" % (10 + i)


def _netns_id(pid):
    return os.readlink("/proc/%s/ns/net" % pid)


def _ppid(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("PPid:"):
                return int(line.split()[1])
    return 0


def private_netns_problem():
    """None when this process runs in a network namespace other than the one
    it was started from (an ancestor process, e.g. the shell that ran
    tests/cluster/run.sh, or PID 1 lives in another one), else a sentence
    saying why it looks like it does not."""
    try:
        mine = _netns_id("self")
    except OSError as e:
        return "cannot read /proc/self/ns/net: %s" % e
    pid, seen_init = os.getppid(), False
    while pid > 0:
        try:
            if _netns_id(pid) != mine:
                return None
            seen_init = seen_init or pid == 1
        except OSError:
            pass  # not ours to read (another user, or a sandboxed PID 1)
        if pid == 1:
            break
        try:
            pid = _ppid(pid)
        except OSError:
            break
    if seen_init:
        return "this process shares the network namespace of PID 1 (%s)" % mine
    # No readable ancestor lives elsewhere, and PID 1 is not readable: accept
    # the run.sh marker when the namespace holds nothing but loopback.
    if os.environ.get("DYNAMO_IN_NETNS") != "1":
        return ("every readable ancestor shares this network namespace (%s) and "
                "DYNAMO_IN_NETNS is not set" % mine)
    try:
        out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True,
                             timeout=10, env=_env_with_sbin()).stdout
    except (OSError, subprocess.SubprocessError) as e:
        return "cannot list links (ip): %s" % e
    links = [ln.split(":")[1].strip() for ln in out.splitlines() if ":" in ln]
    if links != ["lo"]:
        return "the namespace has interfaces besides lo: %s" % links
    return None


def assert_private_netns():
    why = private_netns_problem()
    if why:
        raise HarnessError("cluster tests must run inside a private network namespace "
                           "(start them with tests/cluster/run.sh): " + why)


def _env_with_sbin():
    env = dict(os.environ)
    parts = env.get("PATH", "").split(":")
    for d in ("/usr/sbin", "/sbin"):
        if d not in parts:
            parts.append(d)
    env["PATH"] = ":".join(p for p in parts if p)
    return env


def nft_path():
    return shutil.which("nft", path=_env_with_sbin()["PATH"])


def _nft(script, check=True):
    exe = nft_path()
    if not exe:
        raise NftMissing("nft not found (Debian package nftables, listed in "
                         "deps/packages.txt; run deps/install.sh)")
    p = subprocess.run([exe, "-f", "-"], input=script, capture_output=True, text=True,
                       timeout=10)
    if check and p.returncode != 0:
        raise HarnessError("nft failed (%d): %s\nscript:\n%s" % (p.returncode,
                                                                p.stderr.strip(), script))
    return p.returncode == 0


_nft_usable = None


def nft_problem():
    """None when nft can create tables here, else why not (cached)."""
    global _nft_usable
    if _nft_usable is None:
        try:
            _nft("add table ip %s_probe\ndelete table ip %s_probe\n" % (NFT_TABLE, NFT_TABLE))
            _nft_usable = ""
        except (HarnessError, OSError, subprocess.SubprocessError) as e:
            _nft_usable = str(e)
    return _nft_usable or None


# ---- waiting --------------------------------------------------------------

def wait_for(fn, timeout=5.0, msg=None, interval=0.02):
    """Polls fn() until it returns something truthy (returned), or raises
    AssertionError after timeout seconds.  Exceptions raised by fn count as
    'not yet' (the last one is reported)."""
    deadline = time.monotonic() + timeout
    last = None
    delay = interval
    while True:
        try:
            v = fn()
            if v:
                return v
            last = None
        except Exception as e:  # noqa: BLE001 - polling
            last = e
        if time.monotonic() >= deadline:
            what = msg or getattr(fn, "__name__", "condition")
            extra = " (last error: %r)" % (last,) if last else ""
            raise AssertionError("timed out after %.1fs waiting for %s%s"
                                 % (timeout, what, extra))
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


# ---- processes ------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # Runs in the child before exec: if the test process dies (even by
    # SIGKILL), the node gets SIGKILL, so no process (and hence no network
    # namespace) outlives the run.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _port_open(host, port, timeout=0.2):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class ClusterNode:
    """One member: name n<i>, its addresses, its process and log."""

    def __init__(self, cluster, i):
        self.cluster = cluster
        self.i = i
        self.name = "n%d" % i
        self.host = host_of(i)
        self.port = CLIENT_PORT
        self.cport = CLUSTER_PORT
        self.log_path = os.path.join(cluster.dir, "%s.log" % self.name)
        self.proc = None
        self.expected_dead = False  # killed/stopped by the test
        self.paused = False
        self.extra_flags = []
        self.joining = False  # not in the config file: joins through the listed nodes
        self.config_path = None  # its own config file (seed lines), else the cluster's
        self._logf = None

    def __repr__(self):
        return "%s(%s:%d pid=%s)" % (self.name, self.host, self.port,
                                     self.proc.pid if self.proc else None)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def argv(self):
        own = []
        if self.joining:
            own = ["--bind", self.host, "--port", str(self.port),
                   "--cluster-port", str(self.cport)]
        return [self.cluster.binary, "--config", self.config_path or self.cluster.config_path,
                "--node", self.name, "--dir", self.cluster.dir] + own + self.extra_flags

    def spawn(self):
        self._logf = open(self.log_path, "ab")
        self._logf.write(b"==== %s starting: %s\n" % (self.name.encode(),
                                                      " ".join(self.argv()).encode()))
        self._logf.flush()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=subprocess.STDOUT, cwd=self.cluster.dir,
                                     preexec_fn=_die_with_parent)
        self.expected_dead = False
        self.paused = False

    def wait_listening(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self.expected_dead = True
                self._closed()
                raise HarnessError("%s exited with %s during start:\n%s"
                                   % (self.name, rc, self.log(LOG_TAIL)))
            if _port_open(self.host, self.port) and _port_open(self.host, self.cport):
                return
            if time.monotonic() >= deadline:
                raise HarnessError("%s: ports %s:%d/%d not open after %.0fs:\n%s"
                                   % (self.name, self.host, self.port, self.cport, timeout,
                                      self.log(LOG_TAIL)))
            time.sleep(0.01)

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def _closed(self):
        if self._logf:
            self._logf.close()
            self._logf = None

    def log(self, tail=None):
        return harness.read_log(self.log_path, tail)


class TestCluster:
    """A cluster of real dynamo-node processes.  See the module docstring."""

    __test__ = False  # not a pytest test class

    def __init__(self, binary=None):
        self.binary = binary or harness.node_binary()
        self.dir = None
        self.config_path = None
        self.nodes = {}
        self.settings = {}
        self._clients = {}
        self._extra_clients = []
        self._nft_ready = False
        self.closed = False
        self.keep_files = False

    # -- lifecycle --

    def start(self, n=3, settings=None, flags=None):
        """Writes a config for n nodes (DEFAULT_SETTINGS updated by settings;
        a value of None drops the key), starts them all and waits until
        each one's ports accept and every peer link is up."""
        assert_private_netns()
        if not os.access(self.binary, os.X_OK):
            raise HarnessError("dynamo-node binary not found: %s (build with "
                               "./scripts/build.sh or set DYNAMO_NODE_BIN)" % self.binary)
        if self.dir is not None:
            raise HarnessError("TestCluster.start called twice")
        self.dir = tempfile.mkdtemp(prefix="dynamo-cluster-")
        OPEN_CLUSTERS.append(self)
        s = dict(DEFAULT_SETTINGS)
        if n < 3:
            s.update({"n": n, "w": min(s["w"], n), "r": min(s["r"], n)})
        s.update(settings or {})
        self.settings = {k: v for k, v in s.items() if v is not None}
        self.config_path = os.path.join(self.dir, "cluster.conf")
        with open(self.config_path, "w") as f:
            for i in range(1, n + 1):
                f.write("node n%d %s:%d\n" % (i, host_of(i), CLIENT_PORT))
            for k, v in self.settings.items():
                f.write("%s %s\n" % (k, v))
        for i in range(1, n + 1):
            node = ClusterNode(self, i)
            node.extra_flags = [str(x) for x in (flags or [])]
            self.nodes[i] = node
        if nft_problem() is None:
            self._nft_setup()
        for node in self.nodes.values():
            node.spawn()
        for node in self.nodes.values():
            node.wait_listening()
        self.wait_linked()
        return self

    def close(self):
        """Stops every node this cluster started (SIGCONT first if paused,
        then SIGTERM, SIGKILL after 5 s), deletes its nft table.  Returns a
        list of problems: nodes that died although the test did not kill or
        stop them, and nodes that did not exit cleanly on SIGTERM."""
        if self.closed:
            return []
        self.closed = True
        problems = self.dead_nodes_report()
        for c in list(self._clients.values()) + self._extra_clients:
            try:
                c.close()
            except Exception:  # noqa: BLE001
                pass
        self._clients.clear()
        self._extra_clients.clear()
        for node in self.nodes.values():
            if not node.alive():
                node._closed()
                continue
            if node.paused:
                node.signal(signal.SIGCONT)
                node.paused = False
            node.signal(signal.SIGTERM)
            rc = node.wait_exit(5.0)
            if rc is None:
                node.signal(signal.SIGKILL)
                node.wait_exit(5.0)
                problems.append("%s did not exit within 5 s of SIGTERM (killed); log tail:\n%s"
                                % (node.name, node.log(LOG_TAIL)))
            elif rc != 0 and not node.expected_dead:
                problems.append("%s exited with %s after SIGTERM (expected 0); log tail:\n%s"
                                % (node.name, rc, node.log(LOG_TAIL)))
            node.expected_dead = True
            node._closed()
        if self._nft_ready:
            _nft("flush table ip %s\ndelete table ip %s\n" % (NFT_TABLE, NFT_TABLE), check=False)
            self._nft_ready = False
        if self in OPEN_CLUSTERS:
            OPEN_CLUSTERS.remove(self)
        return problems

    def cleanup_files(self):
        if self.dir and not self.keep_files:
            shutil.rmtree(self.dir, ignore_errors=True)

    def dead_nodes_report(self):
        """One text (with log tail) per node that is not running although the
        test neither killed nor stopped it: a crash."""
        out = []
        for node in self.nodes.values():
            if node.proc is not None and not node.expected_dead and node.proc.poll() is not None:
                out.append("%s (pid %d) is not running any more (exit code %s) although the "
                           "test did not stop it; log tail:\n%s"
                           % (node.name, node.pid, node.proc.returncode, node.log(LOG_TAIL)))
        return out

    def node(self, i):
        return self.nodes[i]

    def names(self):
        return [self.nodes[i].name for i in sorted(self.nodes)]

    def index_of(self, name):
        return int(name.lstrip("n"))

    # -- clients --

    def client(self, i, **kw):
        """redis-py client of node i (str replies unless decode_responses=False
        is given).  Without kw, one cached client per node."""
        if kw:
            c = self._make_client(i, **kw)
            self._extra_clients.append(c)
            return c
        if i not in self._clients:
            self._clients[i] = self._make_client(i)
        return self._clients[i]

    def new_client(self, i, **kw):
        """A client with its own connection (e.g. to PING while another
        connection waits for a reply)."""
        c = self._make_client(i, **kw)
        self._extra_clients.append(c)
        return c

    def _make_client(self, i, timeout=15.0, decode_responses=True, **kw):
        node = self.nodes[i]
        return redis.Redis(host=node.host, port=node.port, socket_timeout=timeout,
                           socket_connect_timeout=timeout, decode_responses=decode_responses,
                           **kw)

    def _drop_client(self, i):
        c = self._clients.pop(i, None)
        if c is not None:
            c.close()
            c.connection_pool.disconnect()

    def raw(self, i, cluster_port=False, timeout=5.0):
        """harness.RawConn to node i's client port (or cluster port)."""
        node = self.nodes[i]
        return harness.RawConn(node.cport if cluster_port else node.port, host=node.host,
                               timeout=timeout)

    # -- process control --

    def kill(self, i):
        """SIGKILL node i (a crash, as far as the cluster can tell)."""
        node = self.nodes[i]
        node.expected_dead = True
        node.signal(signal.SIGKILL)
        node.wait_exit(10.0)
        node.paused = False
        node._closed()
        self._drop_client(i)

    def stop(self, i, timeout=10.0):
        """SIGTERM node i and wait for it to exit; returns the exit code."""
        node = self.nodes[i]
        node.expected_dead = True
        if node.paused:
            node.signal(signal.SIGCONT)
            node.paused = False
        node.signal(signal.SIGTERM)
        rc = node.wait_exit(timeout)
        if rc is None:
            node.signal(signal.SIGKILL)
            rc = node.wait_exit(timeout)
        node._closed()
        self._drop_client(i)
        return rc

    def restart(self, i, wait_linked=True, wipe=False):
        """(Stops node i if it runs and) starts it again with the same config
        and --dir, so it comes back with what its append-only log holds;
        with wipe=True its data files are deleted first (wipe_data: a lost
        disk).  Waits for its ports and, by default, for its links to the
        other running nodes."""
        node = self.nodes[i]
        if node.alive():
            self.stop(i)
        if wipe:
            self.wipe_data(i)
        self._drop_client(i)
        node.spawn()
        node.wait_listening()
        if wait_linked:
            self.wait_linked(self.running())
        return node

    def add_node(self, i, flags=None, wait=True, seeds=None):
        """Starts a new node n<i> that the config file does not list: it
        joins the cluster through the listed nodes (its seeds).  With
        seeds=[j, ...] it gets a config file of its own that lists no node,
        only `seed` lines with those nodes' addresses (a "host:port" string
        is written as given) and the cluster's settings.
        With wait, returns once every running node has it as a ring member."""
        if i in self.nodes:
            raise HarnessError("add_node(%d): n%d exists" % (i, i))
        node = ClusterNode(self, i)
        node.joining = True
        node.extra_flags = [str(x) for x in (flags or [])]
        if seeds is not None:
            node.config_path = os.path.join(self.dir, "conf-n%d.conf" % i)
            with open(node.config_path, "w") as f:
                for j in seeds:
                    addr = j if isinstance(j, str) else "%s:%d" % (host_of(j), CLIENT_PORT)
                    f.write("seed %s\n" % addr)
                for k, v in self.settings.items():
                    f.write("%s %s\n" % (k, v))
        self.nodes[i] = node
        node.spawn()
        node.wait_listening()
        if wait:
            self.wait_ring(self.running(), lambda members: node.name in members,
                           "%s in the ring" % node.name)
        return node

    def ring_members(self, i):
        """Node i's ring: the set of member names (DYNAMO RING)."""
        lines = self.client(i).execute_command("DYNAMO", "RING")
        return {line.split()[0] for line in lines[1:]}

    def wait_ring(self, viewers, pred, msg, timeout=15.0):
        """Waits until pred(ring members) holds on every node in viewers."""
        wait_for(lambda: all(pred(self.ring_members(i)) for i in viewers), timeout, msg)

    def kill_restart(self, i, wipe, down_s):
        """kill -9 node i, optionally delete its data (log and all), keep it
        down down_s seconds, start it again (not waiting for its links)."""
        self.kill(i)
        if wipe:
            self.wipe_data(i)
        time.sleep(down_s)
        self.restart(i, wait_linked=False)

    def heal_all(self):
        """Removes every partition and resumes every paused node."""
        self.heal()
        for i in sorted(self.nodes):
            if self.nodes[i].paused:
                self.resume(i)

    def run_faults(self, schedule, rng, budget_s, between, t_start):
        """Runs a chaos schedule [(name, fault(), seconds)]: each fault for
        its seconds, then everything healed, with rng.uniform(*between)
        seconds of health between faults; no new fault starts once budget_s
        passed since t_start (time.monotonic()).  Returns the log lines
        ("<seconds> <name>")."""
        log = []
        for n, (name, fault, secs) in enumerate(schedule):
            if n and time.monotonic() - t_start > budget_s:
                break
            if n:
                time.sleep(rng.uniform(*between))
            log.append("%5.1fs %s" % (time.monotonic() - t_start, name))
            fault()
            time.sleep(secs)
            self.heal_all()
        return log

    def wipe_data(self, i):
        """Deletes what node i keeps on disk in the cluster dir (its
        append-only log and any rewrite leftovers: every '<name>.*' file but
        its own '<name>.log'), so its next restart begins empty, as after a
        lost disk.  Node i must not be running.  Returns the deleted names."""
        node = self.nodes[i]
        if node.alive():
            raise HarnessError("wipe_data(%d): %s is running" % (i, node.name))
        gone = []
        for f in sorted(os.listdir(self.dir)):
            if f.startswith(node.name + ".") and f != os.path.basename(node.log_path):
                os.remove(os.path.join(self.dir, f))
                gone.append(f)
        return gone

    def pause(self, i):
        """SIGSTOP: the process keeps its sockets but answers nothing."""
        node = self.nodes[i]
        node.signal(signal.SIGSTOP)
        node.paused = True

    def resume(self, i):
        node = self.nodes[i]
        node.signal(signal.SIGCONT)
        node.paused = False

    def running(self):
        """Indices of nodes whose process runs (paused ones included)."""
        return [i for i in sorted(self.nodes) if self.nodes[i].alive()]

    # -- network faults --

    def _nft_setup(self):
        _nft("table ip %(t)s {}\ndelete table ip %(t)s\n"
             "table ip %(t)s {\n"
             "  set cut { type ipv4_addr . ipv4_addr; }\n"
             "  set nostart { type ipv4_addr . ipv4_addr; }\n"
             "  chain input { type filter hook input priority 0; policy accept;\n"
             "    ip saddr . ip daddr @cut drop\n"
             "    ct direction original ip saddr . ip daddr @nostart drop\n"
             "  }\n"
             "}\n" % {"t": NFT_TABLE})
        self._nft_ready = True

    def _require_nft(self):
        why = nft_problem()
        if why:
            import pytest  # only the tests need it; the harness works without
            pytest.skip("network partitions need nftables: " + why)
        assert_private_netns()
        if not self._nft_ready:
            self._nft_setup()

    def partition(self, a, b, oneway=False):
        """Cuts the link between nodes a and b: both directions, or with
        oneway=True only 'a cannot open connections to b' (and a's packets on
        connections it opened to b are dropped; b still reaches a)."""
        self._require_nft()
        ha, hb = host_of(a), host_of(b)
        if oneway:
            _nft("add element ip %s nostart { %s . %s }\n" % (NFT_TABLE, ha, hb))
        else:
            _nft("add element ip %s cut { %s . %s, %s . %s }\n" % (NFT_TABLE, ha, hb, hb, ha))

    def isolate(self, i):
        """Cuts node i from every other node, both ways."""
        for j in sorted(self.nodes):
            if j != i:
                self.partition(i, j)

    def split(self, group_a, group_b):
        """Cuts every link between the two groups, both ways."""
        for a in group_a:
            for b in group_b:
                self.partition(a, b)

    def heal(self):
        """Removes every cut."""
        self._require_nft()
        _nft("flush set ip %s cut\nflush set ip %s nostart\n" % (NFT_TABLE, NFT_TABLE))

    def nft_rules(self):
        """The current table, as nft lists it (for debugging)."""
        exe = nft_path()
        if not exe or not self._nft_ready:
            return ""
        return subprocess.run([exe, "list", "table", "ip", NFT_TABLE], capture_output=True,
                              text=True, timeout=10).stdout

    # -- waiting / introspection --

    @staticmethod
    def wait_for(fn, timeout=5.0, msg=None):
        return wait_for(fn, timeout=timeout, msg=msg)

    def links(self, i):
        """Node i's view of its peers: {name: link state} from DYNAMO NODES."""
        out = {}
        for line in self.client(i).execute_command("DYNAMO", "NODES"):
            m = re.search(r"link=(\S+)", line)
            out[line.split()[0]] = m.group(1) if m else "?"
        return out

    def wait_linked(self, nodes=None, timeout=10.0):
        """Waits until every node in nodes sees every other one as link=up."""
        nodes = list(nodes or sorted(self.nodes))
        names = {self.nodes[j].name for j in nodes}

        def linked():
            for i in nodes:
                view = self.links(i)
                for name in names - {self.nodes[i].name}:
                    if view.get(name) != "up":
                        return False
            return True

        wait_for(linked, timeout, "links up among %s" % [self.nodes[j].name for j in nodes])

    def wait_link_state(self, viewers, target, states, timeout=10.0):
        """Waits until each node in viewers sees node target in one of states
        (a string or a tuple of DYNAMO NODES link states)."""
        if isinstance(states, str):
            states = (states,)
        name = self.nodes[target].name

        def seen():
            return all(self.links(i).get(name) in states for i in viewers)

        wait_for(seen, timeout, "%s seen as %s by %s" % (name, "/".join(states),
                                                         [self.nodes[i].name for i in viewers]))

    def preflist(self, key, via=1):
        """DYNAMO PREFLIST key on node via: [(name, is_coordinator), ...]."""
        out = []
        for line in self.client(via).execute_command("DYNAMO", "PREFLIST", key):
            parts = line.split()
            out.append((parts[0], "coordinator" in parts[1:]))
        return out

    def coordinator(self, key, via=1):
        for name, coord in self.preflist(key, via):
            if coord:
                return name
        raise AssertionError("DYNAMO PREFLIST %s on %s names no coordinator" % (key, via))

    def keys_coordinated_by(self, name, count, prefix="key", order=None):
        """count keys whose preference list starts with node name (and, if
        order is given, equals it), found by asking node 1."""
        found = []
        for j in range(100000):
            k = "%s-%d" % (prefix, j)
            pl = [n for n, _ in self.preflist(k)]
            if pl[0] == name and (order is None or pl == list(order)):
                found.append(k)
                if len(found) == count:
                    return found
        raise AssertionError("no %d keys with preflist starting %s" % (count, order or name))

    def info_cluster(self, i):
        return self.client(i).info("cluster")

    def vget(self, i, key, r=None):
        """VGET through node i: (context, sorted values) or None."""
        args = ["VGET", key] + (["R", r] if r else [])
        rep = self.client(i).execute_command(*args)
        if rep is None:
            return None
        ctx, vals = rep
        return ctx, sorted(vals, key=lambda v: (v is None, v or ""))

    def vclock(self, i, key, r=None):
        """VCLOCK through node i, normalised: a sorted list of
        (description, sorted clock entries (actor, counter)); None when absent.
        Timestamps are dropped (they are not part of the order)."""
        args = ["VCLOCK", key] + (["R", r] if r else [])
        lines = self.client(i).execute_command(*args)
        if lines is None:
            return None
        out = []
        for line in lines:
            m = re.fullmatch(r"(.*?)\s*\[(.*)\]\s*", line)
            if not m:
                raise HarnessError("unreadable VCLOCK line %r" % line)
            entries = []
            for part in filter(None, (p.strip() for p in m.group(2).split(","))):
                em = re.fullmatch(r"(\S+):(\d+)@(\d+)", part)
                if not em:
                    raise HarnessError("unreadable clock entry %r in %r" % (part, line))
                entries.append((em.group(1), int(em.group(2))))
            out.append((m.group(1), sorted(entries)))
        return sorted(out)

    def wait_for_convergence(self, nodes, keys, timeout=10.0):
        """Waits until every node in nodes answers the same VGET key R 1 (same
        set of values) and VCLOCK key R 1 (same clocks, compared without
        timestamps) for every key; returns {key: (context as nodes[0] gave it,
        sorted values) or None}.  With N = number of nodes, R 1 reads each
        node's own replica (there is no local-only read command yet)."""
        nodes = list(nodes)
        last = {}

        def converged():
            states = {}
            for k in keys:
                seen = {i: (self.vget(i, k, r=1), self.vclock(i, k, r=1)) for i in nodes}
                # Contexts are opaque and their entry order is per process:
                # compare values and the (normalised) clocks, not the tokens.
                shapes = {repr((vg[1] if vg else None, vc)) for vg, vc in seen.values()}
                if len(shapes) != 1:
                    last.clear()
                    last.update({"key": k, "per_node": seen})
                    return None
                states[k] = seen[nodes[0]][0]
            return states

        try:
            return wait_for(converged, timeout, "convergence of %d keys on %s"
                            % (len(keys), [self.nodes[i].name for i in nodes]))
        except AssertionError as e:
            if not last:
                raise
            detail = "; ".join("n%d: %r" % (i, v) for i, v in last["per_node"].items())
            raise AssertionError("%s; last disagreement on %r (VGET R 1): %s"
                                 % (e, last["key"], detail)) from None

    # -- failure handling: gossip view, hints, local replicas --

    def nodes_view(self, i):
        """Node i's DYNAMO NODES as {name: {field: value}}: the key=value
        fields of each line (link, fails, gossip, generation, heartbeat,
        silent_ms, up, ...), numbers as ints."""
        out = {}
        for line in self.client(i).execute_command("DYNAMO", "NODES"):
            parts = line.split()
            fields = {"addr": parts[1]} if len(parts) > 1 else {}
            for p in parts[2:]:
                k, sep, v = p.partition("=")
                if sep:
                    fields[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
            out[parts[0]] = fields
        return out

    def wait_routed(self, viewers, target, up, timeout=10.0):
        """Waits until each node in viewers routes to node target (up=1 in
        its DYNAMO NODES) when up is true, or routes around it (up=0)."""
        name = self.nodes[target].name
        want = 1 if up else 0

        def seen():
            return all(self.nodes_view(i)[name].get("up") == want for i in viewers)

        wait_for(seen, timeout, "%s %s by %s" % (name, "routed to" if up else "routed around",
                                                  [self.nodes[i].name for i in viewers]))

    def wait_gossip(self, viewers, target, states, timeout=10.0):
        """Waits until each node in viewers has node target in one of the
        gossip states (alive/suspect/dead; a string or a tuple)."""
        if isinstance(states, str):
            states = (states,)
        name = self.nodes[target].name

        def seen():
            return all(self.nodes_view(i)[name].get("gossip") in states for i in viewers)

        wait_for(seen, timeout, "%s gossip=%s as seen by %s"
                 % (name, "/".join(states), [self.nodes[i].name for i in viewers]))

    def local(self, i, key):
        """DYNAMO LOCAL key on node i: node i's own versions, raw lines."""
        return self.client(i).execute_command("DYNAMO", "LOCAL", key)

    def local_many(self, i, keys, chunk=500):
        """{key: DYNAMO LOCAL lines} for many keys on node i (pipelined)."""
        out = {}
        keys = list(keys)
        for s in range(0, len(keys), chunk):
            part = keys[s:s + chunk]
            pipe = self.client(i).pipeline(transaction=False)
            for k in part:
                pipe.execute_command("DYNAMO", "LOCAL", k)
            out.update(zip(part, pipe.execute()))
        return out

    @staticmethod
    def parse_local(line):
        """One DYNAMO LOCAL line -> (kind, value or None, [(actor, counter)]);
        kind is 'value', 'tombstone' or 'expired'; value is the first 64
        bytes as the server shows them."""
        m = re.fullmatch(r"(?:value=(.*)|(tombstone|expired)) \[(.*)\]", line, re.S)
        if not m:
            raise HarnessError("unreadable DYNAMO LOCAL line %r" % line)
        entries = []
        for part in filter(None, (p.strip() for p in m.group(3).split(","))):
            em = re.fullmatch(r"(\S+):(\d+)@(\d+)", part)
            if not em:
                raise HarnessError("unreadable clock entry %r in %r" % (part, line))
            entries.append((em.group(1), int(em.group(2))))
        if m.group(2):
            return m.group(2), None, sorted(entries)
        return "value", m.group(1), sorted(entries)

    def local_values(self, i, key):
        """Sorted live values node i holds for key (tombstones left out)."""
        return sorted(v for kind, v, _ in map(self.parse_local, self.local(i, key))
                      if kind == "value")

    def hints(self, i):
        """DYNAMO HINTS on node i: {owner name: (pending, delivered)}."""
        out = {}
        for line in self.client(i).execute_command("DYNAMO", "HINTS"):
            m = re.fullmatch(r"(\S+) pending=(\d+) delivered=(\d+)", line)
            if not m:
                raise HarnessError("unreadable DYNAMO HINTS line %r" % line)
            out[m.group(1)] = (int(m.group(2)), int(m.group(3)))
        return out

    def hints_pending(self, i):
        """INFO cluster hints_pending of node i."""
        return int(self.info_cluster(i)["hints_pending"])

    def wait_hints_drained(self, nodes=None, timeout=10.0):
        """Waits until hints_pending is 0 on every node in nodes."""
        nodes = list(nodes or self.running())
        wait_for(lambda: all(self.hints_pending(i) == 0 for i in nodes), timeout,
                 "hints_pending 0 on %s" % [self.nodes[i].name for i in nodes])

    def logs(self, i, tail=None):
        return self.nodes[i].log(tail)

    def all_logs(self, tail=LOG_TAIL):
        parts = []
        for i in sorted(self.nodes):
            node = self.nodes[i]
            state = ("running" + (" (paused)" if node.paused else "")) if node.alive() else \
                "exit code %s" % (node.proc.returncode if node.proc else None)
            parts.append(("%s %s:%d pid=%s %s — %s" % (node.name, node.host, node.port,
                                                        node.pid, state, node.log_path),
                          node.log(tail) or "(empty)"))
        return parts

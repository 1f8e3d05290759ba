"""Test harness: real dynamo-node processes on free loopback ports.

Used by tests/integration and redis-tests (run with /usr/bin/python3).

    from harness import Node, wait_until
    n = Node("--requirepass", "s3cret").start()
    r = n.client(password="s3cret")
    ...
    n.stop()

Rules this module keeps (STYLE.md section 7):
  - it only ever signals processes it started, by PID;
  - it waits by polling against a deadline (wait_until), never by fixed sleeps;
  - every node has a private temp dir and a log file (stdout + stderr), which
    the fixtures print when a test fails.

The cluster tests extend this: Node takes any flags (--config, --node,
--cluster-port ...), free_ports(k) hands out distinct ports, and RawConn
speaks RESP2/RESP3 byte-exactly for protocol tests.
"""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BIN = os.path.join(ROOT, "build", "src", "dynamo-node")


def node_binary():
    """The dynamo-node under test: $DYNAMO_NODE_BIN, else build/src/dynamo-node."""
    return os.environ.get("DYNAMO_NODE_BIN") or DEFAULT_BIN


_sanitized = {}


def binary_is_sanitized(path=None):
    """True if the binary was built with AddressSanitizer (build-asan/):
    it then uses libc malloc (no jemalloc stats) and more memory."""
    path = path or node_binary()
    if path not in _sanitized:
        try:
            with open(path, "rb") as f:
                _sanitized[path] = b"__asan_init" in f.read()
        except OSError:
            return False  # no binary yet: Node.start() reports that
    return _sanitized[path]


# ---- waiting ---------------------------------------------------------------

def wait_until(fn, timeout=5.0, interval=0.01, msg=None):
    """Polls fn() until it returns a truthy value (returned) or timeout
    seconds pass (AssertionError).  Exceptions from fn count as 'not yet';
    the last one is reported on timeout."""
    deadline = time.monotonic() + timeout
    last_exc = None
    delay = interval
    while True:
        try:
            v = fn()
            if v:
                return v
            last_exc = None
        except Exception as e:  # noqa: BLE001 - polling: any failure means retry
            last_exc = e
        if time.monotonic() >= deadline:
            what = msg or getattr(fn, "__name__", "condition")
            extra = " (last error: %r)" % (last_exc,) if last_exc else ""
            raise AssertionError("timed out after %.1fs waiting for %s%s" % (timeout, what, extra))
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


# ---- ports -----------------------------------------------------------------

_handed_out = set()
_ports_lock = threading.Lock()


def _port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port():
    """A TCP port that is free now on every address (a node bound to 0.0.0.0
    must not meet a client socket some earlier test bound to another
    address) and not handed out before by this process (so two nodes
    started in a row never get the same one)."""
    with _ports_lock:
        for _ in range(200):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("0.0.0.0", 0))
                port = s.getsockname()[1]
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise RuntimeError("no free loopback port found")


def free_ports(k):
    """k distinct free loopback ports."""
    return [free_port() for _ in range(k)]


def read_log(path, tail=None):
    """A node's log as text (its last `tail` lines when given); "" if unreadable."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    if tail:
        text = "\n".join(text.splitlines()[-tail:])
    return text


def port_open(port, host="127.0.0.1", timeout=0.2):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def redis_server():
    """A redis-server (7.0, deps/packages.txt installs it) on a free loopback
    port, without persistence, in a temp dir of its own, for the tests that
    compare replies side by side; yields its port, then stops it by its PID.
    A missing redis-server is an error, not a skip."""
    exe = shutil.which("redis-server")
    if not exe:
        raise FileNotFoundError("redis-server is not installed (deps/packages.txt installs it)")
    port = free_port()
    d = tempfile.mkdtemp(prefix="redis-side-")
    p = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", d],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: port_open(port), timeout=10, msg="redis-server to listen")
        yield port
    finally:
        p.terminate()
        p.wait(timeout=10)
        shutil.rmtree(d, ignore_errors=True)


# ---- processes -------------------------------------------------------------

# Every Node ever created in this test process (the fixtures walk it to check
# liveness and to print logs of failed tests).
ALL_NODES = []


class NodeStartError(RuntimeError):
    pass


class Node:
    """One dynamo-node process.

    flags: extra command-line flags (strings).  --port, --cluster-port and
    --dir are added unless given in flags.  The process's stdout and stderr
    go to <tmpdir>/node.log."""

    def __init__(self, *flags, name=None, port=None, cluster_port=None, binary=None,
                 env=None, start_timeout=10.0):
        self.flags = [str(f) for f in flags]
        self.binary = binary or node_binary()
        self.name = name
        self.port = port or self._flag_int("--port") or free_port()
        # Always explicit: the default (port + 10000) may exceed 65535 for
        # ports from the ephemeral range.
        self.cluster_port = cluster_port or self._flag_int("--cluster-port") or free_port()
        self.dir = tempfile.mkdtemp(prefix="dynamo-node-%d-" % self.port)
        self.log_path = os.path.join(self.dir, "node.log")
        self.env = env
        self.start_timeout = start_timeout
        self.proc = None
        self.expected_dead = False  # stop()/kill() called: not being alive is fine
        self.returncode = None
        self.stopped_at = None
        self.started_at = None
        self._logf = None
        ALL_NODES.append(self)

    def _flag_int(self, flag):
        for i, f in enumerate(self.flags):
            if f == flag and i + 1 < len(self.flags):
                return int(self.flags[i + 1])
            if f.startswith(flag + "="):
                return int(f.split("=", 1)[1])
        return None

    def _has_flag(self, flag):
        return any(f == flag or f.startswith(flag + "=") for f in self.flags)

    def argv(self):
        a = [self.binary]
        if not self._has_flag("--port"):
            a += ["--port", str(self.port)]
        if not self._has_flag("--cluster-port"):
            a += ["--cluster-port", str(self.cluster_port)]
        if not self._has_flag("--dir"):
            a += ["--dir", self.dir]
        return a + self.flags

    def __repr__(self):
        return "Node(%s port=%d pid=%s)" % (self.name or "", self.port, self.pid)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self):
        """Starts the process and waits until its client port accepts."""
        if not os.access(self.binary, os.X_OK):
            raise NodeStartError("dynamo-node binary not found: %s (set DYNAMO_NODE_BIN)"
                                 % self.binary)
        self._logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=subprocess.STDOUT, env=self.env, cwd=self.dir)
        self.expected_dead = False
        self.returncode = None
        self.stopped_at = None
        self.started_at = time.monotonic()
        deadline = time.monotonic() + self.start_timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self.returncode = rc
                self.expected_dead = True
                raise NodeStartError("dynamo-node exited with %d during start:\n%s"
                                     % (rc, self.log()))
            if port_open(self.port):
                return self
            if time.monotonic() >= deadline:
                self.kill()
                raise NodeStartError("port %d never opened within %.0fs:\n%s"
                                     % (self.port, self.start_timeout, self.log()))
            time.sleep(0.01)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _wait(self, timeout):
        try:
            self.returncode = self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def stop(self, timeout=10.0):
        """SIGTERM, wait up to timeout, then SIGKILL.  Returns the exit code
        (negative = killed by that signal)."""
        if self.proc is None:
            return None
        self.expected_dead = True
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            if not self._wait(timeout):
                os.kill(self.proc.pid, signal.SIGKILL)
                self._wait(timeout)
        self.returncode = self.proc.returncode
        self._closed()
        return self.returncode

    def kill(self):
        """SIGKILL (a crash as far as the cluster is concerned)."""
        if self.proc is None:
            return None
        self.expected_dead = True
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self._wait(10.0)
        self.returncode = self.proc.returncode
        self._closed()
        return self.returncode

    def pause(self):
        """SIGSTOP: the process stays, stops answering (for cluster tests)."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def restart(self):
        """stop() then start() on the same ports and dir."""
        self.stop()
        return self.start()

    def _closed(self):
        if self.stopped_at is None:
            self.stopped_at = time.monotonic()
        if self._logf:
            self._logf.close()
            self._logf = None

    def cleanup(self):
        """Removes the temp dir (call after stop; keeps it if anything failed)."""
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self, tail=None):
        return read_log(self.log_path, tail)

    # -- introspection --

    def status(self, field):
        """A /proc/PID/status field in kB (VmRSS, VmHWM ...)."""
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise KeyError(field)

    def rss_kb(self):
        return self.status("VmRSS")

    def peak_rss_kb(self):
        return self.status("VmHWM")

    # -- clients --

    def client(self, timeout=10.0, **kw):
        """redis-py client (bytes replies, socket timeout)."""
        kw.setdefault("decode_responses", False)
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=timeout,
                           socket_connect_timeout=timeout, **kw)

    def raw(self, timeout=5.0):
        return RawConn(self.port, timeout=timeout)


# ---- raw RESP connection --------------------------------------------------

class Err(str):
    """An error reply (the text after '-' / '!'), kept as a value."""

    @property
    def code(self):
        return self.split(" ", 1)[0]


class Verbatim(bytes):
    """A RESP3 verbatim string ('=' type); .fmt holds its 3-letter format."""
    fmt = b""


class Map(dict):
    """A RESP3 map ('%') reply."""


class Set(list):
    """A RESP3 set ('~') reply (kept as a list, order as sent)."""


class Push(list):
    pass


class Closed(Exception):
    """The server closed the connection."""


def encode_command(*args):
    """Multibulk encoding of one request."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RawConn:
    """A plain socket speaking RESP byte-exactly: send() what you like,
    read_reply() parses one RESP2/RESP3 reply (errors are returned as Err,
    not raised)."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.timeout = timeout

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, *args):
        """Sends one multibulk request and returns its parsed reply."""
        self.send(encode_command(*args))
        return self.read_reply()

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise Closed("connection closed by server")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, tail, self.buf = self.buf[:n], self.buf[n:n + 2], self.buf[n + 2:]
        if tail != b"\r\n":
            raise ValueError("bulk not followed by CRLF: %r" % tail)
        return data

    def read_raw(self, timeout=None):
        """Returns whatever bytes are buffered or arrive next (at least one
        byte).  Raises Closed on EOF, socket.timeout when nothing comes."""
        if not self.buf:
            old = self.sock.gettimeout()
            if timeout is not None:
                self.sock.settimeout(timeout)
            try:
                self._fill()
            finally:
                self.sock.settimeout(old)
        data, self.buf = self.buf, b""
        return data

    def read_exact(self, n, timeout=None):
        """Reads and consumes exactly n bytes."""
        old = self.sock.gettimeout()
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            while len(self.buf) < n:
                self._fill()
        finally:
            self.sock.settimeout(old)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_until(self, marker, timeout=None):
        """Reads until marker (bytes) is in the buffer; returns and consumes
        everything up to and including it."""
        old = self.sock.gettimeout()
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            while marker not in self.buf:
                self._fill()
        finally:
            self.sock.settimeout(old)
        i = self.buf.index(marker) + len(marker)
        data, self.buf = self.buf[:i], self.buf[i:]
        return data

    def read_reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest
        if t == b"-":
            return Err(rest.decode("utf-8", "replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        if t == b"_":
            return None
        if t == b"#":
            return rest == b"t"
        if t == b",":
            return float(rest)
        if t == b"(":
            return int(rest)
        if t == b"!":
            return Err(self._exact(int(rest)).decode("utf-8", "replace"))
        if t == b"=":
            data = self._exact(int(rest))
            v = Verbatim(data[4:])
            v.fmt = data[:3]
            return v
        if t == b"%":
            m = Map()
            for _ in range(int(rest)):
                k = self.read_reply()
                m[k if not isinstance(k, list) else tuple(k)] = self.read_reply()
            return m
        if t == b"~":
            return Set(self.read_reply() for _ in range(int(rest)))
        if t == b">":
            return Push(self.read_reply() for _ in range(int(rest)))
        if t == b"|":
            # attribute map, then the real reply
            for _ in range(int(rest) * 2):
                self.read_reply()
            return self.read_reply()
        raise ValueError("unknown RESP type byte in %r" % line)

    def closed_by_server(self, timeout=2.0):
        """True if the server closes the connection within timeout (any
        bytes still in flight are read and dropped)."""
        deadline = time.monotonic() + timeout
        self.buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            finally:
                self.sock.settimeout(self.timeout)
            if not chunk:
                return True

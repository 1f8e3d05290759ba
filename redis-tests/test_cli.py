"""redis-cli and redis-benchmark (Debian's redis-tools) against a real dynamo-node.

Run: DYNAMO_NODE_BIN=$PWD/build/src/dynamo-node \
     /usr/bin/python3 -m pytest -q -p no:cacheprovider redis-tests
"""
import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import termios
import time

import pytest

REDIS_CLI = shutil.which("redis-cli")
REDIS_BENCHMARK = shutil.which("redis-benchmark")

pytestmark = pytest.mark.skipif(not REDIS_CLI or not REDIS_BENCHMARK,
                                reason="redis-tools (redis-cli, redis-benchmark) not installed")


def cli(node, *args, timeout=15):
    env = dict(os.environ, REDISCLI_HISTFILE="/dev/null", REDISCLI_RCFILE="/dev/null")
    return subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(node.port), *args],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                          env=env)


def out(p):
    return p.stdout.decode("utf-8", "replace")


def no_raw_values(text):
    """Quoted strings of a --no-raw reply, in order ('1) "x"' lines)."""
    return re.findall(r'"((?:[^"\\]|\\.)*)"', text)


class TestOneShot:
    def test_set_get(self, node):
        p = cli(node, "SET", "cli:k", "hello world")
        assert p.returncode == 0 and out(p) == "OK\n"
        p = cli(node, "GET", "cli:k")
        assert p.returncode == 0 and out(p) == "hello world\n"
        p = cli(node, "--no-raw", "GET", "cli:missing")
        assert out(p) == "(nil)\n"

    def test_error_reply(self, node):
        p = cli(node, "-e", "NOSUCHCOMMAND", "x")
        assert p.returncode != 0
        assert "unknown command" in out(p) + p.stderr.decode()

    def test_sibling_round_trip(self, node):
        key = "cli:sib"
        p1 = cli(node, "VPUT", key, "", "v1")
        p2 = cli(node, "VPUT", key, "", "v2")
        assert p1.returncode == 0 and p2.returncode == 0
        # v2's dot skips v1's counter (dotted version vectors): its context
        # leaves the dot out, and having seen nothing it is empty.
        assert out(p1).strip() and out(p2).strip() == ""

        p = cli(node, "--no-raw", "VGET", key)
        assert p.returncode == 0, out(p)
        text = out(p)
        assert re.match(r'1\) "[^"]+"\n2\) 1\) "v[12]"\n   2\) "v[12]"\n$', text), text
        ctx, *values = no_raw_values(text)
        assert sorted(values) == ["v1", "v2"]

        p = cli(node, "-e", "GET", key)
        assert p.returncode != 0
        assert "2 siblings" in out(p) + p.stderr.decode()

        p = cli(node, "VPUT", key, ctx, "merged")
        assert p.returncode == 0
        ctx2 = out(p).strip()
        assert ctx2 and ctx2 != ctx

        assert out(cli(node, "GET", key)) == "merged\n"
        text = out(cli(node, "--no-raw", "VGET", key))
        assert no_raw_values(text) == [ctx2, "merged"], text

        text = out(cli(node, "VCLOCK", key))
        assert re.search(r":\d+@\d+", text), text

        p = cli(node, "VDEL", key, ctx2)
        assert p.returncode == 0
        assert out(cli(node, "--no-raw", "GET", key)) == "(nil)\n"


def pty_session(node, lines, timeout=15):
    """Runs interactive redis-cli on a pseudo-terminal.  lines: (text to
    type, bytes expected in the output before typing the next).  Returns
    (everything the terminal showed, exit code)."""
    master, slave = pty.openpty()
    # a 200x50 terminal (a fresh pty is 0x0, which makes linenoise probe)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    env = dict(os.environ, TERM="xterm", REDISCLI_HISTFILE="/dev/null",
               REDISCLI_RCFILE="/dev/null")
    proc = subprocess.Popen([REDIS_CLI, "-h", "127.0.0.1", "-p", str(node.port)],
                            stdin=slave, stdout=slave, stderr=slave, env=env,
                            close_fds=True)
    os.close(slave)
    seen = b""
    pos = 0  # everything before this was matched already

    def read_until(marker, deadline):
        nonlocal seen, pos
        while marker not in seen[pos:]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("redis-cli never showed %r; terminal so far:\n%r"
                                     % (marker, seen))
            rd, _, _ = select.select([master], [], [], left)
            if rd:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
                if not chunk:
                    try:
                        rc = proc.wait(timeout=2)
                    except subprocess.TimeoutExpired:
                        rc = None
                    raise AssertionError(
                        "redis-cli closed the terminal (exit status %s%s) while waiting for "
                        "%r; terminal:\n%r" % (rc, " = killed by signal %d" % -rc
                                                if rc is not None and rc < 0 else "",
                                                marker, seen))
                seen += chunk
                # linenoise asks the terminal where the cursor is; answer as
                # a terminal would (row 1, column 1).
                for _ in range(chunk.count(b"\x1b[6n")):
                    os.write(master, b"\x1b[1;1R")
        pos = seen.index(marker, pos) + len(marker)

    try:
        deadline = time.monotonic() + timeout
        # The prompt shows once redis-cli connected (and fetched COMMAND DOCS)
        # and, after each reply, once linenoise is back in raw mode: a line
        # typed before that is echoed by the terminal and then discarded
        # when linenoise switches modes (TCSAFLUSH), so wait for it.
        prompt = b"127.0.0.1:%d>" % node.port
        read_until(prompt, deadline)
        for text, expect in lines:
            os.write(master, text.encode() + b"\r")
            if expect is not None:
                read_until(expect, deadline)
                read_until(prompt, deadline)
        rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        # drain what is left
        while True:
            rd, _, _ = select.select([master], [], [], 0.2)
            if not rd:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        return seen, rc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_interactive_redis_cli(node):
    seen, rc = pty_session(node, [
        ("PING", b"\r\nPONG\r\n"),
        ("SET a b", b"\r\nOK\r\n"),
        ("GET a", b'\r\n"b"\r\n'),
        ("quit", None),
    ])
    assert rc == 0
    assert b"ERR" not in seen, seen
    assert b"(error)" not in seen, seen


def benchmark(node, *extra):
    p = subprocess.run([REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(node.port),
                        "-t", "set,get", "-n", "20000", "-c", "20", "-q", *extra],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    text = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
    return p.returncode, text


@pytest.mark.parametrize("extra", [[], ["-P", "16"]], ids=["P1", "P16"])
def test_redis_benchmark(node, extra):
    rc, text = benchmark(node, *extra)
    assert rc == 0, text
    assert "WARNING" not in text, text
    assert "ERR" not in text and "Error" not in text, text
    assert re.search(r"SET: [\d.]+ requests per second", text), text
    assert re.search(r"GET: [\d.]+ requests per second", text), text

"""The append-only log never destroys itself (issue 11).

Attacks and faults, each through the real binary:
  - a record the node cannot apply (it passes its checksum) in the middle of
    the log: replay used to truncate the file there and drop every later
    record; now it keeps the record (and carries it into every rewrite) and
    loads everything after it;
  - a full disk under the log directory (a small tmpfs mounted inside the
    test's private mount namespace): write errors used to be swallowed while
    writes kept being acknowledged; now nothing acknowledged is lost,
    writes are refused with -MISCONF while the disk is full, and the node
    resumes by itself once space is freed;
  - a --dir that does not exist is created; one that cannot be is refused.
"""
import os
import subprocess
import time

import pytest

import harness
from harness import RawConn, wait_until
from wire import AOF_KEY, aof_record, aof_records


def pinfo(c):
    return c.info("persistence")


def aof_path(c):
    p = pinfo(c)["aof_file"]
    return p.decode() if isinstance(p, bytes) else str(p)


def reply(conn, timeout):
    conn.sock.settimeout(timeout)
    return conn.read_reply()


# A key record whose versions do not decode: a count of 2^35 versions in a
# few bytes.  Checksummed, so it is not damage: a record the node cannot apply.
UNREADABLE = aof_record(AOF_KEY, b"\x05bogus" + b"\x80\x80\x80\x80\x01" + b"\x00" * 6)


def test_unreadable_record_keeps_every_record_after_it(node_factory):
    n = node_factory()
    c = n.client()
    keys = ["u-%03d" % i for i in range(60)]
    for k in keys:
        assert c.set(k, "v-" + k) is True
    path = aof_path(c)
    assert n.stop() == 0
    data = open(path, "rb").read()
    spans = aof_records(data)
    assert len(spans) == len(keys)
    cut = spans[20][0]
    with open(path, "wb") as f:
        f.write(data[:cut] + UNREADABLE + data[cut:])
    size = os.path.getsize(path)

    n.start()
    c = n.client()
    got = c.mget(keys)
    assert [k for k, v in zip(keys, got) if v != b"v-" + k.encode()] == [], \
        "records after the unreadable one were dropped"
    assert os.path.getsize(path) == size, "replay cut the log at a record it could not apply"
    info = pinfo(c)
    assert info["aof_load_unreadable_records"] == 1, info
    assert info["aof_load_truncated_bytes"] == 0, info
    assert "cannot be applied; kept in the log" in n.log()

    # More writes, a crash, a restart: still everything, still the record.
    more = ["u2-%03d" % i for i in range(40)]
    for k in more:
        assert c.set(k, "w-" + k) is True
    n.kill()
    n.start()
    c = n.client()
    assert pinfo(c)["aof_load_unreadable_records"] == 1
    assert c.mget(keys) == [b"v-" + k.encode() for k in keys]
    assert c.mget(more) == [b"w-" + k.encode() for k in more]

    # A rewrite carries the record it could not apply into the new file.
    assert c.bgrewriteaof()
    wait_until(lambda: pinfo(c)["aof_rewrites"] >= 1 and not pinfo(c)["aof_rewrite_in_progress"],
               20.0, msg="the rewrite")
    assert UNREADABLE in open(path, "rb").read()
    assert n.stop() == 0
    n.start()
    c = n.client()
    assert pinfo(c)["aof_load_unreadable_records"] == 1
    assert c.mget(keys + more) == [b"v-" + k.encode() for k in keys] + \
        [b"w-" + k.encode() for k in more]


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs (inside the test's private mount namespace) with a
    512 KiB ballast file whose removal frees space."""
    d = tmp_path / "disk"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(d)], check=True)
    try:
        with open(d / "ballast", "wb") as f:
            f.write(b"\0" * (512 << 10))
        yield d
    finally:
        subprocess.run(["umount", "-l", str(d)], check=False)


def test_full_disk_loses_nothing_acknowledged_and_resumes(node_factory, small_disk):
    n = node_factory("--dir", str(small_disk), "--appendfsync", "always",
                     "--auto-aof-rewrite-percentage", "0")
    value = b"x" * (16 << 10)
    acked = {}
    held = None
    w = RawConn(n.port)
    for i in range(400):
        k = "disk-%04d" % i
        w.send(harness.encode_command("SET", k, value + k.encode()))
        try:
            rep = reply(w, 3.0)
        except (TimeoutError, OSError):
            held = k  # no answer: the reply waits for the log
            break
        if rep != b"OK":
            break
        acked[k] = value + k.encode()
    assert held is not None, "the disk never filled (%d writes acknowledged)" % len(acked)
    assert len(acked) > 10

    # Other clients: writes refused at once with a clear error, reads served.
    c = n.client(timeout=5.0)
    with pytest.raises(Exception) as e:
        c.set("refused", "1")
    assert "MISCONF" in str(e.value) and "append-only log" in str(e.value)
    first = next(iter(acked))
    assert c.get(first) == acked[first]
    info = pinfo(c)
    assert info["aof_last_write_status"] == "err", info
    assert "No space left" in str(info.get("aof_last_write_error")), info

    # Free space: the held reply arrives and writes work again, unasked.
    os.unlink(small_disk / "ballast")
    assert reply(w, 10.0) == b"OK"
    acked[held] = value + held.encode()
    wait_until(lambda: c.set("after", "1") is True, 10.0, msg="writes accepted again")
    acked["after"] = b"1"
    assert pinfo(c)["aof_last_write_status"] == "ok"
    assert "writable again" in n.log()

    # Nothing acknowledged was lost.
    n.kill()
    n.start()
    c = n.client()
    keys = list(acked)
    assert c.mget(keys) == [acked[k] for k in keys]
    assert c.get("refused") is None


def test_missing_data_dir_is_created(node_factory, tmp_path):
    d = tmp_path / "a" / "b" / "data"
    n = node_factory("--dir", str(d))
    c = n.client()
    assert c.set("k", "v") is True
    assert os.path.dirname(aof_path(c)) == str(d)
    n.kill()
    n.start()
    assert n.client().get("k") == b"v"


def test_data_dir_that_cannot_be_created_is_refused(tmp_path):
    f = tmp_path / "plainfile"
    f.write_text("not a directory")
    n = harness.Node("--dir", str(f / "data"))
    with pytest.raises(harness.NodeStartError) as e:
        n.start()
    assert "cannot create the data directory" in str(e.value)
    assert n.returncode == 1
    n.cleanup()


def test_full_disk_on_one_replica_keeps_the_cluster_writable(cluster, tmp_path):
    """One node of three runs out of disk: it refuses replica writes
    (-MISCONF) and client writes, the others go on (sloppy quorum), nothing
    acknowledged is lost, and once space is freed the node takes writes again
    by itself and, after a kill -9 and restart from its log, converges."""
    cluster.start(3)
    disk = tmp_path / "disk"
    disk.mkdir()
    # 2 MiB free at first; the ballast's 14 MiB make room for all n3 must hold
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], check=True)
    try:
        with open(disk / "ballast", "wb") as f:
            f.write(b"\0" * (14 << 20))
        cluster.stop(3)
        cluster.nodes[3].extra_flags += ["--dir", str(disk)]
        cluster.restart(3)

        c1 = cluster.client(1)
        acked = {}
        for i in range(300):
            k, v = "fd-%04d" % i, "v%04d-" % i + "x" * (16 << 10)
            assert c1.set(k, v) is True, k  # always writable: W=2 without n3
            acked[k] = v
        c3 = cluster.client(3)
        wait_until(lambda: c3.info("persistence")["aof_last_write_status"] == "err", 10.0,
                   msg="n3's log to fail")
        with pytest.raises(Exception) as e:
            c3.set("through-n3", "1")
        assert "MISCONF" in str(e.value)
        assert "MISCONF" in cluster.nodes[1].log() or \
            int(c1.info("cluster").get("quorum_failures", 0)) == 0

        os.unlink(disk / "ballast")
        wait_until(lambda: c3.info("persistence")["aof_last_write_status"] == "ok", 10.0,
                   msg="n3's log to be writable again")
        wait_until(lambda: c3.set("through-n3", "2") is True, 10.0, msg="n3 accepts writes")
        acked["through-n3"] = "2"

        cluster.kill(3)
        cluster.restart(3)
        for i in (1, 2, 3):
            c = cluster.client(i)
            keys = list(acked)
            got = []
            for s in range(0, len(keys), 50):
                got += c.execute_command("MGET", *keys[s:s + 50])
            missing = [k for k, g in zip(keys, got) if g != acked[k]]
            assert missing == [], "node %d lost %d acknowledged keys" % (i, len(missing))
    finally:
        if cluster.nodes.get(3) is not None and cluster.nodes[3].alive():
            cluster.stop(3)
        subprocess.run(["umount", "-l", str(disk)], check=False)

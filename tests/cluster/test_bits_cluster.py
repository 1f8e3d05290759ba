"""The bit commands and LCS (src/cmd/cmd_bits.c) on a 3-node cluster
(N=3 W=2 R=2), run with tests/cluster/run.sh.

SETBIT and BITFIELD SET/INCRBY are read-modify-writes at the key's
coordinator: sent to any node they are forwarded there, so concurrent ones
through different nodes are exact.  GETBIT, BITCOUNT, BITPOS, BITFIELD_RO
and LCS are quorum reads; BITOP reads its sources from their replicas and
writes the destination at its own coordinator, so values written through one
node are read through the others.  Waits poll against deadlines; nothing
sleeps a fixed time.
"""
import threading

import pytest
import redis

import harness
from cluster_harness import wait_for
from harness import encode_command

SETTINGS = {"put-timeout": 1000, "get-timeout": 1000}
SIBLINGS = ("key has 2 siblings (concurrent versions); use VGET to read them and VPUT "
            "with the returned context to resolve")
OFFSET = "bit offset is not an integer or out of range"


def start3(cluster, **extra):
    settings = dict(SETTINGS)
    settings.update(extra)
    return cluster.start(3, settings)


def keys_for_each_coordinator(cluster, prefix):
    """One key per node, coordinated by that node."""
    return [cluster.keys_coordinated_by(name, 1, prefix=prefix)[0] for name in cluster.names()]


def bclient(cluster, i):
    return cluster.client(i, decode_responses=False)


def converge(cluster, keys):
    """Waits until every node's own replica (VGET R 1, bytes) holds the same
    versions of each key; returns {key: values} (None when absent).  Bit
    values are binary, so this compares bytes (wait_for_convergence decodes
    text)."""
    last = {}

    def same():
        for k in keys:
            seen = []
            for i in (1, 2, 3):
                rep = bclient(cluster, i).execute_command("VGET", k, "R", 1)
                seen.append(None if rep is None else sorted(rep[1]))
            if any(v != seen[0] for v in seen):
                return False
            last[k] = seen[0]
        return True

    wait_for(same, timeout=10, msg="replicas of %r to converge" % (keys,))
    return last


def last_cmd(client, name):
    """The cmd= field of the connection called name in CLIENT LIST."""
    raw = client.execute_command("CLIENT", "LIST")
    text = raw.decode() if isinstance(raw, bytes) else raw
    for line in text.splitlines():
        fields = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
        if fields.get("name") == name:
            return fields.get("cmd")
    return None


def forwarded(cluster, i):
    return cluster.info_cluster(i)["forwarded_requests"]


def test_bit_commands_through_every_node(cluster):
    start3(cluster)
    c1, c2, c3 = (bclient(cluster, i) for i in (1, 2, 3))
    before = sum(forwarded(cluster, i) for i in (1, 2, 3))
    for k in keys_for_each_coordinator(cluster, "bits"):
        assert c1.setbit(k, 7, 1) == 0
        assert c2.setbit(k, 7, 1) == 1
        assert c3.setbit(k, 9, 1) == 0
        for c in (c1, c2, c3):
            assert c.get(k) == b"\x01\x40"
            assert c.getbit(k, 9) == 1
            assert c.bitcount(k) == 2
            assert c.bitpos(k, 1) == 7
            assert c.execute_command("BITCOUNT", k, 8, 15, "BIT") == 1
        assert c3.execute_command("BITFIELD", k, "SET", "i8", "#1", -56,
                                  "INCRBY", "u8", "#0", 10) == [0x40, 11]
        assert c1.execute_command("BITFIELD", k, "OVERFLOW", "FAIL", "INCRBY", "u8", 8, 100,
                                  "GET", "u8", 8) == [None, 200]
        for c in (c1, c2, c3):
            assert c.execute_command("BITFIELD_RO", k, "GET", "u8", 0, "GET", "i8", 8) == [11, -56]
            assert c.get(k) == b"\x0b\xc8"
        assert converge(cluster, [k]) == {k: [b"\x0b\xc8"]}  # one version everywhere
    # two of each three runs went through a node that was not the coordinator
    assert sum(forwarded(cluster, i) for i in (1, 2, 3)) > before


def test_concurrent_setbit_and_incrby_through_every_node_are_exact(cluster):
    start3(cluster)
    key, ctr = "bitmap", "counters"
    per_thread, threads_per_node = 60, 2
    errors = []

    def worker(i, t):
        c = cluster.new_client(i, decode_responses=False)
        base = ((i - 1) * threads_per_node + t) * per_thread
        try:
            for j in range(per_thread):
                assert c.setbit(key, base + j, 1) == 0
                c.execute_command("BITFIELD", ctr, "INCRBY", "u32", "#%d" % (i - 1), 1,
                                  "INCRBY", "u32", "#3", 1)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append((i, e))

    ts = [threading.Thread(target=worker, args=(i, t))
          for i in (1, 2, 3) for t in range(threads_per_node)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    total = 3 * threads_per_node * per_thread
    each = threads_per_node * per_thread
    for i in (1, 2, 3):
        c = bclient(cluster, i)
        assert c.bitcount(key) == total, "BITCOUNT via n%d" % i
        assert c.bitpos(key, 0) == total
        assert c.execute_command("BITFIELD_RO", ctr, "GET", "u32", "#0", "GET", "u32", "#1",
                                 "GET", "u32", "#2", "GET", "u32", "#3") == [each] * 3 + [total]
    states = converge(cluster, [key, ctr])
    assert len(states[key]) == 1 and len(states[ctr]) == 1  # no siblings


def test_bitop_and_lcs_over_keys_of_different_coordinators(cluster):
    start3(cluster)
    srcs = keys_for_each_coordinator(cluster, "src")
    dsts = keys_for_each_coordinator(cluster, "dst")
    c = [None] + [bclient(cluster, i) for i in (1, 2, 3)]
    c[1].set(srcs[0], b"\x0f\xf0")
    c[2].set(srcs[1], b"\x3c")
    c[3].set(srcs[2], b"\xff\x00\x01")
    for i in (1, 2, 3):
        for dst in dsts:
            assert c[i].bitop("OR", dst, *srcs) == 3
            for j in (1, 2, 3):
                assert c[j].get(dst) == b"\xff\xf0\x01", (i, j)
            assert c[i].bitop("AND", dst, *srcs) == 3
            assert c[1 + i % 3].get(dst) == b"\x0c\x00\x00"
            assert c[i].bitop("NOT", dst, srcs[1]) == 1
            assert c[1 + (i + 1) % 3].get(dst) == b"\xc3"
            assert c[i].bitop("XOR", dst, "missing-1", "missing-2") == 0
            for j in (1, 2, 3):
                assert c[j].exists(dst) == 0
    # LCS: the two keys live on different coordinators, read through any node
    c[1].set(srcs[0], "ohmytext")
    c[2].set(srcs[1], "mynewtext")
    for i in (1, 2, 3):
        assert c[i].execute_command("LCS", srcs[0], srcs[1]) == b"mytext"
        assert c[i].execute_command("LCS", srcs[0], srcs[1], "IDX", "MINMATCHLEN", 4,
                                    "WITHMATCHLEN") == [b"matches", [[[4, 7], [5, 8], 4]],
                                                        b"len", 6]
    states = converge(cluster, dsts + srcs)
    assert [states[d] for d in dsts] == [None] * 3
    assert [states[k] for k in srcs] == [[b"ohmytext"], [b"mynewtext"], [b"\xff\x00\x01"]]


def test_siblings_are_refused_through_every_node(cluster):
    start3(cluster)
    for k in keys_for_each_coordinator(cluster, "sib"):
        cluster.client(1).execute_command("VPUT", k, "", "a")
        cluster.client(2).execute_command("VPUT", k, "", "b")
        for i in (1, 2, 3):
            c = cluster.client(i)
            c.set("plain", "x")
            for cmd in (("SETBIT", k, 0, 1), ("GETBIT", k, 0), ("BITCOUNT", k), ("BITPOS", k, 0),
                        ("BITFIELD", k, "INCRBY", "u8", 0, 1), ("BITFIELD_RO", k, "GET", "u8", 0),
                        ("BITOP", "OR", "dest", "plain", k), ("LCS", "plain", k)):
                with pytest.raises(redis.ResponseError) as e:
                    c.execute_command(*cmd)
                assert str(e.value) == SIBLINGS, (i, cmd)
        assert cluster.vget(3, k)[1] == ["a", "b"]
        assert cluster.client(1).exists("dest") == 0


def test_offsets_bounded_by_proto_max_bulk_len_on_every_node(cluster):
    start3(cluster, **{"proto-max-bulk-len": "1mb"})
    limit = 1024 * 1024 * 8
    for k in keys_for_each_coordinator(cluster, "big"):
        for i in (1, 2, 3):
            c = cluster.client(i)
            for cmd in (("SETBIT", k, limit, 1), ("GETBIT", k, limit),
                        ("BITFIELD", k, "SET", "u16", limit - 8, 1)):
                with pytest.raises(redis.ResponseError) as e:
                    c.execute_command(*cmd)
                assert str(e.value) == OFFSET, (i, cmd)
        # (a value of exactly proto-max-bulk-len does not fit in a replica
        # write, whose framing adds to it: a little below it does)
        below = (1024 * 1024 - 1024) * 8
        assert cluster.client(2).setbit(k, below - 1, 1) == 0
        for i in (1, 2, 3):
            assert cluster.client(i).strlen(k) == 1024 * 1024 - 1024
            assert cluster.client(i).bitcount(k) == 1


def test_reads_abandoned_by_their_client_free_their_state(cluster):
    """A read whose client disconnects before the answer (here: the other
    replicas are paused, so every read waits for get-timeout) frees the
    state its reply would have used.  A leak shows as LeakSanitizer's report
    and a non-zero exit of the node when the cluster stops, so this needs
    the ASan binary (scripts/test.sh runs this file on it)."""
    if not harness.binary_is_sanitized(cluster.binary):
        pytest.skip("leaks are seen by LeakSanitizer: run with the ASan binary")
    start3(cluster)
    c1 = bclient(cluster, 1)
    c1.set("k1", "ohmytext")
    c1.set("k2", "mynewtext")
    reads = (("GETBIT", "k1", 3), ("BITCOUNT", "k1", 0, -1, "BIT"), ("BITPOS", "k1", 1),
             ("BITFIELD_RO", "k1", "GET", "u8", 0), ("BITFIELD", "k1", "GET", "i4", 2),
             ("LCS", "k1", "k2", "IDX"), ("STRLEN", "k1"))
    coordinator_reads = len(reads) + 1  # LCS reads two keys

    def quorum_failures():
        return cluster.info_cluster(1)["quorum_failures"]

    base = quorum_failures()
    cluster.pause(2)
    cluster.pause(3)
    for i, cmd in enumerate(reads):
        name = "abandon-%d" % i
        with cluster.raw(1) as raw:
            assert raw.cmd("CLIENT", "SETNAME", name) in (b"OK", "OK")
            raw.send(encode_command(*cmd))
            # the read is under way (its reply still to come) before the close
            wait_for(lambda: last_cmd(c1, name) == cmd[0].lower(), timeout=10,
                     msg="%s to start" % cmd[0])
    wait_for(lambda: quorum_failures() >= base + coordinator_reads, timeout=30,
             msg="the abandoned reads to time out")
    cluster.resume(2)
    cluster.resume(3)
    assert c1.execute_command("LCS", "k1", "k2") == b"mytext"  # n1 still serves

"""The bit commands and LCS (src/cmd/cmd_bits.c), FUNCTION/SCRIPT
(src/cmd/cmd_script.c) and INFO's cpu fields on one real dynamo-node
(N = W = R = 1), through redis-py.

Replies and error texts are Redis 7.0's, checked one by one; values are
compared with a bit-by-bit Python model.  Nothing sleeps a fixed time.

Run: DYNAMO_NODE_BIN=$PWD/build/src/dynamo-node \
     /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_bits.py
"""
import random

import pytest
import redis

from harness import RawConn, encode_command

OFFSET = "bit offset is not an integer or out of range"
BIT = "bit is not an integer or out of range"
NOT_INT = "value is not an integer or out of range"
SYNTAX = "syntax error"
TYPE = ("Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported "
        "but i64 is.")
SIBLINGS = ("key has 2 siblings (concurrent versions); use VGET to read them and VPUT with "
            "the returned context to resolve")


@pytest.fixture
def key(request):
    """A key no other test of the module uses ({} so keys share a tag)."""
    return "b:{%s}" % request.node.nodeid.split("::", 1)[1]


def err(r, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


def siblings(r, key):
    r.execute_command("VPUT", key, "", "a")
    r.execute_command("VPUT", key, "", "b")
    assert sorted(r.execute_command("VGET", key)[1]) == [b"a", b"b"]


def changes(r):
    return r.info("persistence")["rdb_changes_since_last_save"]


def bit_of(data, off):
    return (data[off // 8] >> (7 - off % 8)) & 1 if off // 8 < len(data) else 0


# ---------------------------------------------------------------------------
# SETBIT / GETBIT


class TestSetGetBit:
    def test_setbit_returns_the_old_bit_and_grows_with_zeros(self, r, key):
        assert r.setbit(key, 7, 1) == 0
        assert r.get(key) == b"\x01"
        assert r.setbit(key, 7, 0) == 1
        assert r.get(key) == b"\x00"
        assert r.setbit(key, 23, 1) == 0
        assert r.get(key) == b"\x00\x00\x01"
        assert r.getbit(key, 23) == 1
        assert r.getbit(key, 22) == 0
        assert r.getbit(key, 10 ** 6) == 0  # past the end
        assert r.getbit(key + ":none", 0) == 0

    def test_random_against_a_model(self, r, key):
        rng = random.Random(7)
        model = bytearray()
        for _ in range(300):
            off, bit = rng.randrange(0, 400), rng.randrange(0, 2)
            want_old = bit_of(model, off)
            assert r.setbit(key, off, bit) == want_old
            if off // 8 >= len(model):
                model.extend(b"\x00" * (off // 8 + 1 - len(model)))
            if bit:
                model[off // 8] |= 1 << (7 - off % 8)
            else:
                model[off // 8] &= ~(1 << (7 - off % 8)) & 0xff
        assert r.get(key) == bytes(model)
        for off in range(0, len(model) * 8 + 16, 5):
            assert r.getbit(key, off) == bit_of(model, off)

    def test_an_unchanged_bit_writes_nothing(self, r, key):
        r.setbit(key, 3, 1)
        before = changes(r)
        assert r.setbit(key, 3, 1) == 1
        assert r.setbit(key, 5, 0) == 0  # inside the value, already 0
        assert changes(r) == before
        assert r.setbit(key, 9, 0) == 0  # grows the value: a write
        assert changes(r) == before + 1

    def test_setbit_keeps_the_ttl(self, r, key):
        r.set(key, "a", ex=1000)
        r.setbit(key, 100, 1)
        assert 990 <= r.ttl(key) <= 1000

    def test_errors(self, r, key):
        for off in ("-1", "x", "1.5", "", "99999999999999999999"):
            assert err(r, "SETBIT", key, off, 1) == OFFSET
            assert err(r, "GETBIT", key, off) == OFFSET
        for bit in ("2", "-1", "x", ""):
            assert err(r, "SETBIT", key, 0, bit) == BIT
        assert r.exists(key) == 0
        # at the default proto-max-bulk-len (512 MB) the last bit is 2^32 - 1
        assert err(r, "SETBIT", key, 2 ** 32, 1) == OFFSET
        assert err(r, "GETBIT", key, 2 ** 32) == OFFSET

    def test_offset_bounded_by_proto_max_bulk_len(self, node_factory):
        n = node_factory("--proto-max-bulk-len", "1mb")
        c = n.client()
        limit = 1024 * 1024 * 8
        assert err(c, "SETBIT", "big", limit, 1) == OFFSET
        assert c.exists("big") == 0
        assert c.setbit("big", limit - 1, 1) == 0
        assert c.strlen("big") == 1024 * 1024
        assert c.getbit("big", limit - 1) == 1
        c.config_set("proto-max-bulk-len", "2mb")  # changes at run time
        assert c.setbit("big", limit, 1) == 0
        assert c.strlen("big") == 1024 * 1024 + 1

    def test_siblings_are_refused(self, r, key):
        siblings(r, key)
        for cmd in (("SETBIT", key, 0, 1), ("GETBIT", key, 0), ("BITCOUNT", key),
                    ("BITPOS", key, 1), ("BITFIELD", key, "GET", "u8", 0),
                    ("BITFIELD", key, "SET", "u8", 0, 1), ("BITFIELD_RO", key, "GET", "u8", 0)):
            assert err(r, *cmd) == SIBLINGS
        assert sorted(r.execute_command("VGET", key)[1]) == [b"a", b"b"]  # untouched


# ---------------------------------------------------------------------------
# BITCOUNT / BITPOS


class TestCountPos:
    def test_bitcount(self, r, key):
        r.set(key, "foobar")
        assert r.bitcount(key) == 26
        assert r.bitcount(key, 0, 0) == 4
        assert r.bitcount(key, 1, 1) == 6
        assert r.bitcount(key, 1, -2) == 18
        assert r.bitcount(key, -2, 1) == 0
        assert r.bitcount(key, 0, 1000) == 26
        assert r.execute_command("BITCOUNT", key, 5, 30, "BIT") == 17
        assert r.execute_command("BITCOUNT", key, 0, -1, "bit") == 26
        assert r.execute_command("BITCOUNT", key, 0, 0, "BYTE") == 4
        assert r.execute_command("BITCOUNT", key, -6, -7) == 0  # negative, wrong way round
        assert r.bitcount(key + ":none") == 0
        r.set(key, "")
        assert r.bitcount(key) == 0

    def test_bitcount_random_ranges(self, r, key):
        rng = random.Random(3)
        for _ in range(60):
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
            r.set(key, data)
            nbits = len(data) * 8
            s, e = sorted((rng.randrange(nbits), rng.randrange(nbits)))
            want = sum(bit_of(data, b) for b in range(s, e + 1))
            assert r.execute_command("BITCOUNT", key, s, e, "BIT") == want
            s, e = sorted((rng.randrange(len(data)), rng.randrange(len(data))))
            want = sum(bin(x).count("1") for x in data[s:e + 1])
            assert r.bitcount(key, s, e) == want

    def test_bitcount_errors(self, r, key):
        r.set(key, "x")
        assert err(r, "BITCOUNT", key, 0) == SYNTAX
        assert err(r, "BITCOUNT", key, 0, 1, "WORD") == SYNTAX
        assert err(r, "BITCOUNT", key, 0, 1, "BIT", "x") == SYNTAX
        assert err(r, "BITCOUNT", key, "a", 1) == NOT_INT
        assert err(r, "BITCOUNT") == "wrong number of arguments for 'bitcount' command"

    def test_bitpos(self, r, key):
        assert r.bitpos(key, 0) == 0  # missing: endless zeros
        assert r.bitpos(key, 1) == -1
        r.set(key, b"\xff\xf0\x00")
        assert r.bitpos(key, 0) == 12
        assert r.bitpos(key, 1, 1) == 8
        r.set(key, b"\x00\xff\x00")
        assert r.bitpos(key, 1, 0, -1) == 8
        assert r.bitpos(key, 1, 2, -1) == -1
        assert r.bitpos(key, 0, 1, 1) == -1
        assert r.execute_command("BITPOS", key, 1, 7, 15, "BIT") == 8
        assert r.execute_command("BITPOS", key, 0, 8, 15, "BIT") == -1
        r.set(key, b"\xff\xff\xff")
        assert r.bitpos(key, 0) == 24  # no end: zeros follow
        assert r.bitpos(key, 0, 0) == 24
        assert r.bitpos(key, 0, 0, -1) == -1  # an end given: none in range
        r.set(key, "")
        assert r.bitpos(key, 0) == -1
        assert r.bitpos(key, 1) == -1

    def test_bitpos_errors(self, r, key):
        r.set(key, "x")
        assert err(r, "BITPOS", key, 2) == "The bit argument must be 1 or 0."
        assert err(r, "BITPOS", key, "x") == NOT_INT
        assert err(r, "BITPOS", key, 1, 0, 1, "NIBBLE") == SYNTAX
        assert err(r, "BITPOS", key, 1, 0, 1, "BIT", "x") == SYNTAX
        assert err(r, "BITPOS", key, 1, "y") == NOT_INT
        assert err(r, "BITPOS", key) == "wrong number of arguments for 'bitpos' command"


# ---------------------------------------------------------------------------
# BITOP


class TestBitop:
    def test_operations(self, r, key):
        a, b, c = key + ":a", key + ":b", key + ":c"
        r.set(a, b"\x01\x02\xff\xff")
        r.set(b, b"\x01\x02\xff")
        assert r.bitop("AND", c, a, b) == 4
        assert r.get(c) == b"\x01\x02\xff\x00"
        assert r.bitop("or", c, a, b) == 4
        assert r.get(c) == b"\x01\x02\xff\xff"
        assert r.bitop("XOR", c, a, b) == 4
        assert r.get(c) == b"\x00\x00\x00\xff"
        assert r.bitop("NOT", c, b) == 3
        assert r.get(c) == b"\xfe\xfd\x00"
        assert r.bitop("AND", c, key + ":none", a) == 4  # missing = zeros
        assert r.get(c) == b"\x00\x00\x00\x00"

    def test_random_against_a_model(self, r, key):
        rng = random.Random(11)
        for _ in range(40):
            n = rng.randrange(1, 6)
            srcs = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 30)))
                    for _ in range(n)]
            names = ["%s:s%d" % (key, i) for i in range(n)]
            for name, v in zip(names, srcs):
                r.set(name, v)
            op = rng.choice(["AND", "OR", "XOR"] + (["NOT"] if n == 1 else []))
            size = max(len(s) for s in srcs)
            padded = [s + b"\x00" * (size - len(s)) for s in srcs]
            want = bytearray(padded[0])
            for s in padded[1:]:
                for j in range(size):
                    want[j] = (want[j] & s[j] if op == "AND" else
                               want[j] | s[j] if op == "OR" else want[j] ^ s[j])
            if op == "NOT":
                want = bytearray(~x & 0xff for x in want)
            assert r.bitop(op, key + ":dst", *names) == size
            assert r.get(key + ":dst") == (bytes(want) if size else None)

    def test_empty_result_deletes_the_destination(self, r, key):
        r.set(key + ":dst", "old")
        r.set(key + ":e", "")
        assert r.bitop("OR", key + ":dst", key + ":none", key + ":e") == 0
        assert r.exists(key + ":dst") == 0

    def test_result_replaces_destination_and_its_ttl(self, r, key):
        r.set(key, "old", ex=1000)
        r.set(key + ":s", "\x0f")
        assert r.bitop("NOT", key, key + ":s") == 1
        assert r.get(key) == b"\xf0"
        assert r.ttl(key) == -1
        assert r.bitop("NOT", key, key) == 1  # destination is the source
        assert r.get(key) == b"\x0f"

    def test_errors(self, r, key):
        r.set(key, "x")
        assert err(r, "BITOP", "NAND", key + ":d", key) == SYNTAX
        assert err(r, "BITOP", "NOT", key + ":d", key, key) == (
            "BITOP NOT must be called with a single source key.")
        assert err(r, "BITOP", "AND", key + ":d") == (
            "wrong number of arguments for 'bitop' command")
        siblings(r, key + ":sib")
        r.set(key + ":d", "keep")
        assert err(r, "BITOP", "OR", key + ":d", key, key + ":sib") == SIBLINGS
        assert r.get(key + ":d") == b"keep"  # nothing written

    def test_many_sources_past_the_inflight_cap(self, node_factory):
        n = node_factory("--max-inflight-per-client", "4")
        c = n.client()
        names = ["m:%d" % i for i in range(50)]
        for i, name in enumerate(names):
            c.setbit(name, i, 1)
        assert c.bitop("OR", "all", *names) == 7
        assert c.get("all") == b"\xff" * 6 + b"\xc0"
        assert c.bitcount("all") == 50

    def test_inside_multi_exec(self, r, key):
        r.set(key + ":a", b"\x0f")
        p = r.pipeline(transaction=True)
        p.bitop("NOT", key + ":d", key + ":a")
        p.get(key + ":d")
        p.bitop("AND", key + ":e", key + ":a", key + ":d")
        p.get(key + ":e")
        assert p.execute() == [1, b"\xf0", 1, b"\x00"]

    def test_pipelined_replies_in_order(self, r, key):
        r.set(key + ":a", b"\x01")
        p = r.pipeline(transaction=False)
        for i in range(20):
            p.bitop("XOR", "%s:d%d" % (key, i), key + ":a", key + ":none")
            p.get("%s:d%d" % (key, i))
        assert p.execute() == [1, b"\x01"] * 20


# ---------------------------------------------------------------------------
# BITFIELD / BITFIELD_RO


class TestBitfield:
    def test_redis_examples(self, r, key):
        assert r.execute_command("BITFIELD", key, "SET", "i8", 0, -100) == [0]
        assert r.execute_command("BITFIELD", key, "SET", "i8", 0, 101) == [-100]
        assert r.execute_command("BITFIELD", key, "GET", "i8", 0) == [101]
        r.delete(key)
        assert r.execute_command("BITFIELD", key, "SET", "u8", 0, 255, "INCRBY", "u8", 0, 100,
                                 "GET", "u8", 0) == [0, 99, 99]
        r.delete(key)
        for i, ch in enumerate(b"ABC"):
            r.execute_command("BITFIELD", key, "SET", "u8", "#%d" % i, ch)
        assert r.get(key) == b"ABC"
        assert r.execute_command("BITFIELD", key) == []
        assert r.execute_command("BITFIELD_RO", key, "GET", "u8", "#1", "GET", "i4", 4) == [66, 1]

    def test_overflow_policies(self, r, key):
        r.execute_command("BITFIELD", key, "SET", "u8", 0, 100)
        assert r.execute_command("BITFIELD", key, "OVERFLOW", "SAT", "INCRBY", "u8", 0, 257) == [255]
        assert r.execute_command("BITFIELD", key, "OVERFLOW", "WRAP", "INCRBY", "u8", 0, 2) == [1]
        assert r.execute_command("BITFIELD", key, "OVERFLOW", "FAIL", "INCRBY", "u8", 0, 255,
                                 "INCRBY", "u8", 0, 254) == [None, 255]
        assert r.execute_command("BITFIELD", key, "OVERFLOW", "sat", "INCRBY", "i8", 0, 1000,
                                 "OVERFLOW", "wrap", "INCRBY", "i8", 0, 1) == [127, -128]
        k64 = key + ":64"
        assert r.execute_command("BITFIELD", k64, "SET", "i64", 0, 2 ** 63 - 1,
                                 "INCRBY", "i64", 0, 1, "OVERFLOW", "SAT",
                                 "INCRBY", "i64", 0, -1) == [0, -2 ** 63, -2 ** 63]
        assert r.execute_command("BITFIELD", k64, "OVERFLOW", "FAIL", "SET", "u63", 1,
                                 2 ** 63 - 1, "INCRBY", "u63", 1, 1) == [0, None]

    def test_overflow_fail_writes_nothing_but_creates_the_key(self, r, key):
        assert r.execute_command("BITFIELD", key, "OVERFLOW", "FAIL", "SET", "u8", 0, 256) == [None]
        assert r.get(key) == b"\x00"  # as Redis: the key exists, zero-filled

    def test_unchanged_fields_write_nothing(self, r, key):
        r.execute_command("BITFIELD", key, "SET", "u8", 0, 7)
        before = changes(r)
        assert r.execute_command("BITFIELD", key, "SET", "u8", 0, 7, "INCRBY", "u4", 0, 0) == [7, 0]
        assert r.execute_command("BITFIELD", key, "GET", "u8", 0) == [7]
        assert changes(r) == before
        assert r.execute_command("BITFIELD", key, "INCRBY", "u8", 0, 1) == [8]
        assert changes(r) == before + 1

    def test_random_against_a_model(self, r, key):
        rng = random.Random(5)
        model = bytearray()
        for _ in range(200):
            signed = rng.random() < 0.5
            width = rng.randrange(1, 65 if signed else 64)
            off = rng.randrange(0, 200)
            val = rng.randrange(-2 ** 63, 2 ** 63)
            typ = ("i" if signed else "u") + str(width)
            old = 0
            for k in range(width):
                old = old << 1 | bit_of(model, off + k)
            if signed and old >> (width - 1):
                old -= 1 << width
            got = r.execute_command("BITFIELD", key, "OVERFLOW", "WRAP", "SET", typ, off, val)
            assert got == [old]
            need = (off + width - 1) // 8 + 1
            if len(model) < need:
                model.extend(b"\x00" * (need - len(model)))
            low = val & ((1 << width) - 1)
            for k in range(width):
                o, b = off + k, (low >> (width - 1 - k)) & 1
                model[o // 8] = (model[o // 8] & ~(1 << (7 - o % 8)) & 0xff) | (b << (7 - o % 8))
        assert r.get(key) == bytes(model)

    def test_errors(self, r, key):
        bf = lambda *a: err(r, "BITFIELD", key, *a)  # noqa: E731
        assert bf("GET", "u64", 0) == TYPE
        assert bf("GET", "i65", 0) == TYPE
        assert bf("GET", "x8", 0) == TYPE
        assert bf("GET", "u8", -1) == OFFSET
        assert bf("GET", "u8", "#x") == OFFSET
        assert bf("SET", "u8", 2 ** 32 - 7, 1) == OFFSET  # its last byte is past 512 MB
        assert bf("SET", "u8", 0, "x") == NOT_INT
        assert bf("INCRBY", "u8", 0) == SYNTAX
        assert bf("OVERFLOW", "HUGE") == "Invalid OVERFLOW type specified"
        assert bf("FOO") == SYNTAX
        assert bf("GET", "u8") == SYNTAX
        assert err(r, "BITFIELD_RO", key, "GET", "u8", 0, "SET", "u8", 0, 1) == (
            "BITFIELD_RO only supports the GET subcommand")
        assert err(r, "BITFIELD_RO", key, "INCRBY", "u8", 0, 1) == (
            "BITFIELD_RO only supports the GET subcommand")
        assert r.exists(key) == 0
        assert err(r, "BITFIELD") == "wrong number of arguments for 'bitfield' command"


# ---------------------------------------------------------------------------
# LCS

RNA1 = ("CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCA"
        "CTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCT"
        "TCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG")
RNA2 = ("ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATC"
        "TGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGT"
        "AACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT")


class TestLcs:
    def test_redis_examples(self, r, key):
        a, b = key + ":1", key + ":2"
        r.set(a, "ohmytext")
        r.set(b, "mynewtext")
        assert r.execute_command("LCS", a, b) == b"mytext"
        assert r.execute_command("LCS", a, b, "LEN") == 6
        assert r.execute_command("LCS", a, b, "IDX") == [
            b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]
        assert r.execute_command("LCS", a, b, "IDX", "MINMATCHLEN", 4, "WITHMATCHLEN") == [
            b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]
        assert r.execute_command("LCS", a, b, "IDX", "MINMATCHLEN", -3) == [
            b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]

    def test_rna(self, r, key):
        r.set(key + ":1", RNA1)
        r.set(key + ":2", RNA2)
        got = r.execute_command("LCS", key + ":1", key + ":2", "IDX", "WITHMATCHLEN")
        assert got[1] == [[[238, 238], [239, 239], 1], [[236, 236], [238, 238], 1],
                          [[229, 230], [236, 237], 2], [[224, 224], [235, 235], 1],
                          [[1, 222], [13, 234], 222]]
        assert got[3] == 227

    def test_missing_keys_are_empty(self, r, key):
        r.set(key, "abc")
        assert r.execute_command("LCS", key, key + ":none") == b""
        assert r.execute_command("LCS", key + ":none", key + ":n2", "LEN") == 0
        assert r.execute_command("LCS", key, key + ":none", "IDX") == [b"matches", [], b"len", 0]

    def test_errors(self, r, key):
        r.set(key, "abc")
        assert err(r, "LCS", key, key, "LEN", "IDX") == (
            "If you want both the length and indexes, please just use IDX.")
        assert err(r, "LCS", key, key, "FOO") == SYNTAX
        assert err(r, "LCS", key, key, "MINMATCHLEN") == SYNTAX
        assert err(r, "LCS", key, key, "MINMATCHLEN", "x") == NOT_INT
        assert err(r, "LCS", key) == "wrong number of arguments for 'lcs' command"
        siblings(r, key + ":sib")
        assert err(r, "LCS", key, key + ":sib") == SIBLINGS

    def test_work_bounded_by_proto_max_bulk_len(self, node_factory):
        n = node_factory("--proto-max-bulk-len", "1mb")
        c = n.client()
        c.set("x", "a" * 600)
        c.set("y", "a" * 600)  # 601 * 601 * 4 bytes > 1 MB
        assert err(c, "LCS", "x", "y") == ("Insufficient memory, transient memory for LCS "
                                           "exceeds proto-max-bulk-len")
        assert err(c, "LCS", "x", "y", "LEN") == ("Insufficient memory, transient memory for "
                                                  "LCS exceeds proto-max-bulk-len")
        c.set("y", "a" * 400)  # 601 * 401 * 4 < 1 MB
        assert c.execute_command("LCS", "x", "y", "LEN") == 400

    def test_resp3_map(self, node, key):
        with RawConn(node.port) as c:
            c.cmd("SET", key + ":1", "ohmytext")
            c.cmd("SET", key + ":2", "mynewtext")
            c.cmd("HELLO", "3")
            c.send(encode_command("LCS", key + ":1", key + ":2", "IDX"))
            got = c.read_reply()
            assert isinstance(got, dict)
            assert got == {b"matches": [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len": 6}


# ---------------------------------------------------------------------------
# FUNCTION, SCRIPT, INFO, COMMAND


class TestServer:
    def test_function_and_script(self, r):
        assert r.execute_command("FUNCTION", "LIST") == []
        assert r.execute_command("FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "x*") == []
        assert r.execute_command("FUNCTION", "FLUSH") in (True, b"OK")
        assert r.execute_command("FUNCTION", "FLUSH", "ASYNC") in (True, b"OK")
        assert r.execute_command("SCRIPT", "FLUSH") in (True, b"OK")
        assert r.execute_command("SCRIPT", "FLUSH", "sync") in (True, b"OK")
        assert r.execute_command("SCRIPT", "EXISTS", "a" * 40, "b" * 40) == [0, 0]
        assert err(r, "FUNCTION", "FLUSH", "NOW") == "FUNCTION FLUSH only supports SYNC|ASYNC option"
        assert err(r, "SCRIPT", "FLUSH", "x") == "SCRIPT FLUSH only supports SYNC|ASYNC option"
        assert err(r, "FUNCTION", "LIST", "BOGUS") == SYNTAX
        assert err(r, "FUNCTION", "DELETE", "lib") == "Library not found"
        assert err(r, "FUNCTION", "LOAD", "#!lua name=x\n") == (
            "dynamo-node has no scripting engine (no functions, no scripts)")
        assert err(r, "SCRIPT", "LOAD", "return 1") == (
            "dynamo-node has no scripting engine (no functions, no scripts)")
        assert err(r, "SCRIPT", "NOPE") == "unknown subcommand 'NOPE'. Try SCRIPT HELP."
        assert err(r, "SCRIPT", "EXISTS") == "unknown subcommand 'EXISTS'. Try SCRIPT HELP."
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("SCRIPT", "KILL")
        assert str(e.value) == "NOTBUSY No scripts in execution right now."
        for cmd in ("EVAL", "EVALSHA", "FCALL"):
            assert err(r, cmd, "x", 0).startswith("unknown command '%s'" % cmd)

    def test_info_cpu(self, r):
        cpu = r.info("cpu")
        for f in ("used_cpu_sys", "used_cpu_user", "used_cpu_sys_children",
                  "used_cpu_user_children"):
            assert isinstance(cpu[f], float) and cpu[f] >= 0, f
        assert "used_cpu_user" in r.info()  # in the default sections
        # CPU time only grows: work between two reads cannot make it smaller
        before = cpu["used_cpu_user"] + cpu["used_cpu_sys"]
        for _ in range(200):
            r.bitcount("nothing")
        after = r.info("cpu")
        assert after["used_cpu_user"] + after["used_cpu_sys"] >= before

    def test_command_info(self, node):
        with RawConn(node.port) as c:
            info = c.cmd("COMMAND", "INFO", "setbit", "bitop", "lcs", "bitfield_ro", "function")
            assert [i[:2] for i in info] == [[b"setbit", 4], [b"bitop", -4], [b"lcs", -3],
                                            [b"bitfield_ro", -2], [b"function", -2]]
            assert info[1][3:6] == [2, -1, 1]
            assert info[2][3:6] == [1, 2, 1]
            assert set(info[3][2]) == {b"readonly", b"fast"}


class TestArityAndProtocol:
    @pytest.mark.parametrize("cmd,argc", [("setbit", 4), ("getbit", 3)])
    def test_exact_arity(self, r, cmd, argc):
        want = "wrong number of arguments for '%s' command" % cmd
        assert err(r, cmd, "k", *["1"] * (argc - 1)) == want  # one too many
        assert err(r, cmd, *["k", "1", "1"][:argc - 2]) == want  # one too few

    @pytest.mark.parametrize("cmd,least", [
        ("bitcount", 2), ("bitpos", 3), ("bitop", 4), ("bitfield", 2), ("bitfield_ro", 2),
        ("lcs", 3), ("function", 2), ("script", 2)])
    def test_minimum_arity(self, r, cmd, least):
        want = "wrong number of arguments for '%s' command" % cmd
        assert err(r, cmd, *["x"] * (least - 2)) == want

    def test_resp3_null_for_a_failed_field(self, node, key):
        with RawConn(node.port) as c:
            c.cmd("HELLO", "3")
            c.send(encode_command("BITFIELD", key, "OVERFLOW", "FAIL", "INCRBY", "u2", 0, 9,
                                  "GET", "u2", 0))
            assert c.read_exact(11, timeout=2) == b"*2\r\n_\r\n:0\r\n"

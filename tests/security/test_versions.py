"""Bounded growth of versions and clocks (issue 11).

Attacks, each through the real binary:
  - many blind writes (VPUT with an empty context) on ONE key: each used to
    mint a single-use clock actor "name.incarnation.N", never freed; past
    1024 siblings the key was logged and then refused on replay, which
    dropped every later record of the log;
  - 70 000 distinct blind writes across keys: the actor table reached its
    wire cap (65 536), after which peers refused PPUTs;
  - a forged context with counters at 2^64-1: later SETs got the very clock
    already stored and were discarded while answered OK;
  - no bound on siblings per key (max-siblings).

Contexts are built here the way src/vclock.c builds them (vc_to_context):
base64url without padding of [u8 version 1][wire clock][u32 LE
murmur3_x86_32(seed 0) of everything before], the wire clock being varint
n, then per entry u8 name length, name, varint counter, varint timestamp.

Run: DYNAMO_NODE_BIN=$PWD/build-asan/src/dynamo-node \
     tests/security/run.sh tests/security/test_versions.py
"""
import base64
import re
import struct
import threading

import pytest
import redis

from harness import wait_until
from wire import murmur3_x86_32, varint

SETTINGS = {"put-timeout": 3000, "get-timeout": 3000}
BLIND_WRITES = 1100
LATER_KEYS = 100


# ---- contexts, built as a client could forge them ---------------------------

def make_context(entries):
    """{actor name: counter or (counter, timestamp)} -> the context token a
    node would give for that clock."""
    wire = varint(len(entries))
    for name in sorted(entries):
        nb = name.encode()
        counter, ts = entries[name] if isinstance(entries[name], tuple) else (entries[name], 1)
        wire += bytes([len(nb)]) + nb + varint(counter) + varint(ts)
    raw = bytes([1]) + wire
    raw += struct.pack("<I", murmur3_x86_32(raw))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def read_context(token, with_ts=False):
    """A context token -> {actor name: counter} (or (counter, timestamp)
    with with_ts); checks the checksum."""
    if isinstance(token, bytes):
        token = token.decode()
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert raw[0] == 1
    assert struct.unpack("<I", raw[-4:])[0] == murmur3_x86_32(raw[:-4])
    body, pos = raw[1:-4], 0

    def get():
        nonlocal pos
        x, shift = 0, 0
        while True:
            b = body[pos]
            pos += 1
            x |= (b & 0x7f) << shift
            shift += 7
            if not b & 0x80:
                return x
    out = {}
    for _ in range(get()):
        nl = body[pos]
        name = body[pos + 1:pos + 1 + nl].decode()
        pos += 1 + nl
        counter = get()
        ts = get()
        out[name] = (counter, ts) if with_ts else counter
    return out


def test_context_codec_matches_the_server(node_factory):
    """The helpers above build what the node builds (else the forged-context
    test below would prove nothing)."""
    n = node_factory()
    c = n.client()
    c.set("codec", "v")
    ctx, _ = c.execute_command("VGET", "codec")
    clock = read_context(ctx, with_ts=True)
    assert make_context(clock) == ctx.decode()


# ---- helpers ------------------------------------------------------------------

def clock_actors(lines):
    """Actor names named by VCLOCK lines (clock entries and dots)."""
    actors = set()
    for line in lines:
        if isinstance(line, bytes):
            line = line.decode()
        actors.update(re.findall(r"([^\s\[,=]+):\d+@\d+", line))
    return actors


def blind_vputs(client, key, count, prefix):
    """count blind VPUTs of key, pipelined; -> (contexts, error texts)."""
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.execute_command("VPUT", key, "", "%s-%d" % (prefix, i))
    res = pipe.execute(raise_on_error=False)
    ok = [r for r in res if not isinstance(r, Exception)]
    errs = [str(r) for r in res if isinstance(r, Exception)]
    return ok, errs


def assert_only_cap_errors(errs):
    for e in errs:
        assert re.search(r"too many siblings \(\d+\)", e) and "VGET" in e, e


def info_int(client, section, field):
    return int(client.info(section)[field])


# ---- 1100 blind writes on one key ---------------------------------------------

def test_blind_writes_on_one_key_keep_clock_bounded_and_survive_restart(node_factory):
    n = node_factory("--appendonly", "yes")
    c = n.client()
    c.set("hot", "first")
    ok, errs = blind_vputs(c, "hot", BLIND_WRITES, "blind")
    assert_only_cap_errors(errs)
    lines = c.execute_command("VCLOCK", "hot")
    actors = clock_actors(lines)
    assert len(actors) == 1, "one coordinator incarnation, actors %d: %r" % (
        len(actors), sorted(actors)[:5])
    assert info_int(c, "server", "clock_actors") <= 2
    cap = int(c.config_get("max-siblings")["max-siblings"])
    # the first SET is one version; every blind write is concurrent with it
    # and with each other, until the cap refuses more
    assert len(ok) == cap - 1 and len(lines) == cap
    assert len(errs) == BLIND_WRITES - len(ok)
    ctx, vals = c.execute_command("VGET", "hot")
    assert len(vals) == cap
    later = {"later-%d" % i: "v%d" % i for i in range(LATER_KEYS)}
    for k, v in later.items():
        assert c.set(k, v) is True
    n.kill()
    n.start()
    c = n.client()
    ctx2, vals2 = c.execute_command("VGET", "hot")
    assert sorted(vals2) == sorted(vals)
    assert c.mget(list(later)) == [v.encode() for v in later.values()]
    # the merged context resolves everything into one value
    assert c.execute_command("VPUT", "hot", ctx2, "resolved")
    assert c.get("hot") == b"resolved"
    assert len(c.execute_command("VCLOCK", "hot")) == 1
    n.kill()
    n.start()
    c = n.client()
    assert c.get("hot") == b"resolved"
    assert c.mget(list(later)) == [v.encode() for v in later.values()]


def test_blind_writes_on_one_key_in_a_cluster_keep_one_actor_per_node(cluster):
    cap = 500  # the highest max-siblings accepted (siblings.h)
    cluster.start(3, dict(SETTINGS, **{"max-siblings": cap}))
    results = {}

    def writer(i):
        results[i] = blind_vputs(cluster.new_client(i), "hot", BLIND_WRITES // 3 + 1,
                                 "n%d" % i)
    threads = [threading.Thread(target=writer, args=(i,)) for i in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = sum(len(results[i][0]) for i in (1, 2, 3))
    for i in (1, 2, 3):
        assert_only_cap_errors(results[i][1])
    assert ok >= cap - 3, ok
    for i in (1, 2, 3):
        actors = clock_actors(cluster.client(i).execute_command("VCLOCK", "hot"))
        assert len(actors) <= 3, "n%d: %d actors %r" % (i, len(actors), sorted(actors)[:5])
        assert info_int(cluster.client(i), "server", "clock_actors") <= 3 + 1
    states = cluster.wait_for_convergence([1, 2, 3], ["hot"], timeout=30)
    ctx = states["hot"][0]
    assert len(states["hot"][1]) == ok
    assert cluster.client(2).execute_command("VPUT", "hot", ctx, "resolved")
    for i in (1, 2, 3):
        assert cluster.client(i).get("hot") == "resolved"
    cluster.wait_for_convergence([1, 2, 3], ["hot"], timeout=30)


def test_70000_blind_writes_across_keys_never_exhaust_actors(cluster):
    # generous deadlines: this test is about clock actors, not latency, and
    # 3 sanitizer-built nodes on a loaded 2-core machine can be slow
    cluster.start(3, dict(SETTINGS, **{"put-timeout": 15000, "get-timeout": 15000}))
    nkeys = 70000
    errors = {}

    def writer(i):
        c = cluster.new_client(i)
        bad = []
        mine = range(i - 1, nkeys, 3)
        for rnd in ("a", "b"):  # the second blind write lands on an existing key
            chunk = []
            for j in mine:
                chunk.append(j)
                if len(chunk) == 1000:
                    bad += _vput_chunk(c, chunk, rnd)
                    chunk = []
            if chunk:
                bad += _vput_chunk(c, chunk, rnd)
        errors[i] = bad
    threads = [threading.Thread(target=writer, args=(i,)) for i in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in (1, 2, 3):
        assert errors[i] == [], "n%d: %d errors, first %r" % (i, len(errors[i]), errors[i][:3])
        assert info_int(cluster.client(i), "server", "clock_actors") <= 4
    for j in (0, 1, 34567, nkeys - 1):
        k = "many-%d" % j
        ctx, vals = cluster.client(1).execute_command("VGET", k)
        assert sorted(vals) == sorted(["%s-a" % k, "%s-b" % k])
        assert cluster.client(2).execute_command("VPUT", k, ctx, "one")
        assert cluster.client(3).get(k) == "one"


def _vput_chunk(c, idx, rnd):
    pipe = c.pipeline(transaction=False)
    for j in idx:
        k = "many-%d" % j
        pipe.execute_command("VPUT", k, "", "%s-%s" % (k, rnd))
    return [str(r) for r in pipe.execute(raise_on_error=False) if isinstance(r, Exception)]


# ---- forged contexts ----------------------------------------------------------

def test_forged_max_counter_context_never_swallows_later_sets(node_factory):
    n = node_factory()
    c = n.client()
    actor = c.info("server")["clock_actor"]
    actor = actor.decode() if isinstance(actor, bytes) else str(actor)
    c.set("forged", "v1")
    ctx, _ = c.execute_command("VGET", "forged")
    assert read_context(ctx) == {actor: 1}
    for forged in ({actor: 2 ** 64 - 1}, {actor: 2 ** 64 - 1, "evil.1": 2 ** 64 - 1},
                   {"evil.2": 2 ** 64 - 1}, {actor: 2}, {actor: 2 ** 49}):
        with pytest.raises(redis.ResponseError, match="invalid context"):
            c.execute_command("VPUT", "forged", make_context(forged), "x")
        with pytest.raises(redis.ResponseError, match="invalid context"):
            c.execute_command("VDEL", "forged", make_context(forged))
        assert c.get("forged") == b"v1"
    for i in range(2, 5):
        assert c.set("forged", "v%d" % i) is True
        assert c.get("forged") == b"v%d" % i
    # an honest context still works, and a fresh key takes no forged counter
    ctx, _ = c.execute_command("VGET", "forged")
    assert read_context(ctx) == {actor: 4}
    assert c.execute_command("VPUT", "forged", ctx, "honest")
    assert c.get("forged") == b"honest"
    with pytest.raises(redis.ResponseError, match="invalid context"):
        c.execute_command("VPUT", "fresh", make_context({"evil.3": 2 ** 64 - 1}), "x")
    c.set("fresh", "a")
    c.set("fresh", "b")
    assert c.get("fresh") == b"b"


# ---- max-siblings ---------------------------------------------------------------

def test_max_siblings_warns_then_refuses_without_changing_anything(node_factory):
    n = node_factory("--siblings-warn", "3", "--max-siblings", "5")
    c = n.client()
    ok, errs = blind_vputs(c, "sibs", 5, "s")
    assert len(ok) == 5 and errs == []
    with pytest.raises(redis.ResponseError) as e:
        c.execute_command("VPUT", "sibs", "", "one-too-many")
    msg = str(e.value)
    assert "too many siblings (5)" in msg and "VGET" in msg and "VPUT" in msg, msg
    ctx, vals = c.execute_command("VGET", "sibs")
    assert sorted(vals) == sorted(b"s-%d" % i for i in range(5))
    assert info_int(c, "stats", "sibling_writes_refused") == 1
    assert info_int(c, "stats", "sibling_warnings") >= 1
    wait_until(lambda: "siblings" in n.log() and "sibs" in n.log(), timeout=5,
               msg="a sibling warning in the log")
    # resolving is always allowed, and a plain SET supersedes them all
    assert c.execute_command("VPUT", "sibs", ctx, "merged")
    assert c.get("sibs") == b"merged"
    ok, errs = blind_vputs(c, "sibs", 6, "t")
    assert len(ok) == 4 and len(errs) == 2
    assert_only_cap_errors(errs)
    assert c.set("sibs", "plain") is True
    assert c.get("sibs") == b"plain"
    c.config_set("max-siblings", "2")
    c.execute_command("VPUT", "sibs", "", "second")
    with pytest.raises(redis.ResponseError, match="too many siblings"):
        c.execute_command("VPUT", "sibs", "", "third")
    assert sorted(c.execute_command("VGET", "sibs")[1]) == [b"plain", b"second"]


def test_contexts_naming_invented_actors_never_grow_the_actor_table(node_factory):
    """A client could name a fresh actor in every context until the actor
    table hit its wire cap, after which peers refuse the clocks of new node
    incarnations.  Actors the node never heard of are dropped from contexts
    instead (fewer entries can only leave more siblings, never fewer)."""
    n = node_factory()
    c = n.client()
    actor = c.info("server")["clock_actor"]
    actor = actor.decode() if isinstance(actor, bytes) else str(actor)
    c.set("inv", "v1")
    pipe = c.pipeline(transaction=False)
    for i in range(500):
        pipe.execute_command("VPUT", "inv-%d" % i, make_context({"evil.%d" % i: 7}), "x")
    assert all(not isinstance(r, Exception) for r in pipe.execute(raise_on_error=False))
    assert not any("evil" in a for a in clock_actors(c.execute_command("VCLOCK", "inv-7")))
    before = info_int(c, "server", "clock_actors")
    assert before <= 2
    c.execute_command("VPUT", "inv-x", make_context({"evil.y": 7}), "x")
    # a known actor next to an invented one: the known entry still counts
    ctx, _ = c.execute_command("VGET", "inv")
    mixed = make_context(dict(read_context(ctx, with_ts=True), **{"evil.x": 3}))
    c.execute_command("VPUT", "inv", mixed, "v2")
    assert c.get("inv") == b"v2"
    assert info_int(c, "server", "clock_actors") == before

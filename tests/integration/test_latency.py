"""Latency you can quote (issue 15) on one real dynamo-node, through
redis-py: INFO latencystats / commandstats in Redis 7's format, LATENCY
HISTOGRAM in Redis 7's reply shape, SLOWLOG GET/LEN/RESET with
slowlog-log-slower-than and slowlog-max-len, latency-tracking on/off and
CONFIG RESETSTAT.  Every figure is parsed; counts are exact, percentiles are
checked against the histogram the same node reports.

Run: DYNAMO_NODE_BIN=$PWD/build/src/dynamo-node \
     /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_latency.py
"""
import pytest
import redis


def histogram(r, *cmds):
    """LATENCY HISTOGRAM parsed (RESP2 flat lists) into
    {cmd: (calls, [(bound_usec, cumulative), ...])}."""
    raw = r.execute_command("LATENCY", "HISTOGRAM", *cmds)
    out = {}
    for i in range(0, len(raw), 2):
        name = raw[i].decode() if isinstance(raw[i], bytes) else raw[i]
        body = raw[i + 1]
        fields = {(body[j].decode() if isinstance(body[j], bytes) else body[j]): body[j + 1]
                  for j in range(0, len(body), 2)}
        h = fields["histogram_usec"]
        out[name] = (fields["calls"], [(h[j], h[j + 1]) for j in range(0, len(h), 2)])
    return out


@pytest.fixture
def fresh(node):
    r = node.client(decode_responses=True)
    r.config_set("latency-tracking", "yes")
    r.config_set("slowlog-log-slower-than", "10000")
    r.config_set("slowlog-max-len", "128")
    r.execute_command("CONFIG", "RESETSTAT")
    r.execute_command("SLOWLOG", "RESET")
    yield r
    r.config_set("latency-tracking", "yes")
    r.config_set("slowlog-log-slower-than", "10000")
    r.config_set("slowlog-max-len", "128")
    r.close()


def test_latencystats_and_commandstats_count_every_call(fresh):
    r = fresh
    for i in range(300):
        r.set("lat:%d" % i, "v")
    for i in range(200):
        r.get("lat:%d" % i)
    info = r.info("latencystats")
    for cmd in ("set", "get"):
        p = info["latency_percentiles_usec_%s" % cmd]
        assert set(p) == {"p50", "p99", "p99.9"}
        assert 0 < p["p50"] <= p["p99"] <= p["p99.9"]
    cs = r.info("commandstats")
    assert cs["cmdstat_set"]["calls"] == 300
    assert cs["cmdstat_get"]["calls"] == 200
    assert cs["cmdstat_set"]["usec"] > 0
    # neither section is part of plain INFO (as in Redis)
    assert "latency_percentiles_usec_set" not in r.info()


def test_latency_histogram_shape_and_agreement_with_percentiles(fresh):
    r = fresh
    for i in range(500):
        r.set("h:%d" % i, "x" * 10)
    h = histogram(r, "set", "get", "SET", "nosuchcommand")
    assert list(h) == ["set"]  # get has no calls yet; names once; unknown left out
    calls, buckets = h["set"]
    assert calls == 500
    bounds = [b for b, _ in buckets]
    cums = [c for _, c in buckets]
    assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds)
    assert cums == sorted(cums) and len(set(cums)) == len(cums)
    assert cums[-1] == 500
    for b in bounds:  # 1.024 us times a power of two, printed as whole us
        assert any(b == (1024 << k) // 1000 for k in range(40))
    # the median INFO reports lies in the histogram bucket where half the
    # calls are reached (bounds are exclusive and 1.024 * the printed us;
    # percentiles read back at most 1/16 above the true value)
    p50 = r.info("latencystats")["latency_percentiles_usec_set"]["p50"]
    k = next(i for i, c in enumerate(cums) if c >= 250)
    upper_us = next(((1024 << j) / 1000.0 for j in range(40) if (1024 << j) // 1000 == bounds[k]))
    lower_us = 0.0
    if k > 0:
        lower_us = next(((1024 << j) / 1000.0 for j in range(40)
                         if (1024 << j) // 1000 == bounds[k - 1]))
    assert lower_us <= p50 <= upper_us * (1 + 1 / 16.0)
    # the whole map: every command that has calls, this one included
    everything = histogram(r)
    assert everything["set"][0] == 500
    assert all(c > 0 for c, _ in everything.values())


def test_latency_tracking_off_and_resetstat(fresh):
    r = fresh
    r.set("t:1", "a")
    assert r.info("commandstats")["cmdstat_set"]["calls"] == 1
    r.config_set("latency-tracking", "no")
    for _ in range(10):
        r.set("t:1", "a")
    assert r.info("commandstats")["cmdstat_set"]["calls"] == 1
    r.config_set("latency-tracking", "yes")
    r.set("t:1", "a")
    assert r.info("commandstats")["cmdstat_set"]["calls"] == 2
    r.execute_command("CONFIG", "RESETSTAT")
    assert "cmdstat_set" not in r.info("commandstats")
    assert histogram(r, "set") == {}


def test_slowlog_get_len_reset(fresh, node):
    r = fresh
    assert r.execute_command("SLOWLOG", "LEN") == 0
    r.config_set("slowlog-log-slower-than", "0")  # every command
    r.set("slow:k", "slow-value")
    entries = r.execute_command("SLOWLOG", "GET", "1")
    assert len(entries) == 1
    eid, ts, dur, args, addr, name = entries[0]
    assert args == ["SET", "slow:k", "slow-value"]
    assert dur >= 0 and ts > 1700000000
    mine = r.execute_command("CLIENT", "INFO")
    assert "addr=%s " % addr in mine  # the connection that sent it
    # ids increase; newest first
    r.get("slow:k")
    e2 = r.execute_command("SLOWLOG", "GET", "2")
    assert e2[0][0] > e2[1][0]
    assert e2[0][3][0] == "SLOWLOG" or e2[0][3][0] == "GET"
    n = r.execute_command("SLOWLOG", "LEN")
    assert n >= 3
    # -1 = all; SLOWLOG LEN itself was logged once it had answered
    assert len(r.execute_command("SLOWLOG", "GET", "-1")) == n + 1
    assert r.execute_command("SLOWLOG", "RESET") == "OK"
    # RESET itself is logged after it ran: at most that one entry
    assert r.execute_command("SLOWLOG", "LEN") <= 1


def test_slowlog_truncates_like_redis_and_honours_max_len(fresh):
    r = fresh
    r.config_set("slowlog-log-slower-than", "0")
    r.config_set("slowlog-max-len", "3")
    big = "b" * 300
    r.execute_command("ECHO", big)
    e = r.execute_command("SLOWLOG", "GET", "1")[0]
    assert e[3] == ["ECHO", "b" * 128 + "... (172 more bytes)"]
    # a write answers through the deferred path: its arguments were copied
    # when it started (inline when short, as here the long value is not)
    r.set("long:k", "x" * 300)
    e = r.execute_command("SLOWLOG", "GET", "1")[0]
    assert e[3] == ["SET", "long:k", "x" * 128 + "... (172 more bytes)"]
    keys = ["k%d" % i for i in range(40)]
    r.execute_command("DEL", *keys)
    e = r.execute_command("SLOWLOG", "GET", "1")[0]
    assert len(e[3]) == 32
    assert e[3][:2] == ["DEL", "k0"]
    assert e[3][-1] == "... (10 more arguments)"
    for _ in range(5):
        r.ping()
    assert r.execute_command("SLOWLOG", "LEN") == 3
    r.config_set("slowlog-log-slower-than", "-1")  # off
    r.execute_command("SLOWLOG", "RESET")
    r.ping()
    assert r.execute_command("SLOWLOG", "LEN") == 0


def test_slowlog_threshold_filters(fresh):
    r = fresh
    r.config_set("slowlog-log-slower-than", "100000000")  # 100 s: nothing is that slow
    for _ in range(20):
        r.set("f", "v")
    assert r.execute_command("SLOWLOG", "LEN") == 0
    r.config_set("slowlog-log-slower-than", str(2 ** 63 - 1))  # the largest: no overflow
    r.set("f", "v")
    assert r.execute_command("SLOWLOG", "LEN") == 0
    with pytest.raises(redis.ResponseError, match="count should be greater"):
        r.execute_command("SLOWLOG", "GET", "-2")
    with pytest.raises(redis.ResponseError, match="SLOWLOG HELP"):
        r.execute_command("SLOWLOG", "NOPE")
    with pytest.raises(redis.ResponseError, match="LATENCY HELP"):
        r.execute_command("LATENCY", "NOPE")


def test_slowlog_never_keeps_secrets(node_factory):
    """AUTH's password, HELLO's AUTH credentials and the values CONFIG SET
    gives requirepass or cluster-secret show as "(redacted)", as Redis does."""
    n = node_factory("--requirepass", "first-secret")
    r = n.client(password="first-secret", decode_responses=True)
    r.config_set("slowlog-log-slower-than", "0")
    r.execute_command("SLOWLOG", "RESET")
    r.execute_command("AUTH", "first-secret")
    r.execute_command("AUTH", "default", "first-secret")
    r.execute_command("HELLO", "2", "AUTH", "default", "first-secret", "SETNAME", "me")
    r.execute_command("CONFIG", "SET", "maxclients", "5000", "requirepass", "second-secret")
    r.execute_command("AUTH", "second-secret")
    entries = r.execute_command("SLOWLOG", "GET", "-1")
    text = repr(entries)
    assert "first-secret" not in text and "second-secret" not in text
    args = [e[3] for e in reversed(entries)]
    assert ["AUTH", "(redacted)"] in args
    assert ["AUTH", "(redacted)", "(redacted)"] in args
    assert ["HELLO", "2", "AUTH", "(redacted)", "(redacted)", "SETNAME", "me"] in args
    assert ["CONFIG", "SET", "maxclients", "5000", "requirepass", "(redacted)"] in args
    r.config_set("slowlog-log-slower-than", "10000")
    r.close()


def test_subcommands_are_reported_as_redis_7_names_them(fresh):
    """Commands with subcommands count each one apart, as "parent|sub"
    (Redis 7's names); naming the parent selects all of them."""
    r = fresh
    r.execute_command("CONFIG", "RESETSTAT")
    # RESETSTAT itself is recorded once it ran, as Redis does
    assert list(histogram(r)) == ["config|resetstat"]
    r.execute_command("CLIENT", "ID")
    r.execute_command("CLIENT", "LIST")
    r.execute_command("CLIENT", "ID")
    h = histogram(r, "client")
    assert sorted(h) == ["client|id", "client|list"]
    assert h["client|id"][0] == 2 and h["client|list"][0] == 1
    assert list(histogram(r, "CLIENT|ID")) == ["client|id"]
    assert list(histogram(r, "client|nosuch", "blabla")) == []
    assert r.info("commandstats")["cmdstat_client|id"]["calls"] == 2
    p = r.info("latencystats")["latency_percentiles_usec_client|list"]
    assert 0 < p["p50"] <= p["p99.9"]
    # an unknown subcommand counts under the parent's own name
    with pytest.raises(redis.ResponseError):
        r.execute_command("CLIENT", "NOSUCH")
    assert histogram(r, "client")["client"][0] == 1

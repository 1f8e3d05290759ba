"""The `types` section of redis-tests/bench.py (issue 14): the convergent
types through one dynamo-node next to one redis-server, in one run.

Not a test: prints figures and ratios (dynamo-node / redis).  Both servers
without persistence (dynamo-node --appendonly no, redis --appendonly no
--save ""), as the throughput section.

Throughput: redis-benchmark -t <test> -n N -r 10000 -c 50 for each of
incr, hset, sadd, zadd, spop, zpopmin in that order (spop and zpopmin pop
what sadd and zadd added), -P 1 and -P 16, only the tests whose command the
node answers (the others are listed as skipped); each round starts from
FLUSHALL on both servers, and the rounds alternate which server goes first
for each test; the best of the rounds is printed for each server, with the
ratio and each round's ratio, and the CPU time (user + sys, /proc) each
server process spent per request, which a shared machine disturbs much
less than requests per second.  -r 10000, not the 100000 of the other
sections: see RAND below.

Memory: a hash, a set and a sorted set of 10 and 1 000 elements (and
1 000 000 with --big: optional to keep the default run short; on a shared
2-core machine the whole section took ~90 s without it and ~95 s with it),
each loaded by pipelined commands through
redis-cli --pipe (one HSET/SADD/ZADD per element; members "member:<i>",
fields "field:<i>" = "value:<i>", scores i), into max(1, 10 000 / n) keys
of n elements so that the small sizes are not lost in the noise.  Per
element: MEMORY USAGE key SAMPLES 0 averaged over the keys, on the node when
it answers MEMORY USAGE for a typed key, and the INFO used_memory delta
divided by the elements, on both.
"""
import csv
import io
import os
import subprocess
import time

TESTS = (("incr", ("INCR", "bench:probe:counter")),
         ("hset", ("HSET", "bench:probe:hash", "f", "v")),
         ("sadd", ("SADD", "bench:probe:set", "m")),
         ("zadd", ("ZADD", "bench:probe:zset", "1", "m")),
         ("spop", ("SPOP", "bench:probe:set")),
         ("zpopmin", ("ZPOPMIN", "bench:probe:zset")))

TYPES = (("hash", "HSET"), ("set", "SADD"), ("zset", "ZADD"))

# redis-benchmark -r: the hset/sadd/zadd tests add to ONE key (myhash,
# myset, myzset), so this bounds those collections (~10 000 members after
# 100 000 adds).  ZPOPMIN on a node scans the whole sorted set for its
# minimum (no order index in the state, cmd_zset_pick.c): at -r 100000
# (~63 000 members) a single zpopmin run took minutes.
RAND = 10000


def cli(port, *args):
    out = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                         timeout=120)
    return out.stdout.strip()


def answers(port, cmd):
    """True when the server runs cmd (any reply but an unknown-command error)."""
    rep = cli(port, *cmd)
    return "unknown command" not in rep.lower()


def rbench_types(port, pipeline, n, tests):
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", tests,
                          "-n", str(n), "-r", str(RAND), "-c", "50", "-P", str(pipeline),
                          "--csv"],
                         check=True, capture_output=True, text=True, timeout=900)
    if "ERR" in out.stdout:
        print("redis-benchmark complained:", out.stdout, out.stderr.strip())
    res = {}
    for row in csv.reader(io.StringIO(out.stdout)):
        if len(row) >= 2 and row[0] != "test":
            res[row[0]] = float(row[1])
    return res


def cpu_seconds(pid):
    """user + system CPU time of a process so far (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


def throughput(dsrv, rsrv, n, rounds):
    """dsrv, rsrv: (process, port).  Each test runs on its own (-t one),
    so the server's CPU time per request is known too: on a shared
    machine that figure moves much less than requests per second."""
    dport, rport = dsrv[1], rsrv[1]
    run = [t for t, cmd in TESTS if answers(dport, cmd)]
    skipped = [t for t, _ in TESTS if t not in run]
    print("== types throughput: redis-benchmark -t <one of %s> -n %d -r %d -c 50, one node, "
          "no persistence on either side, %d rounds (FLUSHALL first, the tests in this order, "
          "servers alternating which goes first), best of each; cpu = the server process's "
          "user+sys CPU per request (least of the rounds)" % (",".join(run), n, RAND, rounds))
    if skipped:
        print("   skipped (the node answers 'unknown command'; not on main yet): %s"
              % ",".join(skipped))
    if not run:
        return
    print("%-16s %12s %12s %7s %6s   %10s %10s %7s" % (
        "figure", "dynamo rps", "redis rps", "ratio", "rounds", "dyn cpu us", "redis cpu",
        "ratio"))
    for pipe in (1, 16):
        rps = {"d": {}, "r": {}}
        cpu = {"d": {}, "r": {}}
        per_round = {t: [] for t in run}
        for rnd in range(rounds):
            for _, port in (dsrv, rsrv):
                cli(port, "FLUSHALL")
            order = (("d", dsrv), ("r", rsrv)) if rnd % 2 == 0 else (("r", rsrv), ("d", dsrv))
            for t in run:
                got = {}
                for name, (proc, port) in order:
                    c0 = cpu_seconds(proc.pid)
                    v = rbench_types(port, pipe, n, t).get(t.upper(), 0.0)
                    used = (cpu_seconds(proc.pid) - c0) * 1e6 / n
                    got[name] = v
                    rps[name][t] = max(rps[name].get(t, 0.0), v)
                    cpu[name][t] = min(cpu[name].get(t, used), used)
                if got["r"]:
                    per_round[t].append(got["d"] / got["r"])
        for t in run:
            d, r = rps["d"].get(t), rps["r"].get(t)
            dc, rc = cpu["d"].get(t), cpu["r"].get(t)
            if not d or not r:
                print("%-16s no figure (dynamo %s, redis %s)" % ("%s -P %d" % (t.upper(), pipe),
                                                                 d, r))
                continue
            print("%-16s %12.0f %12.0f %7.2f %6s   %10.2f %10.2f %7.2f" % (
                "%s -P %d" % (t.upper(), pipe), d, r, d / r,
                "/".join("%.2f" % x for x in per_round[t]), dc, rc, rc / dc if dc else 0.0))
    print("   (cpu ratio = redis cpu / dynamo cpu: the throughput ratio a CPU-bound server "
          "would see)")


def used_memory(port):
    for line in cli(port, "INFO", "memory").splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":", 1)[1])
    raise KeyError("used_memory")


def resp(*args):
    return "*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(a), a) for a in args)


def load(port, cmd, keys, size):
    buf = io.StringIO()
    for k in keys:
        for i in range(size):
            if cmd == "HSET":
                buf.write(resp("HSET", k, "field:%d" % i, "value:%d" % i))
            elif cmd == "SADD":
                buf.write(resp("SADD", k, "member:%d" % i))
            else:
                buf.write(resp("ZADD", k, str(i), "member:%d" % i))
    out = subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=buf.getvalue().encode(),
                         capture_output=True, timeout=1800)
    if b"errors: 0" not in out.stdout:
        print("redis-cli --pipe reported:", out.stdout.decode().strip().splitlines()[-1:])


def memory_usage(port, key):
    """MEMORY USAGE key SAMPLES 0 as an int, or None when not answered."""
    rep = cli(port, "MEMORY", "USAGE", key, "SAMPLES", "0")
    return int(rep) if rep.lstrip("-").isdigit() else None


def card(port, tname, key):
    cmd = {"hash": "HLEN", "set": "SCARD", "zset": "ZCARD"}[tname]
    rep = cli(port, cmd, key)
    return int(rep) if rep.isdigit() else -1


def figures(port, tname, cmd, size, tag):
    """(MEMORY USAGE per element or None, used_memory delta per element)."""
    nkeys = max(1, 10000 // size)
    keys = ["bench:%s:%s:%d:%d" % (tag, tname, size, j) for j in range(nkeys)]
    cli(port, "FLUSHALL")
    before = used_memory(port)
    load(port, cmd, keys, size)
    after = used_memory(port)
    if card(port, tname, keys[0]) != size:
        print("   %s of %d: the first key holds %d elements" % (tname, size,
                                                               card(port, tname, keys[0])))
    usage = [memory_usage(port, k) for k in keys]
    mu = None if any(u is None for u in usage) else sum(usage) / float(nkeys * size)
    cli(port, "FLUSHALL")
    return mu, (after - before) / float(nkeys * size)


def memory(dport, rport, big):
    sizes = (10, 1000, 1000000) if big else (10, 1000)
    types = [(t, c) for t, c in TYPES if answers(dport, (c, "bench:probe:" + t, *(
        ("f", "v") if t == "hash" else ("1", "m") if t == "zset" else ("m",))))]
    skipped = [t for t, _ in TYPES if t not in dict(types)]
    print("== types memory: bytes per element, %s elements per key (%s), loaded through "
          "redis-cli --pipe, no persistence" % (", ".join(str(s) for s in sizes),
                                                  "1 000 000 with --big" if not big else "--big"))
    if skipped:
        print("   skipped (the node answers 'unknown command'; not on main yet): %s"
              % ",".join(skipped))
    if not types:
        return
    print("%-14s %12s %12s %8s   %12s %12s %8s" % ("figure", "dyn MEMUSE", "redis MEMUSE",
                                                  "ratio", "dyn used_mem", "redis used_mem",
                                                  "ratio"))
    for tname, cmd in types:
        for size in sizes:
            dmu, dum = figures(dport, tname, cmd, size, "d")
            rmu, rum = figures(rport, tname, cmd, size, "r")
            print("%-14s %12s %12.1f %8s   %12.1f %12.1f %8.2f" % (
                "%s %d" % (tname, size), "-" if dmu is None else "%.1f" % dmu, rmu,
                "-" if dmu is None else "%.2f" % (dmu / rmu), dum, rum, dum / rum))
    print("   ('-': the node does not answer MEMORY USAGE for a typed key; its used_memory "
          "delta is the figure)")


def types_bench(start_dynamo, start_redis, stop, tmp, n, rounds, big):
    dp, dport = start_dynamo(tmp)
    rp, rport = start_redis(tmp)
    try:
        t0 = time.monotonic()
        throughput((dp, dport), (rp, rport), n, rounds)
        memory(dport, rport, big)
        print("   (types section: %.0f s)" % (time.monotonic() - t0))
    finally:
        stop(dp)
        stop(rp)

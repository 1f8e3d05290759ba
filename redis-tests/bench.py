#!/usr/bin/python3
"""Side-by-side benchmark: dynamo-node vs redis-server on this machine.

Not a test: prints figures and ratios (dynamo-node / redis).  Starts both
servers itself on free loopback ports and stops only those processes.

  /usr/bin/python3 redis-tests/bench.py [--quick] [--only SECTION]

Replication: a 3-node cluster (N=3 W=2 R=2) against a Redis primary with one
replica where every SET is followed by WAIT 1 0, 50 connections each, with
build/redis-tests/loadgen (closed loop, one request in flight per
connection; dynamo-node connections spread over the three nodes).

Cluster: the same 3 nodes driven by a cluster-aware client -- loadgen -C
(CLUSTER SLOTS at start, every request straight to its slot's master) and
redis-benchmark --cluster -- next to today's any-node routing (loadgen
spreading connections over the nodes), against a Redis primary + 1 replica
and a primary + 2 replicas, both with SET + WAIT 1 0; 50 clients each (one
request in flight per client), SET then GET over the keys just written.
Ratios are against the primary + 1 replica.  redis-benchmark cannot send
WAIT, so its Redis rows are plain SET/GET on the primary + 1 replica
(asynchronous replication: an easier target than SET + WAIT).

Throughput: redis-benchmark -t set,get -n 300000 -r 100000 -d 64 -c 50, with
-P 1 and -P 16.  Memory: used_memory per key after loading 1M keys with
64-byte values through redis-cli --pipe (INFO used_memory delta / DBSIZE).
Both without persistence on either side (dynamo-node --appendonly no, redis
--appendonly no --save "").

Bits: redis-benchmark SETBIT/GETBIT/BITCOUNT over keys bm:__rand_int__ of
1 000 bits (-r 100000 -c 50), -P 1 and -P 16.

Flush: FLUSHALL of 1M keys (64-byte values, loaded through redis-cli --pipe)
on a 3-node cluster (N=3 W=2 R=2, sent to one node; timed until its OK, with
every node holding every key first) against FLUSHALL (SYNC) on one
redis-server holding the same keys; each node's own pass (INFO
last_flush_usec) is printed too.  Both without persistence.

AOF: redis-benchmark -t set -n 200000 -r 100000 -d 64 -c 50, -P 1 and -P 16,
dynamo-node --appendonly yes --appendfsync everysec against redis-server
--appendonly yes --appendfsync everysec (each in its own directory; the log
sizes after the run are printed too).

Latency: what recording per-command latency costs, redis-benchmark -t
set,get -c 50 -P 1 and -P 16 on one dynamo-node and one redis-server, each
with latency-tracking yes and no (CONFIG SET between runs of the same
process, alternating, best of each); then the 3-node cluster under loadgen
(SET, then GET): the client-side p50/p99/p99.9 next to each node's INFO
latencystats (the node that received a request times it until its reply).

Types: the convergent types through one node (bench_types.py):
redis-benchmark -t incr,hset,sadd,zadd,spop,zpopmin at -P 1 and -P 16
(the tests whose command the node answers), and bytes per element of a
hash, a set and a zset of 10 and 1 000 elements (1 000 000 with --big).

Recording: the same cost without noise: the instructions callgrind counts
in the recording functions for 20 000 SET + 20 000 GET, per command and as
a share of the whole process.
"""
import argparse
import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import bench_types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODE_BIN = os.environ.get("DYNAMO_NODE_BIN", os.path.join(ROOT, "build", "src", "dynamo-node"))
LOADGEN = os.path.join(ROOT, "build", "redis-tests", "loadgen")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d never opened" % port)


def start_dynamo(tmp, extra=(), appendonly=False):
    """One dynamo-node; without its append-only log unless appendonly."""
    port = free_port()
    p = subprocess.Popen([NODE_BIN, "--port", str(port), "--cluster-port", str(free_port()),
                          "--dir", tmp, "--appendonly", "yes" if appendonly else "no", *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, p)
    return p, port


def start_redis(tmp, extra=(), appendonly=False):
    """One redis-server, no RDB snapshots; AOF only if appendonly."""
    port = free_port()
    p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "yes" if appendonly else "no",
                          "--dir", tmp, *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, p)
    return p, port


def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def rbench(port, pipeline, n, tests="set,get"):
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", tests,
                          "-n", str(n), "-r", "100000", "-d", "64", "-c", "50",
                          "-P", str(pipeline), "--csv"],
                         check=True, capture_output=True, text=True, timeout=600)
    if "WARNING" in out.stderr or "ERR" in out.stdout:
        print("redis-benchmark complained:", out.stderr.strip(), file=sys.stderr)
    res = {}
    for row in csv.reader(io.StringIO(out.stdout)):
        if len(row) >= 2 and row[0] != "test":
            res[row[0]] = float(row[1])
    return res


def info_field(port, field, section="memory"):
    out = subprocess.run(["redis-cli", "-p", str(port), "INFO", section], check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":", 1)[1])
    raise KeyError(field)


def load_keys(port, nkeys):
    value = "v" * 64
    buf = io.StringIO()
    for i in range(nkeys):
        k = "key:%012d" % i
        buf.write("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$64\r\n%s\r\n" % (len(k), k, value))
    subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=buf.getvalue().encode(),
                   check=True, capture_output=True, timeout=600)
    dbsize = int(subprocess.run(["redis-cli", "-p", str(port), "DBSIZE"], check=True,
                                capture_output=True, text=True).stdout.strip())
    return dbsize


def memory_per_key(starter, tmp, nkeys):
    p, port = starter(tmp)
    try:
        before = info_field(port, "used_memory")
        dbsize = load_keys(port, nkeys)
        after = info_field(port, "used_memory")
        return (after - before) / max(dbsize, 1), dbsize
    finally:
        stop(p)


def loadgen(servers, extra, n):
    out = subprocess.run([LOADGEN, "-s", ",".join("127.0.0.1:%d" % p for p in servers),
                          "-c", "50", "-n", str(n), "-r", "100000", "-d", "64", *extra],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        print("loadgen failed:", out.stdout, out.stderr, file=sys.stderr)
    return dict(kv.split("=") for kv in out.stdout.split())


def start_redis_replicated(tmp, nreplicas):
    """A redis primary and nreplicas replicas of it, all online; returns
    (processes, primary port)."""
    rp, rport = start_redis(tmp)
    procs = [rp]
    try:
        for _ in range(nreplicas):
            procs.append(start_redis(tmp, ("--replicaof", "127.0.0.1", str(rport)))[0])
        deadline = time.monotonic() + 15
        while True:
            info = subprocess.run(["redis-cli", "-p", str(rport), "INFO", "replication"],
                                  capture_output=True, text=True).stdout
            if ("connected_slaves:%d" % nreplicas in info
                    and info.count("state=online") == nreplicas):
                return procs, rport
            if time.monotonic() > deadline:
                raise RuntimeError("redis replicas never came online: %s" % info)
            time.sleep(0.1)
    except BaseException:
        for p in procs:
            stop(p)
        raise


def forwarded_total(ports):
    return sum(info_field(p, "forwarded_requests", "cluster") for p in ports)


def rbench_latency(args, n, tests):
    """redis-benchmark (extra args such as --cluster) SET/GET; returns
    {test: (rps, p50 ms, p99 ms)} from its CSV."""
    out = subprocess.run(["redis-benchmark", *args, "-t", tests, "-n", str(n), "-r", "100000",
                          "-d", "64", "-c", "50", "--csv"],
                         capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    if out.returncode != 0 or "ERR" in out.stdout:
        print("redis-benchmark complained:", out.stdout, out.stderr.strip(), file=sys.stderr)
    res = {}
    # --cluster prints the masters it found before the CSV: start at the header
    text = out.stdout[out.stdout.find('"test"'):] if '"test"' in out.stdout else ""
    rows = list(csv.reader(io.StringIO(text)))
    head = rows[0] if rows else []
    for row in rows[1:]:
        if len(row) == len(head):
            f = dict(zip(head, row))
            res[f["test"]] = (float(f["rps"]), float(f["p50_latency_ms"]),
                              float(f["p99_latency_ms"]))
    return res


def cluster_bench(tmp, n):
    print("== cluster: 3 nodes N=3 W=2 R=2, cluster-aware clients and any-node routing, vs "
          "redis primary + 1 / + 2 replicas (SET + WAIT 1 0), 50 clients, %d ops" % n)
    procs, ports = start_cluster(tmp)
    try:
        for sub in ("r1", "r2"):
            os.makedirs(os.path.join(tmp, sub), exist_ok=True)
        redis1, r1port = start_redis_replicated(os.path.join(tmp, "r1"), 1)
        procs += redis1
        redis2, r2port = start_redis_replicated(os.path.join(tmp, "r2"), 2)
        procs += redis2
        print("%-34s %10s %8s %8s %8s %8s %7s" % ("loadgen (closed loop)", "ops/s", "p50 us",
                                                  "p99 us", "p99.9 us", "fwd", "ratio"))
        for name, t in (("SET", ["-t", "set"]), ("GET", ["-t", "get"])):
            w = ["-w"] if name == "SET" else []
            runs = []
            before = forwarded_total(ports)
            runs.append(("dynamo 3 nodes, cluster-aware", loadgen(ports, t + ["-C"], n),
                         forwarded_total(ports) - before))
            before = forwarded_total(ports)
            runs.append(("dynamo 3 nodes, any-node", loadgen(ports, t, n),
                         forwarded_total(ports) - before))
            runs.append(("redis primary+1 replica" + (" WAIT 1" if w else ""),
                         loadgen([r1port], t + w, n), None))
            runs.append(("redis primary+2 replicas" + (" WAIT 1" if w else ""),
                         loadgen([r2port], t + w, n), None))
            base = float(runs[2][1]["ops_per_sec"])
            for label, r, fwd in runs:
                print("%-34s %10.0f %8s %8s %8s %8s %7.2f" % (
                    "%s %s" % (name, label), float(r["ops_per_sec"]), r["p50_us"], r["p99_us"],
                    r["p999_us"], "-" if fwd is None else fwd,
                    float(r["ops_per_sec"]) / base))
        print("%-34s %10s %8s %8s %7s" % ("redis-benchmark", "ops/s", "p50 us", "p99 us",
                                          "ratio"))
        d = rbench_latency(["--cluster", "-h", "127.0.0.1", "-p", str(ports[0])], n, "set,get")
        r = rbench_latency(["-h", "127.0.0.1", "-p", str(r1port)], n, "set,get")
        for t in ("SET", "GET"):
            for label, f in (("dynamo 3 nodes --cluster", d), ("redis primary+1 replica", r)):
                print("%-34s %10.0f %8.0f %8.0f %7.2f" % ("%s %s" % (t, label), f[t][0],
                                                          f[t][1] * 1000, f[t][2] * 1000,
                                                          f[t][0] / r[t][0]))
    finally:
        for p in procs:
            stop(p)


def start_cluster(tmp):
    ports = [free_port() for _ in range(3)]
    cports = [free_port() for _ in range(3)]
    conf = os.path.join(tmp, "bench-cluster.conf")
    with open(conf, "w") as f:
        for i, (p, cp) in enumerate(zip(ports, cports)):
            f.write("node n%d 127.0.0.1:%d %d\n" % (i + 1, p, cp))
        f.write("n 3\nw 2\nr 2\ncluster-secret bench\n")
    procs = []
    for i in range(3):
        p = subprocess.Popen([NODE_BIN, "--config", conf, "--node", "n%d" % (i + 1),
                              "--dir", tmp, "--appendonly", "no"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        procs.append(p)
    for p, port in zip(procs, ports):
        wait_port(port, p)
    # every node sees every peer before the run starts
    deadline = time.monotonic() + 10
    for port in ports:
        while time.monotonic() < deadline:
            out = subprocess.run(["redis-cli", "-p", str(port), "DYNAMO", "NODES"],
                                 capture_output=True, text=True).stdout
            if out.count("link=up") == 2:
                break
            time.sleep(0.1)
    return procs, ports


def replication_bench(tmp, n):
    print("== replication: 3 nodes N=3 W=2 R=2 vs redis primary+replica (SET + WAIT 1 0), "
          "50 connections, %d ops" % n)
    procs, ports = start_cluster(tmp)
    rp, rport = start_redis(tmp)
    rr, rrport = start_redis(tmp, ("--replicaof", "127.0.0.1", str(rport)))
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            info = subprocess.run(["redis-cli", "-p", str(rport), "INFO", "replication"],
                                  capture_output=True, text=True).stdout
            if "connected_slaves:1" in info and "state=online" in info:
                break
            time.sleep(0.1)
        print("%-10s %12s %12s %7s   %s" % ("figure", "dynamo-node", "redis", "ratio",
                                            "p50/p99 us (dynamo | redis)"))
        for name, dextra, rextra in (("SET", ["-t", "set"], ["-t", "set", "-w"]),
                                     ("GET", ["-t", "get"], ["-t", "get"])):
            d = loadgen(ports, dextra, n)
            r = loadgen([rport], rextra, n)
            print("%-10s %12.0f %12.0f %7.2f   %s/%s | %s/%s" % (
                name, float(d["ops_per_sec"]), float(r["ops_per_sec"]),
                float(d["ops_per_sec"]) / float(r["ops_per_sec"]), d["p50_us"], d["p99_us"],
                r["p50_us"], r["p99_us"]))
    finally:
        for p in procs + [rp, rr]:
            stop(p)


def throughput_bench(tmp, n):
    print("== throughput: redis-benchmark -t set,get -n %d -r 100000 -d 64 -c 50" % n)
    print("%-14s %14s %14s %8s" % ("figure", "dynamo-node", "redis", "ratio"))
    dp, dport = start_dynamo(tmp)
    rp, rport = start_redis(tmp)
    try:
        for pipe in (1, 16):
            d = rbench(dport, pipe, n)
            r = rbench(rport, pipe, n)
            for t in ("SET", "GET"):
                print("%-14s %14.0f %14.0f %8.2f" % ("%s -P %d" % (t, pipe), d[t], r[t],
                                                      d[t] / r[t]))
    finally:
        stop(dp)
        stop(rp)


def rbench_cmd(port, pipeline, n, *cmd):
    """redis-benchmark running one given command (placeholders such as
    __rand_int__ as redis-benchmark expands them); returns requests/s."""
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-n", str(n),
                          "-r", "100000", "-c", "50", "-P", str(pipeline), "--csv", *cmd],
                         check=True, capture_output=True, text=True, timeout=600)
    for row in csv.reader(io.StringIO(out.stdout)):
        if len(row) >= 2 and row[0] != "test":
            return float(row[1])
    raise RuntimeError("no figure from redis-benchmark %s: %r" % (cmd, out.stdout + out.stderr))


def bits_bench(tmp, n):
    """SETBIT/GETBIT/BITCOUNT over 100 000 bitmaps of 1 000 bits each
    (redis-benchmark's __rand_int__ is zero-padded, which both servers
    refuse as an offset, so the randomness is in the key)."""
    print("== bits: redis-benchmark -n %d -r 100000 -c 50, keys bm:__rand_int__ of 1 000 "
          "bits" % n)
    print("%-14s %14s %14s %8s" % ("figure", "dynamo-node", "redis", "ratio"))
    dp, dport = start_dynamo(tmp)
    rp, rport = start_redis(tmp)
    cmds = (("SETBIT", ("SETBIT", "bm:__rand_int__", "999", "1")),
            ("GETBIT", ("GETBIT", "bm:__rand_int__", "999")),
            ("BITCOUNT", ("BITCOUNT", "bm:__rand_int__")))
    try:
        for pipe in (1, 16):
            for name, cmd in cmds:
                d = rbench_cmd(dport, pipe, n, *cmd)
                r = rbench_cmd(rport, pipe, n, *cmd)
                print("%-14s %14.0f %14.0f %8.2f" % ("%s -P %d" % (name, pipe), d, r, d / r))
    finally:
        stop(dp)
        stop(rp)


def aof_bench(tmp, n):
    print("== aof: redis-benchmark -t set -n %d -r 100000 -d 64 -c 50, appendonly yes, "
          "appendfsync everysec on both" % n)
    print("%-14s %14s %14s %8s" % ("figure", "dynamo-node", "redis", "ratio"))
    ddir, rdir = os.path.join(tmp, "aof-dynamo"), os.path.join(tmp, "aof-redis")
    os.makedirs(ddir, exist_ok=True)
    os.makedirs(rdir, exist_ok=True)
    dp, dport = start_dynamo(ddir, ("--appendfsync", "everysec"), appendonly=True)
    rp, rport = start_redis(rdir, ("--appendfsync", "everysec"), appendonly=True)
    try:
        for port in (dport, rport):
            fs = info_field(port, "aof_enabled", "persistence")
            if fs != 1:
                raise RuntimeError("server on port %d has aof_enabled:%s" % (port, fs))
        for pipe in (1, 16):
            d = rbench(dport, pipe, n, tests="set")
            r = rbench(rport, pipe, n, tests="set")
            print("%-14s %14.0f %14.0f %8.2f" % ("SET -P %d" % pipe, d["SET"], r["SET"],
                                                  d["SET"] / r["SET"]))
        print("log size after both runs: dynamo-node %d bytes, redis %d bytes" % (
            info_field(dport, "aof_current_size", "persistence"),
            info_field(rport, "aof_current_size", "persistence")))
    finally:
        stop(dp)
        stop(rp)


def info_latency(port, cmd):
    """(p50, p99, p99.9) in us from INFO latencystats, or None."""
    out = subprocess.run(["redis-cli", "-p", str(port), "INFO", "latencystats"], check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("latency_percentiles_usec_%s:" % cmd):
            kv = dict(x.split("=") for x in line.split(":", 1)[1].split(","))
            return float(kv["p50"]), float(kv["p99"]), float(kv["p99.9"])
    return None


def config_set(port, name, value):
    subprocess.run(["redis-cli", "-p", str(port), "CONFIG", "SET", name, value], check=True,
                   capture_output=True)


def latency_bench(tmp, n, rounds):
    """What recording costs (throughput with latency-tracking yes vs no on
    the same server, alternating runs) next to what it costs Redis 7, and
    the cluster's percentiles as the nodes report them against what the
    load generator measured."""
    print("== latency recording: redis-benchmark -t set,get -n %d -c 50, latency-tracking "
          "yes vs no on the same server, %d alternating rounds each, best of each" % (n, rounds))
    dp, dport = start_dynamo(tmp)
    rp, rport = start_redis(tmp)
    try:
        print("%-14s %12s %12s %8s   %12s %12s %8s" % ("figure", "dynamo on", "dynamo off",
                                                      "on/off", "redis on", "redis off",
                                                      "on/off"))
        for pipe in (1, 16):
            best = {}
            for _ in range(rounds):
                for mode in ("yes", "no"):
                    for name, port in (("dynamo", dport), ("redis", rport)):
                        config_set(port, "latency-tracking", mode)
                        res = rbench(port, pipe, n)
                        for t, v in res.items():
                            k = (name, mode, t)
                            best[k] = max(best.get(k, 0.0), v)
            for t in ("SET", "GET"):
                d1, d0 = best[("dynamo", "yes", t)], best[("dynamo", "no", t)]
                r1, r0 = best[("redis", "yes", t)], best[("redis", "no", t)]
                print("%-14s %12.0f %12.0f %8.3f   %12.0f %12.0f %8.3f" % (
                    "%s -P %d" % (t, pipe), d1, d0, d1 / d0, r1, r0, r1 / r0))
    finally:
        stop(dp)
        stop(rp)
    print("== cluster percentiles: 3 nodes N=3 W=2 R=2, loadgen 50 connections over the "
          "three nodes, %d ops; us" % n)
    procs, ports = start_cluster(tmp)
    try:
        print("%-6s %-28s %10s %10s %10s" % ("cmd", "measured by", "p50", "p99", "p99.9"))
        for cmd in ("set", "get"):
            g = loadgen(ports, ["-t", cmd], n)
            print("%-6s %-28s %10s %10s %10s" % (cmd, "loadgen (client side)", g["p50_us"],
                                                 g["p99_us"], g["p999_us"]))
            for i, port in enumerate(ports):
                p = info_latency(port, cmd)
                if p:
                    print("%-6s %-28s %10.1f %10.1f %10.1f" % (
                        cmd, "n%d INFO latencystats" % (i + 1), p[0], p[1], p[2]))
    finally:
        for p in procs:
            stop(p)


def recording_cost(tmp, n):
    """Instructions the node spends recording latency for n SET + n GET
    (redis-benchmark, one connection), counted by callgrind: the inclusive
    cost of the four recording entry points (cmd_lat_begin/end around a
    handler, cmd_lat_take/finish for replies that come later; the clock
    reads and histogram updates are inside them) against the whole
    process.  Exact per call, unlike throughput on a shared machine (the
    process totals themselves vary between runs with how often the event
    loop wakes up)."""
    print("== latency recording cost: callgrind, %d SET + %d GET, 1 connection" % (n, n))
    funcs = ("cmd_lat_begin", "cmd_lat_end", "cmd_lat_take", "cmd_lat_finish")
    for name, flags in (("latency-tracking yes, slow log on (defaults)", []),
                        ("latency-tracking yes, slow log off",
                         ["--slowlog-log-slower-than", "-1"])):
        port = free_port()
        out = os.path.join(tmp, "callgrind.out")
        p = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                              NODE_BIN, "--port", str(port), "--cluster-port", str(free_port()),
                              "--dir", tmp, "--appendonly", "no", *flags],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port, p, timeout=60)
        subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set,get", "-n", str(n),
                        "-c", "1", "-r", "1000", "-q"], check=True, capture_output=True)
        stop(p)
        ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                             capture_output=True, text=True, check=True).stdout
        total, spent = 0, 0
        for line in ann.splitlines():
            fields = line.split()
            if not fields:
                continue
            count = fields[0].replace(",", "")
            if not count.isdigit():
                continue
            if "PROGRAM TOTALS" in line:
                total = int(count)
            elif any(":%s " % f in line or line.rstrip().endswith(":" + f) or
                     (":%s [" % f) in line for f in funcs):
                spent += int(count)
        os.unlink(out)
        print("%-46s %6.1f instructions per command, %.2f %% of the process's %d" % (
            name, spent / (2.0 * n), 100.0 * spent / total, total))


def timed_command(port, *args):
    """Seconds from sending one command on an open connection to its reply
    (which must be +OK)."""
    req = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=600) as s:
        s.sendall(b"PING\r\n")
        assert s.recv(64).startswith(b"+PONG")
        t0 = time.perf_counter()
        s.sendall(req)
        rep = s.recv(256)
        dt = time.perf_counter() - t0
    if not rep.startswith(b"+OK"):
        raise RuntimeError("%s answered %r" % (" ".join(args), rep))
    return dt


def stored_keys(port):
    """Keys this node holds (INFO keyspace stored_keys; 0 when none)."""
    out = subprocess.run(["redis-cli", "-p", str(port), "INFO", "keyspace"], check=True,
                         capture_output=True, text=True).stdout
    for part in out.replace("\r", "").replace("\n", ",").split(","):
        if part.startswith("stored_keys="):
            return int(part.split("=", 1)[1])
    return 0


def flush_bench(tmp, nkeys):
    print("== flush: FLUSHALL of %d keys (64-byte values): 3 nodes N=3 W=2 R=2 (sent to one "
          "node) vs one redis-server" % nkeys)
    procs, ports = start_cluster(tmp)
    rp, rport = start_redis(tmp)
    try:
        load_keys(ports[0], nkeys)
        deadline = time.monotonic() + 300
        while any(stored_keys(p) < nkeys for p in ports):
            if time.monotonic() > deadline:
                raise RuntimeError("the nodes hold %s keys, not %d each"
                                   % ([stored_keys(p) for p in ports], nkeys))
            time.sleep(0.2)
        d = timed_command(ports[1], "FLUSHALL")
        passes = [info_field(p, "last_flush_usec", "persistence") for p in ports]
        left = [stored_keys(p) for p in ports]
        rk = load_keys(rport, nkeys)
        r = timed_command(rport, "FLUSHALL", "SYNC")
        print("%-24s %12s %12s %8s" % ("figure", "dynamo-node", "redis", "ratio"))
        print("%-24s %12.1f %12.1f %8.2f" % ("FLUSHALL ms (client)", d * 1000, r * 1000, d / r))
        print("each node's pass, ms:    %s" % " ".join("%.1f" % (u / 1000) for u in passes))
        print("keys held after: dynamo-node %s, redis %d before" % (left, rk))
    finally:
        for p in procs + [rp]:
            stop(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller runs (smoke)")
    ap.add_argument("--big", action="store_true",
                    help="types: also collections of 1 000 000 elements (minutes)")
    ap.add_argument("--only", choices=("throughput", "replication", "cluster", "memory", "aof",
                                       "bits", "latency", "recording", "flush", "types"),
                    help="run one section")
    args = ap.parse_args()
    want = lambda name: args.only in (None, name)
    n = 50000 if args.quick else 300000
    nkeys = 100000 if args.quick else 1000000
    tmp = tempfile.mkdtemp(prefix="dn-bench-")
    try:
        if want("throughput"):
            throughput_bench(tmp, n)
        if want("replication"):
            replication_bench(tmp, 30000 if args.quick else 200000)
        if want("cluster"):
            cluster_bench(tmp, 30000 if args.quick else 200000)
        if want("aof"):
            aof_bench(tmp, 50000 if args.quick else 200000)
        if want("bits"):
            bits_bench(tmp, 50000 if args.quick else 200000)
        if want("latency"):
            latency_bench(tmp, 50000 if args.quick else 200000, 1 if args.quick else 3)
        if want("recording") and shutil.which("valgrind"):
            recording_cost(tmp, 5000 if args.quick else 20000)
        if want("flush"):
            flush_bench(tmp, nkeys)
        if want("types"):
            bench_types.types_bench(start_dynamo, start_redis, stop, tmp,
                                    20000 if args.quick else 100000, 2, args.big)
        if not want("memory"):
            return
        print("== memory: %d keys, 64-byte values (used_memory delta / DBSIZE)" % nkeys)
        dm, dk = memory_per_key(start_dynamo, tmp, nkeys)
        rm, rk = memory_per_key(start_redis, tmp, nkeys)
        print("dynamo-node: %.1f bytes/key (%d keys)" % (dm, dk))
        print("redis:       %.1f bytes/key (%d keys)" % (rm, rk))
        print("ratio:       %.2f" % (dm / rm))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Bytes per element: the convergent types (core/crdt.h) next to Redis.

Not a test: prints figures and ratios (ours / redis).  Starts its own
redis-server on a free loopback port (no persistence) and stops only that
process.  For a set, a hash and a sorted set of 10, 1 000 and 1 000 000
elements (members "member:<i>", fields "field:<i>" = "value:<i>", scores
i), Redis's figure is MEMORY USAGE key SAMPLES 0 / n (listpacks for the
small ones under Redis's default thresholds, hash tables and skiplists for
the large ones).  Ours come from build/redis-tests/crdt_mem: the state in
memory (jemalloc's allocated bytes) and its encoding (what the log and peers
would carry).  The commands are not wired yet, so ours is the data type
alone, not a node.

  /usr/bin/python3 redis-tests/crdt_memory.py [N ...]
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRDT_MEM = os.path.join(ROOT, "build", "redis-tests", "crdt_mem")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_figures(sizes):
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="crdt-mem-")
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", tmp],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                r.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        out = {}
        for n in sizes:
            for typ in ("set", "hash", "zset"):
                key = "%s:%d" % (typ, n)
                p = r.pipeline(transaction=False)
                for i in range(n):
                    if typ == "set":
                        p.sadd(key, "member:%d" % i)
                    elif typ == "hash":
                        p.hset(key, "field:%d" % i, "value:%d" % i)
                    else:
                        p.zadd(key, {"member:%d" % i: i})
                    if len(p) >= 10000:
                        p.execute()
                p.execute()
                usage = r.memory_usage(key, samples=0)
                enc = r.object("encoding", key).decode()
                out[(typ, n)] = (usage / n, enc)
                r.delete(key)
        return out
    finally:
        proc.terminate()
        proc.wait()


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [10, 1000, 1000000]
    ours = {}
    res = subprocess.run([CRDT_MEM] + [str(n) for n in sizes], check=True,
                         capture_output=True, text=True)
    for line in res.stdout.split("\n"):
        if line.strip():
            typ, n, mem, enc = line.split()
            ours[(typ, int(n))] = (float(mem), float(enc))
    theirs = redis_figures(sizes)
    print("%-5s %9s | %-22s | %12s %8s | %12s %8s" %
          ("type", "elements", "redis (encoding)", "ours memory", "ratio",
           "ours encoded", "ratio"))
    for typ in ("set", "hash", "zset"):
        for n in sizes:
            rb, renc = theirs[(typ, n)]
            mem, enc = ours[(typ, n)]
            print("%-5s %9d | %8.1f B (%-9s) | %10.1f B %7.2fx | %10.1f B %7.2fx" %
                  (typ, n, rb, renc, mem, mem / rb, enc, enc / rb))


if __name__ == "__main__":
    main()

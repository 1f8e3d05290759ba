#!/bin/sh
# tcl_units.sh REDIS_TESTS_DIR single|cluster UNIT... — runs units of Redis's
# own Tcl suite (not part of ./scripts/test.sh; no third-party code is kept
# here) against one dynamo-node, or against n1 of a 3-node cluster (N=3 W=2
# R=2), and prints per unit the tests passed / failed and whether the unit
# stopped on an exception (a command dynamo-node does not have).
#   REDIS_TESTS_DIR: a directory holding Redis 7.0's tests/ (e.g.
#   git archive 7.0.15 tests of github:redis/redis).  Its support/server.tcl
#   calls FUNCTION FLUSH on an external server; this script runs a copy in
#   which that call may fail (catch), and skips the tests that need
#   DEBUG, replication, or types dynamo-node does not have (lists: "SADD
#   against non set" and "SMISMEMBER against non set" make one with LPUSH),
#   or WATCH, which dynamo-node refuses by design ("SMOVE only notify dstset
#   when the addition is successful"), or commands it does not have: ZMPOP,
#   the blocking pops, DUMP/RESTORE.
#   DYNAMO_NODE_BIN selects the binary (default build/src/dynamo-node);
#   TCL_PORT the first client port (default 7651; the cluster uses 3 ports
#   and cluster ports +10000).
# Starts its nodes itself and stops only those, by PID.
set -u
[ $# -ge 3 ] || { echo "usage: $0 REDIS_TESTS_DIR single|cluster UNIT..." >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${DYNAMO_NODE_BIN:-$root/build/src/dynamo-node}
src=$1 mode=$2
shift 2
port=${TCL_PORT:-7651}
work=$(mktemp -d /tmp/dn-tcl-XXXXXX)
cp -R "$src/tests" "$work/tests"
sed -i 's/^    r function flush$/    catch {r function flush}/' "$work/tests/support/server.tcl"
pids=""
if [ "$mode" = single ]; then
    "$bin" --port "$port" --dir "$work" >"$work/n.log" 2>&1 &
    pids=$!
else
    {
        for i in 0 1 2; do
            echo "node n$((i + 1)) 127.0.0.1:$((port + i)) $((port + i + 10000))"
        done
        printf 'n 3\nw 2\nr 2\ncluster-secret tcl-units\n'
    } >"$work/c.conf"
    for i in 1 2 3; do
        "$bin" --config "$work/c.conf" --node "n$i" --dir "$work" >"$work/n$i.log" 2>&1 &
        pids="$pids $!"
    done
fi
# Wait for our own nodes' "ready" lines, not for a PING: a port already
# taken (another run on this machine) makes our node exit while someone
# else's server answers; never test (and FLUSHALL) that one.
started=no
for _ in $(seq 100); do
    for p in $pids; do
        if ! kill -0 "$p" 2>/dev/null; then
            echo "$0: a dynamo-node of this run exited (port $port or a cluster port taken?):" >&2
            cat "$work"/n*.log >&2
            for q in $pids; do kill "$q" 2>/dev/null; done
            rm -rf "$work"
            exit 1
        fi
    done
    n_ready=$(cat "$work"/n*.log 2>/dev/null | grep -c ' ready: ')
    [ "$n_ready" = "$(echo $pids | wc -w)" ] && started=yes && break
    sleep 0.1
done
[ "$started" = yes ] || { echo "$0: nodes not ready after 10 s" >&2; exit 1; }
if [ "$mode" = cluster ]; then
    for _ in $(seq 100); do
        [ "$(redis-cli -p "$port" DYNAMO NODES | grep -c 'link=up')" = 2 ] && break
        sleep 0.1
    done
fi
cd "$work"
for u in "$@"; do
    out=$(timeout 900 tclsh tests/test_helper.tcl --host 127.0.0.1 --port "$port" --singledb \
        --single "unit/$u" --tags -needs:debug --tags -needs:repl \
        --skiptest /non-string.key --skiptest /wrong.type --skiptest /incorrect.type \
        --skiptest '/COPY.basic.usage.for.list' \
        --skiptest '/[Ss]tream' --skiptest /holding.a.list --skiptest '/against.non.set$' \
        --skiptest '/SMOVE.only.notify.dstset' --skiptest '/MPOP|BZPOP' \
        --skiptest '/DUMP|dump|ziplist.of.various.encodings' 2>&1 | sed 's/\x1b\[[0-9;]*m//g')
    ok=$(printf '%s\n' "$out" | grep -c '^\[ok\]')
    err=$(printf '%s\n' "$out" | grep -c '^\[err\]')
    exc=$(printf '%s\n' "$out" | grep -c '^\[exception\]')
    echo "$mode $u: passed=$ok failed=$err stopped_on_exception=$exc"
    printf '%s\n' "$out" | grep -E '^\[err\]|^\[exception\]' | sed 's/^/    /'
done
for p in $pids; do kill "$p"; done
wait
rm -rf "$work"

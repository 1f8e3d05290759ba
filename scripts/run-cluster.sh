#!/bin/bash
# Starts every node listed in a cluster file (default: cluster.conf) in the
# foreground; Ctrl-C stops all of them (only the processes started here).
# Each node also serves its admin endpoint (status page, /metrics, /health)
# on its client port + ADMIN_OFFSET (default 1000: 7001 -> 8001; 0 = none).
# Once every node answers and sees every peer's link up, it says so and
# prints where the status pages are.
set -euo pipefail
cd "$(dirname "$0")/.."
conf=${1:-cluster.conf}
bin=./build/src/dynamo-node
logdir=${LOGDIR:-run}
admin_offset=${ADMIN_OFFSET:-1000}
mkdir -p "$logdir"
mapfile -t nodes < <(awk '$1 == "node" { print $2, $3 }' "$conf")
if [ ${#nodes[@]} -eq 0 ]; then
    echo "no 'node' lines in $conf" >&2
    exit 1
fi
pids=()
stop() {
    trap - INT TERM EXIT
    echo
    echo "stopping ${#pids[@]} node(s)"
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    exit 0
}
trap stop INT TERM EXIT
for entry in "${nodes[@]}"; do
    name=${entry%% *}
    addr=${entry#* }
    admin=()
    if [ "$admin_offset" -gt 0 ]; then
        admin=(--admin-port $(( ${addr#*:} + admin_offset )))
    fi
    "$bin" --config "$conf" --node "$name" --logfile "$logdir/$name.log" --dir "$logdir" \
        "${admin[@]}" &
    pids+=($!)
    echo "node $name: clients on $addr (pid $!, log $logdir/$name.log, data $logdir/$name.aol)"
done
first=${nodes[0]#* }
# Ready = every node answers PING and sees each of its peers' links up.
ready() {
    for entry in "${nodes[@]}"; do
        a=${entry#* }
        redis-cli -h "${a%:*}" -p "${a#*:}" PING 2>/dev/null | grep -q PONG || return 1
        up=$(redis-cli -h "${a%:*}" -p "${a#*:}" DYNAMO NODES 2>/dev/null | grep -c 'link=up' || true)
        [ "$up" -ge $(( ${#nodes[@]} - 1 )) ] || return 1
    done
}
start=$(date +%s%N)
deadline=$(( $(date +%s) + 60 ))
until ready; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "the cluster is not ready after 60 s; see $logdir/*.log" >&2
        break
    fi
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { echo "a node exited; see $logdir/*.log" >&2; exit 1; }; done
    sleep 0.2
done
if ready; then
    echo
    echo "cluster of ${#nodes[@]} nodes is ready ($(( ($(date +%s%N) - start) / 1000000 )) ms after start; every node sees every peer)."
fi
if [ "$admin_offset" -gt 0 ]; then
    echo "Status pages (live; also /status.json, /metrics for Prometheus, /health):"
    for entry in "${nodes[@]}"; do
        a=${entry#* }
        echo "  ${entry%% *}: http://${a%:*}:$(( ${a#*:} + admin_offset ))/status"
    done
fi
echo "Connect to any node, e.g.:"
echo "  redis-cli -h ${first%:*} -p ${first#*:}"
echo "  redis-cli -h ${first%:*} -p ${first#*:} DYNAMO NODES     (DYNAMO STATUS: work under way)"
echo "Ctrl-C stops every node."
# Exit (stopping the rest) as soon as any node dies.
wait -n "${pids[@]}" || true
echo "a node exited; see $logdir/*.log"

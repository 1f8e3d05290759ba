#!/bin/bash
# Starts every node listed in a cluster file (default: cluster.conf) in the
# foreground; Ctrl-C stops all of them (only the processes started here).
set -euo pipefail
cd "$(dirname "$0")/.."
conf=${1:-cluster.conf}
bin=./build/src/dynamo-node
logdir=${LOGDIR:-run}
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
    "$bin" --config "$conf" --node "$name" --logfile "$logdir/$name.log" --dir "$logdir" &
    pids+=($!)
    echo "node $name: clients on $addr (pid $!, log $logdir/$name.log, data $logdir/$name.aol)"
done
first=${nodes[0]#* }
echo
echo "cluster of ${#nodes[@]} nodes is up. Connect to any node, e.g.:"
echo "  redis-cli -h ${first%:*} -p ${first#*:}"
echo "  redis-cli -h ${first%:*} -p ${first#*:} DYNAMO NODES"
echo "Ctrl-C stops every node."
# Exit (stopping the rest) as soon as any node dies.
wait -n "${pids[@]}" || true
echo "a node exited; see $logdir/*.log"

#!/bin/sh
# Starts one dynamo-node (N=W=R=1) in the foreground; Ctrl-C stops it.
set -eu
cd "$(dirname "$0")/.."
port=${PORT:-7001}
echo "dynamo-node: starting one node on 127.0.0.1:$port (Ctrl-C stops it)"
echo "connect with:  redis-cli -p $port"
exec ./build/src/dynamo-node --port "$port" "$@"

#!/bin/sh
# Benchmark (not a test): dynamo-node vs redis-server side by side.
set -eu
cd "$(dirname "$0")/.."
./deps/install.sh
./scripts/build.sh
exec /usr/bin/python3 redis-tests/bench.py "$@"

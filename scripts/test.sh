#!/bin/sh
# README command 2: install what is missing, build, run every test:
#   1. unit tests (optimised build and ASan+UBSan build)
#   2. the request-parser and context fuzzers for a bounded time
#   3. cluster tests (3-node clusters, kills, pauses, partitions) inside a
#      private network namespace, then single-node integration and
#      client-compatibility tests, all against real processes
#   4. security tests (tests/security): each attack of issue 11 against real
#      nodes on the ASan + UBSan binary
set -eu
cd "$(dirname "$0")/.."
./deps/install.sh
echo "== build"
./scripts/build.sh --asan
echo "== layer rule: includes and calls point down (scripts/check-layers.py)"
/usr/bin/python3 scripts/check-layers.py --objects build build-asan
echo "== unit tests (release build)"
meson test -C build --suite unit --print-errorlogs
echo "== unit tests (ASan + UBSan build)"
meson test -C build-asan --suite unit --print-errorlogs
echo "== fuzzing (${FUZZ_SECONDS:-30}s per target)"
./tests/fuzz/run.sh "${FUZZ_SECONDS:-30}"
echo "== cluster tests (real processes in a private network namespace)"
DYNAMO_NODE_BIN="$PWD/build/src/dynamo-node" ./tests/cluster/run.sh
echo "== security tests (attacks on real nodes, private network + mount namespace)"
DYNAMO_NODE_BIN="$PWD/build-asan/src/dynamo-node" ./tests/security/run.sh
echo "== single-node integration tests on the ASan + UBSan binary"
DYNAMO_NODE_BIN="$PWD/build-asan/src/dynamo-node" \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration
echo "== cluster basics on the ASan + UBSan binary"
DYNAMO_NODE_BIN="$PWD/build-asan/src/dynamo-node" ./tests/cluster/run.sh tests/cluster/test_cluster.py \
    tests/cluster/test_bits_cluster.py
echo "== integration and client tests (real processes)"
DYNAMO_NODE_BIN="$PWD/build/src/dynamo-node" \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration redis-tests "$@"

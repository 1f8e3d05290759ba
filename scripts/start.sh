#!/bin/sh
# README command 1: install what is missing, build, start the local 3-node cluster of cluster.conf.
set -eu
cd "$(dirname "$0")/.."
./deps/install.sh
./scripts/build.sh
exec ./scripts/run-cluster.sh "$@"

#!/bin/sh
# README command 1: install what is missing, build, start a local node.
set -eu
cd "$(dirname "$0")/.."
./deps/install.sh
./scripts/build.sh
exec ./scripts/run-local.sh "$@"

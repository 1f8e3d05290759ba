#!/bin/sh
# Builds dynamo-node: build/ (optimised, jemalloc) and, with --asan, also
# build-asan/ (AddressSanitizer + UBSan, no recovery).
set -eu
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
    meson setup build --buildtype=release -Db_ndebug=false >/dev/null
fi
out=$(ninja -C build 2>&1) || { echo "$out"; exit 1; }
if [ "${1:-}" = "--asan" ]; then
    if [ ! -f build-asan/build.ninja ]; then
        meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined \
            -Db_lundef=false -Dwerror=true >/dev/null
    fi
    out=$(ninja -C build-asan 2>&1) || { echo "$out"; exit 1; }
fi

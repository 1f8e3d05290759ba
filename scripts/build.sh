#!/bin/sh
# Builds dynamo-node: build/ (optimised, jemalloc) and, with --asan, also
# build-asan/ (AddressSanitizer + UBSan, no recovery).
set -eu
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
    meson setup build --buildtype=release -Db_ndebug=false >/dev/null
fi
ninja -C build >/dev/null
if [ "${1:-}" = "--asan" ]; then
    if [ ! -f build-asan/build.ninja ]; then
        meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined \
            -Db_lundef=false -Dwerror=true >/dev/null
    fi
    ninja -C build-asan >/dev/null
fi

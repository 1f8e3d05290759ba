#!/bin/sh
# run.sh SECONDS [builddir] — build the libFuzzer targets with clang and run
# each one that exists for SECONDS.
#
# Configures <builddir> (default build-fuzz) with -Dfuzz=true if it is not
# configured yet, builds the targets listed in targets= below (a target whose source
# file does not exist yet is skipped), and runs every built target on a
# scratch copy of tests/fuzz/corpus/<name without fuzz_>/ inside the build
# directory, so the repository is never modified.  Crash inputs land in
# <builddir>/fuzz-artifacts/<target>/.  Exits non-zero if a build fails or a
# target crashes.
set -eu

usage() {
    echo "usage: $0 SECONDS [builddir]" >&2
    exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
secs=$1
case $secs in
    '' | *[!0-9]*) usage ;;
esac

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
builddir=${2:-build-fuzz}
targets="fuzz_resp fuzz_context fuzz_gossip fuzz_siblings fuzz_ae fuzz_aof fuzz_bits fuzz_crdt fuzz_http_auth fuzz_zorder"

if [ ! -f "$builddir/build.ninja" ]; then
    CC=clang meson setup "$builddir" -Dfuzz=true -Db_sanitize=none \
        --buildtype=debugoptimized >/dev/null
fi

built=""
for t in $targets; do
    if [ ! -f "tests/fuzz/$t.c" ]; then
        echo "== $t: tests/fuzz/$t.c does not exist, skipped"
        continue
    fi
    ninja -C "$builddir" "tests/fuzz/$t"
    built="$built $t"
done

status=0
for t in $built; do
    bin="$builddir/tests/fuzz/$t"
    name=${t#fuzz_}
    corpus="$builddir/fuzz-corpus/$name"
    artifacts="$builddir/fuzz-artifacts/$t"
    rm -rf "$corpus"
    mkdir -p "$corpus" "$artifacts"
    if [ -d "tests/fuzz/corpus/$name" ]; then
        cp -R "tests/fuzz/corpus/$name/." "$corpus/"
    fi
    log="$builddir/fuzz-$name.log"
    echo "== $t: ${secs}s on a copy of tests/fuzz/corpus/$name (log: $log)"
    rc=0
    "$bin" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || rc=$?
    # "Done N runs in S second(s)" and the final executions counter
    grep -E '^Done [0-9]+ runs|stat::number_of_executed_units' "$log" || true
    if [ "$rc" -ne 0 ]; then
        echo "== $t: FAILED (exit $rc); last lines of $log:" >&2
        tail -n 40 "$log" >&2
        status=1
    else
        echo "== $t: ok"
    fi
done

if [ -z "$built" ]; then
    echo "no fuzz targets built" >&2
    exit 1
fi
exit $status

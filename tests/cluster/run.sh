#!/bin/sh
# Runs the cluster tests (tests/cluster) inside a throwaway network namespace,
# where the nodes get their own loopback addresses (127.0.0.11, .12, ...) and
# nftables rules can cut single links without touching the host.  The
# namespace, its rules and its addresses vanish when this script exits.
#   tests/cluster/run.sh [pytest args...]      e.g. -k partition -x
#   tests/cluster/run.sh -q tests/cluster/test_cluster.py   (only that file)
# Root: unshare -nm.  Otherwise: unshare -rnm (a user namespace maps you to root);
# the private mount namespace lets a test mount a small tmpfs (full disk).
# DYNAMO_NODE_BIN selects the binary (default build/src/dynamo-node, built here).
set -eu
self=$(readlink -f "$0")
root=$(dirname "$(dirname "$(dirname "$self")")")
if [ "${DYNAMO_IN_NETNS:-}" != 1 ]; then
    cd "$root"
    if [ -z "${DYNAMO_NODE_BIN:-}" ]; then
        ./scripts/build.sh
    fi
    export DYNAMO_IN_NETNS=1
    if [ "$(id -u)" = 0 ]; then
        exec unshare -nm "$self" "$@"
    else
        exec unshare -rnm "$self" "$@"
    fi
fi
cd "$root"
export PATH="$PATH:/usr/sbin:/sbin"
ip link set lo up
# The whole directory unless a test file or directory is named.
for a in "$@"; do
    case "$a" in
        -*) ;;
        *) if [ -e "${a%%::*}" ]; then exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@"; fi ;;
    esac
done
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/cluster "$@"

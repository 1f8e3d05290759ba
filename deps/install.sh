#!/bin/sh
# Installs the Debian packages listed in deps/packages.txt that are missing.
# Idempotent: when everything is present it does nothing (no apt-get update).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
missing=""
for p in $(sed -e 's/#.*//' "$here/packages.txt"); do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# Node.js: many machines carry a vendor build of nodejs that bundles npm and
# conflicts with Debian's npm package, so only install them when absent.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
    echo "deps: installing:$missing"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q --no-install-recommends $missing
fi
# npm clients for the compatibility tests live in redis-tests/node (no global installs).
if [ -f "$here/../redis-tests/node/package.json" ] && [ ! -d "$here/../redis-tests/node/node_modules/redis" ]; then
    echo "deps: installing npm packages for redis-tests/node"
    (cd "$here/../redis-tests/node" && npm install --no-audit --no-fund --loglevel=error)
fi
exit 0

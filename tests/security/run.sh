#!/bin/sh
# Runs the security tests (tests/security) inside a throwaway network and
# mount namespace, through tests/cluster/run.sh:
#   tests/security/run.sh [pytest args...]     e.g. -k handshake -x
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
has_path=0
for a in "$@"; do
    case "$a" in
        -*) ;;
        *) if [ -e "$root/${a%%::*}" ] || [ -e "${a%%::*}" ]; then has_path=1; fi ;;
    esac
done
if [ $has_path = 1 ]; then
    exec "$root/tests/cluster/run.sh" "$@"
fi
exec "$root/tests/cluster/run.sh" tests/security "$@"

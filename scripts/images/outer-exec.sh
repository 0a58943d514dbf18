#!/usr/bin/env bash
# Run a command where the outer engine's published ports are: in its network namespace (the dind
# hosts' APIs on 127.0.0.1:2375x, Consul's UI on 127.0.0.1:8500), with DOCKER_HOST pointing at it.
# E.g.  scripts/images/outer-exec.sh docker -H tcp://127.0.0.1:23751 ps
#       scripts/images/outer-exec.sh npm run up
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/outer-env.sh"
[ -e "/run/netns/$DNLAB_OUTER_NETNS" ] || { echo "[outer-exec] error: no outer engine (run scripts/images/outer-up.sh)" >&2; exit 1; }
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
exec nsenter --net="/run/netns/$DNLAB_OUTER_NETNS" env DOCKER_HOST="unix://$OUTER_SOCKET" "$@"

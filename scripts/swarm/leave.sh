#!/usr/bin/env bash
# Take a Docker host out of its swarm on destroy (idempotent: not in a swarm -> nothing to do).
#
#   leave.sh <docker-host>
#
# --force: the manager of a one-manager lab swarm can only leave that way (the swarm ends with it).
# Run it on the workers first, then on the manager. A daemon that does not answer any more is taken
# as gone (destroy after the host itself was removed must not fail).
set -euo pipefail
PROG=swarm/leave.sh
die() { echo "$PROG: error: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $PROG <docker-host>"
DH=$1
DOCKER=${DNLAB_DOCKER:-docker}
d() { "$DOCKER" -H "$DH" "$@"; }

if ! state=$(d info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null); then
  echo "$PROG: the daemon at $DH does not answer; nothing to leave" >&2
  exit 0
fi
if [ "$state" = inactive ]; then
  echo "$PROG: $DH is not in a swarm" >&2
  exit 0
fi
d swarm leave --force >&2
echo "$PROG: $DH left the swarm" >&2

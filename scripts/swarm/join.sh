#!/usr/bin/env bash
# Join a Docker host to the lab's swarm as a worker (idempotent).
#
#   SWARM_JOIN_TOKEN=<token> join.sh <docker-host> <manager-addr:2377> <advertise-addr>
#
# The token comes from init.sh's stdout; it is read from the environment, not the command line, so it
# shows neither in `ps` nor in logs. Already a node that knows this manager: nothing to do. A node of
# another swarm: error (leave.sh first).
set -euo pipefail
PROG=swarm/join.sh
die() { echo "$PROG: error: $*" >&2; exit 1; }
[ $# -eq 3 ] || die "usage: SWARM_JOIN_TOKEN=... $PROG <docker-host> <manager-addr:port> <advertise-addr>"
DH=$1 MANAGER=$2 ADDR=$3
TOKEN=${SWARM_JOIN_TOKEN:-}
[[ "$TOKEN" == SWMTKN-* ]] || die "SWARM_JOIN_TOKEN is not set to a swarm join token (print one with swarm/init.sh)"
DOCKER=${DNLAB_DOCKER:-docker}
d() { "$DOCKER" -H "$DH" "$@"; }

state=$(d info --format '{{.Swarm.LocalNodeState}}') || die "the daemon at $DH does not answer"
case "$state" in
  inactive)
    echo "$PROG: $DH joins the swarm of $MANAGER (advertise $ADDR)" >&2
    d swarm join --token "$TOKEN" --advertise-addr "$ADDR" "$MANAGER" >&2
    ;;
  active)
    managers=$(d info --format '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}')
    [[ " $managers " == *" $MANAGER "* ]] ||
      die "$DH is in a swarm whose managers are '$managers', not $MANAGER; run swarm/leave.sh on it first"
    echo "$PROG: $DH is already in the swarm of $MANAGER" >&2
    ;;
  *) die "$DH is in swarm state '$state'; run swarm/leave.sh on it first" ;;
esac

#!/usr/bin/env bash
# Make a Docker host the swarm manager (idempotent) and print the worker join token on stdout.
#
#   init.sh <docker-host> <advertise-addr> <default-addr-pool> <pool-mask-length>
#
# <docker-host> is a DOCKER_HOST value (unix:///var/run/docker.sock when run on the host itself,
# unix:///run/dnlab/LAB/host1.sock for a netns host, tcp://127.0.0.1:23751 for a dind host). The values
# come from the lab plan (plan.swarm, the manager's underlay address): see src/model/remoteCommands.ts.
# stdout carries ONLY the token (the caller keeps it as a secret); progress goes to stderr.
# Already a manager: no second init, the token is printed again. A worker or a node of a half-joined
# swarm: error (leave.sh first).
set -euo pipefail
PROG=swarm/init.sh
die() { echo "$PROG: error: $*" >&2; exit 1; }
[ $# -eq 4 ] || die "usage: $PROG <docker-host> <advertise-addr> <default-addr-pool> <pool-mask-length>"
DH=$1 ADDR=$2 POOL=$3 MASK=$4
[[ "$MASK" =~ ^[0-9]+$ ]] || die "pool mask length '$MASK' is not a number"
# Another docker client may sit earlier on PATH on the lab machines: the caller can name the CLI.
DOCKER=${DNLAB_DOCKER:-docker}
d() { "$DOCKER" -H "$DH" "$@"; }

state=$(d info --format '{{.Swarm.LocalNodeState}}') || die "the daemon at $DH does not answer"
case "$state" in
  inactive)
    echo "$PROG: swarm init on $DH (advertise $ADDR, pool $POOL/$MASK)" >&2
    # Its own output repeats the join token: keep it out of logs, show it only on failure.
    out=$(d swarm init --advertise-addr "$ADDR" --default-addr-pool "$POOL" --default-addr-pool-mask-length "$MASK" 2>&1) ||
      die "swarm init failed: $out"
    head -n1 <<<"$out" >&2
    ;;
  active)
    [ "$(d info --format '{{.Swarm.ControlAvailable}}')" = true ] ||
      die "$DH is a worker of another swarm; run swarm/leave.sh on it first"
    echo "$PROG: $DH is already a swarm manager; not initialising again" >&2
    ;;
  *) die "$DH is in swarm state '$state'; run swarm/leave.sh on it first" ;;
esac
d swarm join-token -q worker

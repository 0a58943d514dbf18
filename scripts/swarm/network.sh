#!/usr/bin/env bash
# The lab's swarm-scoped overlay network, attachable so plain `docker run` containers can join it.
#
#   network.sh create <docker-host> <name> <subnet> <gateway> [mtu] [ip-range]
#   network.sh remove <docker-host> <name>
#
# ip-range is where swarm allocates by itself (each node's lb-<name> endpoint); the lab's static
# container addresses lie outside it. An empty mtu keeps Docker's default.
#
# Run create on the manager once every node has joined. Idempotent: an existing network with the same
# driver, scope, subnet, gateway and attachable flag is kept; one that differs is an error (it would
# silently give the lab other addresses than the plan's). remove of an absent network is a no-op.
set -euo pipefail
PROG=swarm/network.sh
die() { echo "$PROG: error: $*" >&2; exit 1; }
[ $# -ge 3 ] || die "usage: $PROG create <docker-host> <name> <subnet> <gateway> [mtu] [ip-range] | remove <docker-host> <name>"
OP=$1 DH=$2 NAME=$3
DOCKER=${DNLAB_DOCKER:-docker}
d() { "$DOCKER" -H "$DH" "$@"; }

exists() { d network inspect --format '{{.Name}}' "$NAME" >/dev/null 2>&1; }

case "$OP" in
  create)
    [ $# -ge 5 ] && [ $# -le 7 ] || die "usage: $PROG create <docker-host> <name> <subnet> <gateway> [mtu] [ip-range]"
    SUBNET=$4 GATEWAY=$5 MTU=${6:-} RANGE=${7:-}
    want="overlay swarm true $SUBNET $GATEWAY $RANGE"
    if exists; then
      have=$(d network inspect --format '{{.Driver}} {{.Scope}} {{.Attachable}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}}{{end}}' "$NAME")
      [ "$have" = "$want" ] ||
        die "network $NAME exists as '$have', the lab wants '$want'; remove it (network.sh remove) or rename the lab's network"
      echo "$PROG: network $NAME already exists as planned" >&2
      exit 0
    fi
    opts=()
    [ -z "$MTU" ] || opts+=(--opt "com.docker.network.driver.mtu=$MTU")
    [ -z "$RANGE" ] || opts+=(--ip-range "$RANGE")
    d network create --driver overlay --attachable --subnet "$SUBNET" --gateway "$GATEWAY" "${opts[@]}" "$NAME" >&2
    echo "$PROG: created attachable overlay $NAME ($SUBNET, gateway $GATEWAY)" >&2
    ;;
  remove)
    [ $# -eq 3 ] || die "usage: $PROG remove <docker-host> <name>"
    if ! exists; then echo "$PROG: network $NAME is absent" >&2; exit 0; fi
    d network rm "$NAME" >&2
    ;;
  *) die "unknown operation '$OP' (use create or remove)" ;;
esac

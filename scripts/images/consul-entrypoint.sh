#!/bin/sh
# Entrypoint of the locally built Consul image (scripts/images/build.sh), a stand-in for the official
# hashicorp/consul image's docker-entrypoint.sh. What the lab relies on, kept the same here:
#  - `agent ...` runs `consul agent -data-dir=/consul/data -config-dir=/consul/config ...` (the lab
#    mounts its volume on /consul/data);
#  - an argv of flags only runs `consul` with them; another consul subcommand (members, kv ...) runs it.
# Not reproduced: the official image drops to a `consul` user with su-exec; this one runs as root.
set -eu
if [ "$#" -eq 0 ]; then set -- agent -dev -client 0.0.0.0; fi
case "$1" in
  -*) set -- consul "$@" ;;
  agent) shift; set -- consul agent -data-dir=/consul/data -config-dir=/consul/config "$@" ;;
  *) if consul "$1" -help >/dev/null 2>&1; then set -- consul "$@"; fi ;;
esac
exec "$@"

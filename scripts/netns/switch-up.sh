#!/usr/bin/env bash
# The lab's underlay switch: a namespace holding one bridge. Every host and the KV store plug a veth
# into it, so all underlay traffic (VXLAN included) crosses this bridge, where tcpdump can see it.
# The bridge carries the underlay gateway address: the default external target in swarm mode.
#
# usage: switch-up.sh --namespace LAB-sw --bridge br0 --gateway 198.18.0.1/24
set -euo pipefail
source "$(dirname "$0")/lib.sh"
parse_args "$@"
need namespace bridge gateway
ns=${ARG[namespace]} br=${ARG[bridge]} gw=${ARG[gateway]}
[[ "$gw" == */* ]] || die "--gateway must be address/prefix, got '$gw'"

ensure_ns "$ns"
if ! ip -n "$ns" link show "$br" >/dev/null 2>&1; then
  ip -n "$ns" link add "$br" type bridge
  log "bridge $br created in $ns"
fi
if ! has_addr "$ns" "$br" "$gw"; then
  ip -n "$ns" addr add "$gw" dev "$br"
fi
ip -n "$ns" link set "$br" up
log "switch $ns ready: $br $gw"

#!/usr/bin/env bash
# Remove the lab switch namespace (its bridge and any veth ends go with it), then the lab's top-level
# state directories, but only when empty: hosts and the KV store remove their own parts first.
#
# usage: switch-down.sh --namespace LAB-sw [--rmdir /run/dnlab/LAB]... (repeatable)
set -euo pipefail
MULTI="rmdir"
source "$(dirname "$0")/lib.sh"
parse_args "$@"
need namespace
ns=${ARG[namespace]}

if ns_exists "$ns"; then
  ip netns del "$ns"
  log "namespace $ns deleted"
else
  log "namespace $ns already absent"
fi
while IFS= read -r d; do
  [ -n "$d" ] && [ -d "$d" ] || continue
  # rmdir, not rm -rf: a non-empty dir means a host/KV teardown has not run, and must be visible.
  rmdir -- "$d" 2>/dev/null && log "removed $d" || log "warning: $d not empty, kept: $(ls -A "$d" | tr '\n' ' ')"
done <<<"$(opt rmdir)"

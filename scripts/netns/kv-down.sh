#!/usr/bin/env bash
# Stop the KV store by its recorded PID and wait for it to exit, delete its namespace and its dir.
# Idempotent.
#
# usage: kv-down.sh --namespace LAB-kv --dir /run/dnlab/LAB/kv [--timeout 30]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
parse_args "$@"
need namespace dir
ns=${ARG[namespace]} dir=${ARG[dir]}
pid=$(cat "$dir/kv.pid" 2>/dev/null || true)
# The data dir is in the server's command line: the marker that the pid is still ours.
stop_pid "$pid" "$dir/data" "$(opt timeout 30)" "KV store"
if ns_exists "$ns"; then
  ip netns del "$ns"
  log "namespace $ns deleted"
fi
unmount_under "$dir"
remove_dir "$dir"
log "KV host in $ns removed"

#!/usr/bin/env bash
# Tear one netns Docker host down, in the order of lab-recipe.md: remove its containers, leave the
# swarm (if any), SIGTERM dockerd by its pidfile and WAIT for it to exit (killing it first leaves
# containerd shims and busy mounts behind), unmount leftovers under data-root/exec-root, delete the
# namespace, delete the dirs. Idempotent: every step checks whether there is anything left to do.
#
# usage: host-down.sh --namespace LAB-host1 --state-dir D --data-root D --exec-root D --pidfile F
#                     --socket S [--timeout 30]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
parse_args "$@"
need namespace state-dir data-root exec-root pidfile socket
ns=${ARG[namespace]} state=${ARG[state-dir]} data=${ARG[data-root]} exec_root=${ARG[exec-root]}
pidfile=${ARG[pidfile]} sock=${ARG[socket]}
grace=$(opt timeout 30)
d() { timeout 60 "$DOCKER" -H "unix://$sock" "$@"; }

pid=$(cat "$pidfile" 2>/dev/null || true)
if pid_is "$pid" "$pidfile"; then
  if d info >/dev/null 2>&1; then
    ids=$(d ps -aq 2>/dev/null || true)
    if [ -n "$ids" ]; then
      log "removing containers: $(echo "$ids" | tr '\n' ' ')"
      # shellcheck disable=SC2086
      d rm -f $ids >/dev/null || log "warning: some containers could not be removed"
    fi
    swarm=$(d info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || true)
    case "$swarm" in
      active | pending | error | locked)
        log "leaving swarm (state $swarm)"
        d swarm leave --force >/dev/null || log "warning: swarm leave failed"
        ;;
    esac
  else
    log "warning: dockerd (pid $pid) does not answer; stopping it without removing containers"
  fi
  stop_pid "$pid" "$pidfile" "$grace" dockerd
else
  log "no dockerd running for $pidfile"
fi

# Children of our daemon that outlived it (containerd, shims) carry our exec-root in their
# command line; they are ours, so stop them by pid.
for p in $(pids_mentioning "$exec_root/"); do
  stop_pid "$p" "$exec_root/" 10 "leftover process"
done

unmount_under "$exec_root"
unmount_under "$state"
unmount_under "$data"

if ns_exists "$ns"; then
  ip netns del "$ns"
  log "namespace $ns deleted"
fi

remove_dir "$exec_root"
remove_dir "$data"
remove_dir "$state"
rm -f -- "$pidfile" "$sock"
log "host in $ns removed"

#!/usr/bin/env bash
# Stop the outer engine and remove everything it had, as a netns lab host is torn down (host-down.sh:
# containers removed, dockerd stopped by its recorded pid and waited for, leftover shims stopped by pid,
# mounts under its roots unmounted, its namespace and dirs deleted). Its data-root goes with it, so no
# container, network, volume or image is left; the built images stay cached in /var/cache/dnlab/images.
# Idempotent.  usage: scripts/images/outer-down.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/outer-env.sh"
"$here/../netns/host-down.sh" --namespace "$DNLAB_OUTER_NETNS" --state-dir "$DNLAB_OUTER_STATE" \
  --data-root "$OUTER_DATA_ROOT" --exec-root "$OUTER_EXEC_ROOT" --pidfile "$OUTER_PIDFILE" --socket "$OUTER_SOCKET"
if [ -d "$DNLAB_OUTER_RUN" ]; then rmdir -- "$DNLAB_OUTER_RUN" 2>/dev/null || echo "[outer-down] warning: $DNLAB_OUTER_RUN not empty: $(ls -A "$DNLAB_OUTER_RUN")" >&2; fi

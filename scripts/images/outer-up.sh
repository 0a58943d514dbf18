#!/usr/bin/env bash
# Start the outer engine the dind test labs run on: a dockerd of its own (Debian's 20.10) with its own
# socket, data-root, exec-root and pidfile (scripts/images/outer-env.sh), never the machine's default
# socket. It runs in its own network namespace, started as the netns lab hosts are (lab-recipe.md):
# nsenter --net + unshare --uts, not `ip netns exec` (which remounts /sys: "Devices cgroup isn't
# mounted"). So its bridges, iptables rules and the dind hosts' API ports published on 127.0.0.1 exist
# only in that namespace: reach them with scripts/images/outer-exec.sh; the socket itself works from
# anywhere (DOCKER_HOST=unix:///run/dnlab-outer/docker.sock).
#
# Privileged containers: runc grants a --privileged container every capability it knows; when this
# machine's capability bounding set lacks some (CAP_SYS_RESOURCE here) runc fails with "unable to apply
# caps: operation not permitted". Then the engine's default runtime is runc-drop-caps.sh, which removes
# exactly the missing ones from the container spec; on a machine with all of them plain runc is used.
#
# Idempotent: a running outer engine is left alone. Prints the DOCKER_HOST on the last line of stdout.
# usage: scripts/images/outer-up.sh [--timeout 60]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../netns/lib.sh"
source "$here/outer-env.sh"
parse_args "$@"
timeout=$(opt timeout 60)
dockerd=/usr/sbin/dockerd
[ "$(id -u)" = 0 ] || die "run as root (it starts a dockerd and creates a network namespace)"
[ -x "$dockerd" ] && [ -x "$DOCKER" ] || die "Debian's docker.io is missing (run scripts/install-deps.sh)"
command -v jq >/dev/null || die "jq not found (run scripts/install-deps.sh)"
if [ -S /run/containerd/containerd.sock ]; then
  die "a system containerd is listening on /run/containerd/containerd.sock; the outer engine would share it. Stop it (systemctl disable --now containerd docker) and retry"
fi

ready() { timeout 10 "$DOCKER" -H "unix://$OUTER_SOCKET" info >/dev/null 2>&1; }
pid=$(cat "$OUTER_PIDFILE" 2>/dev/null || true)
if pid_is "$pid" "$OUTER_PIDFILE" && ready; then
  log "outer engine already running (pid $pid, unix://$OUTER_SOCKET)"
  echo "unix://$OUTER_SOCKET"
  exit 0
fi

# Capabilities of the machine's bounding set that runc would grant a privileged container (0..cap_last_cap).
CAP_NAMES=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
  NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT
  SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE
  AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ
  PERFMON BPF CHECKPOINT_RESTORE)
bnd=$((16#$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)))
last=$(cat /proc/sys/kernel/cap_last_cap)
missing=()
for ((c = 0; c <= last && c < ${#CAP_NAMES[@]}; c++)); do
  (((bnd >> c) & 1)) || missing+=("CAP_${CAP_NAMES[c]}")
done

cleanup_on_failure() {
  local rc=$?
  [ $rc -ne 0 ] || return 0
  trap - EXIT
  log "outer engine start failed (exit $rc); removing what was made"
  "$here/outer-down.sh" || true
  exit $rc
}
trap cleanup_on_failure EXIT

mkdir -p "$DNLAB_OUTER_RUN" "$OUTER_EXEC_ROOT" "$OUTER_DATA_ROOT"
ensure_ns "$DNLAB_OUTER_NETNS"
pool_json=$(jq -nc --arg base "$DNLAB_OUTER_POOL" '[{base: $base, size: 24}]')
if [ ${#missing[@]} -gt 0 ]; then
  log "this machine's capability bounding set lacks ${missing[*]}: privileged containers would fail with 'unable to apply caps'; default runtime drops them (runc-drop-caps.sh)"
  # The runtime is one file the shim can exec: the wrapper with the capabilities baked in (the
  # daemon's environment does not reliably reach runc through containerd and its shims).
  printf '#!/bin/sh\nDNLAB_DROP_CAPS=%q DNLAB_RUNC=/usr/sbin/runc exec %q "$@"\n' "${missing[*]}" "$here/runc-drop-caps.sh" >"$OUTER_RUNTIME"
  chmod 755 "$OUTER_RUNTIME"
  jq -n --arg bip "$DNLAB_OUTER_BIP" --argjson pools "$pool_json" --arg rt "$OUTER_RUNTIME" \
    '{bip: $bip, "default-address-pools": $pools, runtimes: {"dnlab-runc": {path: $rt}}, "default-runtime": "dnlab-runc"}' >"$OUTER_CONFIG"
else
  rm -f -- "$OUTER_RUNTIME"
  jq -n --arg bip "$DNLAB_OUTER_BIP" --argjson pools "$pool_json" '{bip: $bip, "default-address-pools": $pools}' >"$OUTER_CONFIG"
fi

rm -f -- "$OUTER_PIDFILE"
log "starting the outer engine in netns $DNLAB_OUTER_NETNS (log: $OUTER_LOG)"
# start_daemon (lib.sh): its own session and none of the caller's descriptors above 2 (a daemon that
# inherited flock's lock would hold it for as long as it runs).
start_daemon nsenter --net="/run/netns/$DNLAB_OUTER_NETNS" unshare --uts \
  sh -c 'hostname "$1"; shift; exec "$@"' sh "$DNLAB_OUTER_NETNS" \
  "$dockerd" --config-file "$OUTER_CONFIG" --data-root "$OUTER_DATA_ROOT" --exec-root "$OUTER_EXEC_ROOT" \
  --pidfile "$OUTER_PIDFILE" -H "unix://$OUTER_SOCKET" >>"$OUTER_LOG" 2>&1 ||
  die "the outer dockerd did not start; last lines of $OUTER_LOG:
$(tail -n 25 "$OUTER_LOG" 2>/dev/null)"
pid=$!
deadline=$((SECONDS + timeout))
until ready; do
  pid_is "$pid" "$OUTER_PIDFILE" || die "the outer dockerd exited during start-up; last lines of $OUTER_LOG:
$(tail -n 25 "$OUTER_LOG" 2>/dev/null)"
  [ $SECONDS -lt $deadline ] || die "the outer dockerd is not ready after ${timeout}s; last lines of $OUTER_LOG:
$(tail -n 25 "$OUTER_LOG" 2>/dev/null)"
  sleep 0.2
done
[ "$(cat "$OUTER_PIDFILE" 2>/dev/null)" = "$pid" ] || die "the outer dockerd's pidfile does not hold its pid $pid"
trap - EXIT
log "outer engine ready: pid $pid, unix://$OUTER_SOCKET, netns $DNLAB_OUTER_NETNS"
echo "unix://$OUTER_SOCKET"

#!/usr/bin/env bash
# One Docker host as a network namespace: a veth into the lab switch (eth0 inside, with the host's
# underlay address and a default route via the underlay gateway) and its own dockerd, started as in
# lab-recipe.md: nsenter --net + unshare --uts with a unique hostname (classic overlay gossip breaks
# on equal hostnames), its own data-root, exec-root, pidfile and socket. Idempotent: a running daemon
# with the same command line is left alone. Converges like a real host whose settings change: a
# daemon running with other flags is stopped (by its pidfile, waiting for it) and started again with
# the new ones, keeping its data-root (containers with a restart policy come back); an address that
# is no longer the planned one is replaced. If bring-up fails, everything this host had is torn down
# again (host-down.sh), so a failed create never leaves a half-built host behind.
#
# --restart REASON restarts a running daemon even when its command line is the planned one, saying why
# (the verifier found it stuck: Docker 20.10 left one of its threads in a deleted overlay namespace).
#
# usage: host-up.sh --name host1 --namespace LAB-host1 --switch LAB-sw --bridge br0 --switch-end v-host1
#                   --iface eth0 --address 198.18.0.11/24 --gateway 198.18.0.1
#                   --state-dir D --data-root D --exec-root D --pidfile F --socket S
#                   [--timeout 60] [--dockerd /usr/sbin/dockerd] [--restart REASON] -- DOCKERD_FLAGS...
set -euo pipefail
source "$(dirname "$0")/lib.sh"
parse_args "$@"
need name namespace switch bridge switch-end iface address gateway state-dir data-root exec-root pidfile socket
name=${ARG[name]} ns=${ARG[namespace]}
state=${ARG[state-dir]} data=${ARG[data-root]} exec_root=${ARG[exec-root]}
pidfile=${ARG[pidfile]} sock=${ARG[socket]}
timeout=$(opt timeout 60)
dockerd=$(opt dockerd /usr/sbin/dockerd)
restart=$(opt restart)
logfile="$state/dockerd.log"
[[ "${ARG[address]}" == */* ]] || die "--address must be address/prefix, got '${ARG[address]}'"
if [ ! -x "$dockerd" ]; then
  case "$dockerd" in
    /usr/sbin/dockerd) die "dockerd not found at $dockerd (run scripts/install-deps.sh)" ;;
    *) die "dockerd not found at $dockerd (--dockerd): a Docker 26 host needs npm run docker26:fetch and" \
         "DNLAB_DOCKERD_26=<the path it prints>; a consul-capable 20.10 npm run dockerd:build and DNLAB_DOCKERD" ;;
  esac
fi
[ -x "$DOCKER" ] || die "docker client not found at $DOCKER (run scripts/install-deps.sh)"
# dockerd uses a system containerd instead of starting its own when this socket exists; all lab
# hosts would then share one containerd (and its state), and host teardown would not be isolated.
if [ -S /run/containerd/containerd.sock ]; then
  die "a system containerd is listening on /run/containerd/containerd.sock; lab dockerds would share it. Stop it (e.g. systemctl disable --now containerd docker) and retry"
fi

# The cluster-store backends are compiled in: Debian's docker.io 20.10 has etcd and zookeeper but no
# consul (its Go client is not packaged), and dockerd then dies with "discovery service not
# supported". Say so before starting anything; scripts/build-dockerd-consul.sh builds one that has it
# (pass it as --dockerd). (Its zookeeper store is there but broken: the labs' preflight refuses it,
# src/model/zookeeper.ts.)
for f in "${REST[@]}"; do
  case "$f" in
    --cluster-store=*://* | *://*)
      scheme=${f#--cluster-store=}
      scheme=${scheme%%://*}
      case "$scheme" in consul | etcd | zk) ;; *) continue ;; esac
      [ "$scheme" = zk ] && backend=zookeeper || backend=$scheme
      if ! grep -q "libkv/store/$backend" "$dockerd"; then
        die "$dockerd was built without the $backend cluster-store backend (Debian's docker.io has etcd and zookeeper only)," \
          "so --cluster-store=$scheme://... cannot work. Fix: use kv.kind etcd, or --dockerd with a dockerd that has it" \
          "(npm run dockerd:build prints one; DNLAB_DOCKERD)"
      fi
      ;;
  esac
done

ready() { timeout 10 "$DOCKER" -H "unix://$sock" info >/dev/null 2>&1; }

cleanup_on_failure() {
  local rc=$?
  [ $rc -ne 0 ] || return 0
  trap - EXIT
  log "bring-up of $name failed (exit $rc); tearing the host down again"
  "$(dirname "$0")/host-down.sh" --namespace "$ns" --state-dir "$state" --data-root "$data" \
    --exec-root "$exec_root" --pidfile "$pidfile" --socket "$sock" || true
  exit $rc
}
trap cleanup_on_failure EXIT

mkdir -p "$state" "$data" "$exec_root" "$(dirname "$pidfile")" "$(dirname "$sock")"
ensure_ns "$ns"
attach_to_switch "$ns" "${ARG[iface]}" "${ARG[switch]}" "${ARG[bridge]}" "${ARG[switch-end]}" "${ARG[address]}" "${ARG[gateway]}"

want=("$dockerd" --data-root "$data" --exec-root "$exec_root" --pidfile "$pidfile" -H "unix://$sock" "${REST[@]}")
pid=$(cat "$pidfile" 2>/dev/null || true)
if pid_is "$pid" "$pidfile"; then
  running=$(tr '\0' '\n' <"/proc/$pid/cmdline")
  if [ -n "$restart" ]; then
    log "restarting dockerd for $name (pid $pid): $restart"
    stop_pid "$pid" "$pidfile" 30 dockerd
    pid=""
  elif [ "$running" = "$(printf '%s\n' "${want[@]}")" ]; then
    log "dockerd for $name already running (pid $pid)"
  else
    log "dockerd for $name runs with other settings; restarting it with the planned ones"
    stop_pid "$pid" "$pidfile" 30 dockerd
    pid=""
  fi
fi
if ! pid_is "$pid" "$pidfile"; then
  # A stale pidfile whose pid now belongs to another process would make dockerd refuse to start.
  rm -f -- "$pidfile"
  log "starting dockerd for $name in $ns (log: $logfile)"
  # A daemon with its own fds: it must outlive this script and must not hold the caller's stdout open
  # (Pulumi's local.Command waits for EOF on it).
  start_daemon nsenter --net="/run/netns/$ns" unshare --uts \
    sh -c 'hostname "$1"; shift; exec "$@"' sh "$name" "${want[@]}" >>"$logfile" 2>&1 ||
    die "dockerd for $name did not start; last lines of $logfile:
$(tail -n 25 "$logfile" 2>/dev/null)"
  pid=$!
fi

# Readiness: the API answers. Fail fast if the daemon died, and show why.
deadline=$((SECONDS + timeout))
until ready; do
  if ! pid_is "$pid" "$pidfile"; then
    die "dockerd for $name exited during start-up; last lines of $logfile:
$(tail -n 25 "$logfile" 2>/dev/null)"
  fi
  if [ $SECONDS -ge $deadline ]; then
    die "dockerd for $name not ready after ${timeout}s (docker -H unix://$sock info fails); last lines of $logfile:
$(tail -n 25 "$logfile" 2>/dev/null)"
  fi
  sleep 0.2
done
recorded=$(cat "$pidfile" 2>/dev/null || true)
[ "$recorded" = "$pid" ] || die "dockerd pid $pid differs from its pidfile ($recorded): refusing to track the wrong process"
trap - EXIT
log "host $name ready: ${ARG[address]} in $ns, dockerd pid $pid, unix://$sock"

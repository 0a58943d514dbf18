#!/usr/bin/env bash
# The classic overlay's key-value store as its own host on the underlay: a namespace with a veth into
# the lab switch, running etcd (v2 API enabled: Docker 20.10's KV client speaks v2), consul (a
# binary whose path is given; Debian has no consul package) or zookeeper (Debian's 3.8, see
# zookeeper.sh). Each listens on the lab address only. Idempotent: a running store whose PID is
# recorded is left alone. On failure the KV host is torn down again (kv-down.sh).
#
# usage: kv-up.sh --kind etcd|consul|zookeeper --name NODE --namespace LAB-kv --switch LAB-sw --bridge br0
#                 --switch-end v-kv --iface eth0 --address 198.18.0.2/24 --gateway 198.18.0.1
#                 --port 2379 --dir /run/dnlab/LAB/kv [--consul-bin PATH] [--etcd-bin /usr/bin/etcd]
#                 [--timeout 60]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/zookeeper.sh"
parse_args "$@"
need kind name namespace switch bridge switch-end iface address gateway port dir
kind=${ARG[kind]} node=${ARG[name]} ns=${ARG[namespace]} dir=${ARG[dir]} port=${ARG[port]}
cidr=${ARG[address]}
[[ "$cidr" == */* ]] || die "--address must be address/prefix, got '$cidr'"
ip=${cidr%/*}
timeout=$(opt timeout 60)
pidfile="$dir/kv.pid" logfile="$dir/kv.log" data="$dir/data"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (install busybox-static: scripts/install-deps.sh)"

case "$kind" in
  etcd)
    bin=$(opt etcd-bin /usr/bin/etcd)
    [ -x "$bin" ] || die "etcd not found at $bin (install etcd-server: scripts/install-deps.sh)"
    [ "$port" != 2380 ] || die "--port 2380 is etcd's peer port; use 2379"
    cmd=("$bin" --name "$node" --data-dir "$data" --enable-v2=true
      --listen-client-urls "http://$ip:$port" --advertise-client-urls "http://$ip:$port"
      --listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380"
      --initial-cluster "$node=http://$ip:2380")
    # /v2/keys answers only when the v2 API is on, which is exactly what dockerd needs.
    probe() { http_get /v2/keys/ '"action":"get"'; }
    probe_what="GET http://$ip:$port/v2/keys/"
    ;;
  consul)
    bin=$(opt consul-bin)
    [ -n "$bin" ] || die "--consul-bin is required for kind consul (build it: npm run consul:build)"
    [ -x "$bin" ] || die "consul binary not found or not executable at '$bin' (build it: npm run consul:build)"
    # No update checks: the namespace has no way out anyway, but do not even try. Raft timing for one
    # server on one machine (multiplier 1, as -dev uses), not Consul's production-safe default of 5:
    # a leader in about 1 s instead of 2-9 s (measured under CPU load).
    cmd=("$bin" agent -server -bootstrap-expect=1 -ui "-node=$node" "-bind=$ip" "-client=$ip"
      "-http-port=$port" "-data-dir=$data" -hcl 'disable_update_check = true' -hcl 'performance { raft_multiplier = 1 }')
    # A leader looks like "198.18.0.2:8300"; an empty string ("") means no leader elected yet.
    probe() { http_get /v1/status/leader '"[^"]+"'; }
    probe_what="GET http://$ip:$port/v1/status/leader"
    ;;
  zookeeper)
    missing=$(zk_missing)
    [ -z "$missing" ] || die "$missing"
    # The config sits in the data dir: its path in the server's command line is the pid's marker.
    # Only the client port, on the lab address; no AdminServer (Jetty, 8080 on every address by
    # default); of the four-letter words only srvr (the health probe) and ruok.
    conf="$data/zoo.cfg"
    zk_command "$conf"
    cmd=("${ZK_CMD[@]}")
    probe() {
      local out
      out=$(printf srvr | in_ns "$ns" timeout 5 "$BUSYBOX" nc "$ip" "$port" 2>/dev/null) || return 1
      zk_serving "$out"
    }
    probe_what="srvr to $ip:$port: Mode: standalone"
    ;;
  *) die "unknown --kind '$kind' (etcd, consul or zookeeper)" ;;
esac

# GET a path from the store's HTTP API inside its namespace; the body must match a regex.
http_get() {
  local body
  body=$(in_ns "$ns" timeout 5 "$BUSYBOX" wget -qO- "http://$ip:$port$1" 2>/dev/null) || return 1
  [[ "$body" =~ $2 ]]
}

cleanup_on_failure() {
  local rc=$?
  [ $rc -ne 0 ] || return 0
  trap - EXIT
  log "KV bring-up failed (exit $rc); tearing the KV host down again"
  "$(dirname "$0")/kv-down.sh" --namespace "$ns" --dir "$dir" || true
  exit $rc
}
trap cleanup_on_failure EXIT

mkdir -p "$data"
if [ "$kind" = zookeeper ]; then
  printf '%s\n' "# written by kv-up.sh (dnlab): standalone, client port on the lab address only" \
    "dataDir=$data" "clientPortAddress=$ip" "clientPort=$port" "tickTime=2000" \
    "admin.enableServer=false" "4lw.commands.whitelist=srvr,ruok" >"$conf"
fi
ensure_ns "$ns"
attach_to_switch "$ns" "${ARG[iface]}" "${ARG[switch]}" "${ARG[bridge]}" "${ARG[switch-end]}" "$cidr" "${ARG[gateway]}"

pid=$(cat "$pidfile" 2>/dev/null || true)
if pid_is "$pid" "$data"; then
  log "$kind already running (pid $pid)"
else
  log "starting $kind $node at $ip:$port in $ns (log: $logfile)"
  # A daemon with its own fds: the server outlives this script and does not hold the caller's stdout.
  start_daemon env CHECKPOINT_DISABLE=1 nsenter --net="/run/netns/$ns" "${cmd[@]}" >>"$logfile" 2>&1 ||
    die "$kind did not start; last lines of $logfile:
$(tail -n 25 "$logfile" 2>/dev/null)"
  pid=$!
  echo "$pid" >"$pidfile"
fi

deadline=$((SECONDS + timeout))
until probe; do
  pid_is "$pid" "$data" || die "$kind exited during start-up; last lines of $logfile:
$(tail -n 25 "$logfile" 2>/dev/null)"
  [ $SECONDS -lt $deadline ] || die "$kind not ready after ${timeout}s ($probe_what); last lines of $logfile:
$(tail -n 25 "$logfile" 2>/dev/null)"
  sleep 0.3
done
trap - EXIT
[ "$kind" = zookeeper ] && url="zk://$ip:$port" || url="http://$ip:$port"
log "$kind ready at $url (pid $pid)"

#!/usr/bin/env bash
# The benchmark's baseline: the same netns lab bring-up as `upNetnsLab` + `applyNetworksAndWorkloads`
# (switch, etcd, one dockerd per host, busybox image, overlay network, one container per host), written
# the plain way: ip/nsenter and the docker CLI, strictly one step after another. The bench compares
# our driver's wall time against this script's in the same run.
#
# It builds exactly the layout the model computes (namespaces, pidfiles, sockets, data/exec roots, the
# KV dir with kv.pid and data/), so the lab's own teardown (downNetnsLab) removes it and labLeftovers
# checks it; the bench always runs that teardown after this script, whether it succeeded or not.
# Every name, path and address comes from the arguments (bench/run.ts computes them with buildPlan);
# the network and the containers are the model's specs as docker CLI argv (src/docker/cli.ts), each
# argument separated by the ASCII unit separator (0x1f), so they are the objects the stack makes.
#
# usage: bringup.sh --switch NS --bridge br0 --gateway 198.18.0.1/24 --iface eth0
#          --kv-namespace NS --kv-switch-end kv --kv-name NAME --kv-address 198.18.0.2/24 --kv-port 2379 --kv-dir DIR
#          --network ov_net1 --network-create 'network<US>create<US>...'
#          --rootfs DIR --tag busybox:latest [--tag busybox:1.36.1]...
#          [--busybox /bin/busybox] [--timeout 60]
#          --host 'name;namespace;switch-end;address/prefix;state-dir;data-root;exec-root;pidfile;socket;dockerd-flag;...'
#          --run 'HOST-INDEX<US>create<US>...' (the docker calls that make a host's container, in order;
#          HOST-INDEX counts the --host options from 0)
#          [--host ... --run ...]...
set -euo pipefail

DOCKER=/usr/bin/docker
log() { printf '[baseline] %s\n' "$*"; }
die() {
  printf '[baseline] error: %s\n' "$*" >&2
  exit 1
}

declare -A ARG=()
HOSTS=()
RUNS=()
TAGS=()
US=$'\x1f'
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "option $1 needs a value"
  case "$1" in
    --host) HOSTS+=("$2") ;;
    --run) RUNS+=("$2") ;;
    --tag) TAGS+=("$2") ;;
    --*) ARG[${1#--}]=$2 ;;
    *) die "unexpected argument '$1'" ;;
  esac
  shift 2
done
for k in switch bridge gateway iface kv-namespace kv-switch-end kv-name kv-address kv-port kv-dir network network-create rootfs; do
  [ -n "${ARG[$k]:-}" ] || die "missing --$k"
done
[ ${#HOSTS[@]} -gt 0 ] || die "missing --host"
[ ${#RUNS[@]} -gt 0 ] || die "missing --run"
[ ${#TAGS[@]} -gt 0 ] || die "missing --tag"
timeout=${ARG[timeout]:-60}
busybox=${ARG[busybox]:-/bin/busybox}
gw_cidr=${ARG[gateway]}
gw=${gw_cidr%/*}
sw=${ARG[switch]}
br=${ARG[bridge]}
iface=${ARG[iface]}
# Running it twice is harmless: a lab that is (partly) up is refused before anything changes.
[ ! -e "/run/netns/$sw" ] || die "switch namespace $sw exists: the lab is already up (tear it down first)"

# Poll a command until it succeeds or the timeout passes.
wait_for() {
  local what=$1 i
  shift
  for ((i = 0; i < timeout * 5; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "$what not ready after ${timeout}s"
}

# A namespace with a veth into the switch: eth0 inside (address, default route), the peer on the bridge.
plug() {
  local ns=$1 swend=$2 cidr=$3
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" link add "$iface" type veth peer name "$swend" netns "$sw"
  ip -n "$sw" link set "$swend" master "$br"
  ip -n "$sw" link set "$swend" up
  ip -n "$ns" addr add "$cidr" dev "$iface"
  ip -n "$ns" link set "$iface" up
  ip -n "$ns" route add default via "$gw" dev "$iface"
}

# 1. The underlay switch: a namespace with one bridge.
log "switch $sw"
ip netns add "$sw"
ip -n "$sw" link set lo up
ip -n "$sw" link add "$br" type bridge
ip -n "$sw" addr add "$gw_cidr" dev "$br"
ip -n "$sw" link set "$br" up

# 2. etcd (v2 API for Docker 20.10's KV client) in its own namespace.
kv_ns=${ARG[kv-namespace]} kv_dir=${ARG[kv-dir]} kv_port=${ARG[kv-port]}
kv_ip=${ARG[kv-address]%/*}
log "etcd at $kv_ip:$kv_port"
mkdir -p "$kv_dir/data"
plug "$kv_ns" "${ARG[kv-switch-end]}" "${ARG[kv-address]}"
setsid nsenter --net="/run/netns/$kv_ns" /usr/bin/etcd --name "${ARG[kv-name]}" --data-dir "$kv_dir/data" --enable-v2=true \
  --listen-client-urls "http://$kv_ip:$kv_port" --advertise-client-urls "http://$kv_ip:$kv_port" \
  --listen-peer-urls "http://$kv_ip:2380" --initial-advertise-peer-urls "http://$kv_ip:2380" \
  --initial-cluster "${ARG[kv-name]}=http://$kv_ip:2380" </dev/null >>"$kv_dir/kv.log" 2>&1 &
echo $! >"$kv_dir/kv.pid"
etcd_ready() { nsenter --net="/run/netns/$kv_ns" "$busybox" wget -qO- "http://$kv_ip:$kv_port/v2/keys/" | grep '"action":"get"'; }
wait_for "etcd" etcd_ready

# 3. One dockerd per host, one after another, each waited for before the next.
names=() sockets=()
for spec in "${HOSTS[@]}"; do
  IFS=';' read -r -a f <<<"$spec"
  [ ${#f[@]} -ge 9 ] || die "--host needs 9 ';'-separated fields and the dockerd flags, got: $spec"
  name=${f[0]} ns=${f[1]} swend=${f[2]} cidr=${f[3]} state=${f[4]} data=${f[5]} exec_root=${f[6]} pidfile=${f[7]} sock=${f[8]}
  flags=("${f[@]:9}")
  names+=("$name") sockets+=("$sock")
  log "dockerd $name in $ns"
  mkdir -p "$state" "$data" "$exec_root" "$(dirname "$pidfile")" "$(dirname "$sock")"
  plug "$ns" "$swend" "$cidr"
  # nsenter + unshare --uts with a unique hostname (lab-recipe.md: not `ip netns exec`).
  setsid nsenter --net="/run/netns/$ns" unshare --uts sh -c 'hostname "$1"; shift; exec "$@"' sh "$name" \
    /usr/sbin/dockerd --data-root "$data" --exec-root "$exec_root" --pidfile "$pidfile" -H "unix://$sock" "${flags[@]}" \
    </dev/null >>"$state/dockerd.log" 2>&1 &
  wait_for "dockerd $name" "$DOCKER" -H "unix://$sock" info
done

# 4. The busybox image on every host (no registry): one rootfs, imported host after host.
log "busybox image (${TAGS[*]})"
rootfs=${ARG[rootfs]}
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for a in sh ping ip nslookup wget sleep cat hostname nsenter grep timeout; do ln -sf busybox "$rootfs/bin/$a"; done
for sock in "${sockets[@]}"; do
  tar -C "$rootfs" -c . | "$DOCKER" -H "unix://$sock" import -c 'CMD ["sh"]' - "${TAGS[0]}" >/dev/null
  for t in "${TAGS[@]:1}"; do "$DOCKER" -H "unix://$sock" tag "${TAGS[0]}" "$t"; done
done
rm -rf -- "$rootfs"

# 5. The overlay, created on the first host (retried: the daemon may not have reached etcd yet).
net=${ARG[network]}
log "overlay $net on ${names[0]}"
IFS=$US read -r -a create <<<"${ARG[network-create]}"
wait_for "network create $net" "$DOCKER" -H "unix://${sockets[0]}" "${create[@]}"

# 6. One container per host, after the host has learnt the network from etcd.
for i in "${!sockets[@]}"; do
  sock=${sockets[$i]}
  wait_for "network $net on ${names[$i]}" "$DOCKER" -H "unix://$sock" network inspect "$net"
  for r in "${RUNS[@]}"; do
    IFS=$US read -r -a run <<<"$r"
    [ "${run[0]}" = "$i" ] || continue
    log "docker ${run[*]:1:3} on ${names[$i]}"
    "$DOCKER" -H "unix://$sock" "${run[@]:1}" >/dev/null
  done
done
log "lab up: ${#sockets[@]} hosts"

#!/usr/bin/env bash
# The benchmark's baseline for verification: the checks the verifier runs on the bench's engine lab
# (one overlay, containers on several netns hosts), written as a careful human would script them with
# the docker CLI. Per ordered pair of containers on different hosts: ping by name (the reply must come
# from the planned IP), nslookup (must give the planned IP), ping by IP; pings retried up to 3 times
# (the first packet to a new peer can be lost to ARP/VXLAN learning). Per container: its default route
# leaves through docker_gwbridge, and its overlay endpoint has the planned IP (docker inspect and the
# interface inside). Per host: the overlay's VXLAN device carried traffic (rx and tx packets > 0).
#
# Parallel the way a human would make it fast: one `docker exec` per source container running all of
# its probes in a loop, every container at once, then the hosts' VXLAN counters.
#
# usage: checks.sh --network ov_net1 --host 'name;socket;exec-root'... --container 'name;host;ip'...
# Prints "FAIL <check>: <detail>" per failed check and a summary line; exit 1 if any check failed.
set -euo pipefail

DOCKER=/usr/bin/docker
die() {
  printf '[checks] error: %s\n' "$*" >&2
  exit 2
}

net=""
declare -A SOCK=() EXECROOT=()
HOSTS=() NAMES=() ON=() IPS=()
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "option $1 needs a value"
  case "$1" in
    --network) net=$2 ;;
    --host)
      IFS=';' read -r h s e <<<"$2"
      HOSTS+=("$h") SOCK[$h]=$s EXECROOT[$h]=$e
      ;;
    --container)
      IFS=';' read -r n h ip <<<"$2"
      NAMES+=("$n") ON+=("$h") IPS+=("$ip")
      ;;
    *) die "unexpected argument '$1'" ;;
  esac
  shift 2
done
[ -n "$net" ] || die "missing --network"
[ ${#HOSTS[@]} -gt 0 ] || die "missing --host"
[ ${#NAMES[@]} -gt 0 ] || die "missing --container"

out=$(mktemp -d)
trap 'rm -rf -- "$out"' EXIT

# What runs inside a source container: $1 its own IP, $2 docker_gwbridge's gateway, then name/IP pairs.
# shellcheck disable=SC2016
PROBES='
me=$1 gw=$2
shift 2
ping1() { for _ in 1 2 3; do ping -c 1 -W 2 "$1" 2>&1 | grep -q "from $2:" && return 0; done; return 1; }
while [ $# -gt 0 ]; do
  n=$1 ip=$2
  shift 2
  if ping1 "$n" "$ip"; then echo "PASS ping-name:$n"; else echo "FAIL ping-name:$n: no reply from $ip"; fi
  if nslookup "$n" 2>&1 | grep -qw "$ip"; then echo "PASS dns:$n"; else echo "FAIL dns:$n: does not resolve to $ip"; fi
  if ping1 "$ip" "$ip"; then echo "PASS ping-ip:$ip"; else echo "FAIL ping-ip:$ip: no reply"; fi
done
if ip route | grep -q "^default via $gw "; then echo "PASS gwbridge-route"; else echo "FAIL gwbridge-route: $(ip route | grep ^default)"; fi
if ip -o -4 addr | grep -q " $me/"; then echo "PASS cnm-interface"; else echo "FAIL cnm-interface: no interface has $me"; fi
'

declare -A GW=()
for h in "${HOSTS[@]}"; do
  GW[$h]=$("$DOCKER" -H "unix://${SOCK[$h]}" network inspect docker_gwbridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}')
done

for i in "${!NAMES[@]}"; do
  c=${NAMES[$i]} h=${ON[$i]}
  targets=()
  for j in "${!NAMES[@]}"; do
    [ "${ON[$j]}" != "$h" ] && targets+=("${NAMES[$j]}" "${IPS[$j]}")
  done
  (
    d() { "$DOCKER" -H "unix://${SOCK[$h]}" "$@"; }
    got=$(d inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$c" 2>&1 || true)
    if [ "$got" = "${IPS[$i]}" ]; then echo "PASS cnm-inspect"; else echo "FAIL cnm-inspect: $got, planned ${IPS[$i]}"; fi
    d exec "$c" sh -c "$PROBES" sh "${IPS[$i]}" "${GW[$h]}" "${targets[@]}" || echo "FAIL exec: docker exec $c exited $?"
  ) | sed "s|^\(PASS\|FAIL\) |\1 $c: |" >"$out/$i" &
done
wait

# The overlay's sandbox on each host (<epoch>-<first 9+ chars of the network id>) holds the VXLAN device.
for h in "${HOSTS[@]}"; do
  id=$("$DOCKER" -H "unix://${SOCK[$h]}" network inspect -f '{{.Id}}' "$net")
  sb=$(find "${EXECROOT[$h]}/netns" -maxdepth 1 -name "*-${id:0:9}*" | head -n1)
  counters=$([ -n "$sb" ] && nsenter --net="$sb" cat /proc/net/dev | awk '{ sub(/^ +/, ""); split($0, f, /[: ]+/) } f[1] ~ /^(vxlan|vx-)/ { print f[3], f[11] }' | head -n1)
  read -r rx tx <<<"${counters:-0 0}"
  if [ "${rx:-0}" -gt 0 ] && [ "${tx:-0}" -gt 0 ]; then echo "PASS $h: vxlan"; else echo "FAIL $h: vxlan: rx ${rx:-?} tx ${tx:-?} packets in ${sb:-no sandbox}"; fi
done >"$out/vxlan"

cat "$out"/* | grep '^FAIL' || true
total=$(cat "$out"/* | grep -c '^\(PASS\|FAIL\)' || true)
failed=$(cat "$out"/* | grep -c '^FAIL' || true)
echo "checks: $total run, $failed failed"
[ "$failed" -eq 0 ]

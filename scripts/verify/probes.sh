#!/bin/sh
# All the probes of one container (or of one host's helper container), run concurrently inside it by
# busybox sh: one docker exec for the lot instead of one per probe. The verifier (src/verify/batch.ts)
# passes this file with `sh -c` and reads what it prints; it changes nothing but a temporary directory,
# which it removes.
#
# usage: sh -c "$(cat probes.sh)" dnlab-probes TIMEOUT WORKERS STATE PROBE...
#   TIMEOUT  seconds a probe may take, all its attempts together; each attempt bounds itself with
#            what is left (ping -W/-w, RES_OPTIONS for glibc's resolver, nslookup -timeout: busybox
#            >= 1.28). The verifier's deadline for the whole exec covers an image whose resolver
#            ignores RES_OPTIONS.
#   WORKERS  probes in flight at once: probe i runs in worker i mod WORKERS, one after the other
#   STATE    1: also print the container's routes, IPv4 addresses and links
#   PROBE    "KIND TARGET ATTEMPTS [ARG]": KIND ping (ping -c 1 -W 2, retried until a reply, up to ATTEMPTS
#            times, not after "bad address"), dns (nslookup, one try of 2 s), mtu (a DF ping of ARG payload
#            bytes, or "auto": as large as the route's interface allows; busybox ping sets DF on what fits
#            the interface and would fragment the rest, so a payload that does not fit is refused here, as
#            the kernel refuses a DF packet: "@@df DEV MTU") or series (ARG pings 0.2 s apart, one
#            attempt: their loss and round-trip times are what counts)
#
# Output (times are this container's clock, seconds with a fraction):
#   @@state EXIT END START, then `ip route`, @@, `ip -o -4 addr`, @@, `ip -o link`   (STATE 1 only)
#   per probe: @@probe INDEX START, then per attempt "@@attempt" and the command's output and
#              "@@exit CODE", then "@@end INDEX END"
#   last: @@done NOW
set -euo pipefail

timeout_s=$1
workers=$2
state=$3
shift 3

# $EPOCHREALTIME is a builtin of busybox ash (no fork per reading); /proc/uptime where it is missing.
stamp() {
  ts=${EPOCHREALTIME:-}
  if [ -z "$ts" ]; then read -r ts _ </proc/uptime; fi
}

# Named after this shell's pid (unique in the container while it runs); mktemp is not in every image.
dir=/tmp/dnlab-probes.$$
rm -rf "$dir"
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT

# The interface the route to $1 leaves through, and its MTU (the container's own /sys).
route_mtu() {
  dev=""
  # shellcheck disable=SC2046 # `ip route get` prints words: "... dev eth0 src ..."
  set -- $(ip route get "$1" 2>/dev/null)
  while [ $# -gt 0 ]; do
    if [ "$1" = dev ] && [ $# -ge 2 ]; then dev=$2; fi
    shift
  done
  mtu=""
  if [ -n "$dev" ] && [ -r "/sys/class/net/$dev/mtu" ]; then read -r mtu <"/sys/class/net/$dev/mtu"; fi
}

probe() { # INDEX KIND TARGET ATTEMPTS [ARG]
  f=$dir/$1
  stamp
  echo "@@probe $1 $ts" >"$f"
  # The attempts share the probe's TIMEOUT. Each attempt is one process that bounds itself (ping -w,
  # the resolver's timeout, nslookup -timeout): no `timeout` watcher and no $(...) subshell, which
  # tripled the processes per probe, and processes are what a large lab's verification spends its CPU on.
  deadline=$((${ts%.*} + timeout_s))
  n=0
  while [ "$n" -lt "$4" ]; do
    stamp
    left=$((deadline - ${ts%.*}))
    if [ "$left" -lt 1 ]; then break; fi
    n=$((n + 1))
    # Many tries (a path through a lossy host) wait 1 s each: a lab's replies take far less.
    most=$(($4 > 2 ? 1 : 2))
    wait_s=$((left < most ? left : most))
    echo @@attempt >>"$f"
    rc=0
    case $2 in
      # RES_OPTIONS bounds the name lookup (glibc); -W the wait for the reply, -w the whole attempt.
      ping) RES_OPTIONS="timeout:$wait_s attempts:1" ping -c 1 -W "$wait_s" -w "$left" "$3" >>"$f" 2>&1 || rc=$? ;;
      dns) nslookup -timeout="$wait_s" -retry=1 "$3" >>"$f" 2>&1 || rc=$? ;;
      mtu)
        route_mtu "$3"
        size=${5:-auto}
        if [ "$size" = auto ] && [ -n "$mtu" ]; then size=$((mtu - 28)); fi
        if [ "$size" = auto ]; then
          echo "no route to $3 (or no MTU for its interface)" >>"$f"
          rc=2
        elif [ -n "$mtu" ] && [ $((size + 28)) -gt "$mtu" ]; then
          echo "@@df $dev $mtu $size" >>"$f"
          rc=1
        else
          echo "@@size ${dev:-?} ${mtu:-?} $size" >>"$f"
          ping -c 1 -s "$size" -W "$wait_s" -w "$left" "$3" >>"$f" 2>&1 || rc=$?
        fi
        ;;
      series)
        # ARG pings 0.2 s apart; -W: how long the last one's reply is waited for.
        RES_OPTIONS="timeout:$wait_s attempts:1" ping -c "${5:-20}" -i 0.2 -W "$wait_s" -w "$left" "$3" >>"$f" 2>&1 || rc=$?
        ;;
      *) echo "unknown probe kind $2" >>"$f"; rc=2 ;;
    esac
    printf '\n@@exit %s\n' "$rc" >>"$f"
    if [ "$rc" -eq 0 ] || [ "$2" = series ]; then break; fi
    # A name that does not resolve will not resolve a moment later either (read back with builtins:
    # this runs only after a failed attempt).
    bad=0
    while IFS= read -r line; do
      case $line in *"bad address"* | "@@df "*) bad=1 ;; esac
    done <"$f"
    if [ "$bad" = 1 ]; then break; fi
  done
  stamp
  echo "@@end $1 $ts" >>"$f"
}

worker() { # K PROBE...: the probes whose index is K modulo WORKERS
  k=$1
  shift
  i=0
  for p in "$@"; do
    if [ $((i % workers)) -eq "$k" ]; then
      # shellcheck disable=SC2086 # a probe is three or four words
      probe "$i" $p
    fi
    i=$((i + 1))
  done
}

set -f # probe words are never globs
if [ "$state" = 1 ]; then
  (
    rc=0
    stamp
    t0=$ts
    { ip route && echo @@ && ip -o -4 addr && echo @@ && ip -o link; } >"$dir/state.out" 2>&1 || rc=$?
    stamp
    { echo "@@state $rc $ts $t0"; cat "$dir/state.out"; } >"$dir/state"
    rm -f "$dir/state.out"
  ) &
fi
k=0
while [ "$k" -lt "$workers" ] && [ "$k" -lt "$#" ]; do
  worker "$k" "$@" 2>>"$dir/worker.err" &
  k=$((k + 1))
done
wait
set +f
# One reader for every file: the state first, then the probes in any order (each names its index).
if [ -e "$dir/state" ]; then cat "$dir/state"; fi
set -- "$dir"/[0-9]*
if [ -e "$1" ]; then cat "$@"; fi
stamp
echo "@@done $ts"

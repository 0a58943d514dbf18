#!/usr/bin/env bash
# The kernel's neighbour (ARP) table, sized for the labs running on this machine. It is one table for
# every network namespace, and past net.ipv4.neigh.default.gc_thresh3 (1024 by default) the kernel
# drops the packets that need a new entry ("neighbor table overflow"): a 50-container overlay needs
# about 2,700. The sizes come from the plan (src/model/neighbours.ts).
#
# Each lab reserves its size in DIR/LAB; the table is set to the largest reservation (never below the
# values the machine had before the first one, kept in DIR/.original), and when the last lab releases
# its reservation the original values come back and DIR goes. Idempotent; serialised by a lock.
#
# usage: neigh-table.sh reserve --lab NAME --gc-thresh3 N --dir /run/dnlab-neigh
#        neigh-table.sh release --lab NAME --dir /run/dnlab-neigh
# (DIR comes from the model, NEIGH_RESERVATIONS_DIR: one for every lab of the machine.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
action=${1:-}
shift || true
parse_args "$@"
need lab dir
dir=${ARG[dir]}
lab=${ARG[lab]}
[[ "$lab" =~ ^[a-z0-9][a-z0-9_.-]*$ ]] || die "--lab must be a lab name, got '$lab'"
sys=/proc/sys/net/ipv4/neigh/default
case "$action" in
  reserve)
    need gc-thresh3
    [[ "${ARG[gc-thresh3]}" =~ ^[1-9][0-9]*$ ]] || die "--gc-thresh3 must be a positive number, got '${ARG[gc-thresh3]}'"
    ;;
  release) ;;
  *) die "usage: neigh-table.sh reserve|release --lab NAME [--gc-thresh3 N] --dir DIR" ;;
esac
[ -w "$sys/gc_thresh3" ] || die "$sys/gc_thresh3 is not writable here: run as root in the machine's first network namespace"

# Make the table fit the largest reservation, or put the original values back when none is left.
apply() {
  local max=0 f n t2 t3 o2 o3
  for f in "$dir"/*; do
    [ -f "$f" ] || continue
    read -r n <"$f" || true
    [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -gt "$max" ] && max=$n
  done
  if [ "$max" -eq 0 ]; then
    if [ -f "$dir/.original" ]; then
      read -r o2 o3 <"$dir/.original"
      echo "$o2" >"$sys/gc_thresh2"
      echo "$o3" >"$sys/gc_thresh3"
      log "no lab reserves neighbour entries: gc_thresh2/3 back to $o2/$o3"
      rm -f "$dir/.original"
    fi
    return
  fi
  if [ ! -f "$dir/.original" ]; then
    echo "$(<"$sys/gc_thresh2") $(<"$sys/gc_thresh3")" >"$dir/.original"
  fi
  read -r o2 o3 <"$dir/.original"
  t3=$((max > o3 ? max : o3))
  t2=$((max / 2 > o2 ? max / 2 : o2))
  # gc_thresh2 must not exceed gc_thresh3 at any moment: raise 3 first, lower 2 first.
  if [ "$t3" -ge "$(<"$sys/gc_thresh3")" ]; then
    echo "$t3" >"$sys/gc_thresh3"
    echo "$t2" >"$sys/gc_thresh2"
  else
    echo "$t2" >"$sys/gc_thresh2"
    echo "$t3" >"$sys/gc_thresh3"
  fi
  log "neighbour table: gc_thresh2/3 = $t2/$t3 (largest reservation $max, machine's own $o2/$o3)"
}

# Lock, and make sure the lock file is still the one in DIR (the last release removes it).
while :; do
  mkdir -p "$dir"
  exec 9>>"$dir/.lock"
  flock 9
  [ "$dir/.lock" -ef /dev/fd/9 ] && break
  exec 9>&-
done
case "$action" in
  reserve)
    echo "${ARG[gc-thresh3]}" >"$dir/$lab"
    apply
    ;;
  release)
    rm -f "$dir/$lab"
    apply
    ;;
esac
# The last release leaves nothing behind: the lock file and the directory go too.
if [ -z "$(find "$dir" -mindepth 1 -maxdepth 1 ! -name .lock -print -quit)" ]; then
  rm -f "$dir/.lock"
  rmdir "$dir" 2>/dev/null || true
fi

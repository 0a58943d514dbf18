# shellcheck shell=bash
# Helpers shared by the netns lab scripts. Sourced, never executed. Every name, path and address a
# script uses comes from its arguments (computed by src/model/netnsCommands.ts from the lab plan);
# nothing here invents a path, so teardown always finds exactly what bring-up made.

# The Debian client: another (older) docker client may sit earlier on PATH.
DOCKER=/usr/bin/docker
SCRIPT_NAME=$(basename "$0" .sh)

log() { printf '[%s] %s\n' "$SCRIPT_NAME" "$*"; }
die() {
  printf '[%s] error: %s\n' "$SCRIPT_NAME" "$*" >&2
  exit 1
}

# Start "$@" as a daemon, in the background ($! is its pid): a session of its own (it outlives the
# caller), stdin from /dev/null, output where the caller redirects this call, and none of the caller's
# descriptors above 2. An inherited one stays open for as long as the daemon runs: a lock the caller
# holds (`flock lockfile npm test` held it for every lab dockerd) or a pipe someone waits on for EOF.
#
# Returns only once the child has exec'd (setsid, and from there the daemon: the pid stays the same).
# Until then the child is a copy of this shell closing descriptors, its /proc/PID/cmdline is the
# caller's, and a pid_is check (which matches the daemon's data path there) would read a daemon that
# has not started yet as "exited": a false start-up failure with an empty log, seen under CPU load.
# A child that dies before or at the exec (a zombie's cmdline is empty) ends the wait at once, so the
# caller's check still reports a real failure immediately. Fails (1) if the child has not exec'd
# within 60 s (a machine that stalled that long: saying so beats tracking a pid that is not the daemon).
start_daemon() {
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -le 2 ] || eval "exec $fd>&-" 2>/dev/null || true
    done
    exec setsid "$@"
  ) </dev/null &
  local child=$! deadline=$((SECONDS + 60)) self=() now=()
  mapfile -d '' self <"/proc/$BASHPID/cmdline"
  while [ $SECONDS -lt $deadline ]; do
    # Gone, a zombie (empty cmdline) or exec'd: any of these ends the wait.
    mapfile -d '' now 2>/dev/null <"/proc/$child/cmdline" || return 0
    [ "${now[*]}" = "${self[*]}" ] || return 0
    sleep 0.01
  done
  printf '[%s] error: pid %s started for "%s" has not exec'"'"'d it after 60s\n' "$SCRIPT_NAME" "$child" "$*" >&2
  return 1
}

# --key value pairs into ARG[key]; everything after a bare `--` into REST (e.g. dockerd flags).
# Keys listed in MULTI may repeat; their values are kept one per line.
declare -A ARG=()
REST=()
MULTI=${MULTI:-}
parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --)
        shift
        REST=("$@")
        return 0
        ;;
      --*)
        [ $# -ge 2 ] || die "option $1 needs a value"
        local k=${1#--}
        if [[ " $MULTI " == *" $k "* ]] && [ -n "${ARG[$k]:-}" ]; then
          ARG[$k]+=$'\n'"$2"
        else
          ARG[$k]="$2"
        fi
        shift 2
        ;;
      *) die "unexpected argument '$1' (options are --name value; daemon flags go after --)" ;;
    esac
  done
}

# Fail before touching anything when a required option is missing or empty.
need() {
  local k missing=()
  for k in "$@"; do
    [ -n "${ARG[$k]:-}" ] || missing+=("--$k")
  done
  [ ${#missing[@]} -eq 0 ] || die "missing required option(s): ${missing[*]} (usage: see the header of $0)"
}

opt() { printf '%s' "${ARG[$1]:-${2:-}}"; }

ns_exists() { [ -e "/run/netns/$1" ]; }

# `ip netns add` fails when the namespace exists; a concurrent script may create it first.
ensure_ns() {
  ns_exists "$1" || ip netns add "$1" 2>/dev/null || ns_exists "$1" || die "cannot create network namespace $1"
  ip -n "$1" link set lo up
}

# nsenter, not `ip netns exec`: the latter remounts /sys, and dockerd then fails with
# "Devices cgroup isn't mounted" (see lab-recipe.md).
in_ns() {
  local ns=$1
  shift
  nsenter --net="/run/netns/$ns" "$@"
}

# A pid is "ours" only while it is alive (not a zombie) and its command line still contains the
# marker (a lab path), so a recycled pid is never signalled. Bash builtins only: teardown runs this for
# every process on the machine (pids_mentioning), and a fork per process costs seconds under load.
pid_is() {
  local pid=$1 marker=$2 stat cmd=()
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
  # The state follows the parenthesised command name, which may itself hold spaces and parentheses.
  stat=${stat##*) }
  [ "${stat%% *}" != Z ] || return 1
  { mapfile -d '' cmd <"/proc/$pid/cmdline"; } 2>/dev/null || return 1
  [[ "${cmd[*]}" == *"$marker"* ]]
}

# SIGTERM a recorded pid and WAIT until it has exited (a daemon still exiting keeps its ports and
# mounts); SIGKILL only after the grace period.
stop_pid() {
  local pid=$1 marker=$2 grace=${3:-30} what=${4:-process} i
  pid_is "$pid" "$marker" || return 0
  log "stopping $what (pid $pid, SIGTERM)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    pid_is "$pid" "$marker" || {
      log "$what (pid $pid) exited after $((i / 10)).$((i % 10))s"
      return 0
    }
    sleep 0.1
  done
  log "$what (pid $pid) still running after ${grace}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    pid_is "$pid" "$marker" || return 0
    sleep 0.1
  done
  die "$what (pid $pid) did not exit even after SIGKILL"
}

# Pids of live processes whose command line mentions a path (our own daemons' children, e.g. the
# containerd-shims that carry our exec-root in their -address flag).
pids_mentioning() {
  local marker=$1 d pid
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [ "$pid" != "$$" ] || continue
    pid_is "$pid" "$marker" && printf '%s\n' "$pid"
  done
  return 0
}

# Mount points at or below a directory, deepest first (so nested mounts are unmounted before their parents).
mounts_under() {
  local dir=${1%/}
  awk -v d="$dir" '{ m = $5; gsub(/\\040/, " ", m); if (m == d || index(m, d "/") == 1) print m }' /proc/self/mountinfo |
    awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-
}

unmount_under() {
  local dir=$1 m
  [ -n "$dir" ] || return 0
  while IFS= read -r m; do
    [ -n "$m" ] || continue
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "warning: cannot unmount $m"
  done < <(mounts_under "$dir")
  if [ -n "$(mounts_under "$dir")" ]; then
    die "still mounted under $dir: $(mounts_under "$dir" | tr '\n' ' ')"
  fi
}

# rm -rf only once nothing is mounted below: removing through a live mount would delete its contents.
remove_dir() {
  local dir=$1
  [ -n "$dir" ] && [ "$dir" != "/" ] || die "refusing to remove '$dir'"
  [ -e "$dir" ] || return 0
  [ -z "$(mounts_under "$dir")" ] || die "refusing to remove $dir: mounts remain below it"
  rm -rf -- "$dir"
}

# Wait until a command succeeds, or fail after a timeout; the caller prints the diagnosis.
wait_until() {
  local timeout=$1 i
  shift
  for ((i = 0; i < timeout * 5; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# Does the interface carry this address/prefix? (Captured first: `ip | grep -q` trips pipefail.)
has_addr() {
  local out
  out=$(ip -n "$1" -o addr show dev "$2" 2>/dev/null) || return 1
  [[ "$out" == *" $3 "* ]]
}

# Attach a namespace to the lab switch: a veth pair created from inside the namespace (so the host
# end is born as e.g. eth0 there and never clashes with names in the root namespace), the other end
# enslaved to the switch bridge.
attach_to_switch() {
  local ns=$1 iface=$2 sw=$3 bridge=$4 swend=$5 cidr=$6 gw=${7:-}
  ns_exists "$sw" || die "switch namespace $sw does not exist (run switch-up.sh first)"
  ip -n "$sw" link show "$bridge" >/dev/null 2>&1 || die "bridge $bridge missing in $sw (run switch-up.sh first)"
  if ! ip -n "$ns" link show "$iface" >/dev/null 2>&1; then
    # A stale switch end (its peer vanished with an old namespace) would block the name.
    ip -n "$sw" link del "$swend" 2>/dev/null || true
    ip -n "$ns" link add "$iface" type veth peer name "$swend" netns "$sw"
    log "veth $ns:$iface <-> $sw:$swend"
  fi
  ip -n "$sw" link set "$swend" master "$bridge"
  ip -n "$sw" link set "$swend" up
  if ! has_addr "$ns" "$iface" "$cidr"; then
    # A changed address replaces the old one: the host has one underlay address.
    ip -n "$ns" -4 addr flush dev "$iface"
    ip -n "$ns" addr add "$cidr" dev "$iface"
  fi
  ip -n "$ns" link set "$iface" up
  if [ -n "$gw" ]; then
    ip -n "$ns" route replace default via "$gw" dev "$iface"
  fi
}

#!/bin/sh
# Which network namespace each OS thread of a host's dockerd is in: the daemon-netns check.
# Runs in the verifier's daemon helper (busybox sh; the host's network and PID namespaces, CAP_SYS_PTRACE,
# the daemon's exec-root netns dir and its pidfile's dir mounted read-only):
#   sh -c "$(cat daemon-netns.sh)" dnlab-daemon-netns PIDFILE NETNS_DIR WAIT_SECONDS
# Docker 20.10's classic overlay can leave a dockerd thread in a deleted overlay's namespace (the Go
# scheduler then runs anything on it: its dials fail with "network is unreachable"). A thread of a
# fixed daemon may sit there too while it exits (up to libnetwork's 3 s netlink timeout), so a thread
# found in a namespace that is neither the daemon's own nor a live sandbox's is looked at again after
# WAIT_SECONDS; the verifier (src/verify/parse.ts judgeDaemonThreads) judges what this prints:
#   @pid PID            the daemon's pid (from its pidfile)
#   @own INODE          the daemon's own network namespace (this helper shares it)
#   @live INODE NAME    a namespace file in the exec-root's netns dir (sandboxes of containers and overlays)
#   @s1 TID INODE       thread TID's namespace, first look; @s2 the same after WAIT_SECONDS (only if needed)
#   @err TEXT           what could not be read
# Exit: 0 read (the verifier judges), 3 the daemon or its threads could not be read.
set -u
pidfile=$1 nsdir=$2 wait=$3

ino() { sed -n 's/.*net:\[\([0-9]*\)\].*/\1/p'; }
pid=$(cat "$pidfile" 2>/dev/null)
case "$pid" in
  '' | *[!0-9]*) echo "@err cannot read a pid from $pidfile"; exit 3 ;;
esac
[ -d "/proc/$pid/task" ] || { echo "@err no process $pid (from $pidfile) in this PID namespace"; exit 3; }
echo "@pid $pid"
echo "@own $(ls -l /proc/self/ns/net | ino)"
# Busybox ls -i prints "INODE NAME"; -L stats what a bind-mounted namespace file really is (nsfs).
ls -iL "$nsdir" 2>/dev/null | while read -r i name; do echo "@live $i $name"; done

sample() { # $1: 1 or 2
  out=$(ls -l /proc/"$pid"/task/*/ns/net 2>&1) || { echo "@err reading the threads of $pid: $(echo "$out" | head -n 1)"; exit 3; }
  echo "$out" | sed -n 's#.*/task/\([0-9]*\)/ns/net -> net:\[\([0-9]*\)\].*#@s'"$1"' \1 \2#p'
}
first=$(sample 1) || { echo "$first"; exit 3; }
echo "$first"
allowed=" $(ls -l /proc/self/ns/net | ino) $(ls -iL "$nsdir" 2>/dev/null | while read -r i _; do printf '%s ' "$i"; done)"
foreign=$(echo "$first" | while read -r _ _ n; do case "$allowed" in *" $n "*) ;; *) echo "$n" ;; esac; done)
[ -z "$foreign" ] && exit 0
sleep "$wait"
sample 2

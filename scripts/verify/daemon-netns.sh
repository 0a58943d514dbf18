#!/bin/sh
# Which network namespace each OS thread of a host's dockerd is in: the daemon-netns check.
# Runs in the verifier's daemon helper (busybox sh; the host's network and PID namespaces, CAP_SYS_PTRACE,
# the daemon's exec-root netns dir and its pidfile's dir mounted read-only):
#   sh -c "$(cat daemon-netns.sh)" dnlab-daemon-netns PIDFILE NETNS_DIR WAIT_SECONDS
# Docker 20.10's classic overlay can leave a dockerd thread in a deleted overlay's namespace (the Go
# scheduler then runs anything on it: its dials fail with "network is unreachable"). A thread of a
# fixed daemon may sit there too while it exits (up to libnetwork's 3 s netlink timeout), so a thread
# found in a namespace that is neither the daemon's own nor a live sandbox's is looked at again (every
# 0.5 s until it has left, at most WAIT_SECONDS); the verifier (src/verify/parse.ts judgeDaemonThreads) judges what this prints:
#   @pid PID            the daemon's pid (from its pidfile)
#   @own INODE          the daemon's own network namespace (this helper shares it)
#   @live INODE NAME    a namespace file in the exec-root's netns dir (sandboxes of containers and overlays)
#   @s1 TID INODE       thread TID's namespace, first look; @s2 the last look (only if needed)
#   @err TEXT           what could not be read
# Exit: 0 read (the verifier judges), 3 the daemon or its threads could not be read.
set -euo pipefail
pidfile=$1 nsdir=$2 wait=$3

ino() { sed -n 's/.*net:\[\([0-9]*\)\].*/\1/p'; }
pid=$(cat "$pidfile" 2>/dev/null || true)
case "$pid" in
  '' | *[!0-9]*) echo "@err cannot read a pid from $pidfile"; exit 3 ;;
esac
[ -d "/proc/$pid/task" ] || { echo "@err no process $pid (from $pidfile) in this PID namespace"; exit 3; }
echo "@pid $pid"
own=$(ls -l /proc/self/ns/net | ino)
echo "@own $own"
# Busybox ls -i prints "INODE NAME"; -L stats what a bind-mounted namespace file really is (nsfs).
live=$(ls -iL "$nsdir" 2>/dev/null || true)
echo "$live" | while read -r i name; do if [ -n "$i" ]; then echo "@live $i $name"; fi; done

sample() { # $1: 1 or 2. A thread that exits between the glob and its readlink is just not listed.
  out=$({ ls -l /proc/"$pid"/task/*/ns/net 2>/dev/null || true; } | sed -n 's#.*/task/\([0-9]*\)/ns/net -> net:\[\([0-9]*\)\].*#@s'"$1"' \1 \2#p')
  if [ -z "$out" ]; then
    echo "@err reading the threads of $pid: $({ ls -l /proc/"$pid"/task/*/ns/net 2>&1 || true; } | head -n 1)"
    exit 3
  fi
  echo "$out"
}
first=$(sample 1) || { echo "$first"; exit 3; }
echo "$first"
allowed=" $own $(echo "$live" | while read -r i _; do printf '%s ' "$i"; done)"
# The threads seen elsewhere, as "TID INODE" pairs; the second look comes as soon as all of them have
# left (a fixed daemon's watcher does within 3 s), else after WAIT_SECONDS.
suspects=$(echo "$first" | while read -r _ tid n; do case "$allowed" in *" $n "*) ;; *) echo "$tid $n" ;; esac; done)
[ -n "$suspects" ] || exit 0
tries=$((wait * 2))
while :; do
  second=$(sample 2) || { echo "$second"; exit 3; }
  left=$(echo "$suspects" | while read -r tid n; do if echo "$second" | grep -qx "@s2 $tid $n"; then echo "$tid"; fi; done)
  if [ -z "$left" ] || [ "$tries" -le 0 ]; then break; fi
  tries=$((tries - 1))
  sleep 0.5
done
echo "$second"

#!/bin/sh
# A fault of lab:faults, applied on one Docker host and removed again exactly: what it changes (qdiscs,
# iptables chains, the link's state and routes, its MTU, the daemon) is recorded first, and `remove`
# puts it back from that record. Every host kind runs this same file, as root: netns hosts on this
# machine (--netns: the network commands enter the host's namespace), dind hosts inside their container
# (`docker exec -i <host> sh -s -- ARGS < fault.sh`), ssh hosts over ssh (`sudo -n sh -s -- ARGS`).
# POSIX sh (dash, busybox ash, bash): the official docker:dind image has no bash. Idempotent: applying a
# fault twice changes nothing; applying it with other settings first removes the old ones; removing a
# fault that is not there is harmless.
#
#   fault.sh apply  --state-dir DIR --id ID --name NAME --kind KIND --iface IF [kind settings] [--netns NS]
#   fault.sh remove --state-dir DIR --id ID
#   fault.sh status --state-dir DIR                 one line per recorded fault, and whether it is in effect
#   fault.sh prune  --state-dir DIR [--keep ID]...  removes every recorded fault not kept
#
# Kinds and their settings (every value comes from the lab model, src/model/faultCommands.ts):
#   loss         --loss PCT [--method auto|netem|iptables] [--spare-tcp-port N]...
#                netem (egress, and ingress through an ifb device) where the kernel has it; otherwise
#                iptables' statistic match on the interface's INPUT, OUTPUT and FORWARD traffic. Spared
#                TCP ports (the host's Docker API on dind, ssh on ssh hosts) are never dropped, which
#                only iptables can do, so they force it.
#   delay        --delay-ms MS [--jitter-ms MS]: netem on the interface's egress (every round trip through
#                the host takes MS longer). Needs tc and the kernel's sch_netem.
#   down         the interface is set down; its routes are recorded and put back when it comes up again.
#   drop-vxlan   iptables drops UDP 4789 (VXLAN) in and out of the interface.
#   mtu          --mtu N: the interface's MTU. [--reset-tcp-port N]...: the established TCP connections of
#                those ports (the daemon's KV store) are reset once it is set (ss -K), so that they connect
#                again under the smaller MTU: a peer keeps sending the segment size agreed before, which
#                the smaller interface drops, and nothing tells it why (the daemon's API stalls on it).
#   stop-daemon  --pidfile F (SIGTERM, wait until it has exited) [--restart CMD: how remove starts it again,
#                run with sh from the directory apply ran in] or --init systemd --unit U (systemctl stop,
#                docker.socket too); --init pidfile without --restart restarts the recorded command line
#                (--log-file). --docker-host URL: remove waits until it answers.
#
# The record of a fault is DIR/ID/: `settings` (key=value), `wanted` (the settings it was applied with,
# compared by a later apply), and what was there before (mtu.before, link.before, routes.before, argv...).
set -eu
# pipefail where the shell has it (bash, busybox ash; Debian 12's dash has not, and would exit on the attempt).
# shellcheck disable=SC3040
if (set -o pipefail) 2>/dev/null; then set -o pipefail; fi

PROG=fault.sh
log() { printf '[fault] %s\n' "$*" >&2; }
die() {
  printf '[fault] error: %s\n' "$*" >&2
  exit 1
}

[ $# -ge 1 ] || die "usage: $PROG apply|remove|status|prune [options] (see the header of $PROG)"
cmd=$1
shift
case "$cmd" in apply | remove | status | prune) ;; *) die "unknown subcommand '$cmd' (use apply, remove, status or prune)" ;; esac

state="" id="" name="" kind="" iface="" netns="" loss="" delay_ms="" jitter_ms="" mtu="" method=auto
spare="" reset="" keep="" pidfile="" restart="" init=pidfile unit=docker.service logfile="" docker_host="" timeout=60
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "option $1 needs a value"
  case "$1" in
    --state-dir) state=$2 ;;
    --id) id=$2 ;;
    --name) name=$2 ;;
    --kind) kind=$2 ;;
    --iface) iface=$2 ;;
    --netns) netns=$2 ;;
    --loss) loss=$2 ;;
    --delay-ms) delay_ms=$2 ;;
    --jitter-ms) jitter_ms=$2 ;;
    --mtu) mtu=$2 ;;
    --method) method=$2 ;;
    --spare-tcp-port) spare="$spare $2" ;;
    --reset-tcp-port) reset="$reset $2" ;;
    --keep) keep="$keep $2" ;;
    --pidfile) pidfile=$2 ;;
    --restart) restart=$2 ;;
    --init) init=$2 ;;
    --unit) unit=$2 ;;
    --log-file) logfile=$2 ;;
    --docker-host) docker_host=$2 ;;
    --timeout) timeout=$2 ;;
    *) die "unknown option '$1'" ;;
  esac
  shift 2
done
[ -n "$state" ] || die "--state-dir is required (where the fault's record is kept)"
case "$id" in *[!0-9a-f]*) die "--id must be hex digits, got '$id'" ;; esac

# ---- helpers -------------------------------------------------------------------------------------

# A network command in the host's namespace (netns hosts), or here (dind, ssh: this is the host).
net() {
  if [ -n "$netns" ]; then nsenter --net="/run/netns/$netns" "$@"; else "$@"; fi
}
ipt() { net iptables -w 5 "$@"; }
have() { command -v "$1" >/dev/null 2>&1; }
get() { sed -n "s/^$1=//p" "$rec/settings" | head -n 1; }

# The interface's MTU and whether it is up, read with `ip -o link` (nsenter --net keeps this machine's /sys).
link_line() { net ip -o link show dev "$1"; }
link_mtu() { link_line "$1" | sed -n 's/.* mtu \([0-9][0-9]*\).*/\1/p'; }
link_up() {
  l=$(link_line "$1")
  case "$l" in *"<UP,"* | *",UP,"* | *",UP>"* | *"<UP>"*) return 0 ;; *) return 1 ;; esac
}

# The root qdisc's kind; "default" for what the kernel puts there by itself (nothing of anyone's).
root_qdisc() {
  q=$(net tc qdisc show dev "$1" root | awk 'NR == 1 { print $2 }')
  case "$q" in "" | noqueue | pfifo_fast | mq | fq_codel | noop) echo default ;; *) echo "$q" ;; esac
}

chain_in() { echo "DNLAB-$id-I"; }
chain_out() { echo "DNLAB-$id-O"; }

# Remove a jump to our chain wherever it is (every copy), then the chain itself.
unjump() { # TABLE-CHAIN MATCH... -j TARGET
  while ipt -C "$@" 2>/dev/null; do ipt -D "$@"; done
}
drop_chain() {
  if ipt -S "$1" >/dev/null 2>&1; then
    ipt -F "$1"
    ipt -X "$1"
  fi
}

# The loss as iptables' probability (0.3 for 30%).
probability() { awk -v p="$1" 'BEGIN { printf "%.4f", p / 100 }'; }

wait_gone() { # PID SECONDS
  i=0
  while kill -0 "$1" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -le $(($2 * 10)) ] || return 1
    sleep 0.1
  done
}

# ---- each kind: apply, remove, and whether it is in effect ---------------------------------------

apply_drop_vxlan() {
  ci=$(chain_in)
  co=$(chain_out)
  ipt -N "$ci"
  ipt -A "$ci" -p udp --dport 4789 -j DROP
  ipt -N "$co"
  ipt -A "$co" -p udp --dport 4789 -j DROP
  ipt -I INPUT 1 -i "$iface" -j "$ci"
  ipt -I OUTPUT 1 -o "$iface" -j "$co"
  echo iptables >"$rec/method"
  echo "drops VXLAN (UDP 4789) in and out of $iface"
}
remove_iptables() {
  ci=$(chain_in)
  co=$(chain_out)
  unjump INPUT -i "$iface" -j "$ci"
  unjump OUTPUT -o "$iface" -j "$co"
  unjump FORWARD -i "$iface" -j "$ci"
  unjump FORWARD -o "$iface" -j "$co"
  drop_chain "$ci"
  drop_chain "$co"
}
active_iptables() { ipt -C INPUT -i "$iface" -j "$(chain_in)" 2>/dev/null; }

loss_iptables() {
  ci=$(chain_in)
  co=$(chain_out)
  pr=$(probability "$loss")
  ipt -N "$ci"
  ipt -N "$co"
  for port in $spare; do
    ipt -A "$ci" -p tcp --dport "$port" -j RETURN
    ipt -A "$ci" -p tcp --sport "$port" -j RETURN
    ipt -A "$co" -p tcp --sport "$port" -j RETURN
    ipt -A "$co" -p tcp --dport "$port" -j RETURN
  done
  ipt -A "$ci" -m statistic --mode random --probability "$pr" -j DROP
  ipt -A "$co" -m statistic --mode random --probability "$pr" -j DROP
  # INPUT/OUTPUT: what the host itself sends and receives (VXLAN, gossip, the KV store); FORWARD: what
  # its containers send through docker_gwbridge. Macvlan children bypass the host's iptables.
  ipt -I INPUT 1 -i "$iface" -j "$ci"
  ipt -I FORWARD 1 -i "$iface" -j "$ci"
  ipt -I OUTPUT 1 -o "$iface" -j "$co"
  ipt -I FORWARD 1 -o "$iface" -j "$co"
  echo iptables >"$rec/method"
  echo "drops $loss% of the IP packets in and out of $iface (iptables statistic${spare:+; TCP ports$spare spared})"
}

ifb_name() { echo "dnlab$id"; }

# netem where the kernel has it: egress on the interface, ingress redirected through an ifb device.
loss_netem() {
  ifb=$(ifb_name)
  [ "$(root_qdisc "$iface")" = default ] || return 1
  net tc qdisc add dev "$iface" root netem loss "$loss%" || return 1
  echo root >"$rec/qdisc"
  if net ip link add "$ifb" type ifb &&
    echo "$ifb" >"$rec/ifb" &&
    net ip link set dev "$ifb" up &&
    net tc qdisc add dev "$iface" handle ffff: ingress &&
    echo ingress >>"$rec/qdisc" &&
    net tc filter add dev "$iface" parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev "$ifb" &&
    net tc qdisc add dev "$ifb" root netem loss "$loss%"; then
    echo netem >"$rec/method"
    echo "drops $loss% of the packets in and out of $iface (netem, ingress through $ifb)"
    return 0
  fi
  remove_netem
  return 1
}
remove_netem() {
  if [ -f "$rec/qdisc" ]; then
    if grep -qx ingress "$rec/qdisc"; then net tc qdisc del dev "$iface" handle ffff: ingress 2>/dev/null || true; fi
    if grep -qx root "$rec/qdisc"; then net tc qdisc del dev "$iface" root 2>/dev/null || true; fi
  fi
  if [ -f "$rec/ifb" ]; then net ip link del "$(cat "$rec/ifb")" 2>/dev/null || true; fi
  rm -f "$rec/qdisc" "$rec/ifb"
}
active_netem() {
  q=$(net tc qdisc show dev "$iface" root)
  case "$q" in *netem*) return 0 ;; *) return 1 ;; esac
}

apply_loss() {
  case "$method" in
    iptables) loss_iptables ;;
    netem) loss_netem || die "netem loss on $iface failed (tc and the kernel's sch_netem and ifb are needed; method iptables does without)" ;;
    auto)
      if [ -z "$spare" ] && have tc && loss_netem 2>/dev/null; then :; else loss_iptables; fi
      ;;
    *) die "unknown --method '$method' (auto, netem or iptables)" ;;
  esac
}

apply_delay() {
  have tc ||
    die "delay needs tc (iproute2) on this host, and there is none: install iproute2, or remove the delay fault"
  rq=$(root_qdisc "$iface")
  [ "$rq" = default ] || die "$iface already has a root qdisc ($rq) the lab did not put there; remove it first"
  jit=""
  [ -z "$jitter_ms" ] || [ "$jitter_ms" = 0 ] || jit="${jitter_ms}ms"
  # shellcheck disable=SC2086 # jit is one word or none
  if ! out=$(net tc qdisc add dev "$iface" root netem delay "${delay_ms}ms" $jit 2>&1); then
    case "$out" in
      *nknown*) die "this kernel has no netem (sch_netem), which delay needs: $out" ;;
      *) die "tc qdisc add dev $iface root netem delay ${delay_ms}ms $jit: $out" ;;
    esac
  fi
  echo root >"$rec/qdisc"
  echo netem >"$rec/method"
  echo "delays what $iface sends by ${delay_ms}ms${jit:+ ± $jit} (netem)"
}

apply_mtu() {
  before=$(link_mtu "$iface")
  [ -n "$before" ] || die "cannot read the MTU of $iface"
  echo "$before" >"$rec/mtu.before"
  net ip link set dev "$iface" mtu "$mtu"
  # Connections made before (the daemon's to its KV store) keep their segment size: reset them, and they
  # are made again with the new one. Needs ss with -K (iproute2) and a kernel with INET_DIAG_DESTROY.
  for port in $reset; do
    if have ss && net ss -K -t state established "( dport = :$port or sport = :$port )" >/dev/null 2>&1; then
      :
    else
      log "warning: could not reset the TCP connections of port $port (no ss -K here): those made before keep sending segments the new MTU drops until they are made again"
    fi
  done
  echo "$iface MTU $before -> $mtu${reset:+ (TCP connections of port$reset reset)}"
}
remove_mtu() {
  if [ -f "$rec/mtu.before" ]; then net ip link set dev "$iface" mtu "$(cat "$rec/mtu.before")"; fi
}
active_mtu() { [ "$(link_mtu "$iface")" = "$mtu" ]; }

apply_down() {
  link_up "$iface" || die "$iface is already down; nothing the lab could put back"
  # Routes through the interface vanish with it (the default route first): recorded to be put back.
  net ip -4 route show | grep -E " dev $iface( |$)" >"$rec/routes.before" || true
  : >"$rec/link.up"
  net ip link set dev "$iface" down
  echo "$iface is down ($(wc -l <"$rec/routes.before" | tr -d ' ') route(s) recorded)"
}
remove_down() {
  [ -f "$rec/link.up" ] || return 0
  net ip link set dev "$iface" up
  if [ -f "$rec/routes.before" ]; then
    while IFS= read -r line; do
      [ -n "$line" ] || continue
      # shellcheck disable=SC2086 # a route line is words for `ip route replace`
      net ip route replace $line || log "warning: could not put back the route '$line'"
    done <"$rec/routes.before"
  fi
  # The link's IPv6 addresses come back "tentative" until duplicate address detection is done (about a
  # second): the host is as it was only once it is.
  i=0
  while a=$(net ip -o -6 addr show dev "$iface" 2>/dev/null) && case "$a" in *tentative*) true ;; *) false ;; esac; do
    i=$((i + 1))
    [ "$i" -le 50 ] || break
    sleep 0.1
  done
}
active_down() { ! link_up "$iface"; }

daemon_pid() { cat "$pidfile" 2>/dev/null || true; }
apply_stop_daemon() {
  if [ "$init" = auto ]; then
    if [ -d /run/systemd/system ]; then init=systemd; else init=pidfile; fi
  fi
  echo "$init" >"$rec/init"
  if [ "$init" = systemd ]; then
    for u in docker.socket "$unit"; do
      if systemctl is-active --quiet "$u"; then echo "$u" >>"$rec/units.active"; fi
    done
    # The socket unit first: a connection to it would start the daemon again.
    systemctl stop docker.socket "$unit"
    echo "dockerd stopped (systemctl stop $unit)"
    return 0
  fi
  [ -n "$pidfile" ] || die "stop-daemon needs --pidfile (or --init systemd)"
  pid=$(daemon_pid)
  kill -0 "$pid" 2>/dev/null || die "no dockerd runs with pidfile $pidfile"
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -q dockerd || die "pid $pid of $pidfile is not a dockerd"
  cp "/proc/$pid/cmdline" "$rec/argv"
  pwd >"$rec/cwd"
  if [ -n "$restart" ]; then printf '%s\n' "$restart" >"$rec/restart"; fi
  kill -TERM "$pid"
  wait_gone "$pid" "$timeout" || die "dockerd (pid $pid) still running ${timeout}s after SIGTERM"
  echo "dockerd (pid $pid) stopped"
}
remove_stop_daemon() {
  if [ "$(cat "$rec/init" 2>/dev/null || echo pidfile)" = systemd ]; then
    # In the order they were stopped the other way round: the service, then its socket.
    if grep -qx "$unit" "$rec/units.active" 2>/dev/null; then systemctl start "$unit"; fi
    if grep -qx docker.socket "$rec/units.active" 2>/dev/null; then systemctl start docker.socket; fi
  elif [ -f "$rec/argv" ]; then
    pid=$(daemon_pid)
    if kill -0 "$pid" 2>/dev/null; then
      log "dockerd already runs again (pid $pid)"
    elif [ -f "$rec/restart" ]; then
      (cd "$(cat "$rec/cwd")" && sh -c "$(cat "$rec/restart")") >&2
    else
      # The recorded command line, detached from this session, logging where it is told to.
      DNLAB_LOG=${logfile:-/dev/null} xargs -0 sh -c 'setsid "$@" >>"$DNLAB_LOG" 2>&1 </dev/null &' sh <"$rec/argv"
      i=0
      until kill -0 "$(daemon_pid)" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -le $((timeout * 10)) ] || die "dockerd did not start again within ${timeout}s"
        sleep 0.1
      done
    fi
  fi
  if [ -n "$docker_host" ] && have docker; then
    i=0
    until docker -H "$docker_host" info >/dev/null 2>&1; do
      i=$((i + 1))
      [ "$i" -le $((timeout * 5)) ] || die "dockerd does not answer on $docker_host ${timeout}s after its start"
      sleep 0.2
    done
  fi
}
active_stop_daemon() {
  if [ "$(cat "$rec/init" 2>/dev/null || echo pidfile)" = systemd ]; then
    ! systemctl is-active --quiet "$unit"
  else
    ! kill -0 "$(daemon_pid)" 2>/dev/null
  fi
}

# ---- one recorded fault --------------------------------------------------------------------------

# Load a record's settings into the variables the kind's functions use.
load() {
  rec=$1
  kind=$(get kind)
  name=$(get name)
  iface=$(get iface)
  netns=$(get netns)
  loss=$(get loss)
  mtu=$(get mtu)
  pidfile=$(get pidfile)
  unit=$(get unit)
  logfile=$(get logfile)
  docker_host=$(get docker_host)
  id=${rec##*/}
}

# Is the recorded fault in effect?
active() {
  case "$kind" in
    drop-vxlan) active_iptables ;;
    loss) if [ "$(cat "$rec/method" 2>/dev/null)" = netem ]; then active_netem; else active_iptables; fi ;;
    delay) active_netem ;;
    mtu) active_mtu ;;
    down) active_down ;;
    stop-daemon) active_stop_daemon ;;
    *) return 1 ;;
  esac
}

remove_record() {
  load "$1"
  if [ -n "$netns" ] && [ ! -e "/run/netns/$netns" ]; then
    log "namespace $netns is gone: nothing of $name to put back"
  else
    case "$kind" in
      drop-vxlan) remove_iptables ;;
      loss)
        remove_netem
        remove_iptables
        ;;
      delay) remove_netem ;;
      mtu) remove_mtu ;;
      down) remove_down ;;
      stop-daemon) remove_stop_daemon ;;
    esac
  fi
  rm -rf -- "$rec"
  echo "removed $kind fault $name"
}

# The settings a fault is applied with; a later apply with other settings removes it first.
wanted() {
  printf 'name=%s\nkind=%s\niface=%s\nnetns=%s\nloss=%s\ndelay_ms=%s\njitter_ms=%s\nmtu=%s\nspare=%s\nmethod=%s\npidfile=%s\nunit=%s\ninit=%s\n' \
    "$name" "$kind" "$iface" "$netns" "$loss" "$delay_ms" "$jitter_ms" "$mtu" "$spare" "$method" "$pidfile" "$unit" "$init"
}

do_apply() {
  [ -n "$id" ] && [ -n "$name" ] && [ -n "$kind" ] && [ -n "$iface" ] || die "apply needs --id, --name, --kind and --iface"
  case "$kind" in
    loss) [ -n "$loss" ] || die "a loss fault needs --loss" ;;
    delay) [ -n "$delay_ms" ] || die "a delay fault needs --delay-ms" ;;
    mtu) [ -n "$mtu" ] || die "an mtu fault needs --mtu" ;;
    down | drop-vxlan | stop-daemon) ;;
    *) die "unknown kind '$kind'" ;;
  esac
  if [ -n "$netns" ] && [ ! -e "/run/netns/$netns" ]; then die "network namespace $netns does not exist (is the host up?)"; fi
  rec=$state/$id
  want=$(wanted)
  if [ -d "$rec" ]; then
    if [ "$(cat "$rec/wanted" 2>/dev/null)" = "$want" ] && (load "$rec" && active); then
      echo "$kind fault $name already in effect"
      return 0
    fi
    # Other settings (an update in place), or no longer in effect: put back what it changed, then apply anew.
    (remove_record "$rec") >&2
  fi
  mkdir -p "$state"
  chmod 700 "$state"
  mkdir "$rec"
  printf '%s\n' "$want" >"$rec/wanted"
  {
    printf '%s\n' "$want"
    printf 'logfile=%s\ndocker_host=%s\napplied=%s\n' "$logfile" "$docker_host" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$rec/settings"
  # A failed apply puts back what it did so far and leaves no record.
  trap 'st=$?; if [ "$st" -ne 0 ]; then (remove_record "$rec") >/dev/null 2>&1 || true; fi' EXIT
  case "$kind" in
    loss) what=$(apply_loss) ;;
    delay) what=$(apply_delay) ;;
    down) what=$(apply_down) ;;
    drop-vxlan) what=$(apply_drop_vxlan) ;;
    mtu) what=$(apply_mtu) ;;
    stop-daemon) what=$(apply_stop_daemon) ;;
  esac
  trap - EXIT
  echo "applied $kind fault $name${netns:+ in $netns}: $what"
}

records() {
  [ -d "$state" ] || return 0
  for d in "$state"/*; do
    [ -f "$d/settings" ] && echo "$d"
  done
  return 0
}

case "$cmd" in
  apply) do_apply ;;
  remove)
    [ -n "$id" ] || die "remove needs --id"
    if [ -d "$state/$id" ]; then remove_record "$state/$id"; else echo "no fault $id recorded: nothing to remove"; fi
    rmdir "$state" 2>/dev/null || true
    ;;
  status)
    for d in $(records); do
      (
        load "$d"
        if active; then on=active; else on=INACTIVE; fi
        printf 'fault %s %s %s method=%s since=%s %s\n' "$id" "$name" "$kind" "$(cat "$d/method" 2>/dev/null || echo -)" "$(get applied)" "$on"
      )
    done
    ;;
  prune)
    for d in $(records); do
      case " $keep " in *" ${d##*/} "*) continue ;; esac
      (remove_record "$d")
    done
    rmdir "$state" 2>/dev/null || true
    ;;
esac

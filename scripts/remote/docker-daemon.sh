#!/usr/bin/env bash
# Reversibly configure the Docker daemon of a real machine for a lab (run ON that machine, as root).
#
#   docker-daemon.sh apply   [options] -- <lab dockerd flags...>
#   docker-daemon.sh restore [options]
#   docker-daemon.sh status  [options]
#   docker-daemon.sh restart [options]   the daemon as it runs now, nothing changed or recorded: the
#                                        verifier found it stuck (Docker 20.10 left one of its threads in a
#                                        deleted overlay namespace); in kv mode it waits for the store and gossip
#
# Runs over ssh as `ssh host 'sudo -n bash -s -- apply ...' < docker-daemon.sh` (the Pulumi component
# feeds this file on stdin) or as a copied file. Every setting comes from the lab model
# (plan.hosts[i].daemon.args / .daemonJson, see src/model/remoteCommands.ts); every path is an argument.
#
# Options (paths are required where the chosen init/method needs them):
#   --mode kv|swarm           overlay mode; kv is refused on Docker >= 23 (exit 3)
#   --state-dir DIR           backups + ownership records of this lab on this host (e.g. /var/lib/dnlab-remote/lab)
#   --daemon-json-file PATH   the daemon.json this dockerd reads (e.g. /etc/docker/daemon.json)
#   --daemon-json JSON        the lab's daemon.json keys (plan.hosts[i].daemon.daemonJson)
#   --dropin-file PATH        systemd drop-in written by the `flags` method (e.g. /etc/systemd/system/docker.service.d/dnlab.conf)
#   --unit NAME               systemd unit of the daemon (docker.service)
#   --pidfile PATH            no systemd: the pidfile of the running dockerd (its --pidfile)
#   --log-file PATH           no systemd: where a dockerd started by this script logs
#   --docker-host URL         the daemon's local endpoint, waited on after a restart (unix:///var/run/docker.sock)
#   --method auto|daemon-json|flags
#   --init auto|systemd|pidfile
#   --kv-url URL              kv mode: the cluster store (consul://ip:port, etcd://ip:port)
#   --kv-node ADDR:PORT       kv mode: the key this daemon registers under docker/nodes/ (its cluster-advertise address)
#   --gossip ADDR:PORT        kv mode: the overlay driver's gossip (serf) endpoint, waited on after registration
#   --timeout SECONDS         for every wait (default 60)
#   -- FLAGS...               the lab's dockerd flags (plan.hosts[i].daemon.args); always given, also for
#                             daemon-json, because their names say which command-line flags the lab owns.
#
# Methods: `daemon-json` merges the lab's keys into the daemon.json, keeping every other key (needs jq
# or python3 on the host); `flags` puts the lab's flags on dockerd's command line (systemd: a drop-in
# overriding ExecStart; no systemd: the restarted dockerd's argv). `auto` = daemon-json when jq/python3
# exists, else flags; under systemd also flags when ExecStart already sets one of the lab's settings
# (dockerd refuses a setting given both as a flag and in the file; without systemd this script writes
# the whole command line and drops the lab's flags from it instead).
#
# Init: systemd when /run/systemd/system exists (daemon-reload + restart of --unit); otherwise the
# daemon is a plain dockerd known by its --pidfile: "restart" = SIGTERM that pid, wait for the exit,
# start its original command line (read from /proc/<pid>/cmdline on the first apply and kept in the
# state dir) with the lab's settings, detached (setsid), logging to --log-file.
#
# What apply records in --state-dir (restore undoes exactly that, then deletes the dir):
#   orig-argv        the daemon's original command line (NUL-separated), from the first apply
#   <f>.orig         byte-for-byte copy (cp -p) of each file it changes, or <f>.absent if there was none
#   <f>.path         which file that was; <f>.createddir: a directory apply had to create
#   method, owned-keys, owned-flags, applied
# apply is a no-op (no restart) when the files and the running command line are already as wanted.
#
# Exit codes: 0 ok, 1 failure, 2 bad usage/input, 3 kv mode on Docker >= 23, 4 timeout, 5 conflict.
set -euo pipefail

PROG=docker-daemon.sh
die() { local code=$1; shift; echo "$PROG: error: $*" >&2; exit "$code"; }
log() { echo "$PROG: $*" >&2; }

[ $# -ge 1 ] || die 2 "usage: $PROG apply|restore|status|restart [options] [-- flags...]"
CMD=$1; shift
case "$CMD" in apply | restore | status | restart) ;; *) die 2 "unknown subcommand '$CMD' (use apply, restore, status or restart)" ;; esac

MODE="" STATE_DIR="" JSON_FILE="" LAB_JSON="" DROPIN="" UNIT=docker.service PIDFILE="" LOGFILE=""
DOCKER_HOST_URL="" METHOD=auto INIT=auto KV_URL="" KV_NODE="" GOSSIP="" TIMEOUT=60
LAB_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; LAB_ARGS=("$@"); break ;;
    --mode | --state-dir | --daemon-json-file | --daemon-json | --dropin-file | --unit | --pidfile | --log-file | \
      --docker-host | --method | --init | --kv-url | --kv-node | --gossip | --timeout)
      [ $# -ge 2 ] || die 2 "option $1 needs a value"
      case "$1" in
        --mode) MODE=$2 ;; --state-dir) STATE_DIR=$2 ;; --daemon-json-file) JSON_FILE=$2 ;;
        --daemon-json) LAB_JSON=$2 ;; --dropin-file) DROPIN=$2 ;; --unit) UNIT=$2 ;; --pidfile) PIDFILE=$2 ;;
        --log-file) LOGFILE=$2 ;; --docker-host) DOCKER_HOST_URL=$2 ;; --method) METHOD=$2 ;; --init) INIT=$2 ;;
        --kv-url) KV_URL=$2 ;; --kv-node) KV_NODE=$2 ;; --gossip) GOSSIP=$2 ;; --timeout) TIMEOUT=$2 ;;
      esac
      shift 2 ;;
    *) die 2 "unknown option '$1'" ;;
  esac
done

# The docker CLI to use (this project's machines have a second, older client earlier on PATH).
DOCKER=${DNLAB_DOCKER:-docker}

[ -n "$STATE_DIR" ] || die 2 "--state-dir is required (where backups of the original files are kept)"
[ -n "$DOCKER_HOST_URL" ] || die 2 "--docker-host is required (the endpoint to wait on, e.g. unix:///var/run/docker.sock)"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die 2 "--timeout '$TIMEOUT' is not a number of seconds"
case "$METHOD" in auto | daemon-json | flags) ;; *) die 2 "--method '$METHOD': use auto, daemon-json or flags" ;; esac
case "$INIT" in auto | systemd | pidfile) ;; *) die 2 "--init '$INIT': use auto, systemd or pidfile" ;; esac
[ "$(id -u)" = 0 ] || die 1 "must run as root (run it with sudo -n, or log in as root)"

# ---------------------------------------------------------------------------------------------- facts
docker_version() {
  # The binary's version: what will run after a restart. Fall back to the running server's.
  local v=""
  if command -v "${DNLAB_DOCKERD:-dockerd}" >/dev/null 2>&1; then
    v=$("${DNLAB_DOCKERD:-dockerd}" --version 2>/dev/null | sed -n 's/^Docker version \([0-9][0-9.]*\).*/\1/p' | head -n1 || true)
  fi
  if [ -z "$v" ]; then
    v=$("$DOCKER" -H "$DOCKER_HOST_URL" version --format '{{.Server.Version}}' 2>/dev/null | sed -n 's/^\([0-9][0-9.]*\).*/\1/p' || true)
  fi
  echo "$v"
}

detect_init() {
  if [ "$INIT" != auto ]; then echo "$INIT"; return; fi
  # The test hosts (network namespaces) and many containers have no systemd: there the daemon is a plain
  # dockerd process identified by its pidfile.
  if [ -d /run/systemd/system ]; then echo systemd; else echo pidfile; fi
}

json_tool() {
  case "${DNLAB_JSON_TOOL:-auto}" in
    jq | python3 | none) echo "${DNLAB_JSON_TOOL}"; return ;;
  esac
  if command -v jq >/dev/null 2>&1; then echo jq
  elif command -v python3 >/dev/null 2>&1 && python3 -c 'import json' >/dev/null 2>&1; then echo python3
  else echo none; fi
}

VERSION=$(docker_version)
MAJOR=${VERSION%%.*}
INIT_KIND=$(detect_init)
JSON_TOOL=$(json_tool)

if [ "$INIT_KIND" = pidfile ]; then
  [ -n "$PIDFILE" ] || die 2 "no systemd here: --pidfile (the running dockerd's pidfile) is required"
  [ -n "$LOGFILE" ] || [ "$CMD" = status ] || die 2 "no systemd here: --log-file is required (the restarted dockerd logs there)"
fi

# ------------------------------------------------------------------------------------------- helpers
# Flag names the lab owns, from its flags: --bip X / --cluster-store=Y -> bip, cluster-store.
owned_flag_names() {
  local a
  for a in "${LAB_ARGS[@]}"; do
    case "$a" in --*) a=${a#--}; echo "${a%%=*}" ;; esac
  done | sort -u
}

# argv (NUL-separated on stdin) minus the owned flags, both `--f v` and `--f=v`; NUL-separated out.
strip_owned() {
  local names a skip=0 n
  names=$(owned_flag_names)
  while IFS= read -r -d '' a; do
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$a" in
      --*)
        n=${a#--}; n=${n%%=*}
        if grep -qxF -- "$n" <<<"$names"; then
          [[ "$a" == *=* ]] || skip=1
          continue
        fi ;;
    esac
    printf '%s\0' "$a"
  done
}

# Does an argv (NUL-separated file) set any owned flag?
argv_sets_owned() {
  local names a n
  names=$(owned_flag_names)
  while IFS= read -r -d '' a; do
    case "$a" in --*) n=${a#--}; n=${n%%=*}; grep -qxF -- "$n" <<<"$names" && return 0 ;; esac
  done <"$1"
  return 1
}

# Value of --config-file in an argv file, if any.
argv_config_file() {
  local a next=0
  while IFS= read -r -d '' a; do
    if [ "$next" = 1 ]; then echo "$a"; return; fi
    case "$a" in --config-file=*) echo "${a#--config-file=}"; return ;; --config-file) next=1 ;; esac
  done <"$1"
}

running_pid() {
  local pid cmd
  [ -n "$PIDFILE" ] && [ -s "$PIDFILE" ] || return 1
  pid=$(tr -dc '0-9' <"$PIDFILE")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # A stale pidfile may name a recycled pid: only a dockerd that uses this very pidfile (or names
  # none, i.e. the default one) is ours to signal.
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmd" == *dockerd* ]] || return 1
  if [[ "$cmd" == *--pidfile* ]]; then
    [[ "$cmd" == *"--pidfile $PIDFILE "* || "$cmd" == *"--pidfile=$PIDFILE "* || "$cmd" == *"-p $PIDFILE "* ]] || return 1
  fi
  echo "$pid"
}

# Does the running dockerd run exactly this argv (NUL-separated file)? Read /proc through cat: cmp
# trusts st_size, which is 0 for /proc files.
runs_argv() { # $1 pid, $2 argv file
  [ -n "$1" ] && cat "/proc/$1/cmdline" 2>/dev/null | cmp -s - "$2"
}

wait_ready() {
  local deadline=$((SECONDS + TIMEOUT))
  until "$DOCKER" -H "$DOCKER_HOST_URL" version --format '{{.Server.Version}}' >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die 4 "the daemon at $DOCKER_HOST_URL did not answer within ${TIMEOUT}s (see ${LOGFILE:-journalctl -u $UNIT})"
    sleep 0.3
  done
}

stop_pidfile_daemon() {
  local pid deadline
  pid=$(running_pid) || return 0
  log "stopping dockerd (pid $pid, from $PIDFILE)"
  kill -TERM "$pid"
  deadline=$((SECONDS + TIMEOUT))
  # Wait for the exit: a new dockerd started while the old one still holds its ports/mounts fails.
  while kill -0 "$pid" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || die 4 "dockerd (pid $pid) did not exit within ${TIMEOUT}s after SIGTERM"
    sleep 0.2
  done
}

start_pidfile_daemon() { # $1: NUL-separated argv file; $2: where it logs (default --log-file)
  local argv=() out=${2:-$LOGFILE}
  mapfile -d '' -t argv <"$1"
  mkdir -p "$(dirname "$out")"
  log "starting: ${argv[*]}"
  # setsid + closed stdio: the daemon outlives this (ssh) session and does not hold it open.
  setsid "${argv[@]}" >>"$out" 2>&1 </dev/null &
  disown || true
  local deadline=$((SECONDS + TIMEOUT))
  until running_pid >/dev/null; do
    [ $SECONDS -lt $deadline ] || die 4 "dockerd did not write $PIDFILE within ${TIMEOUT}s (see $LOGFILE)"
    sleep 0.2
  done
  wait_ready
}

restart_daemon() { # pidfile: $1 = argv file to start with, $2 = where it logs (default --log-file)
  if [ "$INIT_KIND" = systemd ]; then
    systemctl daemon-reload
    systemctl restart "$UNIT"
    wait_ready
  else
    stop_pidfile_daemon
    start_pidfile_daemon "$1" "${2:-}"
  fi
}

# The ExecStart argv systemd runs now (space-split: systemd shows it without quoting).
systemd_execstart() {
  systemctl show -p ExecStart --value "$UNIT" | sed -n 's/.*argv\[\]=\([^;]*\) ;.*/\1/p' | head -n1 |
    tr -s ' ' '\n' | sed '/^$/d' | tr '\n' '\0'
}

# systemd quoting of one ExecStart argument ('%' and '$' are specifiers/variables there).
systemd_quote() {
  local a=${1//%/%%}
  a=${a//\$/\$\$}
  if [[ "$a" =~ ^[A-Za-z0-9_./:=,@+-]+$ ]]; then printf '%s' "$a"
  else a=${a//\\/\\\\}; a=${a//\"/\\\"}; printf '"%s"' "$a"; fi
}

# merged daemon.json on stdout: current file, previously owned keys reset to their original values, + lab keys.
json_merge() { # $1 current file (may be absent), $2 original backup (may be absent), $3 owned-keys file (may be absent)
  local cur=$1 orig=$2 prev=$3
  case "$JSON_TOOL" in
    jq)
      local curj='{}' origj='{}' prevj='[]'
      [ -s "$cur" ] && curj=$(cat "$cur")
      [ -s "$orig" ] && origj=$(cat "$orig")
      [ -s "$prev" ] && prevj=$(jq -R -s 'split("\n") | map(select(length > 0))' "$prev")
      jq --argjson lab "$LAB_JSON" --argjson orig "$origj" --argjson prev "$prevj" \
        'if type != "object" then error("not a JSON object") else . end
         | reduce $prev[] as $k (.; if ($orig | has($k)) then .[$k] = $orig[$k] else del(.[$k]) end) + $lab' <<<"$curj"
      ;;
    python3)
      python3 - "$cur" "$orig" "$prev" "$LAB_JSON" <<'PY'
import json, os, sys
cur, orig, prev, lab = sys.argv[1:5]
def load(p):
    return json.load(open(p)) if os.path.exists(p) and os.path.getsize(p) > 0 else {}
c, o, l = load(cur), load(orig), json.loads(lab)
if not isinstance(c, dict) or not isinstance(l, dict):
    sys.exit("not a JSON object")
for k in (open(prev).read().split() if os.path.exists(prev) else []):
    if k in o: c[k] = o[k]
    else: c.pop(k, None)
c.update(l)
print(json.dumps(c, indent=2))
PY
      ;;
    *) die 1 "no JSON tool (jq or python3) on this host to merge $JSON_FILE" ;;
  esac
}

lab_json_keys() {
  case "$JSON_TOOL" in
    jq) jq -r 'if type == "object" then keys_unsorted[] else error("--daemon-json must be a JSON object") end' <<<"$LAB_JSON" ;;
    python3) python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert isinstance(d, dict), "--daemon-json must be a JSON object"; print("\n".join(d))' "$LAB_JSON" ;;
  esac
}

# Does the daemon.json set one of the lab's settings? (flags method: dockerd refuses a setting given twice)
json_sets_owned() {
  [ -s "$JSON_FILE" ] || return 1
  local n pat=""
  for n in $(owned_flag_names); do pat="$pat|$n|${n}s"; done # --default-address-pool <-> "default-address-pools"
  grep -Eq "\"(${pat#|})\"[[:space:]]*:" "$JSON_FILE"
}

backup_file() { # $1 path, $2 backup name: byte-for-byte copy (mode, owner, times), or a marker that it was absent
  if [ -e "$1" ]; then cp -p -- "$1" "$STATE_DIR/$2.orig"; else : >"$STATE_DIR/$2.absent"; fi
  printf '%s\n' "$1" >"$STATE_DIR/$2.path"
  if [ ! -d "$(dirname "$1")" ]; then printf '%s\n' "$(dirname "$1")" >"$STATE_DIR/$2.createddir"; fi
}

restore_file() { # $1 backup name
  local path
  [ -f "$STATE_DIR/$1.path" ] || return 0
  path=$(cat "$STATE_DIR/$1.path")
  if [ -f "$STATE_DIR/$1.orig" ]; then
    cp -p -- "$STATE_DIR/$1.orig" "$path.dnlab-tmp"
    mv -f -- "$path.dnlab-tmp" "$path"
  else
    rm -f -- "$path"
  fi
  if [ -f "$STATE_DIR/$1.createddir" ]; then rmdir -- "$(cat "$STATE_DIR/$1.createddir")" 2>/dev/null || true; fi
}

write_file() { # $1 path, $2 content file: atomic replace; a new file gets 0644, an existing one keeps its mode
  mkdir -p -- "$(dirname "$1")"
  if [ -e "$1" ]; then cp -p -- "$1" "$1.dnlab-tmp"; cat -- "$2" >"$1.dnlab-tmp"
  else install -m 0644 -- "$2" "$1.dnlab-tmp"; fi
  mv -f -- "$1.dnlab-tmp" "$1"
}

# Wait until the daemon shows up under docker/nodes/ in the KV store (plain HTTP over bash's /dev/tcp:
# the host may have neither curl nor wget).
kv_registered() {
  local scheme=${KV_URL%%://*} hostport=${KV_URL#*://} path
  hostport=${hostport%%/*}
  case "$scheme" in
    consul) path='/v1/kv/docker/nodes/?keys' ;;
    etcd) path='/v2/keys/docker/nodes' ;;
    *) log "cannot check registration in a $scheme store over HTTP; not waiting for it"; return 0 ;;
  esac
  local body
  body=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}"; printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$1" >&3; cat <&3' _ "$hostport" "$path" 2>/dev/null || true)
  grep -qF "docker/nodes/$KV_NODE" <<<"$body"
}

wait_kv() {
  local deadline=$((SECONDS + TIMEOUT))
  until kv_registered; do
    [ $SECONDS -lt $deadline ] || die 4 "the daemon did not register as docker/nodes/$KV_NODE in $KV_URL within ${TIMEOUT}s"
    sleep 1
  done
  log "registered in $KV_URL as docker/nodes/$KV_NODE"
}

# Wait until the overlay driver's gossip (serf) listens. A daemon that started while its KV store was
# down (Consul on this very host stops with its daemon) registers at a later heartbeat and only then
# starts its gossip: containers created before that are never announced to the other hosts, and the
# overlay carries nothing between them. Peers restarted after this joins it at once.
wait_gossip() {
  [ -n "$GOSSIP" ] || return 0
  local deadline=$((SECONDS + TIMEOUT))
  until timeout 2 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}"' _ "$GOSSIP" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || die 4 "the overlay driver's gossip does not listen on $GOSSIP within ${TIMEOUT}s (the daemon has not joined the KV store's cluster)"
    sleep 1
  done
  log "overlay gossip listening on $GOSSIP"
}

# ------------------------------------------------------------------------------------------- status
cmd_status() {
  echo "docker_version=$VERSION"
  echo "init=$INIT_KIND"
  echo "json_tool=$JSON_TOOL"
  if [ -f "$STATE_DIR/applied" ]; then echo "applied=yes"; echo "method=$(cat "$STATE_DIR/method")"; else echo "applied=no"; fi
  if [ "$INIT_KIND" = pidfile ]; then echo "pid=$(running_pid || true)"; fi
  echo "cluster_store=$("$DOCKER" -H "$DOCKER_HOST_URL" info --format '{{.ClusterStore}}' 2>/dev/null || true)"
}

# ------------------------------------------------------------------------------------------ restore
cmd_restore() {
  if [ ! -f "$STATE_DIR/applied" ]; then
    log "nothing to restore (no lab configuration recorded in $STATE_DIR)"
    rm -rf -- "$STATE_DIR"
    return 0
  fi
  # docker_gwbridge took a block of the lab's address pool when the lab's overlay first needed it; if the
  # daemon had none before, it goes (once nothing is attached: destroy removed the lab's containers).
  if [ -f "$STATE_DIR/gwbridge.absent" ] && "$DOCKER" -H "$DOCKER_HOST_URL" network inspect docker_gwbridge >/dev/null 2>&1; then
    if "$DOCKER" -H "$DOCKER_HOST_URL" network rm docker_gwbridge >/dev/null 2>&1; then log "removed docker_gwbridge (the lab's)"
    else log "warning: docker_gwbridge is still in use; left in place"; fi
  fi
  restore_file daemon-json
  restore_file dropin
  if [ "$INIT_KIND" = pidfile ]; then
    # Back to the original command line, unless the daemon already runs exactly that. A log file this
    # script created goes with the lab: the original daemon then logs where it did before, nowhere.
    restored_log=$LOGFILE
    [ ! -f "$STATE_DIR/logfile.created" ] || restored_log=/dev/null
    pid=$(running_pid || true)
    if runs_argv "$pid" "$STATE_DIR/orig-argv"; then
      log "dockerd already runs its original command line"
    else
      restart_daemon "$STATE_DIR/orig-argv" "$restored_log"
    fi
    if [ -f "$STATE_DIR/logfile.created" ]; then rm -f -- "$LOGFILE"; fi
  else
    restart_daemon ""
  fi
  rm -rf -- "$STATE_DIR"
  # The lab's state lives in <dir>/<lab>: the parent goes too when no other lab uses it.
  rmdir -- "$(dirname "$STATE_DIR")" 2>/dev/null || true
  log "restored"
}

# -------------------------------------------------------------------------------------------- apply
cmd_apply() {
  if [ "$MODE" = kv ]; then
    [ -n "$VERSION" ] || die 1 "cannot read the Docker version (dockerd --version / docker version both failed); kv mode needs Docker < 23"
    if [ "$MAJOR" -ge 23 ]; then
      die 3 "Docker $VERSION removed --cluster-store/--cluster-advertise (gone since 23.0), so the classic kv overlay" \
        "cannot run here. Fix: set lab:overlayMode to swarm (overlay mode swarm), or install Docker 20.10 on this host."
    fi
  fi
  case "$MODE" in kv | swarm) ;; *) die 2 "--mode '$MODE': use kv or swarm" ;; esac
  [ ${#LAB_ARGS[@]} -gt 0 ] || die 2 "the lab's dockerd flags are missing after -- (plan.hosts[i].daemon.args)"
  if [ "$MODE" = kv ] && { [ -z "$KV_URL" ] || [ -z "$KV_NODE" ]; }; then
    die 2 "kv mode needs --kv-url and --kv-node (to wait until the daemon is registered in the KV store)"
  fi

  NEW=$(mktemp)
  NEWARGV=$(mktemp)
  ORIG_NOW=$(mktemp)
  trap 'rm -f "$NEW" "$NEWARGV" "$ORIG_NOW"' EXIT
  FIRST=0
  [ -f "$STATE_DIR/applied" ] || FIRST=1

  # The daemon's original command line is recorded on the first apply only: later applies must not
  # take the lab's own command line for the original.
  if [ "$FIRST" = 1 ]; then
    if [ "$INIT_KIND" = systemd ]; then
      systemd_execstart >"$ORIG_NOW"
      [ -s "$ORIG_NOW" ] || die 1 "cannot read ExecStart of $UNIT (systemctl show -p ExecStart $UNIT)"
    else
      pid=$(running_pid) || die 1 "no dockerd runs under $PIDFILE: start the daemon first, its command line is what the lab extends"
      cat "/proc/$pid/cmdline" >"$ORIG_NOW"
    fi
    ORIG_ARGV=$ORIG_NOW
  else
    ORIG_ARGV=$STATE_DIR/orig-argv
  fi

  # Choose the method once; switching needs a restore first. Without systemd this script writes the
  # restarted dockerd's whole command line, so it can drop the lab's flags from it; under systemd the
  # daemon-json method leaves ExecStart alone, so ExecStart must not set the lab's settings.
  if [ "$METHOD" = auto ]; then
    if [ "$JSON_TOOL" = none ] || [ -z "$LAB_JSON" ]; then METHOD=flags
    elif [ "$INIT_KIND" = systemd ] && argv_sets_owned "$ORIG_ARGV"; then METHOD=flags
    else METHOD=daemon-json; fi
  fi
  if [ "$FIRST" = 0 ] && [ "$(cat "$STATE_DIR/method")" != "$METHOD" ]; then
    die 5 "this host was configured with method $(cat "$STATE_DIR/method"); run restore before applying with $METHOD"
  fi

  # Validate and compute the wanted file/argv before anything on the host changes.
  if [ "$METHOD" = daemon-json ]; then
    [ "$JSON_TOOL" != none ] || die 2 "method daemon-json needs jq or python3 on the host (install one, or use --method flags)"
    [ -n "$LAB_JSON" ] || die 2 "method daemon-json needs --daemon-json (plan.hosts[i].daemon.daemonJson)"
    [ -n "$JSON_FILE" ] || die 2 "method daemon-json needs --daemon-json-file"
    lab_json_keys >/dev/null || die 2 "--daemon-json is not a JSON object: $LAB_JSON"
    cf=$(argv_config_file "$ORIG_ARGV")
    if [ "$INIT_KIND" = systemd ]; then
      if argv_sets_owned "$ORIG_ARGV"; then
        die 5 "ExecStart of $UNIT already sets one of: $(owned_flag_names | tr '\n' ' ')- the same setting in $JSON_FILE would stop dockerd from starting. Fix: use --method flags"
      fi
      [ "${cf:-/etc/docker/daemon.json}" = "$JSON_FILE" ] || die 2 "dockerd reads ${cf:-/etc/docker/daemon.json}, not $JSON_FILE"
    else
      # The restarted dockerd: original argv without the lab's flags (now in the file), reading the file.
      strip_owned <"$ORIG_ARGV" >"$NEWARGV"
      if [ -z "$cf" ]; then printf '%s\0' --config-file "$JSON_FILE" >>"$NEWARGV"
      elif [ "$cf" != "$JSON_FILE" ]; then die 2 "dockerd reads --config-file $cf, not $JSON_FILE"; fi
    fi
    # First apply: merge into the file as it is; later: reset previously owned keys to their originals.
    if [ "$FIRST" = 1 ]; then ORIG_JSON=$JSON_FILE PREV_KEYS=/dev/null
    else ORIG_JSON=$STATE_DIR/daemon-json.orig PREV_KEYS=$STATE_DIR/owned-keys; fi
    json_merge "$JSON_FILE" "$ORIG_JSON" "$PREV_KEYS" >"$NEW" ||
      die 1 "cannot merge the lab's keys into $JSON_FILE (is it a valid JSON object?)"
  else
    if json_sets_owned; then
      die 5 "$JSON_FILE already sets one of the lab's settings ($(owned_flag_names | tr '\n' ' '));" \
        "dockerd refuses a setting given both as a flag and in the file. Fix: use --method daemon-json, or remove it from $JSON_FILE"
    fi
    # Original command line minus the lab's flags, then the lab's flags: re-running gives the same argv.
    strip_owned <"$ORIG_ARGV" >"$NEWARGV"
    printf '%s\0' "${LAB_ARGS[@]}" >>"$NEWARGV"
    if [ "$INIT_KIND" = systemd ]; then
      [ -n "$DROPIN" ] || die 2 "method flags with systemd needs --dropin-file"
      {
        echo "# Written by dnlab docker-daemon.sh; \`docker-daemon.sh restore\` puts back what was here."
        echo "[Service]"
        echo "ExecStart="
        printf 'ExecStart='
        sep=""
        while IFS= read -r -d '' a; do printf '%s%s' "$sep" "$(systemd_quote "$a")"; sep=" "; done <"$NEWARGV"
        echo
      } >"$NEW"
    fi
  fi

  # Record what is needed to undo, before the first change: backups are taken once, on the first apply.
  if [ "$FIRST" = 1 ]; then
    rm -rf -- "$STATE_DIR"
    mkdir -p -- "$STATE_DIR"
    chmod 0700 "$STATE_DIR"
    cp "$ORIG_NOW" "$STATE_DIR/orig-argv"
    if [ "$METHOD" = daemon-json ]; then backup_file "$JSON_FILE" daemon-json; fi
    if [ "$METHOD" = flags ] && [ "$INIT_KIND" = systemd ]; then backup_file "$DROPIN" dropin; fi
    echo "$METHOD" >"$STATE_DIR/method"
    # What restore must remove again: a log file and a docker_gwbridge that only the lab brought.
    if [ "$INIT_KIND" = pidfile ] && [ ! -e "$LOGFILE" ]; then touch "$STATE_DIR/logfile.created"; fi
    if ! "$DOCKER" -H "$DOCKER_HOST_URL" network inspect docker_gwbridge >/dev/null 2>&1; then touch "$STATE_DIR/gwbridge.absent"; fi
    touch "$STATE_DIR/applied"
  fi
  owned_flag_names >"$STATE_DIR/owned-flags"

  CHANGED=0
  if [ "$METHOD" = daemon-json ]; then
    lab_json_keys >"$STATE_DIR/owned-keys"
    if ! cmp -s "$NEW" "$JSON_FILE"; then write_file "$JSON_FILE" "$NEW"; CHANGED=1; log "merged $(lab_json_keys | tr '\n' ' ')into $JSON_FILE"; fi
  elif [ "$INIT_KIND" = systemd ]; then
    if ! cmp -s "$NEW" "$DROPIN"; then write_file "$DROPIN" "$NEW"; CHANGED=1; log "wrote $DROPIN"; fi
  fi

  # Without systemd the running argv is part of the configuration: compare it with the wanted one.
  if [ "$INIT_KIND" = pidfile ]; then
    pid=$(running_pid || true)
    runs_argv "$pid" "$NEWARGV" || CHANGED=1
  elif ! systemctl is-active --quiet "$UNIT"; then
    CHANGED=1
  fi

  if [ "$CHANGED" = 1 ]; then
    restart_daemon "$NEWARGV"
    log "configured (method $METHOD, init $INIT_KIND, Docker $VERSION); daemon restarted"
  else
    wait_ready
    log "already configured (method $METHOD); nothing changed, no restart"
  fi
  if [ "$MODE" = kv ]; then wait_kv; wait_gossip; fi
  echo "changed=$CHANGED method=$METHOD init=$INIT_KIND version=$VERSION"
}

# ------------------------------------------------------------------------------------------ restart
cmd_restart() {
  if [ "$INIT_KIND" = pidfile ]; then
    local pid argv
    pid=$(running_pid) || die 1 "no dockerd runs with pidfile $PIDFILE: nothing to restart"
    argv=$(mktemp)
    cat "/proc/$pid/cmdline" >"$argv"
    restart_daemon "$argv"
    rm -f -- "$argv"
  else
    restart_daemon ""
  fi
  if [ "$MODE" = kv ] && [ -n "$KV_URL" ] && [ -n "$KV_NODE" ]; then wait_kv; wait_gossip; fi
  log "restarted"
}

case "$CMD" in
  apply) cmd_apply ;;
  restore) cmd_restore ;;
  status) cmd_status ;;
  restart) cmd_restart ;;
esac

#!/usr/bin/env bash
# The outer engine's default runtime on machines whose capability bounding set lacks capabilities
# runc grants a --privileged container (this one lacks CAP_SYS_RESOURCE): runc then fails with
# "unable to apply caps: operation not permitted", and no Docker-in-Docker host can start. This wrapper
# removes the capabilities listed in DNLAB_DROP_CAPS (set by outer-up.sh from /proc/self/status, so
# only what the machine really lacks) from the OCI spec runc is about to apply, then execs runc:
#   - `runc create|run --bundle B`: B/config.json (.process.capabilities.*)
#   - `runc exec --process F`: F (.capabilities.*) -- healthchecks and `docker exec` of privileged
#     containers carry the same capability list.
# A capability the machine does not have cannot be granted anyway; everything else runc does is unchanged.
set -euo pipefail
runc=${DNLAB_RUNC:-/usr/sbin/runc}
drop=${DNLAB_DROP_CAPS:-}

edit() {
  local file=$1 path=$2 tmp
  [ -n "$drop" ] && [ -f "$file" ] || return 0
  tmp="$file.dnlab.$$"
  jq -c --arg drop "$drop" --argjson path "$path" '
    ($drop | split(" ") | map(select(. != ""))) as $d
    | if getpath($path) | type == "object" then
        setpath($path; getpath($path) | with_entries(.value |= if type == "array" then map(select(. as $c | $d | index($c) | not)) else . end))
      else . end' "$file" >"$tmp"
  mv -f -- "$tmp" "$file"
}

cmd="" bundle="" process=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  a=${args[i]}
  case "$a" in
    --bundle | -b) bundle=${args[i + 1]:-} ;;
    --bundle=*) bundle=${a#--bundle=} ;;
    --process | -p) process=${args[i + 1]:-} ;;
    --process=*) process=${a#--process=} ;;
    create | run | exec) [ -n "$cmd" ] || cmd=$a ;;
  esac
done
case "$cmd" in
  create | run) edit "${bundle:-.}/config.json" '["process","capabilities"]' ;;
  exec) [ -z "$process" ] || edit "$process" '["capabilities"]' ;;
esac
exec "$runc" "$@"

#!/usr/bin/env bash
# The benchmark's baseline teardown: the lab's own teardown scripts (the ones `npm run destroy` runs
# through the engine), called by hand one after another: every host, then the KV store, then the
# switch. The bench compares `npm run destroy` with this.
#
# usage: teardown.sh --step 'script.sh;arg;arg;...' [--step ...]...   (in the order given)
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: teardown.sh --step 'script;args...' ..." >&2; exit 2; }
while [ $# -gt 0 ]; do
  [ "$1" = "--step" ] && [ $# -ge 2 ] || { echo "teardown.sh: expected --step 'script;args...', got '$1'" >&2; exit 2; }
  IFS=';' read -r -a argv <<<"$2"
  "${argv[@]}"
  shift 2
done

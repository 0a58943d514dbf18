#!/usr/bin/env bash
# npm run up|preview|destroy|outputs|reset: checks prerequisites first, then drives the Pulumi CLI with a
# local state backend and an empty passphrase, so the default lab needs no account and no prompt.
#
# reset is the way back to a clean machine from any partial state (a lost host, an interrupted up, a
# destroy that fails): destroy what the engine still can, remove what is left of the lab on this
# machine (netns labs: namespaces, daemons by recorded PID, mounts, dirs), then forget the stack's
# state. The stack's config file is kept: `npm run up` starts over from it.
set -euo pipefail
cd "$(dirname "$0")/.."
action="${1:-up}"
shift || true
stack="${LAB_STACK:-dev}"

# An exercise (exercises/<stack>/): its stack file is copied into the project the first time, and that
# copy is the one to edit (the shipped one stays as it was).
if [ ! -e "Pulumi.${stack}.yaml" ] && [ -f "exercises/${stack}/Pulumi.${stack}.yaml" ]; then
  cp "exercises/${stack}/Pulumi.${stack}.yaml" "Pulumi.${stack}.yaml"
  echo "exercise ${stack}: copied exercises/${stack}/Pulumi.${stack}.yaml to Pulumi.${stack}.yaml (edit that copy; see exercises/${stack}/README.md)" >&2
fi

missing=0
if ! command -v pulumi >/dev/null 2>&1; then
  cat >&2 <<'MSG'
error: the Pulumi CLI is not installed (needed for `npm run up/preview/destroy`).
  Install it:  curl -fsSL https://get.pulumi.com | sh   (then open a new shell, or add ~/.pulumi/bin to PATH)
  Other ways:  https://www.pulumi.com/docs/install/  (brew install pulumi, choco install pulumi, ...)
MSG
  missing=1
fi
kind="$(sed -n 's/^  lab:hostKind: *//p' "Pulumi.${stack}.yaml" 2>/dev/null | tr -d "\"' " | head -n1 || true)"
if [ "${kind:-dind}" = "dind" ]; then
  if ! command -v docker >/dev/null 2>&1; then
    cat >&2 <<'MSG'
error: Docker is not installed; the dind lab runs its hosts as containers on your local engine.
  Install it:  https://docs.docker.com/engine/install/  (Debian/Ubuntu: apt-get install docker.io)
MSG
    missing=1
  elif ! docker info >/dev/null 2>&1; then
    echo "error: Docker is installed but its daemon does not answer (is it running? are you in the docker group?)" >&2
    missing=1
  fi
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "error: Node.js $major is too old; install Node.js 20 or newer (https://nodejs.org)" >&2
  missing=1
fi
[ -d node_modules ] || { echo "error: dependencies are not installed; run: npm ci" >&2; missing=1; }
[ "$missing" = 0 ] || exit 1

# A local state backend next to the project, no passphrase prompt (lab stacks hold no real secrets
# unless you add ssh keys: then set PULUMI_CONFIG_PASSPHRASE yourself).
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.lab/state}"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
mkdir -p .lab/state
# The state holds the stack's secrets (ssh keys, the dind lab's certificate keys, the swarm token),
# encrypted with the passphrase, which is empty by default: .lab is its owner's alone, as are the client
# certificate files the dind lab writes there.
chmod 700 .lab
# Pulumi.yaml's nodeargs loads tsx; a language host older than the CLI's way of passing runtime options
# (e.g. one built from sdk v3.68.0, as scripts/build-pulumi.sh does) never sees it. NODE_OPTIONS
# reaches node either way.
case " ${NODE_OPTIONS:-} " in *" --import tsx "*) ;; *) export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--import tsx" ;; esac
pulumi stack select --create "$stack" >/dev/null
case "$action" in
  up) exec pulumi up --yes --skip-preview "$@" ;;
  preview) exec pulumi preview --diff "$@" ;;
  destroy) exec pulumi destroy --yes "$@" ;;
  outputs) exec pulumi stack output --json "$@" ;;
  reset)
    # A killed `pulumi up` leaves its lock on a file backend. Release it only when the process that took
    # it is gone (same machine, pid no longer running); a live one means another run is still going.
    case "$PULUMI_BACKEND_URL" in
      file://*)
        locks="${PULUMI_BACKEND_URL#file://}"
        locks="${locks%%\?*}/.pulumi/locks/organization/lab/$stack"
        for f in "$locks"/*.json; do
          [ -e "$f" ] || continue
          read -r pid host < <(node -e 'const l = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(l.pid, l.hostname)' "$f")
          if [ "$host" = "$(hostname)" ] && ! kill -0 "$pid" 2>/dev/null; then
            echo "reset: releasing the lock of a pulumi run that is gone (pid $pid)" >&2
            pulumi cancel --yes >/dev/null
          else
            echo "reset: error: stack $stack is locked by a running pulumi (pid $pid on $host); wait for it or stop it first" >&2
            exit 1
          fi
        done
        ;;
    esac
    if ! pulumi destroy --yes --continue-on-error "$@"; then
      echo "reset: destroy could not remove everything (above); removing what is left of the lab" >&2
    fi
    cfg="$(mktemp)"
    trap 'rm -f "$cfg"' EXIT
    pulumi config --json >"$cfg"
    case "${kind:-dind}" in
      netns) node --import tsx src/cli/lab.ts down --pulumi-config "$cfg" ;;
      *) node --import tsx src/cli/lab.ts leftovers --pulumi-config "$cfg" ;;
    esac
    pulumi stack rm --yes --force --preserve-config >/dev/null
    echo "reset: stack $stack forgotten (Pulumi.$stack.yaml kept); npm run up starts it again"
    ;;
  *) echo "usage: scripts/pulumi.sh up|preview|destroy|outputs|reset" >&2; exit 2 ;;
esac

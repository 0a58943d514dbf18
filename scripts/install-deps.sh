#!/usr/bin/env bash
# Install what the netns/ssh labs need on a Debian 12 machine, only the packages that are missing.
# Safe to re-run, needs no terminal (CI=true, no stdin). Consul is not packaged by Debian; it is
# built from source separately (npm run consul:build).
#
# docker.io's maintainer scripts would start the system docker.service/containerd.service. The labs
# never use them: every lab dockerd has its own socket, data-root, exec-root and its own supervised
# containerd. But dockerd silently adopts a system containerd when /run/containerd/containerd.sock
# exists, which would make all lab hosts share one containerd. So when this script installs docker.io
# it keeps those services from starting (and from starting at boot), and it warns if a system
# containerd is already running.
#
# usage: scripts/install-deps.sh   (as root)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# needrestart (a docker.io recommend) would otherwise ask which services to restart.
export NEEDRESTART_SUSPEND=1 NEEDRESTART_MODE=l

PACKAGES=(docker.io busybox-static etcd-server iproute2 tcpdump iputils-ping openssh-server openssh-client util-linux
  # ZooKeeper 3.8, the third classic-overlay store (Java; the package starts no service, zookeeperd would).
  zookeeper
  # The dind test images (scripts/images/build.sh: a bookworm minbase) and the outer engine's runtime wrapper.
  mmdebstrap jq
  # The live page's browser tests (npm run view): Debian's chromium, driven by playwright-core, which
  # never downloads a browser of its own.
  chromium)
log() { printf '[install-deps] %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "[install-deps] error: run as root (apt-get needs it)" >&2; exit 1; }
command -v apt-get >/dev/null || { echo "[install-deps] error: apt-get not found; this script targets Debian 12" >&2; exit 1; }

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]; }

missing=()
for p in "${PACKAGES[@]}"; do
  if installed "$p"; then log "present: $p"; else missing+=("$p"); fi
done

if [ ${#missing[@]} -eq 0 ]; then
  log "all packages present, nothing to install"
else
  log "installing: ${missing[*]}"
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  # None of the packages' system services are used by the labs (docker, containerd, etcd, sshd): keep
  # them all from starting, so nothing listens in the root namespace and no containerd gets adopted.
  if [ ! -e "$policy" ]; then
    # Exit code 101 = "action forbidden": invoke-rc.d / deb-systemd-invoke do not start services.
    printf '#!/bin/sh\n# temporary, from dnlab install-deps.sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
    log "temporary $policy keeps the packages from starting system services (dockerd, containerd, etcd, sshd)"
  fi
  restore() { [ "$own_policy" = 1 ] && rm -f "$policy" && log "removed temporary $policy"; return 0; }
  trap restore EXIT
  apt-get update -q </dev/null
  apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" </dev/null
  if [ -d /run/systemd/system ]; then
    # We installed them and the labs do not use them: do not let them start at boot either.
    # Only the services of packages installed just now: a machine's own sshd or docker stays as it was.
    units=()
    for p in "${missing[@]}"; do
      case "$p" in
        docker.io) units+=(docker.socket docker.service containerd.service) ;;
        etcd-server) units+=(etcd.service) ;;
        openssh-server) units+=(ssh.service) ;;
      esac
    done
    for unit in "${units[@]}"; do
      systemctl disable --now "$unit" </dev/null >/dev/null 2>&1 || true
    done
    [ ${#units[@]} -eq 0 ] || log "disabled the new system services ${units[*]} (lab daemons run their own)"
  fi
fi

# Verify what the lab scripts call, not just the package database.
for b in /usr/sbin/dockerd /usr/bin/docker /usr/bin/containerd /usr/bin/etcd /bin/busybox; do
  [ -x "$b" ] || { echo "[install-deps] error: $b missing after install" >&2; exit 1; }
done
for b in tcpdump nsenter unshare ip ping ssh sshd mmdebstrap jq chromium; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$b" >/dev/null || { echo "[install-deps] error: $b not found after install" >&2; exit 1; }
done
log "dockerd $(/usr/sbin/dockerd --version | sed 's/^Docker version //'), etcd $(/usr/bin/etcd --version | head -1 | sed 's/^etcd Version: //')"
if [ -S /run/containerd/containerd.sock ]; then
  log "WARNING: a system containerd listens on /run/containerd/containerd.sock; lab dockerds would adopt it, so host-up.sh refuses to start. Stop it first (systemctl disable --now docker containerd)."
fi
log "done"

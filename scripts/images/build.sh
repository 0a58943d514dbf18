#!/usr/bin/env bash
# Build the dind lab's images from Debian packages (there is no registry here), cache them, and load
# them into an engine (by default the outer engine of scripts/images/outer-up.sh):
#   busybox:1.36.1, busybox:latest   busybox-static in a rootfs (scripts/netns/busybox-image.sh)
#   dnlab-local/consul:1.16.3        busybox + the Consul built from source (scripts/build-consul.sh)
#   dnlab-local/zookeeper:3.8.0      Debian bookworm minbase + Debian's ZooKeeper 3.8 (libzookeeper-java,
#                                    the server the zookeeper package runs, and a headless JRE: the
#                                    package itself would pull the desktop JRE, 640 MB in all), started
#                                    as netns labs start it (zookeeper-entrypoint.sh)
#   dnlab-local/dind:20.10.24        Debian bookworm minbase + docker.io 20.10.24 + iptables, its dockerd
#                                    replaced by the consul-capable build (scripts/build-dockerd-consul.sh):
#                                    the classic KV overlay's hosts
#   dnlab-local/dind:26.1.5          the same with Debian trixie's dockerd 26.1.5 (scripts/fetch-docker26.sh):
#                                    swarm-mode hosts
# Both dind images carry busybox for the inner daemon (loaded before it serves; dind-entrypoint.sh).
#
# Debian's own dockerd is dropped from the base (each dind image adds its own: no dead 75 MB layer), as
# are docs, man pages and locales.
# Cache: /var/cache/dnlab/images/<image>-<key>.tar (`docker save`), the key a hash of everything the
# image is made from (these scripts, the binaries, the base's package list and mirror); a rerun only
# `docker load`s. The Debian base is cached as the mmdebstrap tarball. Timings go to stderr.
#
# usage: scripts/images/build.sh [--socket S] [--only busybox|consul|zookeeper|dind-20.10|dind-26]...
#   --socket   engine to build on and load into (default: the outer engine's socket)
# env: DNLAB_CONSUL, DNLAB_DOCKERD, DNLAB_DOCKERD_26 (else built/fetched by the scripts above, cached),
#      DNLAB_CACHE (default /var/cache/dnlab), DNLAB_DEBIAN_MIRROR (default: the machine's bookworm archive)
# stdout: one line per image, "<name> <tag>" (e.g. "dind-kv dnlab-local/dind:20.10.24").
set -euo pipefail
MULTI="only"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../netns/lib.sh"
source "$here/outer-env.sh"
# stdout is the list of images; progress goes to stderr.
log() { printf '[%s] %s\n' "$SCRIPT_NAME" "$*" >&2; }
parse_args "$@"
sock=$(opt socket "$OUTER_SOCKET")
only=" $(opt only "busybox consul zookeeper dind-20.10 dind-26" | tr '\n' ' ') "
cache="${DNLAB_CACHE:-/var/cache/dnlab}/images"
d() { timeout 600 "$DOCKER" -H "unix://$sock" "$@"; }
d info >/dev/null 2>&1 || die "no engine answers on unix://$sock (start the outer engine: scripts/images/outer-up.sh)"
mkdir -p "$cache"
exec 8>"$cache/.lock"
flock 8

BUSYBOX_TAGS=(busybox:1.36.1 busybox:latest)
CONSUL_TAG=dnlab-local/consul:1.16.3
BASE_PACKAGES=docker.io,iptables,iproute2,ca-certificates
t0=$SECONDS
sha() { sha256sum "$@" | cut -c1-64; }
key() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }
elapsed() { echo "$((SECONDS - $1)) s"; }

# Load a cached image, or build it with the given function and cache it. $1 name, $2 key, $3 build fn, rest: tags.
cached() {
  local name=$1 k=$2 build=$3 t start=$SECONDS
  shift 3
  local tar="$cache/$name-$k.tar"
  if [ -s "$tar" ]; then
    d load -i "$tar" >/dev/null
    log "$name: loaded cached $tar ($(elapsed $start))"
  else
    "$build" "$@"
    d save -o "$tar.tmp" "$@"
    mv -f -- "$tar.tmp" "$tar"
    # Older builds of the same image are superseded.
    for t in "$cache/$name"-*.tar; do [ "$t" = "$tar" ] || rm -f -- "$t"; done
    log "$name: built and cached $tar ($(elapsed $start))"
  fi
  for t in "$@"; do d image inspect "$t" >/dev/null 2>&1 || die "$name: $t missing after load/build"; done
}

work=$(mktemp -d "$cache/work.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# --- busybox --------------------------------------------------------------------------------------
build_busybox() {
  local args=() t
  for t in "$@"; do args+=(--tag "$t"); done
  # A previous build's tags on this engine would make busybox-image.sh skip the import.
  for t in "$@"; do d rmi "$t" >/dev/null 2>&1 || true; done
  "$here/../netns/busybox-image.sh" --socket "$sock" --rootfs "$work/busybox-rootfs" "${args[@]}" >&2
}
bb_key=$(key "$(sha /bin/busybox "$here/../netns/busybox-image.sh" "$here/build.sh")" "${BUSYBOX_TAGS[@]}")
cached busybox "$bb_key" build_busybox "${BUSYBOX_TAGS[@]}"
bb_tar="$cache/busybox-$bb_key.tar"
[[ "$only" == *" busybox "* ]] && echo "busybox ${BUSYBOX_TAGS[0]}"

# --- consul ---------------------------------------------------------------------------------------
if [[ "$only" == *" consul "* ]]; then
  consul_bin=${DNLAB_CONSUL:-$(bash "$here/../build-consul.sh" | tail -n1)}
  [ -x "$consul_bin" ] || die "Consul binary not found at $consul_bin (DNLAB_CONSUL; npm run consul:build)"
  build_consul() {
    local ctx="$work/consul"
    mkdir -p "$ctx"
    cp "$consul_bin" "$ctx/consul"
    cp "$here/consul-entrypoint.sh" "$ctx/docker-entrypoint.sh"
    cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM ${BUSYBOX_TAGS[0]}
COPY consul /bin/consul
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN mkdir -p /consul/data /consul/config
VOLUME /consul/data
EXPOSE 8300 8301 8301/udp 8302 8302/udp 8500 8600 8600/udp
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["agent", "-dev", "-client", "0.0.0.0"]
DOCKERFILE
    DOCKER_BUILDKIT=0 d build -q -t "$1" "$ctx" >/dev/null
  }
  cached consul "$(key "$bb_key" "$(sha "$consul_bin" "$here/consul-entrypoint.sh" "$here/build.sh")")" build_consul "$CONSUL_TAG"
  echo "consul $CONSUL_TAG"
fi

# The Debian archive the bases come from (mmdebstrap, as a tarball).
debian_mirror() {
  command -v mmdebstrap >/dev/null || die "mmdebstrap not found (run scripts/install-deps.sh)"
  local policy
  policy=$(apt-cache policy 2>/dev/null || true)
  mirror="${DNLAB_DEBIAN_MIRROR:-$(awk '$3 == "bookworm/main" { print $2; exit }' <<<"$policy")}"
  [ -n "$mirror" ] || die "no Debian bookworm archive in this machine's apt configuration (apt-get update, or set DNLAB_DEBIAN_MIRROR)"
}

# --- zookeeper ------------------------------------------------------------------------------------
if [[ "$only" == *" zookeeper "* ]]; then
  debian_mirror
  zk_version=$(apt-cache policy libzookeeper-java 2>/dev/null | awk '/Candidate:/ { print $2 }')
  [[ "$zk_version" =~ ^[0-9] ]] || die "Debian's libzookeeper-java is not in this machine's apt lists (apt-get update)"
  ZK_TAG="dnlab-local/zookeeper:${zk_version%%-*}"
  build_zookeeper() {
    local ctx="$work/zookeeper" rootfs start=$SECONDS
    mkdir -p "$ctx"
    rootfs="$ctx/rootfs.tar"
    log "zookeeper: mmdebstrap --variant=minbase bookworm + libzookeeper-java $zk_version, default-jre-headless from $mirror"
    mmdebstrap --quiet --format=tar --variant=minbase --include="libzookeeper-java=$zk_version,default-jre-headless" \
      --customize-hook='rm -f "$1"/etc/machine-id "$1"/var/lib/dbus/machine-id' \
      --customize-hook='rm -rf "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/locale/*' \
      bookworm "$rootfs" "$mirror" >&2
    d import "$rootfs" "$1-base" >/dev/null
    mkdir -p "$ctx/lib"
    cp "$here/../netns/zookeeper.sh" "$ctx/lib/zookeeper.sh"
    install -m 755 "$here/zookeeper-entrypoint.sh" "$ctx/docker-entrypoint.sh"
    cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $1-base
COPY lib/zookeeper.sh /usr/local/lib/dnlab/zookeeper.sh
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV ZOO_CONF_DIR=/conf ZOO_DATA_DIR=/data ZOO_DATA_LOG_DIR=/datalog
VOLUME /data /datalog
EXPOSE 2181
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["zkServer.sh", "start-foreground"]
DOCKERFILE
    DOCKER_BUILDKIT=0 d build -q -t "$1" "$ctx" >/dev/null
    d rmi "$1-base" >/dev/null
    log "zookeeper: built in $(elapsed $start)"
  }
  cached zookeeper "$(key "$mirror" "$zk_version" "$(sha "$here/../netns/zookeeper.sh" "$here/zookeeper-entrypoint.sh" "$here/build.sh")")" build_zookeeper "$ZK_TAG"
  echo "zookeeper $ZK_TAG"
fi

# --- dind -----------------------------------------------------------------------------------------
if [[ "$only" == *" dind-20.10 "* || "$only" == *" dind-26 "* ]]; then
  debian_mirror
  base_key=$(key "$mirror" "$BASE_PACKAGES" "$(sha "$here/build.sh")")
  base_tar="${DNLAB_CACHE:-/var/cache/dnlab}/images/bookworm-docker-$base_key.rootfs.tar"
  base_tag="dnlab-local/bookworm-docker:$base_key"
  if ! d image inspect "$base_tag" >/dev/null 2>&1; then
    if [ ! -s "$base_tar" ]; then
      start=$SECONDS
      log "debian base: mmdebstrap --variant=minbase bookworm + $BASE_PACKAGES from $mirror"
      mmdebstrap --quiet --format=tar --variant=minbase --include="$BASE_PACKAGES" \
        --customize-hook='rm -f "$1"/etc/machine-id "$1"/var/lib/dbus/machine-id' \
        --customize-hook='rm -rf "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/locale/* "$1"/usr/sbin/dockerd' \
        bookworm "$base_tar.tmp" "$mirror" >&2
      mv -f -- "$base_tar.tmp" "$base_tar"
      for t in "${DNLAB_CACHE:-/var/cache/dnlab}"/images/bookworm-docker-*.rootfs.tar; do [ "$t" = "$base_tar" ] || rm -f -- "$t"; done
      log "debian base: built $base_tar ($(elapsed $start))"
    fi
    start=$SECONDS
    d import "$base_tar" "$base_tag" >/dev/null
    log "debian base: imported as $base_tag ($(elapsed $start))"
  fi

  # $1 dockerd binary, $2 tag
  build_dind() {
    local ctx="$work/dind"
    rm -rf -- "$ctx"
    mkdir -p "$ctx"
    cp "$dind_dockerd" "$ctx/dockerd"
    cp "$here/dind-entrypoint.sh" "$ctx/dockerd-entrypoint.sh"
    cp "$bb_tar" "$ctx/busybox.tar"
    sha "$bb_tar" >"$ctx/busybox.tar.sha256"
    cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $base_tag
COPY dockerd /usr/sbin/dockerd
COPY dockerd-entrypoint.sh /usr/local/bin/dockerd-entrypoint.sh
COPY busybox.tar busybox.tar.sha256 /usr/share/dnlab/
ENV DOCKER_TLS_CERTDIR=/certs
VOLUME /var/lib/docker
EXPOSE 2376
ENTRYPOINT ["/usr/local/bin/dockerd-entrypoint.sh"]
CMD []
DOCKERFILE
    DOCKER_BUILDKIT=0 d build -q -t "$1" "$ctx" >/dev/null
  }
  dind_image() { # $1 name, $2 dockerd binary
    dind_dockerd=$2
    [ -x "$dind_dockerd" ] || die "$1: dockerd not found at $dind_dockerd"
    local version tag
    version=$("$dind_dockerd" --version | sed -E 's/^Docker version ([0-9.]+).*/\1/')
    tag="dnlab-local/dind:$version"
    cached "$1" "$(key "$base_key" "$bb_key" "$(sha "$dind_dockerd" "$here/dind-entrypoint.sh" "$here/build.sh")")" build_dind "$tag"
    echo "$1 $tag"
  }
  if [[ "$only" == *" dind-20.10 "* ]]; then
    dind_image dind-20.10 "${DNLAB_DOCKERD:-$(bash "$here/../build-dockerd-consul.sh" | tail -n1)}"
  fi
  if [[ "$only" == *" dind-26 "* ]]; then
    dind_image dind-26 "${DNLAB_DOCKERD_26:-$(bash "$here/../fetch-docker26.sh" | tail -n1)}"
  fi
fi
log "images ready on unix://$sock in $(elapsed $t0)"

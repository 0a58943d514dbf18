#!/usr/bin/env bash
# Build a Consul-capable dockerd 20.10 for the netns labs' Consul KV variant.
#
# Why: Debian 12's docker.io (20.10.24+dfsg1) deliberately drops Consul support (its patch
# debian/patches/avoid-consul.patch removes the libkv Consul store from libnetwork and from the
# discovery code, and Debian's libkv package deletes store/consul), so
# `dockerd --cluster-store=consul://...` fails with "discovery service not supported".
# This script rebuilds the same Debian source with that one patch reversed, plus two fixes of its own
# (tools/consul/dockerd/patches/*.patch say what and why):
#   - "nsfix", Docker 20.10's thread-namespace defect: libnetwork's classic overlay left dockerd OS
#     threads in deleted sandbox namespaces, so the daemon's dials failed with "connect: network is
#     unreachable" after an overlay was re-created;
#   - "zklist", libkv's ZooKeeper store: its List gave libnetwork bare key names and the directory's
#     version, and the first container on a classic overlay over zk:// panicked the daemon; its
#     watches were armed after the read they follow and a node was registered empty, so Docker's node
#     discovery could miss a host for good and the overlay then carried nothing.
# It is built from:
#   - the Debian source package (same source version as the installed docker.io), through apt with
#     a private deb-src list (the machine's apt configuration is not touched);
#   - its Go build dependencies as Debian packages, downloaded and unpacked into a private GOPATH
#     (nothing is installed), with Debian's own Go 1.19 (the compiler Debian builds docker.io with);
#   - the pieces Debian lacks from the Go module proxy, pinned and hash-checked by
#     tools/consul/dockerd/go.mod + go.sum: libkv v0.2.1's store/consul (Apache-2.0) and
#     github.com/hashicorp/consul/api v1.25.1 (MPL-2.0, the API of the Consul v1.16.3 we run).
#
# Usage: scripts/build-dockerd-consul.sh [CACHE_ROOT]
#   CACHE_ROOT defaults to ${DNLAB_CACHE:-/var/cache/dnlab}; the binary goes to
#   CACHE_ROOT/dockerd-<debian source version>-consul-nsfix-zklist/dockerd and is reused while its version
#   says +consul+nsfix+zklist and the patches it was built with are the ones in the repo (a stamp beside it).
# stdout: one line, the binary's path. stderr: progress and the build time.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pins="$(cd "$here/../tools/consul/dockerd" && pwd)"
libnetwork_patch="$pins/patches/libnetwork-netns-threads.patch"
netlink_patch="$pins/patches/netlink-netns-threads.patch"
libkv_patch="$pins/patches/libkv-zookeeper-list.patch"
cache_root="${1:-${DNLAB_CACHE:-/var/cache/dnlab}}"
arch_triplet="x86_64-linux-gnu"

log() { printf 'build-dockerd-consul: %s\n' "$*" >&2; }
die() { printf 'build-dockerd-consul: error: %s\n' "$*" >&2; exit 1; }

command -v apt-get >/dev/null || die "apt-get not found: this build uses Debian's docker.io source (Debian 12)"
command -v dpkg-query >/dev/null || die "dpkg-query not found (Debian 12 needed)"
command -v go >/dev/null || die "'go' not found on PATH: needed to fetch the pinned Go modules (any Go >= 1.20)"
command -v gcc >/dev/null || die "gcc not found: dockerd links libseccomp through cgo (apt-get install -y gcc)"
[[ "$(dpkg --print-architecture)" == amd64 ]] || die "only amd64 is supported (arch triplet $arch_triplet)"

# Same source as the installed docker.io (its binNMU suffix +bN is not part of the source version),
# so the lab's dockerd differs from the system one only by the Consul store.
src_version="$(dpkg-query -W -f '${source:Version}' docker.io 2>/dev/null || true)"
if [[ -z "$src_version" ]]; then
  src_version="$(apt-cache policy docker.io | awk '/Candidate:/ { print $2 }' | sed 's/+b[0-9]*$//')"
fi
[[ -n "$src_version" && "$src_version" != "(none)" ]] || die "cannot tell docker.io's version: run apt-get update (and scripts/install-deps.sh) first"
upstream="${src_version%%-*}"          # 20.10.24+dfsg1
version="${upstream}+consul+nsfix+zklist"
want_version="Docker version ${version},"

# The cache key: the directory (source version + flavour), the version the binary reports, and the
# patches it was built with (a changed patch rebuilds). Builds of earlier versions of this script
# (dockerd-<version>-consul*/) are left alone.
out_dir="$cache_root/dockerd-${src_version}-consul-nsfix-zklist"
bin="$out_dir/dockerd"
stamp="$out_dir/patches.sha256"
patches_sum="$(cat "$libnetwork_patch" "$netlink_patch" "$libkv_patch" | sha256sum | cut -d' ' -f1)"
binary_ok() {
  [[ -x "$bin" && "$(cat "$stamp" 2>/dev/null)" == "$patches_sum" ]] && "$bin" --version 2>/dev/null | grep -qF "$want_version"
}
if binary_ok; then
  log "reusing $bin"
  printf '%s\n' "$bin"
  exit 0
fi

mkdir -p "$out_dir"
exec 9>"$out_dir/.lock"
flock 9
if binary_ok; then
  log "reusing $bin (built by a concurrent run)"
  printf '%s\n' "$bin"
  exit 0
fi

start=$(date +%s)
work="$out_dir/work"
rm -rf "$work"
mkdir -p "$work/apt/lists/partial" "$work/debs" "$work/root" "$work/gopath/src"
trap 'rm -rf "$work"' EXIT

# A private apt state: binary + source lists of bookworm, so `apt-get source` works without
# editing /etc/apt. apt still checks the archive signatures with the system keyring.
cat >"$work/apt/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian bookworm-updates main
deb-src http://deb.debian.org/debian-security bookworm-security main
EOF
apt_private=(-o "Dir::Etc::SourceList=$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache::archives=$work/debs" -o Debug::NoLocking=1)
log "fetching Debian source docker.io=$src_version"
apt-get "${apt_private[@]}" -qq update >&2
(cd "$work" && apt-get "${apt_private[@]}" -qq source "docker.io=$src_version") >&2 \
  || die "apt-get source docker.io=$src_version failed (Debian may have replaced that version: apt-get update && apt-get install docker.io, then retry)"
src="$(find "$work" -maxdepth 1 -type d -name 'docker.io-*' | head -n1)"
[[ -d "$src/engine" && -d "$src/libnetwork" && -d "$src/swarmkit" ]] || die "unexpected source layout in $src"

# The one change: put Consul back.
patch -d "$src" -R -p1 --batch --quiet <"$src/debian/patches/avoid-consul.patch" \
  || die "could not reverse debian/patches/avoid-consul.patch (the Debian source changed?)"
grep -q 'consul.Register()' "$src/libnetwork/store.go" || die "Consul store still not registered in libnetwork/store.go"
# The nsfix, to the libnetwork this dockerd is built from.
patch -d "$src" -p1 --batch --quiet --forward <"$libnetwork_patch" \
  || die "could not apply $libnetwork_patch (the Debian source changed?)"
[[ $(grep -c 'dnlab nsfix' "$src/libnetwork/osl/namespace_linux.go" "$src/libnetwork/drivers/overlay/ov_network.go" | awk -F: '{ n += $2 } END { print n }') -ge 3 ]] \
  || die "the nsfix is not in libnetwork after patching"

# Go build dependencies from debian/control, and everything they pull in, as .debs, unpacked only.
mapfile -t direct < <(awk '
  /^Build-Depends:/ { on = 1 } on && /^[A-Z][A-Za-z-]*:/ && !/^Build-Depends:/ { on = 0 }
  on && !/^#/ { print }' "$src/debian/control" | tr ',' '\n' | sed 's/[|(\[].*//; s/Build-Depends://' \
  | awk '{ print $1 }' | grep -E '^golang-' | grep -vxE 'golang-any|golang-go' | sort -u)
[[ ${#direct[@]} -gt 50 ]] || die "found only ${#direct[@]} golang build dependencies in debian/control"
mapfile -t closure < <(apt-get "${apt_private[@]}" install -s --no-install-recommends \
  "${direct[@]}" golang-1.19-go golang-1.19-src 2>/dev/null | awk '/^Inst golang-/ { print $2 }')
log "downloading ${#closure[@]} Debian Go packages (+ libseccomp-dev) into $work/debs (not installing)"
(cd "$work/debs" && apt-get "${apt_private[@]}" -qq download "${closure[@]}" libseccomp-dev) >&2
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$work/root"; done
goroot="$work/root/usr/lib/go-1.19"
[[ -x "$goroot/bin/go" ]] || goroot=/usr/lib/go-1.19   # already installed on this machine
[[ -x "$goroot/bin/go" ]] || die "Debian's Go 1.19 (golang-1.19-go) not found after download"

# The module-proxy pieces, hash-checked against the committed go.sum.
log "fetching pinned Go modules (libkv v0.2.1, consul/api v1.25.1 ...)"
moddir() { (cd "$pins" && GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' "$1"); }
(cd "$pins" && GOFLAGS=-mod=readonly go mod download github.com/docker/libkv github.com/hashicorp/consul/api \
  github.com/hashicorp/go-rootcerts golang.org/x/exp) >&2

gp="$work/gopath/src"
mkdir -p "$gp/github.com/docker" "$gp/github.com/hashicorp/consul" "$gp/golang.org/x/exp"
cp -a "$src/engine" "$gp/github.com/docker/docker"
cp -a "$src/libnetwork" "$gp/github.com/docker/libnetwork"
cp -a "$src/swarmkit" "$gp/github.com/docker/swarmkit"
# GOPATH resolves a package from the first entry holding its directory: libkv must be whole here.
cp -a "$work/root/usr/share/gocode/src/github.com/docker/libkv" "$gp/github.com/docker/libkv"
# Debian's netlink package with the nsfix, first on GOPATH so that no installed copy wins.
mkdir -p "$gp/github.com/vishvananda"
cp -a "$work/root/usr/share/gocode/src/github.com/vishvananda/netlink" "$gp/github.com/vishvananda/netlink"
chmod -R u+w "$gp/github.com/vishvananda"
patch -d "$gp/github.com/vishvananda" -p1 --batch --quiet --forward <"$netlink_patch" \
  || die "could not apply $netlink_patch to Debian's netlink package (its version changed?)"
grep -q 'dnlab nsfix' "$gp/github.com/vishvananda/netlink/nl/nl_linux.go" || die "the nsfix is not in netlink after patching"
chmod -R u+w "$gp/github.com/docker/libkv"
patch -d "$gp/github.com/docker" -p1 --batch --quiet --forward <"$libkv_patch" \
  || die "could not apply $libkv_patch to Debian's libkv package (its version changed?)"
grep -q 'dnlab zklist' "$gp/github.com/docker/libkv/store/zookeeper/zookeeper.go" || die "the zklist fix is not in libkv after patching"
grep -q 'func (s \*Zookeeper) listW' "$gp/github.com/docker/libkv/store/zookeeper/zookeeper.go" || die "the zklist watch fix is not in libkv after patching"
cp -a "$(moddir github.com/docker/libkv)/store/consul" "$gp/github.com/docker/libkv/store/consul"
cp -a "$(moddir github.com/hashicorp/consul/api)" "$gp/github.com/hashicorp/consul/api"
cp -a "$(moddir github.com/hashicorp/go-rootcerts)" "$gp/github.com/hashicorp/go-rootcerts"
exp="$(moddir golang.org/x/exp)"
cp -a "$exp/slices" "$exp/constraints" "$gp/golang.org/x/exp/"
chmod -R u+w "$work/gopath"

# The engine commit Debian records for this version (debian/rules does the same).
gitcommit="$(cd "$src" && ./debian/helpers/gitcommit.sh engine "${upstream%%+*}" 2>/dev/null || true)"
log "building dockerd with Go 1.19 (GOPATH mode, as debian/rules does)"
tmp="$out_dir/dockerd.tmp.$$"
(
  cd "$gp/github.com/docker/docker"
  # Tags as Debian's build minus journald/btrfs/devicemapper (their C headers are not unpacked;
  # the labs use overlay2/vfs and log to files). libseccomp is linked statically from the .deb.
  env -u GOFLAGS GOROOT="$goroot" PATH="$goroot/bin:$PATH" GO111MODULE=off GOPROXY=off GOTOOLCHAIN=local \
    GOPATH="$work/gopath:$work/root/usr/share/gocode:/usr/share/gocode" GOCACHE="$work/gocache" \
    CGO_ENABLED=1 CGO_CFLAGS="-I$work/root/usr/include" CGO_LDFLAGS="-L$work/root/usr/lib/$arch_triplet" \
    go build -trimpath -tags 'apparmor seccomp exclude_graphdriver_btrfs exclude_graphdriver_devicemapper' \
      -ldflags "-w -X github.com/docker/docker/dockerversion.Version=${version} -X github.com/docker/docker/dockerversion.GitCommit=$gitcommit -X github.com/docker/docker/dockerversion.ProductName=docker" \
      -o "$tmp" ./cmd/dockerd
) >&2
mv -f "$tmp" "$bin"
printf '%s\n' "$patches_sum" >"$stamp"
rm -rf "$work"
trap - EXIT
binary_ok || die "built $bin but its --version does not say '$want_version'"
end=$(date +%s)
log "built $("$bin" --version) in $((end - start)) s: $bin"
printf '%s\n' "$bin"

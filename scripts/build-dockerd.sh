#!/usr/bin/env bash
# Build moby's dockerd v20.10.24 WITH the consul cluster-store backend, from the Go module proxy,
# for the real-lab Consul tests (a test-only tool, like scripts/build-consul.sh).
#
# Usage: scripts/build-dockerd.sh [CACHE_ROOT]
#   CACHE_ROOT defaults to ${DNLAB_CACHE:-/var/cache/dnlab}. The binary goes to
#   CACHE_ROOT/dockerd-<version>/dockerd (outside the repo) and is reused while
#   `dockerd --version` still says the pinned build.
# stdout: exactly one line, the binary's path (callers do BIN=$(scripts/build-dockerd.sh | tail -1)).
# stderr: progress and the build time.
#
# Why: Debian 12's docker.io 20.10.24 is built without the consul backend ("avoid dependencies on
# consul"): --cluster-store=consul://... dies with "discovery service not supported". Upstream
# dockerd has it (github.com/docker/libkv/store/consul). Its dependencies come from
# tools/dockerd/go.mod (generated from dockerd's own vendor.conf by tools/dockerd/gen-gomod.sh) and
# are hash-checked by go.sum; tools/dockerd/patches/ holds the one source patch (applied with
# `go build -overlay`, the module cache stays pristine). See tools/dockerd/README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
moddir="$(cd "$here/../tools/dockerd" && pwd)"
cache_root="${1:-${DNLAB_CACHE:-/var/cache/dnlab}}"

log() { printf 'build-dockerd: %s\n' "$*" >&2; }
die() { printf 'build-dockerd: error: %s\n' "$*" >&2; exit 1; }

# The pinned version is the one go.mod requires: a single source of truth.
module_version="$(awk '$1 == "require" && $2 == "github.com/docker/docker" { print $3 }' "$moddir/go.mod")"
[[ -n "$module_version" ]] || die "cannot find 'require github.com/docker/docker vX.Y.Z' in $moddir/go.mod"
version="${module_version#v}"
version="${version%+incompatible}"     # 20.10.24
# dockerd reports this; "+dnlab" tells it apart from Debian's 20.10.24 (and is ignored by semver).
stamp="${version}+dnlab"
# The upstream commit of the v20.10.24 tag (what Debian's docker.io reports as its build).
git_commit="5d6db84"
want="Docker version $stamp, build $git_commit"
# The toolchain dockerd 20.10.24 was released with (Go 1.19); the go command fetches it from the
# module proxy (golang.org/toolchain) when the local go is another version.
toolchain="go1.19.13"
# netgo/osusergo/static_build as upstream's static build; no cgo, so no seccomp (libseccomp) and no
# graph drivers that need C headers (btrfs, devicemapper, zfs) or project quotas.
tags="netgo osusergo static_build exclude_graphdriver_btrfs exclude_graphdriver_devicemapper exclude_graphdriver_zfs exclude_disk_quota"

out_dir="$cache_root/dockerd-$version"
bin="$out_dir/dockerd"

# Reuse a previous build only if it says exactly the pinned stamp and has the consul backend.
binary_is_pinned() {
  [[ -x "$bin" ]] && [[ "$("$bin" --version 2>/dev/null)" == "$want" ]] && grep -q 'libkv/store/consul' "$bin"
}

if binary_is_pinned; then
  log "reusing $bin ($want)"
  printf '%s\n' "$bin"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "'go' not found on PATH. dockerd $version is built with $toolchain, \
which any go >= 1.21 downloads by itself from the module proxy (Debian 12's golang-go is 1.19: install \
a newer Go, e.g. from bookworm-backports, and put it on PATH)."
command -v patch >/dev/null 2>&1 || die "'patch' not found (apt-get install -y patch)"
have_go="$(go env GOVERSION)"
have_go="${have_go#go}"
version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }
version_ge "$have_go" "1.21" || die "Go $have_go cannot fetch the $toolchain toolchain (needs go >= 1.21 on PATH)"

mkdir -p "$out_dir"
# Two builds at once (parallel test files, two helpers) would both spend minutes and race on the
# final rename: serialize them, and re-check after getting the lock.
exec 9>"$out_dir/.lock"
flock 9
if binary_is_pinned; then
  log "reusing $bin (built by a concurrent run)"
  printf '%s\n' "$bin"
  exit 0
fi

start=$(date +%s)
gorun() { (cd "$moddir" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOTOOLCHAIN="$toolchain" GOFLAGS=-mod=readonly "$@"); }

log "building dockerd $version with $toolchain (a first build downloads the toolchain and modules, 1.2 GB, and takes ~5 min)"
# Where the module's sources are (downloaded and checked against go.sum if needed).
src="$(gorun go mod download -json github.com/docker/docker | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
[[ -d "$src" ]] || die "github.com/docker/docker $module_version not found in the module cache ($src)"

work="$(mktemp -d "$out_dir/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# Patched copies of the few files the patches touch, and an overlay that substitutes them.
printf '{"Replace":{' >"$work/overlay.json"
sep=""
for p in "$moddir"/patches/*.patch; do
  [[ -e "$p" ]] || continue
  while read -r f; do
    [[ -f "$work/src/$f" ]] && continue
    mkdir -p "$(dirname "$work/src/$f")"
    cp "$src/$f" "$work/src/$f"
    chmod u+w "$work/src/$f"
    printf '%s"%s":"%s"' "$sep" "$src/$f" "$work/src/$f" >>"$work/overlay.json"
    sep=","
  done < <(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$p")
  patch -p1 --forward --quiet -d "$work/src" <"$p" >&2 || die "patch $(basename "$p") does not apply to $module_version"
done
printf '}}\n' >>"$work/overlay.json"

# -trimpath/-buildvcs=false: no machine paths or VCS stamps in the binary. -mod=readonly: go.sum is
# authoritative, a missing hash fails instead of silently changing the pins.
gorun go build -trimpath -buildvcs=false -overlay "$work/overlay.json" -tags "$tags" \
  -ldflags "-w -X github.com/docker/docker/dockerversion.Version=$stamp \
-X github.com/docker/docker/dockerversion.GitCommit=$git_commit \
-X github.com/docker/docker/dockerversion.IAmStatic=true \
-X github.com/docker/docker/dockerversion.BuildTime=$(cd "$moddir" && GOTOOLCHAIN=local go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' github.com/docker/docker)" \
  -o "$work/dockerd" github.com/docker/docker/cmd/dockerd >&2
mv -f "$work/dockerd" "$bin"
end=$(date +%s)

binary_is_pinned || die "built $bin but it does not say '$want' or lacks libkv/store/consul"
log "built dockerd $stamp in $((end - start)) s ($(du -m "$bin" | cut -f1) MB): $bin"
printf '%s\n' "$bin"

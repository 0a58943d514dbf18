#!/usr/bin/env bash
# Build the pinned, MPL-2.0 Consul server from the Go module proxy, for the real-lab tests.
#
# Usage: scripts/build-consul.sh [CACHE_ROOT]
#   CACHE_ROOT defaults to ${DNLAB_CACHE:-/var/cache/dnlab}. The binary goes to
#   CACHE_ROOT/consul-<version>/consul (outside the repo: it is ~120 MB).
# stdout: exactly one line, the binary's path (callers do BIN=$(scripts/build-consul.sh)).
# stderr: progress and the build time.
#
# Why a source build: Debian has no Consul package and no registry but the Go module proxy is
# reachable. The version and every dependency hash are pinned by tools/consul/go.mod + go.sum
# (committed), so the build is reproducible and never asks the checksum database: go.sum already
# answers for every module (see tools/consul/README.md for why that matters here).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
moddir="$(cd "$here/../tools/consul" && pwd)"
cache_root="${1:-${DNLAB_CACHE:-/var/cache/dnlab}}"

log() { printf 'build-consul: %s\n' "$*" >&2; }
die() { printf 'build-consul: error: %s\n' "$*" >&2; exit 1; }

# The pinned version is the one go.mod requires: a single source of truth.
version="$(awk '$1 == "require" && $2 == "github.com/hashicorp/consul" { sub(/^v/, "", $3); print $3 }' "$moddir/go.mod")"
[[ -n "$version" ]] || die "cannot find 'require github.com/hashicorp/consul vX.Y.Z' in $moddir/go.mod"
# The go directive of our module (copied from Consul's own go.mod): the oldest Go that can build it.
need_go="$(awk '$1 == "go" { print $2; exit }' "$moddir/go.mod")"

out_dir="$cache_root/consul-$version"
bin="$out_dir/consul"

# Reuse a previous build only if it really is the pinned version (a half-written or foreign
# binary at that path is rebuilt, not trusted).
binary_is_pinned() {
  [[ -x "$bin" ]] && [[ "$("$bin" version 2>/dev/null | head -n1)" == "Consul v$version" ]]
}

if binary_is_pinned; then
  log "reusing $bin (Consul v$version)"
  printf '%s\n' "$bin"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "'go' not found on PATH. Consul v$version needs Go >= $need_go \
(Debian 12's golang-go is 1.19, too old: install a newer Go, e.g. from bookworm-backports, and put it on PATH)."
have_go="$(go env GOVERSION)"          # e.g. go1.26.8
have_go="${have_go#go}"
version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }
version_ge "$have_go" "$need_go" || die "Go $have_go is too old: Consul v$version's go.mod says 'go $need_go'. \
Install Go >= $need_go and put it first on PATH."

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

# Consul's release builds stamp the commit date as BuildDate (agent/self shows it); use the
# module's publication time from the proxy so our binary is byte-for-byte repeatable.
build_date="$(cd "$moddir" && GOFLAGS=-mod=readonly go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' github.com/hashicorp/consul)"

log "building Consul v$version with Go $have_go (first build downloads ~3 GB of modules and takes minutes)"
start=$(date +%s)
tmp="$out_dir/consul.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# CGO_ENABLED=0: a static binary that runs in any namespace/container. -mod=readonly: go.sum is
# authoritative, a missing hash fails instead of silently changing the pins. GOTOOLCHAIN=local:
# never try to download another toolchain. -trimpath/-buildvcs=false: no machine paths in the binary.
(
  cd "$moddir"
  CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/hashicorp/consul/version.BuildDate=$build_date" \
      -o "$tmp" github.com/hashicorp/consul
) >&2
mv -f "$tmp" "$bin"
trap - EXIT
end=$(date +%s)

binary_is_pinned || die "built $bin but '$bin version' does not say 'Consul v$version'"
log "built Consul v$version in $((end - start)) s ($(du -m "$bin" | cut -f1) MB): $bin"
printf '%s\n' "$bin"

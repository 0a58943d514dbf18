#!/usr/bin/env bash
# Build the pinned Pulumi engine (CLI) and its Node.js language host from the Go module proxy,
# as a test tool: the tests run `pulumi` to validate Pulumi.yaml and the stack files.
#
# Usage: scripts/build-pulumi.sh [CACHE_ROOT]
#   CACHE_ROOT defaults to ${DNLAB_CACHE:-/var/cache/dnlab}. The binaries go to
#   CACHE_ROOT/pulumi-<version>/bin/{pulumi,pulumi-language-nodejs} (outside the repo: ~125 MB).
# stdout: exactly one line, that bin directory (callers do PATH=$(scripts/build-pulumi.sh):$PATH).
# stderr: progress and the build time.
#
# Why a source build: the registries reachable here do not carry the Pulumi CLI, but the Go module
# proxy serves its source. The versions and every dependency hash are pinned by
# tools/pulumi/cli/{go.mod,go.sum} (the engine) and tools/pulumi/langhost/{go.mod,go.sum} (the
# language host), committed, so the build is reproducible and never asks the checksum database.
# See tools/pulumi/README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cli_mod="$(cd "$here/../tools/pulumi/cli" && pwd)"
lh_mod="$(cd "$here/../tools/pulumi/langhost" && pwd)"
cache_root="${1:-${DNLAB_CACHE:-/var/cache/dnlab}}"

log() { printf 'build-pulumi: %s\n' "$*" >&2; }
die() { printf 'build-pulumi: error: %s\n' "$*" >&2; exit 1; }

# The pinned versions are the ones the go.mod files require: a single source of truth.
required() { # MODDIR MODULE -> version without the leading v
  awk -v m="$2" '($1 == "require" && $2 == m) || ($1 == m && $2 ~ /^v/ && $3 != "//") {
    v = ($1 == "require") ? $3 : $2; sub(/^v/, "", v); print v; exit }' "$1/go.mod"
}
version="$(required "$cli_mod" github.com/pulumi/pulumi/pkg/v3)"
[[ -n "$version" ]] || die "cannot find 'github.com/pulumi/pulumi/pkg/v3 vX.Y.Z' in $cli_mod/go.mod"
sdk_version="$(required "$cli_mod" github.com/pulumi/pulumi/sdk/v3)"
[[ "$sdk_version" == "$version" ]] || die "$cli_mod/go.mod must require sdk/v3 at the same version as \
pkg/v3 (v$version), not v$sdk_version: pkg's 'replace sdk => ../sdk' does not apply to a dependency"
lh_version="$(required "$lh_mod" github.com/pulumi/pulumi/sdk/v3)"
[[ -n "$lh_version" ]] || die "cannot find 'require github.com/pulumi/pulumi/sdk/v3 vX.Y.Z' in $lh_mod/go.mod"

# The go directives of our modules (copied from pkg/v3's and sdk/v3's go.mod): the oldest Go that
# can build both is the larger of the two.
go_directive() { awk '$1 == "go" { print $2; exit }' "$1/go.mod"; }
need_go="$(printf '%s\n%s\n' "$(go_directive "$cli_mod")" "$(go_directive "$lh_mod")" | sort -V | tail -n1)"

out_dir="$cache_root/pulumi-$version"
bin_dir="$out_dir/bin"
pulumi_bin="$bin_dir/pulumi"
lh_bin="$bin_dir/pulumi-language-nodejs"
# The language host has no version flag (it reports its version over gRPC only), so a successful
# build writes this stamp: the sdk version it was built from and the binary's sha256.
lh_stamp="$out_dir/pulumi-language-nodejs.stamp"
lh_stamp_text() { printf 'github.com/pulumi/pulumi/sdk/v3 v%s sha256:%s\n' "$lh_version" \
  "$(sha256sum "$lh_bin" | cut -d' ' -f1)"; }

# Reuse a previous build only if it really is the pinned pair (a half-written or foreign binary at
# that path is rebuilt, not trusted). PULUMI_SKIP_UPDATE_CHECK: `pulumi version` must not go online.
build_is_pinned() {
  [[ -x "$pulumi_bin" && -x "$lh_bin" && -f "$lh_stamp" ]] &&
    [[ "$(PULUMI_SKIP_UPDATE_CHECK=true PULUMI_HOME="$out_dir/.home" "$pulumi_bin" version 2>/dev/null | head -n1)" == "v$version" ]] &&
    [[ "$(cat "$lh_stamp")" == "$(lh_stamp_text)" ]]
}

if build_is_pinned; then
  log "reusing $bin_dir (pulumi v$version, pulumi-language-nodejs v$lh_version)"
  printf '%s\n' "$bin_dir"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "'go' not found on PATH. Pulumi v$version needs Go >= $need_go \
(Debian 12's golang-go is 1.19, too old: install a newer Go and put it on PATH)."
have_go="$(go env GOVERSION)"          # e.g. go1.26.8
have_go="${have_go#go}"
have_go="${have_go%% *}"
version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }
version_ge "$have_go" "$need_go" || die "Go $have_go is too old: the go directives in $cli_mod/go.mod \
and $lh_mod/go.mod (copied from Pulumi's) need Go >= $need_go. Install it and put it first on PATH."

mkdir -p "$bin_dir"
# Two builds at once (parallel test files, two helpers) would both spend minutes and race on the
# final renames: serialize them, and re-check after getting the lock.
exec 9>"$out_dir/.lock"
flock 9
if build_is_pinned; then
  log "reusing $bin_dir (built by a concurrent run)"
  printf '%s\n' "$bin_dir"
  exit 0
fi

# CGO_ENABLED=0: static binaries that run in any namespace/container. -mod=readonly: go.sum is
# authoritative, a missing hash fails instead of silently changing the pins. GOTOOLCHAIN=local:
# never try to download another toolchain. -trimpath/-buildvcs=false: no machine paths in the
# binaries. The version variable is the one Pulumi's release builds set (-X): without it
# `pulumi version` is empty and the engine treats itself as a local dev build.
build() { # MODDIR VERSION PACKAGE OUTPUT
  CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
    nice go -C "$1" build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$2" \
      -o "$4" "$3" >&2
}

rm -f "$lh_stamp"
tmp_cli="$bin_dir/.pulumi.tmp.$$"
tmp_lh="$bin_dir/.pulumi-language-nodejs.tmp.$$"
trap 'rm -f "$tmp_cli" "$tmp_lh"' EXIT

log "building pulumi v$version with Go $have_go (a first build downloads ~310 MB of modules, 1.6 GB unpacked, and takes ~10 minutes on 2 cores)"
start=$(date +%s)
build "$cli_mod" "$version" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$tmp_cli"
mid=$(date +%s)
log "built pulumi in $((mid - start)) s; building pulumi-language-nodejs v$lh_version"
build "$lh_mod" "$lh_version" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs "$tmp_lh"
end=$(date +%s)

mv -f "$tmp_cli" "$pulumi_bin"
mv -f "$tmp_lh" "$lh_bin"
trap - EXIT
lh_stamp_text >"$lh_stamp"

build_is_pinned || die "built $bin_dir but '$pulumi_bin version' does not say 'v$version'"
log "built pulumi v$version ($(du -m "$pulumi_bin" | cut -f1) MB) and pulumi-language-nodejs v$lh_version \
($(du -m "$lh_bin" | cut -f1) MB) in $((end - start)) s: $bin_dir"
printf '%s\n' "$bin_dir"

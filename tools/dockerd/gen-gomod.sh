#!/usr/bin/env bash
# Derive tools/dockerd/go.mod (and go.sum) from the vendor.conf of moby's dockerd release.
#
# usage: tools/dockerd/gen-gomod.sh [DOCKER_MODULE_VERSION]     (default v20.10.24+incompatible)
#
# Docker 20.10 predates its go.mod: its dependencies are pinned in vendor.conf, one
# `repo commit [alt-url] [# tag]` line each, and its module zip on the proxy has no vendor/ dir.
# This script turns every line into a `require` (the version the proxy serves for that commit)
# and a `replace` that pins the module to exactly that version: without it, the go.mod files of
# newer dependencies (buildkit, containerd, grpc ...) would lift modules above vendor.conf by
# minimal version selection. How a line is resolved:
#   1. pins.txt has it (untagged commits, repositories holding several modules, substitutes):
#      its version, after checking that a pseudo-version carries vendor.conf's commit hash
#      (a line marked "substitute:" may differ, and must say why);
#   2. otherwise the tag in vendor.conf's comment (`# v1.2.3`), asked from the proxy; when the
#      proxy reports the tag's commit, it must be vendor.conf's commit.
# Any line resolved neither way is an error: nothing is written.
# Finally `go list -deps` for the dockerd build fills go.sum and the indirect requirements that
# the pinned modules' own go.mod files add, so scripts/build-dockerd.sh can build -mod=readonly.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
docker_version="${1:-v20.10.24+incompatible}"
pins="$here/pins.txt"
# The build configuration scripts/build-dockerd.sh uses (keep both in step).
build_tags="${DOCKERD_BUILD_TAGS:-netgo osusergo static_build exclude_graphdriver_btrfs exclude_graphdriver_devicemapper exclude_graphdriver_zfs exclude_disk_quota}"
go_toolchain="${DOCKERD_GOTOOLCHAIN:-go1.19.13}"

log() { printf 'gen-gomod: %s\n' "$*" >&2; }
die() { printf 'gen-gomod: error: %s\n' "$*" >&2; exit 1; }
command -v go >/dev/null 2>&1 || die "'go' not found on PATH"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
printf 'module scratch\n\ngo 1.19\n' >"$scratch/go.mod"
# Proxy queries from a throw-away module, so nothing here depends on (or changes) our go.mod.
gq() { (cd "$scratch" && GOFLAGS=-mod=mod GOTOOLCHAIN=local go "$@"); }

docker_dir="$(gq mod download -json "github.com/docker/docker@$docker_version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
vendor_conf="$docker_dir/vendor.conf"
[[ -f "$vendor_conf" ]] || die "github.com/docker/docker@$docker_version has no vendor.conf (looked in $docker_dir)"
log "vendor.conf of github.com/docker/docker@$docker_version: $(grep -cvE '^[[:space:]]*(#|$)' "$vendor_conf") lines"

# canonical MODULE VERSION -> "VERSION HASH" as the proxy reports it (HASH empty when it does not say).
proxy_version() {
  local json
  json="$(gq list -m -json "$1@$2" 2>&1)" || { printf '%s\n' "$json" | tail -n 2 >&2; return 1; }
  local v h
  v="$(printf '%s\n' "$json" | sed -n 's/^\t"Version": "\(.*\)",*$/\1/p' | head -n1)"
  h="$(printf '%s\n' "$json" | sed -n 's/^\t\t"Hash": "\(.*\)",*$/\1/p' | head -n1)"
  printf '%s %s\n' "$v" "$h"
}

requires=()   # "MODULE VERSION // comment"
replaces=()   # "MODULE => TARGET VERSION"
unresolved=()
substitutes=()

while read -r repo commit rest; do
  [[ -z "$repo" || "$repo" == \#* ]] && continue
  alt="" tag=""
  read -r -a words <<<"$rest"
  if [[ "${words[0]:-}" == http* ]]; then alt="${words[0]}"; words=("${words[@]:1}"); fi
  [[ "${words[0]:-}" == "#" ]] && tag="${words[1]:-}"
  short="${commit:0:12}"
  note="vendor.conf: $short${tag:+ ($tag)}${alt:+ from $alt}"

  mapfile -t pinned < <(awk -v r="$repo" '$1 == r' "$pins")
  if ((${#pinned[@]} > 0)); then
    for line in "${pinned[@]}"; do
      read -r _ pcommit module version why <<<"$line"
      [[ "$pcommit" == "$short" ]] || die "pins.txt pins $repo at $pcommit but vendor.conf says $short: update pins.txt"
      [[ "$module" == "=" ]] && module="$repo"
      if [[ "$version" =~ -[0-9]{14}-([0-9a-f]{12})(\+incompatible)?$ ]]; then
        if [[ "${BASH_REMATCH[1]}" != "$short" && "$why" != substitute:* ]]; then
          die "pins.txt: $module $version is commit ${BASH_REMATCH[1]}, vendor.conf wants $short (mark it 'substitute: why' if intended)"
        fi
      fi
      got="$(proxy_version "$module" "$version")" || die "the proxy does not serve $module@$version (pins.txt line for $repo)"
      [[ "${got%% *}" == "$version" ]] || die "pins.txt: $module@$version resolves to ${got%% *}; write the canonical version"
      if [[ "$why" == substitute:* ]]; then
        substitutes+=("$module $version: ${why#substitute: }")
        note="$note; SUBSTITUTE, ${why#substitute: }"
      fi
      if [[ "$module" == "$repo" || "$module" == "$repo"/* ]]; then
        requires+=("$module $version // $note")
        replaces+=("$module => $module $version")
      else
        # Another repository's module stands in for REPO (vendor.conf's alt url): require REPO at
        # the same version string and replace it; the original path is then never fetched.
        requires+=("$repo $version // $note")
        replaces+=("$repo => $module $version")
      fi
    done
    continue
  fi

  if [[ "$tag" =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]]; then
    if got="$(proxy_version "$repo" "$tag")"; then
      read -r version hash <<<"$got"
      [[ -z "$hash" || "$hash" == "$commit" ]] || die "$repo@$tag is commit $hash on the proxy, vendor.conf says $commit"
      requires+=("$repo $version // $note")
      replaces+=("$repo => $repo $version")
      continue
    fi
  fi
  unresolved+=("$repo $commit${tag:+ ($tag)}")
done <"$vendor_conf"

if ((${#unresolved[@]} > 0)); then
  die "no version for these vendor.conf lines (add them to pins.txt):
$(printf '  %s\n' "${unresolved[@]}")"
fi

out="$here/go.mod"
{
  printf '// Code generated by tools/dockerd/gen-gomod.sh from the vendor.conf of\n'
  printf '// github.com/docker/docker %s and tools/dockerd/pins.txt. DO NOT EDIT: edit pins.txt and rerun.\n\n' "$docker_version"
  printf 'module dnlab.local/tools/dockerd\n\n'
  # dockerd 20.10.24 was released with Go 1.19; the build uses the same major (GOTOOLCHAIN).
  printf 'go 1.19\n\n'
  printf 'require github.com/docker/docker %s\n\n' "$docker_version"
  printf 'require (\n'
  printf '\t%s\n' "${requires[@]}"
  printf ')\n\n'
  printf '// Every vendor.conf module pinned to exactly its version (see gen-gomod.sh).\n'
  printf 'replace (\n'
  printf '\t%s\n' "${replaces[@]}"
  printf ')\n'
} >"$out"
rm -f "$here/go.sum"
log "wrote $out: ${#requires[@]} modules, ${#substitutes[@]} substitutes"
# GEN_ONLY=1: stop here (go.mod written, go.sum not filled), for looking at the resolution only.
[[ -n "${GEN_ONLY:-}" ]] && exit 0

# Fill go.sum (and indirect requirements) for exactly the packages the dockerd build compiles.
# The checksum database reachable here answers 404 for some module versions that the proxy does
# serve (old pseudo-versions nobody looked up before). Those few are fetched without it
# (GONOSUMDB, one module at a time, only after a 404 for that very module) and their hash from the
# proxy's zip goes into go.sum like any other: later builds are -mod=readonly against go.sum.
log "resolving the dockerd build's packages with $go_toolchain (tags: $build_tags)"
nosumdb=()
while :; do
  set +e
  errors="$(
    cd "$here" &&
      CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOTOOLCHAIN="$go_toolchain" GOFLAGS=-mod=mod \
        GONOSUMDB="$(IFS=,; printf '%s' "${nosumdb[*]:-}")" \
        go list -tags "$build_tags" -deps github.com/docker/docker/cmd/dockerd 2>&1 >/dev/null
  )"
  rc=$?
  set -e
  # With -mod=mod a package that no pinned module holds would be looked up at @latest and its
  # module silently added: that means a pin is wrong, so it is an error here.
  if printf '%s\n' "$errors" | grep -q '^go: finding module for package'; then
    printf '%s\n' "$errors" | grep '^go: finding module for package' >&2
    die "these packages are in none of the pinned modules (a version in pins.txt is wrong, or a module is missing)"
  fi
  [[ $rc -eq 0 ]] && break
  missing="$(printf '%s\n' "$errors" | sed -n 's|.*sumdb/sum.golang.org/lookup/\([^@]*\)@[^:]*: 404 Not Found.*|\1|p' | head -n1)"
  if [[ -z "$missing" ]] || printf '%s\n' "${nosumdb[@]:-}" | grep -qxF "$missing"; then
    printf '%s\n' "$errors" | grep -v '^go: downloading' >&2
    die "go list failed for the dockerd build (see above)"
  fi
  log "the checksum database has no entry for $missing: taking its hash from the proxy"
  nosumdb+=("$missing")
done
log "go.mod and go.sum are complete for the build"
if ((${#nosumdb[@]} > 0)); then
  log "not in the checksum database (hash recorded from the proxy): ${nosumdb[*]}"
fi
if ((${#substitutes[@]} > 0)); then
  log "substitutes (vendor.conf's commit is not on the proxy):"
  printf '  %s\n' "${substitutes[@]}" >&2
fi

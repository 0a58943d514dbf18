#!/usr/bin/env bash
# Fetch Docker 26 (Debian trixie's docker.io 26.1.5) for netns hosts with dockerVersion "26", without
# installing anything: the .deb is downloaded through apt with a private configuration (its own
# sources list, lists, cache and preferences under the cache dir; /etc/apt and the machine's package
# state are not touched) and unpacked with dpkg-deb -x.
#
# Only dockerd (and its docker-proxy) come from trixie. Measured here: dockerd 26.1.5 starts on
# bookworm's libraries and runs containers with bookworm's containerd 1.6.20, runc 1.1.5, tini
# (docker-init) and docker-proxy, which it finds on PATH like Debian's own dockerd; the bookworm
# client /usr/bin/docker 20.10 (API 1.41) talks to it by API version negotiation. So no containerd
# or runc is fetched.
#
# The archive is the one the machine's apt already uses for bookworm (read from `apt-cache policy`),
# with the suite trixie (and trixie-security when the machine has bookworm-security); DNLAB_DEBIAN_MIRROR
# overrides it. apt checks the archive signatures with the system keyring, as for any Debian suite.
#
# Usage: scripts/fetch-docker26.sh [CACHE_ROOT]
#   CACHE_ROOT defaults to ${DNLAB_CACHE:-/var/cache/dnlab}; the package is unpacked into
#   CACHE_ROOT/docker-26.1.5/ (dockerd at usr/sbin/dockerd) and reused when present.
# stdout: one line, the dockerd path (DNLAB_DOCKERD_26=$(scripts/fetch-docker26.sh)).
# stderr: progress and the time taken.
set -euo pipefail

version="26.1.5"
suite="trixie"
cache_root="${1:-${DNLAB_CACHE:-/var/cache/dnlab}}"

log() { printf 'fetch-docker26: %s\n' "$*" >&2; }
die() { printf 'fetch-docker26: error: %s\n' "$*" >&2; exit 1; }

out_dir="$cache_root/docker-$version"
bin="$out_dir/usr/sbin/dockerd"
binary_ok() { [[ -x "$bin" ]] && "$bin" --version 2>/dev/null | grep -q "^Docker version ${version//./\\.}[+,]"; }

if binary_ok; then
  log "reusing $bin ($("$bin" --version))"
  printf '%s\n' "$bin"
  exit 0
fi

command -v apt-get >/dev/null || die "apt-get not found: this fetches Debian's docker.io package (Debian 12 needed)"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found (Debian 12 needed)"
command -v flock >/dev/null || die "flock not found (apt-get install -y util-linux)"
[[ "$(dpkg --print-architecture)" == amd64 ]] || die "only amd64 is supported, this is $(dpkg --print-architecture)"

mkdir -p "$out_dir" || die "cannot create $out_dir (run as root, or pass a writable CACHE_ROOT)"
# Two fetches at once (parallel test files, scripts/test.sh) would race on the unpacked tree.
exec 9>"$out_dir/.lock"
flock 9
if binary_ok; then
  log "reusing $bin (fetched by a concurrent run)"
  printf '%s\n' "$bin"
  exit 0
fi

start=$(date +%s)
work="$out_dir/work"
stage="$out_dir/stage"
rm -rf "$work" "$stage"
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/apt/parts" "$work/apt/prefs" "$work/debs" "$stage"
: >"$work/apt/status"
trap 'rm -rf "$work" "$stage"' EXIT

# The archive this machine already uses for Debian (the URI of its bookworm main index).
policy=$(apt-cache policy 2>/dev/null || true)
mirror="${DNLAB_DEBIAN_MIRROR:-$(awk '$3 == "bookworm/main" { print $2; exit }' <<<"$policy")}"
security="$(awk '$3 == "bookworm-security/main" { print $2; exit }' <<<"$policy")"
[[ -n "$mirror" ]] || die "no Debian bookworm source in this machine's apt configuration to take the archive from (apt-get update first, or set DNLAB_DEBIAN_MIRROR to a Debian archive URI)"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""
[[ -r "$keyring" ]] && signed="[signed-by=$keyring] "
{
  echo "deb ${signed}$mirror $suite main"
  if [[ -n "$security" && -z "${DNLAB_DEBIAN_MIRROR:-}" ]]; then echo "deb ${signed}$security $suite-security main"; fi
} >"$work/apt/sources.list"
apt_private=(
  -o "Dir::Etc::SourceList=$work/apt/sources.list" -o "Dir::Etc::SourceParts=$work/apt/parts"
  -o "Dir::Etc::Preferences=$work/apt/prefs/none" -o "Dir::Etc::PreferencesParts=$work/apt/prefs"
  -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
  -o "Dir::State::status=$work/apt/status"
  -o Debug::NoLocking=1 -o APT::Sandbox::User=root
)
log "reading Debian's $suite index from its package registry (private apt state in $work/apt)"
# An empty package status: the candidate is trixie's, never this machine's installed docker.io.
apt-get "${apt_private[@]}" -qq --error-on=any update >&2 ||
  die "apt-get update of Debian's $suite suite failed (see above): is Debian's package registry reachable, and does the system keyring (debian-archive-keyring) know $suite's key?"
candidate=$(apt-cache "${apt_private[@]}" policy docker.io | awk '/Candidate:/ { print $2 }')
[[ -n "$candidate" && "$candidate" != "(none)" ]] || die "Debian's $suite suite has no docker.io package"
case "$candidate" in
  "$version"+*) ;;
  *) die "Debian's $suite now has docker.io $candidate, not $version: update version= in $0 (and docs/host-kinds.md) after checking the new one" ;;
esac

log "downloading docker.io=$candidate (not installing it)"
(cd "$work/debs" && apt-get "${apt_private[@]}" -qq download "docker.io=$candidate") >&2 ||
  die "apt-get download docker.io=$candidate failed (see above)"
deb=$(find "$work/debs" -maxdepth 1 -name 'docker.io_*.deb' | head -n1)
[[ -s "$deb" ]] || die "apt-get download left no docker.io .deb in $work/debs"

dpkg-deb -x "$deb" "$stage"
[[ -x "$stage/usr/sbin/dockerd" ]] || die "$(basename "$deb") has no usr/sbin/dockerd"
v=$("$stage/usr/sbin/dockerd" --version 2>&1) ||
  die "the unpacked dockerd does not run on this machine: $v"
[[ "$v" == "Docker version $version"[+,]* ]] || die "the unpacked dockerd says '$v', not Docker version $version"

# Replace whatever a broken earlier run left, then move the verified tree into place.
rm -rf "$out_dir/usr" "$out_dir/etc" "$out_dir/lib"
for d in "$stage"/*; do mv "$d" "$out_dir/"; done
{
  echo "package docker.io $candidate from Debian's $suite suite"
  echo "sha256 $(sha256sum "$deb" | cut -d' ' -f1)  $(basename "$deb")"
  echo "fetched $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$out_dir/SOURCE"
rm -rf "$work" "$stage"
trap - EXIT
binary_ok || die "unpacked $bin but its --version does not say Docker version $version"
end=$(date +%s)
log "fetched $("$bin" --version) in $((end - start)) s: $bin"
printf '%s\n' "$bin"

#!/usr/bin/env bash
# There is no container registry: build the busybox image on a host's daemon from the machine's
# static busybox (a rootfs with bin/busybox, applet symlinks and empty etc/proc/sys/dev/tmp, imported
# with `docker import`), then tag it with every name the plan's workloads use. Idempotent: tags that
# already exist are kept; the import runs only when none exists.
#
# usage: busybox-image.sh --socket S --rootfs DIR --tag busybox:latest [--tag busybox:1.36.1]...
#                         [--busybox /bin/busybox]
set -euo pipefail
MULTI="tag"
source "$(dirname "$0")/lib.sh"
parse_args "$@"
need socket rootfs tag
sock=${ARG[socket]} rootfs=${ARG[rootfs]}
bb=$(opt busybox /bin/busybox)
mapfile -t tags <<<"${ARG[tag]}"
[ -x "$bb" ] || die "busybox not found at $bb (install busybox-static: scripts/install-deps.sh)"
[[ "$(file -b "$bb" 2>/dev/null || true)" != *"dynamically linked"* ]] || die "$bb is dynamically linked; the image needs busybox-static"
d() { timeout 120 "$DOCKER" -H "unix://$sock" "$@"; }
d info >/dev/null 2>&1 || die "no docker daemon answers on unix://$sock (run host-up.sh first)"

have=() missing=()
for t in "${tags[@]}"; do
  if d image inspect "$t" >/dev/null 2>&1; then have+=("$t"); else missing+=("$t"); fi
done
if [ ${#missing[@]} -eq 0 ]; then
  log "image(s) ${tags[*]} already present on unix://$sock"
  exit 0
fi

if [ ${#have[@]} -eq 0 ]; then
  # Applets the lab and the verifier use (nsenter: the verifier enters container namespaces);
  # only those this busybox build provides are linked.
  wanted="sh ash ping ping6 ip ipneigh nslookup wget sleep cat echo hostname ls ps nsenter grep sed awk
    head tail tr cut wc route ifconfig netstat traceroute arp arping nc env id uname mkdir rm true false
    timeout test [ seq tee date touch ln mv cp od"
  available=" $("$bb" --list | tr '\n' ' ') "
  remove_dir "$rootfs"
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp"
  cp "$bb" "$rootfs/bin/busybox"
  linked=()
  for a in $wanted; do
    [[ "$available" == *" $a "* ]] || continue
    ln -sf busybox "$rootfs/bin/$a"
    linked+=("$a")
  done
  chmod 1777 "$rootfs/tmp"
  log "importing ${tags[0]} on unix://$sock (applets: ${linked[*]})"
  tar -C "$rootfs" -c . | d import -c 'CMD ["sh"]' - "${tags[0]}" >/dev/null
  rm -rf -- "$rootfs"
  source_tag=${tags[0]}
  missing=("${missing[@]:1}")
else
  source_tag=${have[0]}
fi
for t in "${missing[@]}"; do
  d tag "$source_tag" "$t"
  log "tagged $source_tag as $t"
done
log "image(s) ${tags[*]} ready on unix://$sock"

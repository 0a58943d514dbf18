#!/bin/sh
# Entrypoint of the locally built dind images (scripts/images/build.sh), a stand-in for the official
# docker:*-dind image's dockerd-entrypoint.sh + dind. What the lab relies on, kept the same here:
#  - argv of flags only (the lab passes the planned daemon flags, e.g. --bip ... --cluster-store=...)
#    means "dockerd with these flags": `dockerd` is prepended;
#  - DOCKER_TLS_CERTDIR=DIR (the lab sets /certs) with DIR/server/{ca,cert,key}.pem in place (the lab
#    uploads its own certificates there) means TLS with client certificates, as the official image
#    serves it: --host=unix:///var/run/docker.sock --host=tcp://0.0.0.0:2376 --tlsverify and the three
#    files are prepended. Unlike the official image, nothing is generated here (missing files are an
#    error), and an empty DOCKER_TLS_CERTDIR is refused: this image never serves a plain tcp API;
#  - a stale docker pidfile from an unclean stop is removed, so a restarted container starts;
#  - the `dind` preparations: securityfs mounted, / made rshared, /tmp a tmpfs, and on cgroup v2 every
#    process moved into /sys/fs/cgroup/init with all controllers enabled for the daemon's children;
#  - `docker` (the client) is on PATH for the healthcheck `docker info`; /var/lib/docker is the data dir.
# Added: there is no registry, so the busybox image baked into this image (/usr/share/dnlab/busybox.tar)
# is loaded into the inner daemon before it serves the lab: a throwaway dockerd on a private socket
# with no bridge and no iptables loads it once per data dir, then the real daemon starts. The API port
# therefore never answers before the image is there (the healthcheck cannot race the load).
set -eu

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  certs=${DOCKER_TLS_CERTDIR:-}
  if [ -z "$certs" ]; then
    echo "dind-entrypoint: DOCKER_TLS_CERTDIR is empty: this image serves its API only with TLS; set it to a directory holding server/ca.pem, server/cert.pem and server/key.pem" >&2
    exit 1
  fi
  for f in server/ca.pem server/cert.pem server/key.pem; do
    if [ ! -s "$certs/$f" ]; then
      echo "dind-entrypoint: $certs/$f is missing: this image makes no certificates; put the server's CA, certificate and key under $certs/server" >&2
      exit 1
    fi
  done
  set -- dockerd --host=unix:///var/run/docker.sock --host=tcp://0.0.0.0:2376 --tlsverify \
    --tlscacert "$certs/server/ca.pem" --tlscert "$certs/server/cert.pem" --tlskey "$certs/server/key.pem" "$@"
fi

if [ "$1" = dockerd ]; then
  find /run /var/run -iname 'docker*.pid' -delete 2>/dev/null || :
  export container=docker
  if [ -d /sys/kernel/security ] && ! mountpoint -q /sys/kernel/security; then
    mount -t securityfs none /sys/kernel/security || echo "dind-entrypoint: could not mount securityfs (AppArmor may not work)" >&2
  fi
  mountpoint -q /tmp || mount -t tmpfs none /tmp
  mount --make-rshared / 2>/dev/null || :
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    mkdir -p /sys/fs/cgroup/init
    xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs 2>/dev/null || :
    sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers >/sys/fs/cgroup/cgroup.subtree_control || :
  fi

  preload=/usr/share/dnlab/busybox.tar
  marker=/var/lib/docker/.dnlab-preloaded-$(cat /usr/share/dnlab/busybox.tar.sha256 2>/dev/null || echo none)
  if [ -f "$preload" ] && [ ! -e "$marker" ]; then
    sock=/run/dnlab-preload.sock
    dockerd --host="unix://$sock" --pidfile=/run/dnlab-preload.pid --exec-root=/run/dnlab-preload \
      --bridge=none --iptables=false --ip-masq=false >/run/dnlab-preload.log 2>&1 &
    pre=$!
    i=0
    until docker -H "unix://$sock" version >/dev/null 2>&1; do
      i=$((i + 1))
      if [ $i -gt 300 ] || ! kill -0 "$pre" 2>/dev/null; then
        echo "dind-entrypoint: the preload dockerd did not start:" >&2
        tail -n 20 /run/dnlab-preload.log >&2
        exit 1
      fi
      sleep 0.1
    done
    docker -H "unix://$sock" load -i "$preload" >&2
    kill -TERM "$pre"
    wait "$pre" || :
    rm -rf /run/dnlab-preload /run/dnlab-preload.sock /run/dnlab-preload.pid
    touch "$marker"
  fi
fi
exec "$@"

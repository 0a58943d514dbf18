# shellcheck shell=bash
# Where the test images' outer engine lives: one definition for outer-up.sh, outer-down.sh,
# outer-exec.sh and build.sh (and the tests, which read the same variables). Sourced, never executed.
# Every path is its own: the outer engine never uses the machine's default socket, data-root or exec-root.
DNLAB_OUTER_NETNS=${DNLAB_OUTER_NETNS:-dnlab-outer}
DNLAB_OUTER_RUN=${DNLAB_OUTER_RUN:-/run/dnlab-outer}
DNLAB_OUTER_STATE=${DNLAB_OUTER_STATE:-/var/lib/dnlab-outer}
OUTER_SOCKET="$DNLAB_OUTER_RUN/docker.sock"
OUTER_PIDFILE="$DNLAB_OUTER_RUN/dockerd.pid"
OUTER_EXEC_ROOT="$DNLAB_OUTER_RUN/exec"
OUTER_DATA_ROOT="$DNLAB_OUTER_STATE/data"
OUTER_CONFIG="$DNLAB_OUTER_STATE/daemon.json"
OUTER_RUNTIME="$DNLAB_OUTER_STATE/runc-drop-caps"
OUTER_LOG="$DNLAB_OUTER_STATE/dockerd.log"
# The outer engine's own bridge and address pool: inside 198.18.0.0/15 (lab traffic only), clear of
# the lab's default subnets (underlay 198.18.0.0/24, overlays 198.18.100.0/24, swarm pool
# 198.18.128.0/17, inner bridges 198.19.0.0/16), which the lab creates on this engine.
DNLAB_OUTER_BIP=${DNLAB_OUTER_BIP:-198.18.96.1/24}
DNLAB_OUTER_POOL=${DNLAB_OUTER_POOL:-198.18.64.0/20}
export DOCKER_HOST_OUTER="unix://$OUTER_SOCKET"

# shellcheck shell=bash
# Debian's ZooKeeper 3.8 (package zookeeper: libzookeeper-java + a JRE) as the lab runs it, in one
# place for both of its homes: the KV namespace of a netns lab (kv-up.sh) and the dnlab-local/zookeeper
# image of dind labs (scripts/images/zookeeper-entrypoint.sh). Sourced, never executed.
#
# Debian's zkServer.sh is not used: it reads /etc/zookeeper/conf whatever it is told, and its class
# path has no slf4j binding, so the server would log nothing at all. Here the server logs to stderr
# (slf4j-simple, also Debian's), which the caller sends to the KV log.

ZK_JAVA=/usr/bin/java
ZK_JARS=(/usr/share/java/zookeeper.jar /usr/share/java/slf4j-simple.jar)

# What is missing of the package, with the fix (nothing when it is installed).
zk_missing() {
  local f
  for f in "$ZK_JAVA" "${ZK_JARS[@]}"; do
    [ -e "$f" ] || printf 'ZooKeeper is not installed: %s missing (Debian package zookeeper: scripts/install-deps.sh)\n' "$f"
  done
}

# The server's argv for a config file, into ZK_CMD. QuorumPeerMain runs a config with one server (or
# none) standalone. A small heap and the client compiler only: a lab store holds a few hundred keys,
# and start-up time matters more than peak speed. IPv4 sockets: the lab's addresses are IPv4.
zk_command() {
  local classpath
  classpath=$(
    IFS=:
    echo "${ZK_JARS[*]}"
  )
  ZK_CMD=("$ZK_JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true
    -Dorg.slf4j.simpleLogger.showDateTime=true "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS"
    -cp "$classpath" org.apache.zookeeper.server.quorum.QuorumPeerMain "$1")
}

# `srvr`, one of the four-letter words (3.8 answers only those whitelisted in the config): "Mode:
# standalone" once the server serves requests. (`ruok` answers "imok" before it does.)
zk_serving() { [[ "$1" == *"Mode: standalone"* ]]; }

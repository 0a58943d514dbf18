#!/bin/bash
# Entrypoint of the locally built ZooKeeper image (scripts/images/build.sh: Debian's ZooKeeper 3.8
# server), a stand-in for the official zookeeper image's docker-entrypoint.sh. What the lab relies on
# (src/model/kvServer.ts), kept the same:
#  - the config is written from ZOO_* variables (ZOO_SERVERS, ZOO_STANDALONE_ENABLED,
#    ZOO_ADMINSERVER_ENABLED, ZOO_4LW_COMMANDS_WHITELIST, ZOO_CFG_EXTRA, ...) into $ZOO_CONF_DIR/zoo.cfg,
#    unless that file exists; the server id (ZOO_MY_ID, default 1) into $ZOO_DATA_DIR/myid;
#  - the data in /data (a volume), `zkServer.sh start-foreground` (the default command) runs the
#    server in the foreground, and any other command runs as given.
# The server itself is started as on netns labs (scripts/netns/zookeeper.sh, copied into the image):
# Debian's zkServer.sh reads only /etc/zookeeper/conf and logs nothing.
# Not reproduced: the official image drops to a `zookeeper` user with gosu; this one runs as root.
set -euo pipefail
source /usr/local/lib/dnlab/zookeeper.sh
: "${ZOO_CONF_DIR:=/conf}" "${ZOO_DATA_DIR:=/data}" "${ZOO_DATA_LOG_DIR:=/datalog}"
: "${ZOO_TICK_TIME:=2000}" "${ZOO_INIT_LIMIT:=5}" "${ZOO_SYNC_LIMIT:=2}" "${ZOO_MAX_CLIENT_CNXNS:=60}"
: "${ZOO_AUTOPURGE_PURGEINTERVAL:=0}" "${ZOO_AUTOPURGE_SNAPRETAINCOUNT:=3}"
: "${ZOO_STANDALONE_ENABLED:=true}" "${ZOO_ADMINSERVER_ENABLED:=true}"
[ "$#" -gt 0 ] || set -- zkServer.sh start-foreground
mkdir -p "$ZOO_CONF_DIR" "$ZOO_DATA_DIR" "$ZOO_DATA_LOG_DIR"

config="$ZOO_CONF_DIR/zoo.cfg"
if [ ! -f "$config" ]; then
  {
    echo "dataDir=$ZOO_DATA_DIR"
    echo "dataLogDir=$ZOO_DATA_LOG_DIR"
    echo "tickTime=$ZOO_TICK_TIME"
    echo "initLimit=$ZOO_INIT_LIMIT"
    echo "syncLimit=$ZOO_SYNC_LIMIT"
    echo "autopurge.snapRetainCount=$ZOO_AUTOPURGE_SNAPRETAINCOUNT"
    echo "autopurge.purgeInterval=$ZOO_AUTOPURGE_PURGEINTERVAL"
    echo "maxClientCnxns=$ZOO_MAX_CLIENT_CNXNS"
    echo "standaloneEnabled=$ZOO_STANDALONE_ENABLED"
    echo "admin.enableServer=$ZOO_ADMINSERVER_ENABLED"
    for server in ${ZOO_SERVERS:-server.1=localhost:2888:3888;2181}; do echo "$server"; done
    [ -z "${ZOO_4LW_COMMANDS_WHITELIST:-}" ] || echo "4lw.commands.whitelist=$ZOO_4LW_COMMANDS_WHITELIST"
    for extra in ${ZOO_CFG_EXTRA:-}; do echo "$extra"; done
  } >"$config"
fi
[ -f "$ZOO_DATA_DIR/myid" ] || echo "${ZOO_MY_ID:-1}" >"$ZOO_DATA_DIR/myid"

if [ "$1" = zkServer.sh ] && [ "${2:-}" = start-foreground ]; then
  missing=$(zk_missing)
  [ -z "$missing" ] || { echo "$missing" >&2; exit 1; }
  zk_command "$config"
  exec "${ZK_CMD[@]}"
fi
exec "$@"

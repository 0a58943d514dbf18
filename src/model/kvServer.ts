// How each KV server kind runs in a container (command, environment, healthcheck, data dir): what
// kvContainerSpec (specs.ts) puts in its container. Bound to the lab address only: never 0.0.0.0.
import type { KvPlan } from "./types.js";

export interface KvServerProcess {
  command: string[];
  env: string[];
  /** Docker healthcheck test; the daemons are configured only once this passes. */
  healthcheck: string[];
  /** Where the server keeps its data inside the container (a volume is mounted there). */
  dataDir: string;
}

export function kvServerProcess(kv: KvPlan): KvServerProcess {
  const a = kv.address;
  switch (kv.kind) {
    case "consul":
      return {
        // The image's entrypoint adds -data-dir=/consul/data and -config-dir for `agent`.
        command: [
          "agent",
          "-server",
          "-bootstrap-expect=1",
          "-ui",
          `-node=${kv.nodeName}`,
          `-bind=${a}`,
          `-client=${a}`,
          `-http-port=${kv.port}`,
        ],
        // No update check: lab traffic stays in the lab.
        env: ["CHECKPOINT_DISABLE=1"],
        healthcheck: ["CMD", "consul", "members", `-http-addr=http://${a}:${kv.port}`],
        dataDir: "/consul/data",
      };
    case "etcd":
      return {
        // Docker's libkv speaks the etcd v2 API, off by default in etcd 3.4.
        command: [
          "etcd",
          `--name=${kv.nodeName}`,
          "--data-dir=/etcd-data",
          "--enable-v2=true",
          `--listen-client-urls=http://${a}:${kv.port}`,
          `--advertise-client-urls=http://${a}:${kv.port}`,
        ],
        env: [],
        healthcheck: ["CMD", "etcdctl", `--endpoints=http://${a}:${kv.port}`, "endpoint", "health"],
        dataDir: "/etcd-data",
      };
    case "zookeeper":
      return {
        // The image's own start, with the config its entrypoint writes from these (the official image's
        // variables; scripts/images/zookeeper-entrypoint.sh the same). Named, not left to the image's
        // CMD: the provider reads the CMD back, and an empty command would differ from it on every preview.
        command: ["zkServer.sh", "start-foreground"],
        env: [
          // One server, so standalone; its client port on the lab address only (the image's default
          // listens on every address). The quorum ports are unused by a standalone server.
          `ZOO_SERVERS=server.1=${a}:2888:3888;${a}:${kv.port}`,
          "ZOO_STANDALONE_ENABLED=true",
          // No AdminServer (Jetty on 8080 of every address); of the four-letter words, the health check's.
          "ZOO_ADMINSERVER_ENABLED=false",
          "ZOO_4LW_COMMANDS_WHITELIST=srvr,ruok",
        ],
        // `srvr` answers "Mode: standalone" once the server serves (`ruok` says imok before it does).
        // Through bash's /dev/tcp: it needs nothing but bash, which both images have.
        healthcheck: ["CMD", "bash", "-c", `exec 3<>/dev/tcp/${a}/${kv.port} && printf srvr >&3 && grep -q 'Mode: standalone' <&3`],
        dataDir: "/data",
      };
  }
}

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
        command: [],
        env: [`ZOO_CFG_EXTRA=clientPortAddress=${a}`, `ZOO_PORT=${kv.port}`],
        healthcheck: ["CMD", "zkServer.sh", "status"],
        dataDir: "/data",
      };
  }
}

// Defaults of the lab: the reference scenario, moved into 198.18.0.0/15.

/** Newest MPL-2.0 Consul release (see tools/consul/README.md): the container image and the test binary built from source. */
export const CONSUL_VERSION = "1.16.3";
export const IMAGES = {
  consul: `hashicorp/consul:${CONSUL_VERSION}`,
  etcd: "quay.io/coreos/etcd:v3.4.34",
  zookeeper: "zookeeper:3.8.4",
  busybox: "busybox:1.36.1",
  /** The last Docker with --cluster-store: the reference scenario's classic overlay. */
  dindKv: "docker:20.10.24-dind",
  /** A current Docker for swarm-mode overlay. */
  dindSwarm: "docker:27.5.1-dind",
} as const;

export const DEFAULT_DOCKER_VERSION = { kv: "20.10", swarm: "27.5" } as const;
export const KV_PORTS = { consul: 8500, etcd: 2379, zookeeper: 2181 } as const;
/** The --cluster-store URL scheme of each kind: Docker's libkv backend names ("zookeeper://" is "discovery service not supported"). */
export const KV_SCHEMES = { consul: "consul", etcd: "etcd", zookeeper: "zk" } as const;
/** The port dockerd advertises for the classic overlay's control plane, as in the article. */
export const CLUSTER_ADVERTISE_PORT = 2376;
/** The classic overlay driver's gossip (serf) port on each daemon's advertise address (fixed in Docker). */
export const OVERLAY_GOSSIP_PORT = 7946;
/** First 127.0.0.1 port used to publish dind hosts' Docker APIs (host i gets BASE + i). */
export const DIND_API_PORT_BASE = 23750;
/**
 * dind hosts' Docker API inside the host: TLS with client certificates only (--tlsverify), on Docker's
 * TLS port, as the official dind image serves it. No plain listener (2375) exists.
 */
export const DIND_TLS_API_PORT = 2376;
/** Inside a dind host: DOCKER_TLS_CERTDIR, where the official image's entrypoint finds the server's certificates. */
export const DIND_CERT_DIR = "/certs";
/** Where the stack writes each dind lab's client certificate (one directory per lab, 0700, files 0600). */
export const TLS_CLIENT_ROOT = ".lab/tls";

export const DEFAULTS = {
  name: "lab",
  hostKind: "dind",
  overlayMode: "kv",
  underlay: { subnet: "198.18.0.0/24", interface: "eth0" },
  kv: { kind: "consul", publishUi: true },
  bridge: { bipBase: "198.19.0.0/17", addressPool: "198.19.128.0/17", poolSize: 24 },
  swarm: { defaultAddrPool: "198.18.128.0/17", maskLength: 24 },
  hosts: [
    { name: "host1", address: "198.18.0.11" },
    { name: "host2", address: "198.18.0.12" },
  ],
  networks: [
    { name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" },
    { name: "mv_net1", driver: "macvlan", subnet: "198.18.0.0/24", ipRangePool: "198.18.0.128/25" },
  ],
  workloads: [
    { name: "test1", host: "host1", networks: ["ov_net1"] },
    { name: "test2", host: "host2", networks: ["ov_net1"] },
    { name: "test3", host: "host1", networks: ["mv_net1"] },
  ],
  // failUpOn never: an up reports what is not as expected and goes on (lab:expect may describe a broken lab on purpose).
  verification: { enabled: true, timeoutSeconds: 60, settleSeconds: 20, failUpOn: "never" },
  netnsRoot: "/run/dnlab",
  netnsStateRoot: "/var/lib/dnlab",
} as const;

/** Where the last verification report is saved (the stack's verify step) and read (npm run inspect). */
export const LAST_VERIFY_FILE = ".lab/last-verify.json";

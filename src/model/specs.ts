// Every Docker object the lab creates, described once. The Pulumi components map a spec to the docker
// provider's arguments (components/dockerArgs.ts); `npm run lab` and the tests map the same spec to the
// docker CLI (src/docker/cli.ts). Neither mapping decides anything of its own, so a lab made by
// `pulumi up` and one made by `npm run lab -- up` are the same objects.
import { kvServerProcess } from "./kvServer.js";
import { dindCertFiles } from "./tls.js";
import type { HostPlan, KvPlan, LabPlan, NetworkPlan, WorkloadPlan } from "./types.js";

/** One network a container joins, with its static address and the names it answers to there. */
export interface ContainerAttachment {
  network: string;
  ipv4: string;
  aliases: string[];
}

export interface PortSpec {
  internal: number;
  external: number;
  /** The address the port is published on (always loopback: nothing of the lab is published wider). */
  ip: string;
}

/** The secret material a container is given as files: named here, held by the stack (src/tls, the state). */
export type UploadContent = "tls.caCert" | "tls.serverCert" | "tls.serverKey";

/** A file put into the container before it starts (the provider's uploads; the CLI's docker cp). */
export interface UploadSpec {
  path: string;
  content: UploadContent;
  /** Octal permissions, e.g. "0600" for a key. */
  mode: string;
}

export interface VolumeMount {
  /** A named volume (created with the container, removed with the lab). */
  volume: string;
  target: string;
}

export interface HealthcheckSpec {
  test: string[];
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
  /** How long whoever creates the container waits for it to turn healthy before giving up. */
  waitSeconds: number;
}

export interface ContainerSpec {
  name: string;
  hostname: string;
  image: string;
  /** The command (the image's CMD when absent). */
  command?: string[];
  env: string[];
  /** Docker's init as PID 1. */
  init: boolean;
  tty: boolean;
  /** stdin kept open (docker run -i). */
  interactive: boolean;
  restart: "no" | "unless-stopped";
  privileged: boolean;
  /** The networks it joins, the first one primary (docker run --network); empty with hostNetwork. */
  attachments: ContainerAttachment[];
  /** The host's own network stack (docker run --network host). */
  hostNetwork: boolean;
  ports: PortSpec[];
  mounts: VolumeMount[];
  /** Files put in place before the container starts (dind: the host's TLS certificates). */
  uploads?: UploadSpec[];
  healthcheck?: HealthcheckSpec;
  /** What `docker stop` and a destroy give it between SIGTERM and SIGKILL. */
  stopTimeoutSeconds: number;
}

export interface NetworkSpec {
  name: string;
  driver: "overlay" | "macvlan" | "bridge";
  attachable: boolean;
  subnet: string;
  gateway: string;
  /** Where the daemon allocates addresses by itself (macvlan: this host's part; swarm: swarm's half). */
  ipRange?: string;
  /** Driver options (parent interface, MTU). */
  options: Record<string, string>;
  labels: Record<string, string>;
}

/**
 * The workloads' behaviour, one choice for every path that runs them (test1, test2, test3 ...):
 * - Docker's init as PID 1 reaps the orphans the verifier's probes leave (under a plain sh they stay
 *   zombies, one per probe, until the pids run out);
 * - a shell that exits on SIGTERM, so `docker stop` and a destroy are immediate (busybox sh as the
 *   init's child would ignore it with a tty, and a plain `sleep` costs the 10 s grace each time);
 * - restart unless-stopped: a daemon restarted with new settings, or to recover it, brings its
 *   containers back; a container stopped by hand stays stopped.
 */
export const WORKLOAD_COMMAND = ["sh", "-c", "trap 'exit 0' TERM INT; sleep 2147483647 & wait"];
const WORKLOAD_STOP_SECONDS = 5;

export function workloadSpec(w: WorkloadPlan): ContainerSpec {
  return {
    name: w.name,
    hostname: w.hostname,
    image: w.image,
    command: WORKLOAD_COMMAND,
    env: [],
    init: true,
    tty: false,
    interactive: false,
    restart: "unless-stopped",
    privileged: false,
    attachments: w.attachments.map((a) => ({ network: a.network, ipv4: a.ipv4, aliases: [...a.aliases] })),
    hostNetwork: false,
    ports: [],
    mounts: [],
    stopTimeoutSeconds: WORKLOAD_STOP_SECONDS,
  };
}

const MTU_OPTION = "com.docker.network.driver.mtu";

/** The hosts a network object is created on: an overlay on its creator (the others learn it), a macvlan on every host. */
export function networkHosts(net: NetworkPlan): string[] {
  return net.driver === "overlay" ? [net.createdOn] : net.ranges.map((r) => r.host);
}

/** A lab network as created on one host (macvlan IPAM is per host: each gets its own --ip-range). */
export function networkSpec(net: NetworkPlan, host: string): NetworkSpec {
  const mtu: Record<string, string> = net.mtu !== undefined ? { [MTU_OPTION]: String(net.mtu) } : {};
  if (net.driver === "overlay") {
    return {
      name: net.name,
      driver: "overlay",
      attachable: net.attachable,
      subnet: net.subnet,
      gateway: net.gateway,
      ...(net.ipRange ? { ipRange: net.ipRange } : {}),
      options: mtu,
      labels: {},
    };
  }
  const range = net.ranges.find((r) => r.host === host);
  if (!range) throw new Error(`macvlan ${net.name} has no ip-range for host ${host}`);
  return {
    name: net.name,
    driver: "macvlan",
    attachable: false,
    subnet: net.subnet,
    gateway: net.gateway,
    ipRange: range.ipRange,
    options: { parent: net.parent, ...mtu },
    labels: {},
  };
}

/** dind: the bridge network on the engine that stands for the hosts' LAN. */
export function underlayNetworkSpec(plan: LabPlan): NetworkSpec {
  return {
    name: `${plan.name}-underlay`,
    driver: "bridge",
    attachable: false,
    subnet: plan.underlay.subnet,
    gateway: plan.underlay.gateway,
    options: {},
    labels: { "dnlab.lab": plan.name },
  };
}

/** dind: a host as a privileged Docker-in-Docker container on the engine, its daemon started with the plan's flags. */
export function dindHostSpec(plan: LabPlan, host: HostPlan): ContainerSpec {
  if (host.kind !== "dind" || host.publishedApiPort === undefined || plan.images.dind === undefined || plan.tls === undefined) {
    throw new Error(`host ${host.name} is not a dind host`);
  }
  const files = dindCertFiles(plan.tls);
  return {
    name: `${plan.name}-${host.name}`,
    // Classic overlay gossip (serf) needs a unique hostname per daemon.
    hostname: host.name,
    image: plan.images.dind,
    // Flags only: the entrypoint runs dockerd with them.
    command: [...host.daemon.args],
    // TLS as the official image does it: with DOCKER_TLS_CERTDIR set, its entrypoint adds
    // --host=unix:///var/run/docker.sock --host=tcp://0.0.0.0:2376 --tlsverify and the certificates under
    // it. They are the lab's (uploaded before the container starts), so the entrypoint makes none. No
    // plain listener exists; 2376 is published on loopback only and answers the lab's client certificate only.
    env: [`DOCKER_TLS_CERTDIR=${plan.tls.certDir}`],
    init: false,
    tty: false,
    interactive: false,
    restart: "no",
    privileged: true,
    attachments: [{ network: underlayNetworkSpec(plan).name, ipv4: host.address, aliases: [] }],
    hostNetwork: false,
    ports: [{ internal: plan.tls.apiPort, external: host.publishedApiPort, ip: "127.0.0.1" }],
    mounts: [{ volume: `${plan.name}-${host.name}-data`, target: "/var/lib/docker" }],
    uploads: [
      { path: files.caCert, content: "tls.caCert", mode: "0644" },
      { path: files.serverCa, content: "tls.caCert", mode: "0644" },
      { path: files.serverCert, content: "tls.serverCert", mode: "0644" },
      { path: files.serverKey, content: "tls.serverKey", mode: "0600" },
    ],
    healthcheck: {
      test: ["CMD", "docker", "info"],
      intervalSeconds: 2,
      timeoutSeconds: 5,
      retries: 60,
      startPeriodSeconds: 2,
      waitSeconds: 180,
    },
    stopTimeoutSeconds: 10,
  };
}

/**
 * The KV server as a container: on the engine, on the underlay, its API published on loopback (dind);
 * or with host networking on the first ssh host, as in the article. Bound to the lab address only.
 */
export function kvContainerSpec(plan: LabPlan, kv: KvPlan): ContainerSpec {
  if (kv.provision !== "local-container" && kv.provision !== "host-container") {
    throw new Error(`the ${kv.kind} server of lab ${plan.name} is not a container (${kv.provision})`);
  }
  const p = kvServerProcess(kv);
  const local = kv.provision === "local-container";
  return {
    name: `${plan.name}-kv`,
    hostname: kv.nodeName,
    image: kv.image,
    command: p.command,
    env: p.env,
    init: false,
    tty: false,
    interactive: false,
    restart: "unless-stopped",
    privileged: false,
    attachments: local ? [{ network: underlayNetworkSpec(plan).name, ipv4: kv.address, aliases: [] }] : [],
    hostNetwork: !local,
    // The UI/API for the user, on loopback only (lab:kv.publishUi); the daemons use the lab address.
    // Whoever reaches it can rewrite Docker's network state: without it, only the lab's hosts can.
    ports: local && kv.published ? [{ internal: kv.port, external: kv.port, ip: "127.0.0.1" }] : [],
    mounts: local ? [{ volume: `${plan.name}-kv-data`, target: p.dataDir }] : [],
    healthcheck: { test: p.healthcheck, intervalSeconds: 2, timeoutSeconds: 2, retries: 30, startPeriodSeconds: 2, waitSeconds: 120 },
    stopTimeoutSeconds: 10,
  };
}

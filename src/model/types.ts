// The validated, normalized lab plan: everything the components, the scripts and the verifier consume.

export const HOST_KINDS = ["dind", "netns", "ssh"] as const;
export type HostKind = (typeof HOST_KINDS)[number];
export const KV_KINDS = ["consul", "etcd", "zookeeper"] as const;
export type KvKind = (typeof KV_KINDS)[number];
export const OVERLAY_MODES = ["kv", "swarm"] as const;
export type OverlayMode = (typeof OVERLAY_MODES)[number];
export const NETWORK_DRIVERS = ["overlay", "macvlan"] as const;
/**
 * The dockerds a netns host can run: "20.10" is this machine's Debian docker.io (or the consul-capable
 * rebuild of it, DNLAB_DOCKERD); "26" is Debian trixie's docker.io 26.1.5, unpacked into a cache by
 * scripts/fetch-docker26.sh (DNLAB_DOCKERD_26).
 */
export const NETNS_DOCKERDS = ["20.10", "26"] as const;
export type NetnsDockerd = (typeof NETNS_DOCKERDS)[number];

export interface UnderlayPlan {
  /** e.g. 198.18.0.0/24: the "physical" network the hosts share. */
  subnet: string;
  prefixLength: number;
  gateway: string;
  /** The interface name of the underlay inside every host (eth0, as in the article). */
  interface: string;
}

export interface KvPlan {
  kind: KvKind;
  address: string;
  port: number;
  /** The value of dockerd's --cluster-store, e.g. consul://198.18.0.2:8500. */
  url: string;
  /** Container image for the KV server where the host kind runs it as a container. */
  image: string;
  /** The KV server's own hostname / node name. */
  nodeName: string;
  /**
   * Who runs the KV server: a container on the local engine (dind), a container with host networking
   * on the first ssh host (as in the article), a process in the netns lab, or nobody (external).
   */
  provision: "local-container" | "host-container" | "netns" | "external";
  /** host-container: the host whose engine runs it. */
  runsOn?: string;
  /**
   * local-container (dind): its API (Consul: the UI) is published on 127.0.0.1:<port> of the engine's
   * machine (lab:kv.publishUi). Whoever can reach that port can rewrite Docker's network state.
   */
  published: boolean;
}

export interface SshPlan {
  user: string;
  port: number;
  /** Name of the Pulumi secret config key holding the private key (never the key itself). */
  privateKeySecret: string;
  /** Optional key file on the user's machine for the docker CLI/provider and verifier (else ssh-agent). */
  identityFile?: string;
  /**
   * Where Docker lives on the host, where it is not Debian's default (/etc/docker/daemon.json,
   * /var/run/docker.pid, unix:///var/run/docker.sock): docker-daemon.sh edits and restarts that one.
   * A socket set here must also be the login's DOCKER_HOST: the provider and verifier reach the daemon
   * through `docker system dial-stdio` in an ssh session.
   */
  docker?: { daemonJson?: string; pidFile?: string; socket?: string; logFile?: string; execRoot?: string };
  /** Where the lab keeps its backups and records on the host (default /var/lib/dnlab-remote/<lab>). */
  stateDir?: string;
}

export interface DaemonPlan {
  /** dockerd command-line flags owned by the lab (everything but sockets/paths, which depend on the kind). */
  args: string[];
  /** The same settings as daemon.json keys (for hosts configured through /etc/docker/daemon.json). */
  daemonJson: Record<string, unknown>;
  bip: string;
  defaultAddressPool: { base: string; size: number };
  clusterStore?: string;
  clusterAdvertise?: string;
  /** Where dockerd keeps its network namespaces (the verifier reads the overlay's vxlan device there). */
  execRoot: string;
  /** dockerd's pidfile on the host: the verifier finds the daemon's threads by it (daemon-netns checks). */
  pidFile: string;
}

export interface NetnsHostPaths {
  namespace: string;
  stateDir: string;
  dataRoot: string;
  execRoot: string;
  pidFile: string;
  socket: string;
}

export interface HostPlan {
  name: string;
  index: number;
  kind: HostKind;
  /** Underlay address (no prefix). */
  address: string;
  dockerVersion: string;
  advertiseInterface: string;
  /** Docker endpoint as the user's machine reaches it: tcp://127.0.0.1:N, unix:///..., ssh://user@host:port. */
  endpoint: string;
  daemon: DaemonPlan;
  ssh?: SshPlan;
  netns?: NetnsHostPaths;
  /** netns only: which dockerd runs the host (netnsCommands passes that binary to host-up as --dockerd). */
  netnsDockerd?: NetnsDockerd;
  /** dind only: the host port on 127.0.0.1 that publishes the inner daemon's API (TLS, client certificate required). */
  publishedApiPort?: number;
  /** dind only: what the host's server certificate covers (127.0.0.1, its underlay address, its name). */
  tls?: ServerCertPlan;
}

/** A dind host's server certificate: the names and addresses a client may reach its API by. */
export interface ServerCertPlan {
  commonName: string;
  ips: string[];
  dnsNames: string[];
}

/**
 * dind labs: every host's Docker API behind TLS with client certificates, from one CA per lab. The
 * stack generates the CA, one client certificate and a server certificate per host, keeps them in its
 * state as secrets, and writes the client's files where the lab tools and the docker CLI find them.
 */
export interface TlsPlan {
  /** The client's ca.pem, cert.pem and key.pem (directory 0700, files 0600), relative to the project: DOCKER_CERT_PATH. */
  clientDir: string;
  /** Inside each host: DOCKER_TLS_CERTDIR (server/ca.pem, server/cert.pem, server/key.pem; ca/cert.pem). */
  certDir: string;
  /** dockerd's --tlsverify port inside each host, published on 127.0.0.1:<publishedApiPort>. */
  apiPort: number;
  /** The CA's and the client certificate's subject names. */
  caName: string;
  clientName: string;
}

export interface OverlayNetworkPlan {
  name: string;
  driver: "overlay";
  subnet: string;
  gateway: string;
  attachable: boolean;
  mtu?: number;
  /** The host the network is created on (the others learn it through the KV store or swarm). */
  createdOn: string;
  /**
   * swarm mode: the --ip-range swarm allocates from by itself (every node's lb-<network> endpoint takes
   * an address of the network). Containers' static addresses stay below it, so they never collide.
   */
  ipRange?: string;
}

export interface MacvlanRange {
  host: string;
  ipRange: string;
}

export interface MacvlanNetworkPlan {
  name: string;
  driver: "macvlan";
  subnet: string;
  gateway: string;
  /** Parent interface on each host: the underlay interface, or its 802.1q sub-interface (eth0.10). */
  parent: string;
  vlan?: number;
  mtu?: number;
  ranges: MacvlanRange[];
}

export type NetworkPlan = OverlayNetworkPlan | MacvlanNetworkPlan;

export interface WorkloadAttachment {
  network: string;
  ipv4: string;
  aliases: string[];
}

export interface WorkloadPlan {
  name: string;
  hostname: string;
  host: string;
  image: string;
  /** The first attachment is the container's primary network (docker run --network). */
  attachments: WorkloadAttachment[];
}

export const CHECK_KINDS = [
  "ping", // container -> container over a network, by name or by IP (with `measure`: a series, its loss and RTT)
  "mtu", // a DF ping of a given size: does a packet that large get through?
  "dns", // embedded DNS: a name resolves to the container's IP on that network
  "gwbridge-route", // the container's default route leaves through docker_gwbridge
  "external", // the container reaches a target outside its overlay (through docker_gwbridge)
  "vxlan", // the overlay's VXLAN device on a host: its VNI, and encapsulated traffic counted
  "host-ping", // from a host's own network stack (macvlan: its own children are expected to be unreachable)
  "cnm", // a container's sandbox, endpoints and networks
  "daemon-netns", // a host's dockerd: none of its OS threads left in a deleted network namespace (Docker 20.10 classic overlay)
] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/**
 * What the plan expects of a check: that its probe passes, that it fails (the lab's own limits, or a
 * fault's effect), or that it cannot run at all (its host's daemon is stopped by a fault).
 */
export const EXPECTATIONS = ["pass", "fail", "no-run"] as const;
export type Expectation = (typeof EXPECTATIONS)[number];

/** A range a measured value must lie in (either end open). */
export interface Bounds {
  min?: number;
  max?: number;
}

/** A series of pings whose loss and round-trip times are measured (and judged against the bounds). */
export interface MeasurePlan {
  /** Pings sent (a fixed number, so that results compare). */
  count: number;
  lossPct?: Bounds;
  rttMs?: Bounds;
}

export interface CheckPlan {
  id: string;
  kind: CheckKind;
  /** The container the probe runs in (or, for host-level checks, the host). */
  from: string;
  /** The host `from` lives on (or is). */
  host: string;
  /** What is probed: a container name, an IP, or a network name (vxlan). */
  target: string;
  /** For dns checks: the address the name must resolve to. For ping by name: the IP it must answer from. */
  expectedIp?: string;
  network?: string;
  expect: Expectation;
  /** Why the result is expected: shown in the report. */
  reason: string;
  /** ping and mtu: the ICMP payload in bytes (mtu: "auto" = what the source's interface holds, less 28). */
  size?: number | "auto";
  /** ping: a series whose loss and RTT are measured and judged. */
  measure?: MeasurePlan;
  /** ping, mtu: the tries a probe gets (1 s each) where a loss fault sits on its path; else the verifier's own. */
  attempts?: number;
  /** The faults (their labels, e.g. `lab:faults[1] drop-vxlan`) that set this check's expectation. */
  faults?: string[];
  /** A user's expectation (lab:expect): its name and key, for the report's own section. */
  expectation?: { name: string; key: string };
}

/** The probes every source container of a PairCheckGroup runs toward every target. */
export const PAIR_PROBES = [
  "ping-name", // ping by name: the embedded DNS resolves it and the planned address answers
  "dns", // nslookup of the name returns the planned address
  "ping-ip", // ping of the planned address
] as const;
export type PairProbe = (typeof PAIR_PROBES)[number];

export interface PairTarget {
  name: string;
  /** The target's address on the group's network. */
  ip: string;
}

/**
 * The pairwise checks of one network from one host, as a product instead of one CheckPlan per pair:
 * every source probes every target with every probe. Pairs grow with the square of the containers,
 * so the plan keeps them in this form; expandChecks yields the individual checks where they are needed.
 */
export interface PairCheckGroup {
  network: string;
  /** The host all sources live on; the targets live on the other hosts. */
  host: string;
  sources: string[];
  targets: PairTarget[];
  /** Each probe with what the plan expects of it (pass unless a fault says otherwise) and why. */
  probes: { probe: PairProbe; reason: string; expect?: Expectation; faults?: string[]; attempts?: number }[];
}

/** What the verifier checks: pairwise groups, the (linear) rest one CheckPlan each, and the user's own. */
export interface LabChecks {
  pairs: PairCheckGroup[];
  single: CheckPlan[];
  /** lab:expect, one check each, in the order written. */
  expectations: CheckPlan[];
}

export interface VerificationPlan {
  enabled: boolean;
  /** Reached from overlay containers through docker_gwbridge (in our labs: the KV host on the underlay). */
  externalTarget: string;
  timeoutSeconds: number;
  /**
   * How long failing checks are retried before they count: right after an apply a classic overlay is
   * still converging (remote names reach the embedded DNS through the KV store and gossip).
   */
  settleSeconds: number;
  /** unexpected: `pulumi up` fails when anything is not as expected; never: it reports and goes on. */
  failUpOn: FailUpOn;
}

export const FAIL_UP_ON = ["unexpected", "never"] as const;
export type FailUpOn = (typeof FAIL_UP_ON)[number];

export const FAULT_KINDS = ["loss", "delay", "down", "drop-vxlan", "mtu", "stop-daemon"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** One fault of lab:faults: what breaks on which host, with its settings. */
export interface FaultPlan {
  /** Its position in lab:faults. */
  index: number;
  /** Unique in the lab (default <kind>-<host>); names its Pulumi resource and its record on the host. */
  name: string;
  /** Whether the user named it (the label then shows the name). */
  named: boolean;
  /** Short, stable id of the fault on its host (iptables chains, the record's directory). */
  id: string;
  host: string;
  kind: FaultKind;
  /** The host's underlay interface the fault acts on. */
  device: string;
  /** loss: percent of packets dropped, in and out. */
  lossPct?: number;
  /** delay: added to what the host sends, ms; jitter: its spread, ms. */
  delayMs?: number;
  jitterMs?: number;
  /** mtu: the underlay interface's MTU while the fault stands. */
  mtu?: number;
}

export const EXPECT_PROBES = ["ping", "dns", "mtu"] as const;
export type ExpectProbe = (typeof EXPECT_PROBES)[number];

/** Where a user's expectation probes: a workload, a host (its underlay address), the external target, an address. */
export interface ExpectTarget {
  kind: "workload" | "host" | "external" | "address";
  /** The workload or host name, "external", or the address. */
  name: string;
  /** The address probed (a workload's on the network, when one is given or shared). */
  ip?: string;
}

/** One of lab:expect: the user's own assertion about the lab. */
export interface ExpectationPlan {
  index: number;
  name: string;
  from: string;
  /** The host `from` runs on. */
  host: string;
  to: ExpectTarget;
  network?: string;
  probe: ExpectProbe;
  expect: "pass" | "fail";
  /** mtu: the ICMP payload (absent: as large as the source's interface allows). */
  size?: number;
  lossPct?: Bounds;
  rttMs?: Bounds;
}

export interface SwarmPlan {
  /** swarm init --default-addr-pool */
  defaultAddrPool: string;
  defaultAddrPoolMaskLength: number;
  manager: string;
}

/**
 * The images the lab runs (lab:images, else the official ones). Only those of this lab's kind and mode:
 * destroy keeps every one of them (keepLocally), so this is also what a lab leaves on an engine.
 */
export interface ImagesPlan {
  /** dind: the image of every host container (the overlay mode's dind image). */
  dind?: string;
  /** The KV server's image, where the lab runs it as a container (dind: on your engine; ssh: on the first host). */
  kv?: string;
  /** The workloads' default image (a workload's own image overrides it). */
  workload: string;
}

export interface LabPlan {
  name: string;
  hostKind: HostKind;
  overlayMode: OverlayMode;
  underlay: UnderlayPlan;
  /** Absent in swarm mode, where the KV store is not used. */
  kv?: KvPlan;
  swarm?: SwarmPlan;
  hosts: HostPlan[];
  networks: NetworkPlan[];
  workloads: WorkloadPlan[];
  /** lab:faults: what the lab breaks on purpose (applied after the lab exists). */
  faults: FaultPlan[];
  /** lab:expect: the user's own assertions, checked after the model's. */
  expectations: ExpectationPlan[];
  /** Pairwise checks as groups, the rest one by one; expandChecks lists them all. */
  checks: LabChecks;
  verification: VerificationPlan;
  images: ImagesPlan;
  /** dind kind: the hosts' APIs behind TLS (the lab's CA, certificates, where the client's files go). */
  tls?: TlsPlan;
  /** netns kind: root directory of all lab state on the machine; also the underlay switch namespace. */
  netns?: { root: string; switchNamespace: string; bridge: string; kvNamespace: string };
}

// The stack configuration as the user writes it (Pulumi config `lab:*` or a JSON file).
// Every field is optional; values are unknown until validated by buildPlan.
//
// Next to every object type is the list of its keys. buildPlan refuses any key not listed (a typo
// would otherwise be ignored and the default used in silence), and the guard at the bottom makes a
// field added to a type but not to its list a compile error, so the lists cannot drift from the types.

/** Where Docker lives on an ssh host, when not where Debian's docker.io puts it. */
export interface SshDockerInput {
  daemonJson?: string;
  pidFile?: string;
  socket?: string;
  logFile?: string;
  execRoot?: string;
}
export const SSH_DOCKER_KEYS = [
  "daemonJson",
  "pidFile",
  "socket",
  "logFile",
  "execRoot",
] as const satisfies readonly (keyof SshDockerInput)[];

export interface SshInput {
  user?: string;
  port?: number;
  privateKeySecret?: string;
  identityFile?: string;
  docker?: SshDockerInput;
  stateDir?: string;
}
export const SSH_KEYS = [
  "user",
  "port",
  "privateKeySecret",
  "identityFile",
  "docker",
  "stateDir",
] as const satisfies readonly (keyof SshInput)[];

export interface HostInput {
  name?: string;
  address?: string;
  dockerVersion?: string;
  advertiseInterface?: string;
  ssh?: SshInput;
}
export const HOST_KEYS = ["name", "address", "dockerVersion", "advertiseInterface", "ssh"] as const satisfies readonly (keyof HostInput)[];

export interface NetworkInput {
  name?: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  attachable?: boolean;
  mtu?: number;
  /** overlay: the host the network is created on. */
  createdOn?: string;
  /** macvlan */
  parent?: string;
  vlan?: number;
  /** macvlan: the block split into one --ip-range per host (default: upper half of the subnet). */
  ipRangePool?: string;
  /** macvlan: explicit per-host ranges, overriding the automatic partition. Its keys are host names. */
  ipRanges?: Record<string, string>;
}
export const NETWORK_KEYS = [
  "name",
  "driver",
  "subnet",
  "gateway",
  "attachable",
  "mtu",
  "createdOn",
  "parent",
  "vlan",
  "ipRangePool",
  "ipRanges",
] as const satisfies readonly (keyof NetworkInput)[];

export interface WorkloadInput {
  name?: string;
  hostname?: string;
  host?: string;
  networks?: string[];
  aliases?: string[];
  image?: string;
}
export const WORKLOAD_KEYS = [
  "name",
  "hostname",
  "host",
  "networks",
  "aliases",
  "image",
] as const satisfies readonly (keyof WorkloadInput)[];

export interface UnderlayInput {
  subnet?: string;
  gateway?: string;
  interface?: string;
}
export const UNDERLAY_KEYS = ["subnet", "gateway", "interface"] as const satisfies readonly (keyof UnderlayInput)[];

export interface KvInput {
  kind?: string;
  address?: string;
  port?: number;
  image?: string;
  external?: boolean;
  /** dind: publish the store's API (Consul: its UI) on 127.0.0.1 of the engine's machine (default true). */
  publishUi?: boolean;
}
export const KV_KEYS = ["kind", "address", "port", "image", "external", "publishUi"] as const satisfies readonly (keyof KvInput)[];

export interface BridgeInput {
  bipBase?: string;
  addressPool?: string;
  poolSize?: number;
}
export const BRIDGE_KEYS = ["bipBase", "addressPool", "poolSize"] as const satisfies readonly (keyof BridgeInput)[];

export interface SwarmInput {
  defaultAddrPool?: string;
  maskLength?: number;
}
export const SWARM_KEYS = ["defaultAddrPool", "maskLength"] as const satisfies readonly (keyof SwarmInput)[];

export interface VerificationInput {
  enabled?: boolean;
  externalTarget?: string;
  timeoutSeconds?: number;
  settleSeconds?: number;
  /** unexpected: an unexpected result fails `pulumi up`; never (default): it is reported and up goes on. */
  failUpOn?: string;
}
export const VERIFICATION_KEYS = [
  "enabled",
  "externalTarget",
  "timeoutSeconds",
  "settleSeconds",
  "failUpOn",
] as const satisfies readonly (keyof VerificationInput)[];

/**
 * One fault the lab applies on purpose, after the lab exists: `{ host: host2, kind: loss, loss: 30% }`.
 * loss: a percentage ("30%" or 30); delay and jitter: a duration ("50ms", "0.2s", or a number of ms);
 * mtu: the underlay interface's MTU.
 */
export interface FaultInput {
  name?: string;
  host?: string;
  kind?: string;
  loss?: string | number;
  delay?: string | number;
  jitter?: string | number;
  mtu?: number;
}
export const FAULT_KEYS = ["name", "host", "kind", "loss", "delay", "jitter", "mtu"] as const satisfies readonly (keyof FaultInput)[];

/** A range of a measured value: `{ min: 10 }`, `{ max: 5 }`, or both. */
export interface RangeInput {
  min?: number;
  max?: number;
}
export const RANGE_KEYS = ["min", "max"] as const satisfies readonly (keyof RangeInput)[];

/**
 * One of the user's own assertions: `{ from: test2, to: test1, probe: ping, expect: pass }`.
 * to: a workload, a host, `external` (the plan's verification.externalTarget) or an address.
 */
export interface ExpectInput {
  name?: string;
  from?: string;
  to?: string;
  network?: string;
  probe?: string;
  expect?: string;
  size?: number;
  lossPct?: RangeInput;
  rttMs?: RangeInput;
}
export const EXPECT_KEYS = [
  "name",
  "from",
  "to",
  "network",
  "probe",
  "expect",
  "size",
  "lossPct",
  "rttMs",
] as const satisfies readonly (keyof ExpectInput)[];

/**
 * The images the lab runs, for users behind a registry mirror or an air gap (default: the official ones).
 * dindKv / dindSwarm: the Docker-in-Docker host of each overlay mode (dind kind); kv: the KV server's
 * container (whatever lab:kv.kind is); workload: every workload without an image of its own.
 */
export interface ImagesInput {
  dindKv?: string;
  dindSwarm?: string;
  kv?: string;
  workload?: string;
}
export const IMAGES_KEYS = ["dindKv", "dindSwarm", "kv", "workload"] as const satisfies readonly (keyof ImagesInput)[];

/** netns kind: where runtime state (sockets, exec roots) and data roots live. */
export interface NetnsInput {
  root?: string;
  stateRoot?: string;
}
export const NETNS_KEYS = ["root", "stateRoot"] as const satisfies readonly (keyof NetnsInput)[];

export interface LabConfigInput {
  name?: string;
  hostKind?: string;
  overlayMode?: string;
  underlay?: UnderlayInput;
  kv?: KvInput;
  bridge?: BridgeInput;
  swarm?: SwarmInput;
  hosts?: HostInput[];
  networks?: NetworkInput[];
  workloads?: WorkloadInput[];
  verification?: VerificationInput;
  netns?: NetnsInput;
  images?: ImagesInput;
  faults?: FaultInput[];
  expect?: ExpectInput[];
}

/** The Pulumi config keys (namespace `lab`) that map onto LabConfigInput fields: every top-level key. */
export const CONFIG_KEYS = [
  "name",
  "hostKind",
  "overlayMode",
  "underlay",
  "kv",
  "bridge",
  "swarm",
  "hosts",
  "networks",
  "workloads",
  "verification",
  "netns",
  "images",
  "faults",
  "expect",
] as const satisfies readonly (keyof LabConfigInput)[];

/** Fields of T that the key list K leaves out (`never` when K is complete). */
type Unlisted<T, K extends readonly PropertyKey[]> = Exclude<keyof T, K[number]>;
/** Accepts only `never`: a field missing from its key list fails `tsc` here, naming the field. */
type NoneUnlisted<Missing extends never> = Missing;
// biome-ignore lint/correctness/noUnusedVariables: it exists for tsc, which checks it
type KeyListsAreComplete = NoneUnlisted<
  | Unlisted<LabConfigInput, typeof CONFIG_KEYS>
  | Unlisted<HostInput, typeof HOST_KEYS>
  | Unlisted<SshInput, typeof SSH_KEYS>
  | Unlisted<SshDockerInput, typeof SSH_DOCKER_KEYS>
  | Unlisted<NetworkInput, typeof NETWORK_KEYS>
  | Unlisted<WorkloadInput, typeof WORKLOAD_KEYS>
  | Unlisted<UnderlayInput, typeof UNDERLAY_KEYS>
  | Unlisted<KvInput, typeof KV_KEYS>
  | Unlisted<BridgeInput, typeof BRIDGE_KEYS>
  | Unlisted<SwarmInput, typeof SWARM_KEYS>
  | Unlisted<VerificationInput, typeof VERIFICATION_KEYS>
  | Unlisted<NetnsInput, typeof NETNS_KEYS>
  | Unlisted<ImagesInput, typeof IMAGES_KEYS>
  | Unlisted<FaultInput, typeof FAULT_KEYS>
  | Unlisted<RangeInput, typeof RANGE_KEYS>
  | Unlisted<ExpectInput, typeof EXPECT_KEYS>
>;

// The stack configuration as the user writes it (Pulumi config `lab:*` or a JSON file).
// Every field is optional; values are unknown until validated by buildPlan.

export interface HostInput {
  name?: string;
  address?: string;
  dockerVersion?: string;
  advertiseInterface?: string;
  ssh?: { user?: string; port?: number; privateKeySecret?: string; identityFile?: string };
}

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
  /** macvlan: explicit per-host ranges, overriding the automatic partition. */
  ipRanges?: Record<string, string>;
}

export interface WorkloadInput {
  name?: string;
  hostname?: string;
  host?: string;
  networks?: string[];
  aliases?: string[];
  image?: string;
}

export interface LabConfigInput {
  name?: string;
  hostKind?: string;
  overlayMode?: string;
  underlay?: { subnet?: string; gateway?: string; interface?: string };
  kv?: { kind?: string; address?: string; port?: number; image?: string; external?: boolean };
  bridge?: { bipBase?: string; addressPool?: string; poolSize?: number };
  swarm?: { defaultAddrPool?: string; maskLength?: number };
  hosts?: HostInput[];
  networks?: NetworkInput[];
  workloads?: WorkloadInput[];
  verification?: { enabled?: boolean; externalTarget?: string; timeoutSeconds?: number; settleSeconds?: number };
  /** netns kind: where runtime state (sockets, exec roots) and data roots live. */
  netns?: { root?: string; stateRoot?: string };
}

/** The Pulumi config keys (namespace `lab`) that map onto LabConfigInput fields. */
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
] as const satisfies readonly (keyof LabConfigInput)[];

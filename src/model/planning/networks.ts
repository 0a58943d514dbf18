// The networks stage: each overlay and macvlan network from lab:networks, with its subnet, gateway and
// MTU; swarm's own range of an overlay; a macvlan's per-host --ip-ranges (macvlan IPAM is per host);
// and no block overlapping another (the underlay, the bridges, swarm's pool, the other networks).
import type { NetworkInput } from "../config.js";
import { DEFAULTS } from "../defaults.js";
import { NETWORK_KEYS } from "../config.js";
import type { Problems } from "../errors.js";
import { type Cidr, contains, containsCidr, formatCidr, formatIp, overlaps, size, split } from "../ip.js";
import { type HostPlan, type MacvlanNetworkPlan, NETWORK_DRIVERS, type NetworkPlan, type OverlayNetworkPlan } from "../types.js";
import { gatewayOf, IFACE_RE, int, K, labCidr, list, NET_RE, obj, oneOf, section, str } from "./fields.js";
import type { Bridge, Lab, NamedBlock, Swarm, Underlay } from "./stage.js";

export interface NetworkContext {
  lab: Lab;
  underlay: Underlay;
  hosts: HostPlan[];
}

/** What overlay and macvlan networks share, read before the driver's own settings. */
export interface NetworkBasics {
  name: string;
  subnet: Cidr | undefined;
  gateway: string;
  mtu: number | undefined;
}

/** The networks, and their subnets as blocks for the overlap check. */
export function readNetworks(p: Problems, value: unknown, ctx: NetworkContext): { networks: NetworkPlan[]; blocks: NamedBlock[] } {
  const names = new Set<string>();
  const networks: NetworkPlan[] = [];
  const blocks: NamedBlock[] = [];
  list<NetworkInput>(p, "networks", value, DEFAULTS.networks).forEach((nRaw, i) => {
    const { net, block } = readNetwork(p, nRaw, i, ctx, names);
    networks.push(net);
    if (block) blocks.push(block);
  });
  return { networks, blocks };
}

export function readNetwork(
  p: Problems,
  nRaw: unknown,
  i: number,
  ctx: NetworkContext,
  names: Set<string>,
): { net: NetworkPlan; block: NamedBlock | undefined } {
  const key = `networks[${i}]`;
  const n = section<NetworkInput>(p, key, nRaw, NETWORK_KEYS);
  const name = str(p, `${key}.name`, n.name, NET_RE, `net${i + 1}`, "letters, digits, '_', '.', '-'");
  if (n.name === undefined) p.add(K(`${key}.name`), undefined, "every network needs a name", "add name: ov_net1 (or similar)");
  else if (names.has(name)) p.add(K(`${key}.name`), name, "duplicate network name", "give every network a unique name");
  names.add(name);
  const driver = oneOf(p, `${key}.driver`, n.driver ?? "(missing)", NETWORK_DRIVERS, "overlay", "network driver");
  const subnet = labCidr(p, `${key}.subnet`, n.subnet);
  const mtu = n.mtu === undefined ? undefined : int(p, `${key}.mtu`, n.mtu, 576, 9000, 1500);
  const gw = subnet ? gatewayOf(p, `${key}.gateway`, subnet, n.gateway, "the network's subnet") : undefined;
  const basics: NetworkBasics = { name, subnet, gateway: gw === undefined ? "" : formatIp(gw), mtu };
  const net = driver === "overlay" ? overlayNetwork(p, key, n, basics, ctx) : macvlanNetwork(p, key, n, basics, ctx);
  return { net, block: subnet ? networkBlock(key, n, subnet, driver, ctx.underlay.cidr) : undefined };
}

/** A macvlan on exactly the underlay subnet (no VLAN) is the same L2 segment, so that one overlap is allowed. */
export function networkBlock(key: string, n: NetworkInput, subnet: Cidr, driver: string, underlay: Cidr | undefined): NamedBlock {
  const shares =
    driver === "macvlan" && n.vlan === undefined && underlay && subnet.base === underlay.base && subnet.prefix === underlay.prefix;
  return { key: K(`${key}.subnet`), text: formatCidr(subnet), cidr: subnet, ...(shares ? { sharesWith: K("underlay.subnet") } : {}) };
}

export function overlayNetwork(p: Problems, key: string, n: NetworkInput, basics: NetworkBasics, ctx: NetworkContext): OverlayNetworkPlan {
  const { hosts, lab } = ctx;
  const createdOn = typeof n.createdOn === "string" ? n.createdOn : (hosts[0]?.name ?? "");
  if (n.createdOn !== undefined && !hosts.some((h) => h.name === n.createdOn)) {
    p.add(K(`${key}.createdOn`), n.createdOn, "no such host", `use one of ${hosts.map((h) => h.name).join(", ")}`);
  } else if (lab.overlayMode === "swarm" && n.createdOn !== undefined && n.createdOn !== hosts[0]?.name) {
    // Only a manager creates swarm-scoped networks, and the lab's manager is the first host.
    p.add(
      K(`${key}.createdOn`),
      n.createdOn,
      "in swarm mode overlays are created on the swarm manager, the first host",
      `remove createdOn or set it to ${hosts[0]?.name ?? "the first host"}`,
    );
  }
  for (const f of ["parent", "vlan", "ipRangePool", "ipRanges"] as const) {
    if (n[f] !== undefined) p.add(K(`${key}.${f}`), n[f], "only macvlan networks take this setting", `remove ${f} or set driver: macvlan`);
  }
  const ipRange = lab.overlayMode === "swarm" && basics.subnet ? swarmIpRange(p, key, n.subnet, basics.subnet, hosts.length) : undefined;
  const net: OverlayNetworkPlan = {
    name: basics.name,
    driver: "overlay",
    subnet: basics.subnet ? formatCidr(basics.subnet) : "",
    gateway: basics.gateway,
    attachable: typeof n.attachable === "boolean" ? n.attachable : lab.overlayMode === "swarm",
    createdOn,
    ...(basics.mtu !== undefined ? { mtu: basics.mtu } : {}),
    ...(ipRange ? { ipRange } : {}),
  };
  if (lab.overlayMode === "swarm" && !net.attachable) {
    p.add(
      K(`${key}.attachable`),
      false,
      "swarm-mode overlays must be attachable for standalone containers",
      "remove attachable or set it to true",
    );
  }
  return net;
}

/**
 * Swarm allocates an address of the network to every node that joins it (its lb-<network>
 * endpoint), lowest free first, and a container's --ip on a taken address then fails after 20 s
 * ("attaching to network failed"). Swarm gets the upper half as its --ip-range; the model's static
 * addresses come from the lower half.
 */
export function swarmIpRange(p: Problems, key: string, text: unknown, subnet: Cidr, hostCount: number): string | undefined {
  const half: Cidr = { base: subnet.base + size(subnet) / 2, prefix: subnet.prefix + 1 };
  if (subnet.prefix > 28 || size(half) - 1 < hostCount) {
    p.add(
      K(`${key}.subnet`),
      text,
      `too small for swarm mode: swarm takes the upper half (${subnet.prefix > 28 ? "a /29 or smaller has no room" : `${size(half) - 1} addresses`}) for one endpoint per host (${hostCount} hosts)`,
      "use a /24 (or at least a /28 with few hosts)",
    );
    return undefined;
  }
  return formatCidr(half);
}

export function macvlanNetwork(p: Problems, key: string, n: NetworkInput, basics: NetworkBasics, ctx: NetworkContext): MacvlanNetworkPlan {
  const vlan = n.vlan === undefined ? undefined : int(p, `${key}.vlan`, n.vlan, 1, 4094, 1);
  const baseParent = str(p, `${key}.parent`, n.parent, IFACE_RE, ctx.underlay.iface, "an interface name");
  const ranges = basics.subnet ? macvlanRanges(p, key, n, basics.subnet, ctx.hosts, ctx.underlay.reserved, ctx.underlay.cidr) : [];
  const net: MacvlanNetworkPlan = {
    name: basics.name,
    driver: "macvlan",
    subnet: basics.subnet ? formatCidr(basics.subnet) : "",
    gateway: basics.gateway,
    parent: vlan === undefined ? baseParent : `${baseParent}.${vlan}`,
    ranges,
    ...(vlan !== undefined ? { vlan } : {}),
    ...(basics.mtu !== undefined ? { mtu: basics.mtu } : {}),
  };
  if (n.attachable !== undefined) p.add(K(`${key}.attachable`), n.attachable, "only overlay networks are attachable", "remove attachable");
  return net;
}

/** The blocks of the lab itself, which no network may overlap. */
export function labBlocks(underlay: Underlay, bridge: Bridge, swarm: Swarm): NamedBlock[] {
  const named: [string, Cidr | undefined][] = [
    ["underlay.subnet", underlay.cidr],
    ["bridge.bipBase", bridge.bipBase],
    ["bridge.addressPool", bridge.addrPool],
    ["swarm.defaultAddrPool", swarm.pool],
  ];
  return named.flatMap(([key, cidr]) => (cidr ? [{ key: K(key), text: formatCidr(cidr), cidr }] : []));
}

export function checkOverlaps(p: Problems, blocks: NamedBlock[]): void {
  for (let i = 0; i < blocks.length; i++) {
    for (let j = i + 1; j < blocks.length; j++) {
      const a = blocks[i]!;
      const b = blocks[j]!;
      if (!overlaps(a.cidr, b.cidr)) continue;
      const same = a.cidr.base === b.cidr.base && a.cidr.prefix === b.cidr.prefix;
      if (same && (a.sharesWith === b.key || b.sharesWith === a.key)) continue;
      p.add(
        b.key,
        b.text,
        `overlaps ${a.key} (${a.text})`,
        "choose disjoint blocks (a macvlan network may reuse the underlay subnet exactly)",
      );
    }
  }
}

export interface HostRange {
  host: string;
  ipRange: string;
  cidr: Cidr;
  /** The key the range comes from, as problems name it. */
  key: string;
}

/** One --ip-range per host: macvlan IPAM is per host, so each host hands out addresses from its own part. */
export function macvlanRanges(
  p: Problems,
  key: string,
  n: NetworkInput,
  subnet: Cidr,
  hosts: HostPlan[],
  reserved: Map<number, string>,
  underlay: Cidr | undefined,
): { host: string; ipRange: string }[] {
  const ranges =
    n.ipRanges !== undefined ? givenRanges(p, key, n.ipRanges, hosts) : partitionedRanges(p, key, n.ipRangePool, subnet, hosts);
  checkRanges(p, ranges, subnet, reserved, underlay);
  return ranges.map(({ host, ipRange }) => ({ host, ipRange }));
}

/** ipRanges as written: a map host name -> block, which must name every host and only hosts. */
export function givenRanges(p: Problems, key: string, value: unknown, hosts: HostPlan[]): HostRange[] {
  const ranges: HostRange[] = [];
  // A map, not a schema object: its keys are host names, checked against the hosts below.
  const given = obj<Record<string, unknown>>(p, `${key}.ipRanges`, value);
  for (const [hostName, text] of Object.entries(given)) {
    const rkey = `${key}.ipRanges.${hostName}`;
    if (!hosts.some((h) => h.name === hostName)) p.add(K(rkey), text, "no such host", `use one of ${hosts.map((h) => h.name).join(", ")}`);
    const c = labCidr(p, rkey, text);
    if (c) ranges.push({ host: hostName, ipRange: formatCidr(c), cidr: c, key: K(rkey) });
  }
  for (const h of hosts) {
    if (!(h.name in given))
      p.add(
        K(`${key}.ipRanges.${h.name}`),
        undefined,
        "every host needs a macvlan ip-range",
        "add a range for this host or drop ipRanges to partition automatically",
      );
  }
  return ranges;
}

/** ipRangePool (default: the subnet's upper half) split into equal parts, one per host in order. */
export function partitionedRanges(p: Problems, key: string, poolValue: string | undefined, subnet: Cidr, hosts: HostPlan[]): HostRange[] {
  const poolText = poolValue ?? formatCidr({ base: subnet.base + size(subnet) / 2, prefix: subnet.prefix + 1 });
  const pool = labCidr(p, `${key}.ipRangePool`, poolText);
  if (!pool) return [];
  const parts = split(pool, hosts.length);
  if (parts.length < hosts.length || (parts[0] && size(parts[0]) < 4)) {
    p.add(K(`${key}.ipRangePool`), poolText, `too small to give each of ${hosts.length} hosts its own range`, "use a larger ipRangePool");
    return [];
  }
  return hosts.map((h, i) => {
    const c = parts[i]!;
    return { host: h.name, ipRange: formatCidr(c), cidr: c, key: `${K(`${key}.ipRangePool`)} (${h.name}'s part)` };
  });
}

export function checkRanges(
  p: Problems,
  ranges: HostRange[],
  subnet: Cidr,
  reserved: Map<number, string>,
  underlay: Cidr | undefined,
): void {
  for (const r of ranges) {
    if (!containsCidr(subnet, r.cidr)) {
      p.add(r.key, r.ipRange, `outside the macvlan subnet ${formatCidr(subnet)}`, "choose a range inside the network's subnet");
    }
    // Addresses of hosts, gateway and KV live on the underlay; a macvlan child must never take one.
    if (underlay && overlaps(underlay, r.cidr)) {
      const taken = [...reserved].filter(([ip]) => contains(r.cidr, ip)).map(([ip, owner]) => `${formatIp(ip)}, used by ${owner}`);
      if (taken.length > 0)
        p.add(r.key, r.ipRange, `contains ${taken.join("; ")}`, "move the range (or those addresses) so they do not meet");
    }
  }
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      if (overlaps(ranges[i]!.cidr, ranges[j]!.cidr)) {
        p.add(
          ranges[j]!.key,
          ranges[j]!.ipRange,
          `overlaps ${ranges[i]!.host}'s range ${ranges[i]!.ipRange} (macvlan IPAM is per host, both would hand out the same addresses)`,
          "give every host a disjoint ip-range",
        );
      }
    }
  }
}

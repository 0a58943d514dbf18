// The workloads stage: each container of lab:workloads on its host, attached to the networks it names
// with the next static address of each (an overlay's from its subnet after the gateway, below swarm's
// range; a macvlan's from its host's own range), with its aliases and image.
import { type WorkloadInput, WORKLOAD_KEYS } from "../config.js";
import { DEFAULTS } from "../defaults.js";
import type { Problems } from "../errors.js";
import { type Cidr, formatCidr, formatIp, lastAddress, parseCidr, parseIp, size } from "../ip.js";
import type { HostKind, HostPlan, NetworkPlan, WorkloadPlan } from "../types.js";
import { CONTAINER_RE, imageRef, K, list, netnsBusybox, section, str, usableHosts } from "./fields.js";

export interface WorkloadContext {
  hostKind: HostKind;
  /** lab:images.workload: the image of every workload without one of its own. */
  defaultImage: string;
  hosts: HostPlan[];
  networks: NetworkPlan[];
  /** Network (or network@host for macvlan) -> the next address offset to try. */
  nextIp: Map<string, number>;
}

export function readWorkloads(
  p: Problems,
  value: unknown,
  hostKind: HostKind,
  hosts: HostPlan[],
  networks: NetworkPlan[],
  defaultImage: string,
): WorkloadPlan[] {
  const names = new Set<string>();
  const ctx: WorkloadContext = { hostKind, defaultImage, hosts, networks, nextIp: new Map() };
  return list<WorkloadInput>(p, "workloads", value, DEFAULTS.workloads).map((wRaw, i) => readWorkload(p, wRaw, i, ctx, names));
}

export function readWorkload(p: Problems, wRaw: unknown, i: number, ctx: WorkloadContext, names: Set<string>): WorkloadPlan {
  const key = `workloads[${i}]`;
  const w = section<WorkloadInput>(p, key, wRaw, WORKLOAD_KEYS);
  const name = str(p, `${key}.name`, w.name, CONTAINER_RE, `c${i + 1}`, "a container name");
  if (w.name === undefined) p.add(K(`${key}.name`), undefined, "every workload needs a name", "add name: test1 (or similar)");
  else if (names.has(name))
    p.add(K(`${key}.name`), name, "duplicate container name", "give every container a unique name (embedded DNS resolves by name)");
  names.add(name);
  const host = typeof w.host === "string" ? w.host : "";
  if (!ctx.hosts.some((h) => h.name === host)) {
    const hostNames = [...new Set(ctx.hosts.map((h) => h.name))];
    p.add(K(`${key}.host`), w.host, "unknown host", `use one of ${hostNames.join(", ") || "(no valid hosts)"}`);
  }
  const wantNets = list<string>(p, `${key}.networks`, w.networks, []);
  if (wantNets.length === 0)
    p.add(K(`${key}.networks`), w.networks, "a workload needs at least one network", "list the networks it attaches to, e.g. [ov_net1]");
  const aliases = list<string>(p, `${key}.aliases`, w.aliases, []).filter((a) => typeof a === "string");
  const attachments = attach(p, key, wantNets, host, aliases, ctx);
  const image = imageRef(p, `${key}.image`, w.image, ctx.defaultImage);
  if (ctx.hostKind === "netns") netnsBusybox(p, `${key}.image`, w.image);
  return {
    name,
    hostname: typeof w.hostname === "string" ? w.hostname : name,
    host,
    image,
    attachments,
  };
}

/** One attachment per named network, each with the next static address of that network (on that host, for macvlan). */
export function attach(
  p: Problems,
  key: string,
  wantNets: string[],
  host: string,
  aliases: string[],
  ctx: WorkloadContext,
): WorkloadPlan["attachments"] {
  const attachments: WorkloadPlan["attachments"] = [];
  wantNets.forEach((netName, j) => {
    const net = ctx.networks.find((nn) => nn.name === netName);
    if (!net) {
      p.add(
        K(`${key}.networks[${j}]`),
        netName,
        "unknown network",
        `use one of ${ctx.networks.map((nn) => nn.name).join(", ") || "(no valid networks)"}`,
      );
      return;
    }
    attachments.push({ network: net.name, ipv4: allocate(p, key, net, host, ctx.nextIp), aliases });
  });
  return attachments;
}

/** Static addresses: overlay from the subnet after the gateway; macvlan from the host's own range. */
export function allocate(p: Problems, key: string, net: NetworkPlan, host: string, next: Map<string, number>): string {
  const subnet = parseCidr(net.subnet);
  if (!subnet) return "";
  const gw = parseIp(net.gateway);
  let block: Cidr = subnet;
  let slot = net.name;
  // swarm: static addresses stay below swarm's own range (the upper half).
  const swarmRange = net.driver === "overlay" && net.ipRange ? parseCidr(net.ipRange) : undefined;
  if (swarmRange) block = { base: subnet.base, prefix: subnet.prefix + 1 };
  if (net.driver === "macvlan") {
    const r = net.ranges.find((x) => x.host === host);
    const c = r ? parseCidr(r.ipRange) : undefined;
    if (!c) return "";
    block = c;
    slot = `${net.name}@${host}`;
  }
  let offset = next.get(slot) ?? 0;
  for (;;) {
    const ip = block.base + offset;
    offset++;
    if (ip > lastAddress(block) || offset > size(block)) {
      const holds =
        net.driver === "macvlan"
          ? `${host}'s range ${formatCidr(block)}`
          : swarmRange
            ? `the static half ${formatCidr(block)} of ${net.subnet} (swarm allocates from ${net.ipRange})`
            : `subnet ${net.subnet}`;
      p.add(
        K(`${key}.networks`),
        net.name,
        `more containers than ${holds} holds (${usableHosts(block)} addresses)`,
        "use a larger subnet/range or fewer containers",
      );
      next.set(slot, offset);
      return "";
    }
    // Skip the network and broadcast addresses and the gateway.
    if (ip === subnet.base || ip === lastAddress(subnet) || ip === gw) continue;
    next.set(slot, offset);
    return formatIp(ip);
  }
}

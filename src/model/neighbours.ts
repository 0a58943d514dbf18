// How many neighbour (ARP) entries a lab makes its kernel hold, and the table size that fits them.
//
// Linux keeps IPv4 neighbours in one table per kernel, shared by every network namespace, and refuses
// new entries above net.ipv4.neigh.default.gc_thresh3 (1024 by default): "neighbour: arp_cache:
// neighbor table overflow!", and the packet that needed the entry is dropped. Every container that
// talks to every other container of its network holds an entry per peer, so the need grows with the
// square of the containers: a 50-container overlay on one machine needs about 2,700 entries, and its
// full verification lost hundreds of pings to the overflow (bench/results.md). netns and dind hosts
// all run on one kernel; an ssh host's kernel holds only its own containers' entries.
import type { LabPlan } from "./types.js";

/** The table size the kernel ships with (gc_thresh3), which a machine's own neighbours fit in. */
export const KERNEL_DEFAULT_GC_THRESH3 = 1024;

export interface NeighbourNeed {
  /** "machine": one kernel for every host (netns, dind); otherwise the ssh host's name. */
  scope: string;
  hosts: string[];
  /** Entries the lab adds when every container has talked to every peer of its networks. */
  entries: number;
  /**
   * The gc_thresh3 that fits them beside the machine's own neighbours (the default 1024 of room),
   * rounded up to a multiple of 1024. A kernel whose gc_thresh3 is lower drops the lab's packets.
   */
  gcThresh3: number;
}

const roundUp1024 = (n: number): number => Math.ceil(n / 1024) * 1024;

/**
 * Per network with A containers over h hosts: A(A-1) entries in the containers (each peer), h*A in
 * the hosts' overlay sandboxes (Docker's static entry for every peer behind the VXLAN device); per
 * container 2 more (its gateway and the host's entry for it on docker_gwbridge or the bridge); per
 * host the underlay's neighbours (the other hosts, the gateway, the KV store).
 */
function entriesOn(plan: LabPlan, hosts: ReadonlySet<string>): number {
  let entries = 0;
  for (const n of plan.networks) {
    const attached = plan.workloads.filter((w) => w.attachments.some((a) => a.network === n.name));
    const local = attached.filter((w) => hosts.has(w.host)).length;
    if (local === 0) continue;
    const sandboxes = new Set(attached.map((w) => w.host)).size;
    entries += local * (attached.length - 1);
    if (n.driver === "overlay") entries += Math.min(sandboxes, hosts.size) * attached.length;
  }
  entries += 2 * plan.workloads.filter((w) => hosts.has(w.host)).length;
  entries += hosts.size * (plan.hosts.length + 2);
  return entries;
}

/** The lab's neighbour entries per kernel: one need for netns and dind, one per ssh host. */
export function neighbourNeeds(plan: LabPlan): NeighbourNeed[] {
  const need = (scope: string, hosts: string[]): NeighbourNeed => {
    const entries = entriesOn(plan, new Set(hosts));
    return { scope, hosts, entries, gcThresh3: roundUp1024(entries + KERNEL_DEFAULT_GC_THRESH3) };
  };
  if (plan.hostKind === "ssh") return plan.hosts.map((h) => need(h.name, [h.name]));
  return [
    need(
      "machine",
      plan.hosts.map((h) => h.name),
    ),
  ];
}

/** The largest need: what one machine running the whole lab must fit. */
export function machineNeighbourNeed(plan: LabPlan): NeighbourNeed {
  return neighbourNeeds(plan).reduce((a, b) => (b.gcThresh3 > a.gcThresh3 ? b : a));
}

/** The sysctl line that fits `gcThresh3` (gc_thresh2 at half: the size above which the kernel starts collecting). */
export function neighbourSysctl(gcThresh3: number): string {
  return `sysctl -w net.ipv4.neigh.default.gc_thresh3=${gcThresh3} net.ipv4.neigh.default.gc_thresh2=${gcThresh3 / 2}`;
}

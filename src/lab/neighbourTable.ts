// The kernel's neighbour (ARP) table seen from this machine: its size limit and how full it is, and
// whether a lab's containers fit in what is left (src/model/neighbours.ts counts what they need).
// netns labs size the table themselves (scripts/netns/neigh-table.sh, as root); a dind lab only needs
// the docker group, so when its engine's kernel (this machine's, for a local socket) is too small the
// preflight refuses with the sysctl that fixes it, instead of a verification full of lost pings.
import { readFileSync } from "node:fs";
import { type LabPlan, machineNeighbourNeed, neighbourSysctl } from "../model/index.js";

export interface NeighbourTable {
  /** net.ipv4.neigh.default.gc_thresh3: no new entry beyond it. */
  gcThresh3: number;
  /** Entries the table holds now, every namespace together (/proc/net/stat/arp_cache). */
  entries: number;
}

/** The table of the kernel this process runs on; undefined outside the machine's first namespace or off Linux. */
export function readNeighbourTable(proc = "/proc"): NeighbourTable | undefined {
  try {
    const gcThresh3 = Number(readFileSync(`${proc}/sys/net/ipv4/neigh/default/gc_thresh3`, "utf8").trim());
    const row = readFileSync(`${proc}/net/stat/arp_cache`, "utf8").split("\n")[1]?.trim().split(/\s+/)[0];
    const entries = row === undefined ? NaN : parseInt(row, 16);
    return Number.isInteger(gcThresh3) && Number.isInteger(entries) ? { gcThresh3, entries } : undefined;
  } catch {
    return undefined;
  }
}

/** Why the lab's containers do not fit in the table (with the fix), or undefined when they do. */
export function neighbourTableProblem(plan: LabPlan, table: NeighbourTable, where: string): string | undefined {
  const need = machineNeighbourNeed(plan);
  if (table.entries + need.entries <= table.gcThresh3) return undefined;
  return (
    `the kernel's neighbour (ARP) table ${where} holds at most ${table.gcThresh3} entries (net.ipv4.neigh.default.gc_thresh3) and has ${table.entries}; ` +
    `this lab's ${plan.workloads.length} containers add about ${need.entries} when they talk to their networks' peers, and past the limit the kernel drops ` +
    `their packets ("neighbor table overflow"). Fix: as root on that machine, ${neighbourSysctl(need.gcThresh3)}; or fewer containers per network`
  );
}

// The lab configurations the benchmark measures. Every config is an ordinary LabConfigInput that
// buildPlan validates like any user's config (and the stack reads as Pulumi.<stack>.yaml).
import { checkCount, type LabConfigInput, type LabPlan } from "../src/model/index.js";

/** Underlay address of host i (0-based) inside 198.18.0.0/20: 198.18.1.1, 198.18.1.2, ... */
export function hostAddress(i: number): string {
  const n = 256 + 1 + i; // offset from 198.18.0.0
  return `198.18.${Math.floor(n / 256)}.${n % 256}`;
}

/**
 * (a) the engine lab: N netns hosts, etcd as the KV store (the netns default), one classic overlay,
 * one busybox per host (c<i> on host<i>); what `npm run up` and the baseline script both bring up and
 * verify. The default /24 underlay holds these host counts.
 */
export function bringupConfig(lab: string, hosts: number): LabConfigInput {
  return {
    name: lab,
    hostKind: "netns",
    overlayMode: "kv",
    kv: { kind: "etcd" },
    hosts: Array.from({ length: hosts }, (_, i) => ({ name: `host${i + 1}`, address: `198.18.0.${11 + i}` })),
    networks: [{ name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" }],
    workloads: Array.from({ length: hosts }, (_, i) => ({ name: `c${i + 1}`, host: `host${i + 1}`, networks: ["ov_net1"] })),
  };
}

/** (b) verification: 2 netns hosts, etcd, one overlay, `containers` busyboxes alternating between the hosts. */
export function verifyConfig(lab: string, containers: number): LabConfigInput {
  return {
    name: lab,
    hostKind: "netns",
    overlayMode: "kv",
    kv: { kind: "etcd" },
    hosts: [
      { name: "host1", address: "198.18.0.11" },
      { name: "host2", address: "198.18.0.12" },
    ],
    networks: [{ name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" }],
    workloads: Array.from({ length: containers }, (_, i) => ({ name: `c${i + 1}`, host: `host${(i % 2) + 1}`, networks: ["ov_net1"] })),
  };
}

/**
 * (c) the plan at scale: dind hosts, classic overlay, Consul (the dev stack's kind), `containers`
 * busyboxes on the overlay round-robin over `hosts`, plus one macvlan container on the first host (the
 * article's test3). Address plan inside 198.18.0.0/15 that holds 200 hosts and 1000 containers:
 *   underlay 198.18.0.0/20 (hosts from 198.18.1.1), macvlan on the underlay with the pool
 *   198.18.8.0/21 split into one range per host, overlay 198.18.16.0/20 (4094 addresses),
 *   default-address-pool 198.18.64.0/18, and one /24 bridge per host from 198.19.0.0/16.
 */
export function planConfig(hosts: number, containers: number): LabConfigInput {
  return {
    name: "bench",
    hostKind: "dind",
    overlayMode: "kv",
    underlay: { subnet: "198.18.0.0/20" },
    bridge: { bipBase: "198.19.0.0/16", addressPool: "198.18.64.0/18", poolSize: 24 },
    hosts: Array.from({ length: hosts }, (_, i) => ({ name: `h${i + 1}`, address: hostAddress(i) })),
    networks: [
      { name: "ov_net1", driver: "overlay", subnet: "198.18.16.0/20" },
      { name: "mv_net1", driver: "macvlan", subnet: "198.18.0.0/20", ipRangePool: "198.18.8.0/21" },
    ],
    workloads: [
      ...Array.from({ length: containers }, (_, i) => ({ name: `c${i + 1}`, host: `h${(i % hosts) + 1}`, networks: ["ov_net1"] })),
      { name: "mv1", host: "h1", networks: ["mv_net1"] },
    ],
  };
}

export interface PlanCase {
  hosts: number;
  containers: number;
}

/** The target size (1000 containers on 10 hosts) and a smaller one on the way, for the growth. */
export const PLAN_CASES: readonly PlanCase[] = [
  { hosts: 10, containers: 200 },
  { hosts: 10, containers: 1000 },
];

/** The number of checks in a plan (its pairwise groups counted out, as the verifier runs them). */
export function planCheckCount(plan: LabPlan): number {
  return checkCount(plan.checks);
}

// The lab configurations the benchmark measures, and the verification subset it runs. Every config is
// an ordinary LabConfigInput that buildPlan validates like any user's config.
import { type CheckPlan, expandChecks, type LabConfigInput, type LabPlan } from "../src/model/index.js";

/** Underlay address of host i (0-based) inside 198.18.0.0/20: 198.18.1.1, 198.18.1.2, ... */
export function hostAddress(i: number): string {
  const n = 256 + 1 + i; // offset from 198.18.0.0
  return `198.18.${Math.floor(n / 256)}.${n % 256}`;
}

/**
 * (a) bring-up: N netns hosts, etcd as the KV store, one classic overlay, one busybox per host
 * (c<i> on host<i>). The default /24 underlay holds these host counts.
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

const PAIR = /^(ping-name|dns|ping-ip):(.+)->(.+)@(.+)$/;

/**
 * The plan's checks with the pairwise ones thinned to a ring: container i probes only container i+1
 * (the next one, on the other host), by name, by DNS and by IP. Everything per container (gwbridge
 * route, external, CNM) and per host (VXLAN) stays. The full plan has 3 probes per cross-host pair,
 * which grows with the square of the container count (3750 for 50 containers on 2 hosts); the ring
 * keeps 6 per container plus 1 per host, so the wall time measures concurrency, not a quadratic list.
 */
export function ringChecks(plan: LabPlan): CheckPlan[] {
  const names = plan.workloads.map((w) => w.name);
  const next = new Map(names.map((n, i) => [n, names[(i + 1) % names.length]!]));
  return expandChecks(plan.checks).filter((c) => {
    const m = PAIR.exec(c.id);
    if (!m) return true;
    return next.get(m[2]!) === m[3];
  });
}

export interface EvalCase {
  id: string;
  hosts: number;
  containers: number;
  /** Whether the plan's checks go to the Verification step (the whole plan, as JSON, in its environment). */
  verification: boolean;
  /**
   * false: run with Node's source maps off. tsx turns them on, and the Pulumi SDK captures a stack trace
   * for every promise and resource it creates; this case shows what that costs.
   */
  sourceMaps?: boolean;
}

/**
 * (d) program evaluation under mocks: the dev stack's kind (dind, classic overlay, Consul) scaled up.
 * Address plan inside 198.18.0.0/15 that holds 200 hosts and 1000 containers:
 *   underlay 198.18.0.0/20 (hosts from 198.18.1.1), macvlan on the underlay with the pool
 *   198.18.8.0/21 split into one range per host (8 addresses each at 200 hosts), overlay
 *   198.18.16.0/20 (4094 addresses), default-address-pool 198.18.64.0/18, and one /24 bridge per host
 *   from 198.19.0.0/16 (256 hosts at most).
 * Workloads: `containers` busyboxes on the overlay, round-robin over the hosts, plus one macvlan
 * container on the first host (the article's test3).
 */
export function evalConfig(c: EvalCase): LabConfigInput {
  return {
    name: "bench",
    hostKind: "dind",
    overlayMode: "kv",
    underlay: { subnet: "198.18.0.0/20" },
    bridge: { bipBase: "198.19.0.0/16", addressPool: "198.18.64.0/18", poolSize: 24 },
    hosts: Array.from({ length: c.hosts }, (_, i) => ({ name: `h${i + 1}`, address: hostAddress(i) })),
    networks: [
      { name: "ov_net1", driver: "overlay", subnet: "198.18.16.0/20" },
      { name: "mv_net1", driver: "macvlan", subnet: "198.18.0.0/20", ipRangePool: "198.18.8.0/21" },
    ],
    workloads: [
      ...Array.from({ length: c.containers }, (_, i) => ({ name: `c${i + 1}`, host: `h${(i % c.hosts) + 1}`, networks: ["ov_net1"] })),
      { name: "mv1", host: "h1", networks: ["mv_net1"] },
    ],
    verification: { enabled: c.verification },
  };
}

export const EVAL_HOST_COUNTS = [2, 10, 50, 100, 200] as const;

export function evalCases(): EvalCase[] {
  return [
    ...EVAL_HOST_COUNTS.map((h) => ({ id: `${h}-hosts`, hosts: h, containers: h, verification: true })),
    { id: "100-hosts-nosourcemaps", hosts: 100, containers: 100, verification: true, sourceMaps: false },
    // With and without the Verification step (which receives the plan): the plan holds 2.7 million checks.
    { id: "1000-containers-noverify", hosts: 10, containers: 1000, verification: false },
    { id: "1000-containers", hosts: 10, containers: 1000, verification: true },
  ];
}

// The checks the verifier runs, derived from the plan: what the lab must prove after every apply.
// Pairwise checks stay grouped (sources x targets x probes per network and host): their number grows
// with the square of the containers, the groups only linearly.
import type { CheckPlan, LabChecks, LabPlan, NetworkPlan, PairCheckGroup, PairProbe, WorkloadPlan } from "./types.js";

interface Member {
  w: WorkloadPlan;
  ip: string;
}

function members(plan: LabPlan, net: NetworkPlan): Member[] {
  const out: Member[] = [];
  for (const w of plan.workloads) {
    const a = w.attachments.find((x) => x.network === net.name);
    if (a) out.push({ w, ip: a.ipv4 });
  }
  return out;
}

/** The id of one pairwise check, e.g. ping-name:test1->test2@ov_net1. */
export function pairCheckId(probe: PairProbe, from: string, target: string, network: string): string {
  return `${probe}:${from}->${target}@${network}`;
}

/** One check of a group: the source `from` probing `target` with `probe`. */
export function pairCheck(
  g: PairCheckGroup,
  from: string,
  target: { name: string; ip: string },
  p: PairCheckGroup["probes"][number],
): CheckPlan {
  const base = {
    id: pairCheckId(p.probe, from, target.name, g.network),
    from,
    host: g.host,
    network: g.network,
    expect: "pass" as const,
    reason: p.reason,
  };
  switch (p.probe) {
    case "ping-name":
      return { ...base, kind: "ping", target: target.name, expectedIp: target.ip };
    case "dns":
      return { ...base, kind: "dns", target: target.name, expectedIp: target.ip };
    case "ping-ip":
      return { ...base, kind: "ping", target: target.ip };
  }
}

/** Every check of a group, source by source. */
export function* groupChecks(g: PairCheckGroup): Generator<CheckPlan> {
  for (const from of g.sources) for (const t of g.targets) for (const p of g.probes) yield pairCheck(g, from, t, p);
}

/** Every check of the plan, pairwise groups first: the order reports list them in. */
export function* eachCheck(checks: LabChecks): Generator<CheckPlan> {
  for (const g of checks.pairs) yield* groupChecks(g);
  yield* checks.single;
}

/** eachCheck as a list: only where individual checks are really needed (it grows with the pairs). */
export function expandChecks(checks: LabChecks): CheckPlan[] {
  return [...eachCheck(checks)];
}

export function checkCount(checks: LabChecks): number {
  let n = checks.single.length;
  for (const g of checks.pairs) n += g.sources.length * g.targets.length * g.probes.length;
  return n;
}

export function planChecks(plan: LabPlan): LabChecks {
  const checks: CheckPlan[] = [];
  const pairs: PairCheckGroup[] = [];
  const hostAddress = new Map(plan.hosts.map((h) => [h.name, h.address]));
  const driverOf = new Map(plan.networks.map((n) => [n.name, n.driver]));
  for (const net of plan.networks) {
    const m = members(plan, net);
    // Every container probes every container on the other hosts: one group per source host.
    const probes: PairCheckGroup["probes"] = [
      ...(net.driver === "overlay"
        ? [
            { probe: "ping-name" as const, reason: "cross-host overlay (VXLAN), by name" },
            { probe: "dns" as const, reason: "embedded DNS resolves the name to the overlay IP" },
          ]
        : []),
      { probe: "ping-ip", reason: `cross-host ${net.driver}, by IP` },
    ];
    for (const h of plan.hosts) {
      const sources = m.filter((x) => x.w.host === h.name).map((x) => x.w.name);
      const targets = m.filter((x) => x.w.host !== h.name).map((x) => ({ name: x.w.name, ip: x.ip }));
      if (sources.length && targets.length) pairs.push({ network: net.name, host: h.name, sources, targets, probes });
    }
    // Network aliases resolve through the embedded DNS like names. An overlay's names are known on every
    // host; a macvlan network is local to each host, so there its aliases resolve only on the same host.
    for (const b of m) {
      const aliases = b.w.attachments.find((x) => x.network === net.name)?.aliases ?? [];
      for (const alias of aliases) {
        for (const a of m) {
          if (a === b || (net.driver === "overlay") !== (a.w.host !== b.w.host)) continue;
          const where = net.driver === "overlay" ? "from another host" : "from the same host (macvlan is local to each host)";
          checks.push({
            id: `dns-alias:${a.w.name}->${alias}=${b.w.name}@${net.name}`,
            kind: "dns",
            from: a.w.name,
            host: a.w.host,
            network: net.name,
            target: alias,
            expectedIp: b.ip,
            expect: "pass",
            reason: `the alias ${alias} of ${b.w.name} resolves ${where}`,
          });
        }
      }
    }
    if (net.driver === "overlay") {
      // Docker adds docker_gwbridge (and routes through it) only to a container none of whose networks
      // has a gateway of its own: on an overlay and a macvlan, the default route is the macvlan's.
      const onlyOverlays = (w: WorkloadPlan): boolean => w.attachments.every((at) => driverOf.get(at.network) === "overlay");
      for (const a of m.filter((x) => onlyOverlays(x.w))) {
        const base = { from: a.w.name, host: a.w.host, network: net.name, expect: "pass" as const };
        checks.push({
          ...base,
          id: `gwbridge-route:${a.w.name}@${net.name}`,
          kind: "gwbridge-route",
          target: "docker_gwbridge",
          reason: "an overlay container's default route leaves through docker_gwbridge",
        });
        if (plan.verification.externalTarget) {
          checks.push({
            ...base,
            id: `external:${a.w.name}->${plan.verification.externalTarget}`,
            kind: "external",
            target: plan.verification.externalTarget,
            reason: "outside reachable through docker_gwbridge (NAT on the host)",
          });
        }
      }
      // The VXLAN device exists only on hosts with a container on the network, and only carries
      // traffic when a peer sits on another host.
      const hostsOn = [...new Set(m.map((x) => x.w.host))];
      if (hostsOn.length > 1) {
        for (const h of hostsOn) {
          checks.push({
            id: `vxlan:${h}@${net.name}`,
            kind: "vxlan",
            from: h,
            host: h,
            target: net.name,
            network: net.name,
            expect: "pass",
            reason: "the overlay's VXLAN device (VNI) carries the cross-host traffic",
          });
        }
      }
    } else {
      // Macvlan children sit on the underlay's segment: other hosts reach them, their own host does not.
      const onUnderlay = net.vlan === undefined && net.subnet === plan.underlay.subnet;
      for (const a of m) {
        if (!onUnderlay) continue;
        for (const h of plan.hosts) {
          const own = h.name === a.w.host;
          checks.push({
            id: `host-ping:${h.name}->${a.w.name}@${net.name}`,
            kind: "host-ping",
            from: h.name,
            host: h.name,
            target: a.ip,
            network: net.name,
            expect: own ? "fail" : "pass",
            reason: own
              ? "a host cannot reach its own macvlan children through the parent interface (expected)"
              : "macvlan children are reachable from other hosts on the segment",
          });
          if (!own) {
            checks.push({
              id: `ping-ip:${a.w.name}->${h.name}@${net.name}`,
              kind: "ping",
              from: a.w.name,
              host: a.w.host,
              target: hostAddress.get(h.name)!,
              network: net.name,
              expect: "pass",
              reason: "a macvlan child reaches other hosts directly on the segment",
            });
          }
        }
      }
    }
  }
  checks.push(...daemonChecks(plan));
  for (const w of plan.workloads) {
    checks.push({
      id: `cnm:${w.name}`,
      kind: "cnm",
      from: w.name,
      host: w.host,
      target: w.name,
      expect: "pass",
      reason: "sandbox, endpoints and networks as the CNM describes them",
    });
  }
  return { pairs, single: checks };
}

/** The id of a host's daemon-netns check. */
export const daemonCheckId = (host: string): string => `daemon-netns:${host}`;

/**
 * Docker 20.10's classic (KV) overlay driver can leave an OS thread of dockerd in the network namespace
 * of a deleted overlay (moby/libnetwork#1838: watchMiss unlocks its thread there); every dial, fork and
 * /proc/sys read the Go scheduler later puts on that thread fails ("connect: network is unreachable" to
 * the KV store and the gossip peers). The project's dockerd carries a fix; Debian's, the official dind
 * images' and a real machine's do not. So every daemon of a kv-mode lab with an overlay is checked on
 * its own: one failure naming the daemon, its cause and the fix, instead of a wall of DNS and ping
 * failures (the verifier counts the failing checks that involve that host as blocked by it).
 * Swarm mode does not run watchMiss (no serf): nothing to check there.
 */
export function daemonChecks(plan: LabPlan): CheckPlan[] {
  if (plan.overlayMode !== "kv" || !plan.networks.some((n) => n.driver === "overlay")) return [];
  return plan.hosts.map((h) => ({
    id: daemonCheckId(h.name),
    kind: "daemon-netns" as const,
    from: h.name,
    host: h.name,
    target: "dockerd",
    expect: "pass" as const,
    reason: "no dockerd thread is left in a deleted network namespace (Docker 20.10 classic overlay defect, moby/libnetwork#1838)",
  }));
}

// The checks the verifier runs, derived from the plan: what the lab must prove after every apply.
// Pairwise checks stay grouped (sources x targets x probes per network and host): their number grows
// with the square of the containers, the groups only linearly. The plan's faults (lab:faults) set what
// each check expects (faults.ts says how) and add the probes that show a fault's effect: DF probes of
// the overlay's full size across a smaller MTU, loss and RTT measured through a lossy or slow host.
// The user's own expectations (lab:expect) come last, one check each.
import {
  crossHostEffect,
  describeFault,
  effectReason,
  type FaultEffect,
  faultLabel,
  ICMP_OVERHEAD,
  judgedLoss,
  labels,
  localEffect,
  LOSS_PINGS,
  lossAttempts,
  outboundEffect,
  overlayMtu,
  RTT_PINGS,
  underlayEffect,
  VXLAN_OVERHEAD,
  vxlanEffect,
} from "./faults.js";
import { measureCount } from "./planning/expectations.js";
import type {
  CheckPlan,
  ExpectationPlan,
  LabChecks,
  LabPlan,
  MacvlanNetworkPlan,
  NetworkPlan,
  PairCheckGroup,
  PairProbe,
  WorkloadPlan,
} from "./types.js";

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
    expect: p.expect ?? "pass",
    reason: p.reason,
    ...(p.faults ? { faults: p.faults } : {}),
    ...(p.attempts !== undefined ? { attempts: p.attempts } : {}),
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

/** Every check of the plan, pairwise groups first, the user's expectations last: the order reports list them in. */
export function* eachCheck(checks: LabChecks): Generator<CheckPlan> {
  for (const g of checks.pairs) yield* groupChecks(g);
  yield* checks.single;
  yield* checks.expectations ?? [];
}

/** eachCheck as a list: only where individual checks are really needed (it grows with the pairs). */
export function expandChecks(checks: LabChecks): CheckPlan[] {
  return [...eachCheck(checks)];
}

export function checkCount(checks: LabChecks): number {
  let n = checks.single.length + (checks.expectations?.length ?? 0);
  for (const g of checks.pairs) n += g.sources.length * g.targets.length * g.probes.length;
  return n;
}

/** A check's expectation and reason under the faults: `base` when none decides it. */
function withEffect<T extends { expect: CheckPlan["expect"]; reason: string }>(
  plan: LabPlan,
  base: T,
  e: FaultEffect,
): T & { faults?: string[]; attempts?: number } {
  // A check the plan itself expects to fail (a host and its own macvlan child) keeps that, unless it cannot even run.
  if (base.expect !== "pass" && e.expect !== "no-run") return base;
  if (e.faults.length === 0 && e.attempts === undefined) return base;
  return {
    ...base,
    expect: e.expect,
    reason: effectReason(e, plan),
    faults: labels(e.faults.length ? e.faults : (e.lossy ?? [])),
    ...(e.attempts !== undefined ? { attempts: e.attempts } : {}),
  };
}

/**
 * The pairwise probes of one network from one host, split by what the faults do to them: targets on
 * hosts no fault touches stay in one group (expected to pass), the others get groups of their own.
 */
function pairGroups(
  plan: LabPlan,
  net: NetworkPlan,
  host: string,
  sources: string[],
  targets: (PairCheckGroup["targets"][number] & { host: string })[],
  probes: PairCheckGroup["probes"],
): PairCheckGroup[] {
  const byEffect = new Map<string, PairCheckGroup>();
  for (const t of targets) {
    const ps = probes.map((p) => {
      const e = crossHostEffect(plan, p.probe === "dns" ? "dns" : "ping", net.driver, host, t.host);
      return withEffect(plan, { ...p, expect: "pass" as const }, e);
    });
    const key = JSON.stringify(ps.map((p) => [p.expect, p.faults, p.attempts]));
    let g = byEffect.get(key);
    if (!g) {
      // Unaffected probes keep their plain form (no expect/faults fields): what a lab without faults always had.
      g = { network: net.name, host, sources, targets: [], probes: ps.map((p) => (p.faults ? p : { probe: p.probe, reason: p.reason })) };
      byEffect.set(key, g);
    }
    g.targets.push({ name: t.name, ip: t.ip });
  }
  return [...byEffect.values()];
}

export function planChecks(plan: LabPlan): LabChecks {
  const checks: CheckPlan[] = [];
  const pairs: PairCheckGroup[] = [];
  for (const net of plan.networks) {
    const m = members(plan, net);
    pairs.push(...pairChecks(plan, net, m));
    checks.push(...aliasChecks(plan, net, m));
    checks.push(...(net.driver === "overlay" ? overlayChecks(plan, net, m) : macvlanChecks(plan, net, m)));
  }
  checks.push(...daemonChecks(plan));
  for (const w of plan.workloads) {
    checks.push(
      withEffect(
        plan,
        {
          id: `cnm:${w.name}`,
          kind: "cnm",
          from: w.name,
          host: w.host,
          target: w.name,
          expect: "pass",
          reason: "sandbox, endpoints and networks as the CNM describes them",
        },
        localEffect(plan, w.host),
      ),
    );
  }
  return { pairs, single: checks, expectations: (plan.expectations ?? []).map((e) => expectationCheck(plan, e)) };
}

type Members = ReturnType<typeof members>;

/** Every container probes every container on the other hosts: one group per source host (and per fault effect on the target hosts). */
function pairChecks(plan: LabPlan, net: NetworkPlan, m: Members): PairCheckGroup[] {
  const probes: PairCheckGroup["probes"] = [
    ...(net.driver === "overlay"
      ? [
          { probe: "ping-name" as const, reason: "cross-host overlay (VXLAN), by name" },
          { probe: "dns" as const, reason: "embedded DNS resolves the name to the overlay IP" },
        ]
      : []),
    { probe: "ping-ip", reason: `cross-host ${net.driver}, by IP` },
  ];
  const pairs: PairCheckGroup[] = [];
  for (const h of plan.hosts) {
    const sources = m.filter((x) => x.w.host === h.name).map((x) => x.w.name);
    const targets = m.filter((x) => x.w.host !== h.name).map((x) => ({ name: x.w.name, ip: x.ip, host: x.w.host }));
    if (sources.length && targets.length) pairs.push(...pairGroups(plan, net, h.name, sources, targets, probes));
  }
  return pairs;
}

/**
 * Network aliases resolve through the embedded DNS like names. An overlay's names are known on every
 * host; a macvlan network is local to each host, so there its aliases resolve only on the same host.
 */
function aliasChecks(plan: LabPlan, net: NetworkPlan, m: Members): CheckPlan[] {
  const checks: CheckPlan[] = [];
  for (const b of m) {
    const aliases = b.w.attachments.find((x) => x.network === net.name)?.aliases ?? [];
    for (const alias of aliases) {
      for (const a of m) {
        if (a === b || (net.driver === "overlay") !== (a.w.host !== b.w.host)) continue;
        const where = net.driver === "overlay" ? "from another host" : "from the same host (macvlan is local to each host)";
        const e = net.driver === "overlay" ? crossHostEffect(plan, "dns", net.driver, a.w.host, b.w.host) : localEffect(plan, a.w.host);
        checks.push(
          withEffect(
            plan,
            {
              id: `dns-alias:${a.w.name}->${alias}=${b.w.name}@${net.name}`,
              kind: "dns",
              from: a.w.name,
              host: a.w.host,
              network: net.name,
              target: alias,
              expectedIp: b.ip,
              expect: "pass",
              reason: `the alias ${alias} of ${b.w.name} resolves ${where}`,
            },
            e,
          ),
        );
      }
    }
  }
  return checks;
}

/** An overlay's own checks: docker_gwbridge and the way out through it, the VXLAN device, the faults' probes. */
function overlayChecks(plan: LabPlan, net: NetworkPlan, m: Members): CheckPlan[] {
  const checks: CheckPlan[] = [];
  const driverOf = new Map(plan.networks.map((n) => [n.name, n.driver]));
  // Docker adds docker_gwbridge (and routes through it) only to a container none of whose networks
  // has a gateway of its own: on an overlay and a macvlan, the default route is the macvlan's.
  const onlyOverlays = (w: WorkloadPlan): boolean => w.attachments.every((at) => driverOf.get(at.network) === "overlay");
  for (const a of m.filter((x) => onlyOverlays(x.w))) {
    const base = { from: a.w.name, host: a.w.host, network: net.name, expect: "pass" as const };
    checks.push(
      withEffect(
        plan,
        {
          ...base,
          id: `gwbridge-route:${a.w.name}@${net.name}`,
          kind: "gwbridge-route",
          target: "docker_gwbridge",
          reason: "an overlay container's default route leaves through docker_gwbridge",
        },
        localEffect(plan, a.w.host),
      ),
    );
    if (plan.verification.externalTarget) {
      checks.push(
        withEffect(
          plan,
          {
            ...base,
            id: `external:${a.w.name}->${plan.verification.externalTarget}`,
            kind: "external",
            target: plan.verification.externalTarget,
            reason: "outside reachable through docker_gwbridge (NAT on the host)",
          },
          outboundEffect(plan, a.w.host),
        ),
      );
    }
  }
  // The VXLAN device exists only on hosts with a container on the network, and only carries
  // traffic when a peer sits on another host.
  const hostsOn = [...new Set(m.map((x) => x.w.host))];
  if (hostsOn.length > 1) {
    for (const h of hostsOn) {
      checks.push(
        withEffect(
          plan,
          {
            id: `vxlan:${h}@${net.name}`,
            kind: "vxlan",
            from: h,
            host: h,
            target: net.name,
            network: net.name,
            expect: "pass",
            reason: "the overlay's VXLAN device (VNI) carries the cross-host traffic",
          },
          vxlanEffect(
            plan,
            h,
            hostsOn.filter((x) => x !== h),
          ),
        ),
      );
    }
  }
  checks.push(...faultProbes(plan, net, m));
  return checks;
}

/** Macvlan children sit on the underlay's segment: other hosts reach them, their own host does not. */
function macvlanChecks(plan: LabPlan, net: MacvlanNetworkPlan, m: Members): CheckPlan[] {
  const checks: CheckPlan[] = [];
  if (net.vlan !== undefined || net.subnet !== plan.underlay.subnet) return checks;
  const hostAddress = new Map(plan.hosts.map((h) => [h.name, h.address]));
  for (const a of m) {
    for (const h of plan.hosts) {
      const own = h.name === a.w.host;
      const ping = {
        id: `host-ping:${h.name}->${a.w.name}@${net.name}`,
        kind: "host-ping" as const,
        from: h.name,
        host: h.name,
        target: a.ip,
        network: net.name,
        expect: own ? ("fail" as const) : ("pass" as const),
        reason: own
          ? "a host cannot reach its own macvlan children through the parent interface (expected)"
          : "macvlan children are reachable from other hosts on the segment",
      };
      // The own child is out of reach whatever else breaks; only a stopped daemon keeps the probe from running.
      checks.push(withEffect(plan, ping, own ? localEffect(plan, h.name) : underlayEffect(plan, h.name, a.w.host, "fails")));
      if (!own) {
        checks.push(
          withEffect(
            plan,
            {
              id: `ping-ip:${a.w.name}->${h.name}@${net.name}`,
              kind: "ping",
              from: a.w.name,
              host: a.w.host,
              target: hostAddress.get(h.name)!,
              network: net.name,
              expect: "pass",
              reason: "a macvlan child reaches other hosts directly on the segment",
            },
            // A host whose daemon is stopped still answers on its own network stack.
            underlayEffect(plan, a.w.host, h.name, "answers"),
          ),
        );
      }
    }
  }
  return checks;
}

/**
 * The probes that show a fault's effect on an overlay, between the first container on the faulted host
 * and the first on each other host (both ways): a smaller underlay MTU (a DF probe of the overlay's
 * full size fails, one that fits the underlay passes), loss (measured over 20 pings) and delay (the RTT,
 * median of 5 pings). A probe whose path another fault cuts is left out: it would measure that fault.
 */
function faultProbes(plan: LabPlan, net: NetworkPlan, m: Member[]): CheckPlan[] {
  const out: CheckPlan[] = [];
  const first = (host: string): Member | undefined => m.find((x) => x.w.host === host);
  const mtu = overlayMtu(net);
  for (const f of plan.faults ?? []) {
    const here = first(f.host);
    if (!here || f.kind === "down" || f.kind === "drop-vxlan" || f.kind === "stop-daemon") continue;
    const label = faultLabel(f);
    const peers = [...new Set(m.map((x) => x.w.host))].filter((h) => h !== f.host);
    for (const peer of peers) {
      const there = first(peer)!;
      for (const [a, b] of [
        [here, there],
        [there, here],
      ] as const) {
        const cut = crossHostEffect(plan, "ping", "overlay", a.w.host, b.w.host);
        if (cut.expect !== "pass") continue;
        const tries = cut.attempts !== undefined ? { attempts: cut.attempts } : {};
        const base = { from: a.w.name, host: a.w.host, network: net.name, target: b.ip, faults: [label] };
        const to = `${a.w.name}->${b.w.name}@${net.name}`;
        if (f.kind === "mtu" && f.mtu !== undefined && mtu + VXLAN_OVERHEAD > f.mtu) {
          const fits = f.mtu - VXLAN_OVERHEAD - ICMP_OVERHEAD;
          out.push({
            ...base,
            id: `mtu:${to}`,
            kind: "mtu",
            size: mtu - ICMP_OVERHEAD,
            expect: "fail",
            reason: `a DF packet of the overlay's full ${mtu} bytes (${mtu + VXLAN_OVERHEAD} with VXLAN) does not fit: ${describeFault(f, plan)}`,
          });
          out.push({
            ...base,
            id: `mtu-fit:${to}`,
            kind: "mtu",
            size: fits,
            expect: "pass",
            ...tries,
            reason: `a DF packet of ${fits + ICMP_OVERHEAD} bytes (${fits + ICMP_OVERHEAD + VXLAN_OVERHEAD} with VXLAN) fits the MTU ${f.mtu} of ${f.host}'s underlay (${label})`,
          });
        }
        if (f.kind === "loss" && f.lossPct !== undefined) {
          const judged = judgedLoss(f.lossPct);
          out.push({
            ...base,
            id: `loss:${to}`,
            kind: "ping",
            measure: { count: LOSS_PINGS, ...(judged ? { lossPct: { min: 100 / LOSS_PINGS } } : {}) },
            expect: "pass",
            reason: judged
              ? `${LOSS_PINGS} pings through ${f.host} lose some: ${describeFault(f, plan)}`
              : `the loss of ${LOSS_PINGS} pings through ${f.host}, reported (too small a share to judge from ${LOSS_PINGS}): ${describeFault(f, plan)}`,
          });
        }
        if (f.kind === "delay" && f.delayMs !== undefined) {
          const min = Math.max(0, f.delayMs - (f.jitterMs ?? 0));
          out.push({
            ...base,
            id: `rtt:${to}`,
            kind: "ping",
            measure: { count: RTT_PINGS, rttMs: { min } },
            expect: "pass",
            reason: `round trips through ${f.host} take at least ${min} ms: ${describeFault(f, plan)}`,
          });
        }
      }
    }
  }
  return out;
}

/**
 * One of lab:expect as a check: the probe as written, judged as written (faults do not change what it
 * expects). A ping expected to pass through a lossy host gets the tries the model's own checks get there.
 */
function expectationCheck(plan: LabPlan, e: ExpectationPlan): CheckPlan {
  const key = `lab:expect[${e.index}]`;
  const toHost =
    e.to.kind === "workload" ? plan.workloads.find((w) => w.name === e.to.name)?.host : e.to.kind === "host" ? e.to.name : undefined;
  const attempts =
    e.expect === "pass" && e.probe !== "dns" && !e.lossPct && !e.rttMs
      ? lossAttempts(plan, [e.host, ...(toHost ? [toHost] : [])])
      : undefined;
  const base = {
    id: `expect:${e.name}`,
    from: e.from,
    host: e.host,
    ...(e.network ? { network: e.network } : {}),
    expect: e.expect,
    reason: `as written in ${key}`,
    expectation: { name: e.name, key },
    ...(attempts !== undefined ? { attempts } : {}),
  };
  const target = e.to.ip ?? e.to.name;
  switch (e.probe) {
    case "dns":
      return { ...base, kind: "dns", target: e.to.name, ...(e.to.ip ? { expectedIp: e.to.ip } : {}) };
    case "mtu":
      return { ...base, kind: "mtu", target, size: e.size ?? "auto" };
    case "ping": {
      const measure =
        e.lossPct || e.rttMs
          ? { measure: { count: measureCount(e), ...(e.lossPct ? { lossPct: e.lossPct } : {}), ...(e.rttMs ? { rttMs: e.rttMs } : {}) } }
          : {};
      // A workload is pinged by name (its name must resolve); the answer must come from its address on the network given.
      if (e.to.kind === "workload") {
        return { ...base, kind: "ping", target: e.to.name, ...(e.network && e.to.ip ? { expectedIp: e.to.ip } : {}), ...measure };
      }
      return { ...base, kind: e.to.kind === "external" ? "external" : "ping", target, ...measure };
    }
  }
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
  // Its helper container runs on the host's daemon: a stopped daemon (lab:faults stop-daemon) means it cannot run.
  return plan.hosts.map((h) =>
    withEffect(
      plan,
      {
        id: daemonCheckId(h.name),
        kind: "daemon-netns" as const,
        from: h.name,
        host: h.name,
        target: "dockerd",
        expect: "pass" as const,
        reason: "no dockerd thread is left in a deleted network namespace (Docker 20.10 classic overlay defect, moby/libnetwork#1838)",
      },
      localEffect(plan, h.name),
    ),
  );
}

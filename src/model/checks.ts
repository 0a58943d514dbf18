// The checks the verifier runs, derived from the plan: what the lab must prove after every apply.
import type { CheckPlan, LabPlan, NetworkPlan, WorkloadPlan } from "./types.js";

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

export function planChecks(plan: LabPlan): CheckPlan[] {
  const checks: CheckPlan[] = [];
  const hostAddress = new Map(plan.hosts.map((h) => [h.name, h.address]));
  const driverOf = new Map(plan.networks.map((n) => [n.name, n.driver]));
  for (const net of plan.networks) {
    const m = members(plan, net);
    for (const a of m) {
      for (const b of m) {
        if (a.w.host === b.w.host) continue;
        const pair = `${a.w.name}->${b.w.name}@${net.name}`;
        const base = { from: a.w.name, host: a.w.host, network: net.name, expect: "pass" as const };
        if (net.driver === "overlay") {
          checks.push({ ...base, id: `ping-name:${pair}`, kind: "ping", target: b.w.name, expectedIp: b.ip, reason: "cross-host overlay (VXLAN), by name" });
          checks.push({ ...base, id: `dns:${pair}`, kind: "dns", target: b.w.name, expectedIp: b.ip, reason: "embedded DNS resolves the name to the overlay IP" });
        }
        checks.push({ ...base, id: `ping-ip:${pair}`, kind: "ping", target: b.ip, reason: `cross-host ${net.driver}, by IP` });
      }
    }
    // Network aliases resolve through the embedded DNS like names. An overlay's names are known on every
    // host; a macvlan network is local to each host, so there its aliases resolve only on the same host.
    for (const b of m) {
      const aliases = b.w.attachments.find((x) => x.network === net.name)?.aliases ?? [];
      for (const alias of aliases) {
        for (const a of m) {
          if (a === b || (net.driver === "overlay") !== (a.w.host !== b.w.host)) continue;
          const where = net.driver === "overlay" ? "from another host" : "from the same host (macvlan is local to each host)";
          checks.push({ id: `dns-alias:${a.w.name}->${alias}=${b.w.name}@${net.name}`, kind: "dns", from: a.w.name, host: a.w.host, network: net.name, target: alias, expectedIp: b.ip, expect: "pass", reason: `the alias ${alias} of ${b.w.name} resolves ${where}` });
        }
      }
    }
    if (net.driver === "overlay") {
      // Docker adds docker_gwbridge (and routes through it) only to a container none of whose networks
      // has a gateway of its own: on an overlay and a macvlan, the default route is the macvlan's.
      const onlyOverlays = (w: WorkloadPlan): boolean => w.attachments.every((at) => driverOf.get(at.network) === "overlay");
      for (const a of m.filter((x) => onlyOverlays(x.w))) {
        const base = { from: a.w.name, host: a.w.host, network: net.name, expect: "pass" as const };
        checks.push({ ...base, id: `gwbridge-route:${a.w.name}@${net.name}`, kind: "gwbridge-route", target: "docker_gwbridge", reason: "an overlay container's default route leaves through docker_gwbridge" });
        if (plan.verification.externalTarget) {
          checks.push({ ...base, id: `external:${a.w.name}->${plan.verification.externalTarget}`, kind: "external", target: plan.verification.externalTarget, reason: "outside reachable through docker_gwbridge (NAT on the host)" });
        }
      }
      // The VXLAN device exists only on hosts with a container on the network, and only carries
      // traffic when a peer sits on another host.
      const hostsOn = [...new Set(m.map((x) => x.w.host))];
      if (hostsOn.length > 1) {
        for (const h of hostsOn) {
          checks.push({ id: `vxlan:${h}@${net.name}`, kind: "vxlan", from: h, host: h, target: net.name, network: net.name, expect: "pass", reason: "the overlay's VXLAN device (VNI) carries the cross-host traffic" });
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
            checks.push({ id: `ping-ip:${a.w.name}->${h.name}@${net.name}`, kind: "ping", from: a.w.name, host: a.w.host, target: hostAddress.get(h.name)!, network: net.name, expect: "pass", reason: "a macvlan child reaches other hosts directly on the segment" });
          }
        }
      }
    }
  }
  for (const w of plan.workloads) {
    checks.push({ id: `cnm:${w.name}`, kind: "cnm", from: w.name, host: w.host, target: w.name, expect: "pass", reason: "sandbox, endpoints and networks as the CNM describes them" });
  }
  return checks;
}

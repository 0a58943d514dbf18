// The hops a probe crosses, from the lab plan alone (pure): which devices, in which namespaces, on which
// hosts, in the order the echo request meets them, and whether this machine can capture there.
import {
  describeFault,
  type HostPlan,
  KV_SWITCH_END,
  type LabPlan,
  type NetworkPlan,
  switchEndName,
  VXLAN_OVERHEAD,
  type WorkloadPlan,
} from "../model/index.js";
import type { CaptureAccess, CaptureFilter, NamespaceRef, PlannedHop, TraceKind, TracePlan } from "./types.js";

export class TraceInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TraceInputError";
  }
}

/** `<to>` for the external target (the plan's verification.externalTarget). */
export const EXTERNAL = "external";
export const DEFAULT_PROBES = 3;

export interface TraceRequest {
  from: string;
  to: string;
  network?: string;
  /** ICMP payload bytes; pick one no other traffic of the lab has (default 1234). */
  payloadBytes?: number;
  count?: number;
}

/** IP total length of a probe: ICMP payload + 8 (ICMP header) + 20 (IP header). */
export function probeIpLength(payloadBytes: number): number {
  return payloadBytes + 28;
}

/** Why a hop on this host cannot be captured from here (undefined: it can). */
export function hostCaptureAccess(h: Pick<HostPlan, "kind" | "name">): CaptureAccess {
  switch (h.kind) {
    case "netns":
      return { ok: true };
    case "dind":
      return {
        ok: false,
        why: `${h.name} is a dind host: its namespaces live inside the host's container, whose image (docker:dind) has no tcpdump and the lab installs none`,
      };
    case "ssh":
      return {
        ok: false,
        why: `${h.name} is an ssh host: capturing there needs root and tcpdump on that machine; trace captures only in namespaces on this machine`,
      };
  }
}

function switchAccess(plan: LabPlan): CaptureAccess {
  if (plan.netns) return { ok: true };
  return {
    ok: false,
    why:
      plan.hostKind === "dind"
        ? "the underlay of dind hosts is a Docker bridge of the local engine, outside the lab's namespaces"
        : "the underlay between ssh hosts is a real network: no capture point on this machine",
  };
}

function workload(plan: LabPlan, name: string, role: "<from>" | "<to>"): WorkloadPlan {
  const w = plan.workloads.find((x) => x.name === name);
  if (!w) {
    throw new TraceInputError(
      `${role} = ${JSON.stringify(name)}: no such container in lab ${plan.name}. Fix: use one of ${plan.workloads.map((x) => x.name).join(", ")}${role === "<to>" ? `, or ${EXTERNAL}` : ""}`,
    );
  }
  return w;
}

function hostPlan(plan: LabPlan, name: string): HostPlan {
  const h = plan.hosts.find((x) => x.name === name);
  if (!h) throw new TraceInputError(`host ${JSON.stringify(name)} is not in lab ${plan.name}`);
  return h;
}

function pickNetwork(plan: LabPlan, from: WorkloadPlan, to: WorkloadPlan | undefined, wanted: string | undefined): NetworkPlan {
  const candidates = from.attachments
    .map((a) => a.network)
    .filter((n) => (to ? to.attachments.some((b) => b.network === n) : true))
    .map((n) => plan.networks.find((x) => x.name === n)!)
    .filter((n) => (to ? true : n.driver === "overlay"));
  const what = to
    ? `${from.name} and ${to.name} share`
    : `${from.name} is on (the way out is docker_gwbridge, which only overlay containers have)`;
  if (wanted !== undefined) {
    const n = candidates.find((x) => x.name === wanted);
    if (!n)
      throw new TraceInputError(
        `--network = ${JSON.stringify(wanted)}: not a network ${what}. Fix: use one of ${candidates.map((x) => x.name).join(", ") || "(none)"}`,
      );
    return n;
  }
  const n = candidates[0];
  if (!n)
    throw new TraceInputError(`${from.name} -> ${to?.name ?? EXTERNAL}: no network ${what}. Fix: pick containers on a common network`);
  return n;
}

function ipOn(w: WorkloadPlan, network: string): string {
  return w.attachments.find((a) => a.network === network)!.ipv4;
}

function hostNs(host: string): NamespaceRef {
  return { kind: "host", host };
}

/** The switch port leading to an underlay address: a host's, or the KV host's (netns labs). */
function switchPortFor(plan: LabPlan, address: string): { port: string; role: "switch-port" | "target" } | undefined {
  const h = plan.hosts.find((x) => x.address === address);
  if (h) return { port: switchEndName(h), role: "switch-port" };
  if (plan.kv && plan.kv.provision === "netns" && plan.kv.address === address) return { port: KV_SWITCH_END, role: "target" };
  return undefined;
}

export function planTrace(plan: LabPlan, req: TraceRequest): TracePlan {
  const payloadBytes = req.payloadBytes ?? 1234;
  const count = req.count ?? DEFAULT_PROBES;
  if (!Number.isInteger(payloadBytes) || payloadBytes < 16 || payloadBytes > 1400) {
    throw new TraceInputError(
      `payload = ${payloadBytes}: must be a whole number of bytes from 16 to 1400 (it must fit the overlay's MTU). Fix: pick e.g. 1234`,
    );
  }
  const src = workload(plan, req.from, "<from>");
  const external = req.to === EXTERNAL;
  const dst = external ? undefined : workload(plan, req.to, "<to>");
  if (dst && dst.name === src.name)
    throw new TraceInputError(
      `<to> = ${JSON.stringify(req.to)}: the same container as <from>. Fix: trace to another container or to ${EXTERNAL}`,
    );
  const net = pickNetwork(plan, src, dst, req.network);
  const srcHost = hostPlan(plan, src.host);
  const hops: PlannedHop[] = [];
  const underlay = plan.underlay.interface;
  const sw = switchAccess(plan);
  const add = (id: string, h: Omit<PlannedHop, "id" | "access"> & { access?: CaptureAccess }, host?: HostPlan): void => {
    hops.push({ id, ...h, access: h.access ?? (host ? hostCaptureAccess(host) : sw) });
  };
  const containerHop = (w: WorkloadPlan, h: HostPlan, device: string): void =>
    add(
      `${w.name}/${device}`,
      { role: "container", host: h.name, ns: { kind: "container", container: w.name, host: h.name }, device, filter: "probe" },
      h,
    );
  const switchHop = (port: string, filter: CaptureFilter, role: "switch-port" | "target" = "switch-port"): void =>
    add(`switch/${port}`, { role, ns: { kind: "switch" }, device: port, filter });

  let kind: TraceKind;
  let toIp: string;
  if (external) {
    kind = "external";
    toIp = plan.verification.externalTarget;
    // eth1: Docker's name for the docker_gwbridge interface of an overlay container (resolved live by the default route).
    containerHop(src, srcHost, "eth1");
    add(
      `${srcHost.name}/docker_gwbridge`,
      { role: "gwbridge", host: srcHost.name, ns: hostNs(srcHost.name), device: "docker_gwbridge", filter: "probe" },
      srcHost,
    );
    add(
      `${srcHost.name}/nat`,
      { role: "nat", host: srcHost.name, ns: hostNs(srcHost.name), device: "iptables MASQUERADE", filter: "probe", derived: true },
      srcHost,
    );
    add(
      `${srcHost.name}/${underlay}`,
      { role: "underlay", host: srcHost.name, ns: hostNs(srcHost.name), device: underlay, filter: "probe" },
      srcHost,
    );
    switchHop(switchEndName(srcHost), "probe");
    const t = switchPortFor(plan, toIp);
    if (t) switchHop(t.port, "probe", t.role);
  } else {
    const d = dst!;
    const dstHost = hostPlan(plan, d.host);
    toIp = ipOn(d, net.name);
    const sameHost = srcHost.name === dstHost.name;
    if (net.driver === "overlay") {
      kind = "overlay";
      const ovNs = (h: HostPlan): NamespaceRef => ({ kind: "overlay", network: net.name, host: h.name });
      const bridge = (h: HostPlan): void =>
        add(`${h.name}/overlay/br0`, { role: "overlay-bridge", host: h.name, ns: ovNs(h), device: "br0", filter: "probe" }, h);
      const vxlan = (h: HostPlan): void =>
        add(`${h.name}/overlay/vxlan`, { role: "vxlan", host: h.name, ns: ovNs(h), device: "vxlan0", filter: "probe" }, h);
      const wire = (h: HostPlan): void =>
        add(`${h.name}/${underlay}`, { role: "underlay", host: h.name, ns: hostNs(h.name), device: underlay, filter: "vxlan" }, h);
      containerHop(src, srcHost, "eth0");
      bridge(srcHost);
      if (!sameHost) {
        vxlan(srcHost);
        wire(srcHost);
        switchHop(switchEndName(srcHost), "vxlan");
        switchHop(switchEndName(dstHost), "vxlan");
        wire(dstHost);
        vxlan(dstHost);
        bridge(dstHost);
      }
      containerHop(d, dstHost, "eth0");
    } else {
      kind = "macvlan";
      // Children of one parent talk inside the macvlan driver (bridge mode): no parent or switch hop.
      containerHop(src, srcHost, "eth0");
      if (!sameHost) {
        const parent = (h: HostPlan): void =>
          add(
            `${h.name}/${net.parent}`,
            { role: "macvlan-parent", host: h.name, ns: hostNs(h.name), device: net.parent, filter: "probe" },
            h,
          );
        parent(srcHost);
        switchHop(switchEndName(srcHost), "probe");
        switchHop(switchEndName(dstHost), "probe");
        parent(dstHost);
      }
      containerHop(d, dstHost, "eth0");
    }
  }
  const faults = pathFaults(plan, kind, [srcHost.name, ...(dst ? [dst.host] : [])], payloadBytes);
  return {
    lab: plan.name,
    hostKind: plan.hostKind,
    kind,
    network: net.name,
    from: { name: src.name, host: srcHost.name, ip: ipOn(src, net.name) },
    to: dst ? { name: dst.name, host: dst.host, ip: toIp } : { name: toIp, ip: toIp },
    payloadBytes,
    count,
    hops,
    ...(faults.length ? { faults } : {}),
  };
}

/**
 * The faults on the hosts a probe crosses, in words: the trace ends its explanation with them. VXLAN
 * drops matter only to the overlay; an MTU fault also says whether this probe's packets fit.
 */
export function pathFaults(plan: LabPlan, kind: TraceKind, hosts: readonly string[], payloadBytes: number): string[] {
  const out: string[] = [];
  for (const f of plan.faults ?? []) {
    if (!hosts.includes(f.host) || (f.kind === "drop-vxlan" && kind !== "overlay")) continue;
    let text = describeFault(f, plan);
    if (f.kind === "mtu" && f.mtu !== undefined) {
      const packet = probeIpLength(payloadBytes) + (kind === "overlay" ? VXLAN_OVERHEAD : 0);
      const what = kind === "overlay" ? `this probe's VXLAN packets are ${packet} bytes` : `this probe's packets are ${packet} bytes`;
      text += packet > f.mtu ? `: ${what}, more than ${f.mtu}` : `: ${what}, which fit`;
    }
    out.push(text);
  }
  return out;
}

/** A namespace by what it belongs to, before (or without) finding it on the live lab. */
export function plannedNamespace(ns: NamespaceRef): string {
  switch (ns.kind) {
    case "container":
      return `container ${ns.container}`;
    case "overlay":
      return `overlay ${ns.network}`;
    case "host":
      return `host ${ns.host}`;
    case "switch":
      return "the underlay switch";
    case "kv":
      return "the KV host";
  }
}

/** The BPF filter of a hop: the probe by its IP total length, or that probe inside VXLAN (inner IP length at udp[32:2]). */
export function captureFilter(hop: Pick<PlannedHop, "filter">, payloadBytes: number): string {
  const len = probeIpLength(payloadBytes);
  return hop.filter === "vxlan" ? `udp port 4789 and udp[32:2] = ${len}` : `icmp and ip[2:2] = ${len}`;
}

/** The hops this machine cannot see, each with why (dind and ssh hosts; the underlay outside netns labs). */
export function unseeableHops(p: TracePlan): { id: string; why: string }[] {
  return p.hops.flatMap((h) => (h.access.ok ? [] : [{ id: h.id, why: h.access.why }]));
}

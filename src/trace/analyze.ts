// From raw captures to a verdict (pure): what each hop saw of the probe, where it was last seen, and
// the likely cause, named from the hops and the daemons' facts.
import { plannedNamespace, probeIpLength } from "./plan.js";
import { isDeviceDown, parseTcpdump, parseTcpdumpStatus } from "./tcpdump.js";
import type { CapturedPacket, HopResult, PlannedHop, ProbeOutcome, TracePlan, TraceResult } from "./types.js";

/** What the capture runner brings back for one hop. */
export interface HopCapture {
  id: string;
  /** The namespace as a user finds it. */
  namespace: string;
  /** The device actually captured on (resolved on the live lab). */
  device: string;
  /** Set when the hop could not be captured (namespace or device not found, host kind...). */
  unavailable?: string;
  stdout?: string;
  stderr?: string;
  /** The VXLAN device's own VNI (ip -d link), for vxlan hops. */
  deviceVni?: number;
}

export interface ContainerFact {
  name: string;
  /** "running", "exited (137)", "missing", "unknown (...)". */
  state: string;
  running: boolean;
  /** Attached to the traced network (undefined: unknown). */
  attached?: boolean;
}

export interface TraceFacts {
  from: ContainerFact;
  /** Absent for the external target. */
  to?: ContainerFact;
}

function lastLine(text: string | undefined): string | undefined {
  return text?.trim().split("\n").pop()?.trim() || undefined;
}

function hopResult(plan: TracePlan, hop: PlannedHop, cap: HopCapture | undefined): HopResult {
  const base = {
    ...hop,
    device: cap?.device ?? hop.device,
    namespace: cap?.namespace || plannedNamespace(hop.ns),
    requests: 0,
    replies: 0,
  };
  if (!hop.access.ok) return { ...base, status: "not-captured", why: hop.access.why };
  if (!cap) return { ...base, status: "not-captured", why: "not captured" };
  if (cap.unavailable !== undefined) return { ...base, status: "not-captured", why: cap.unavailable };
  const st = parseTcpdumpStatus(cap.stderr ?? "");
  if (st.error !== undefined) return { ...base, status: "not-captured", why: `tcpdump: ${st.error}` };
  // No "listening on": tcpdump never ran there (nsenter failed, no binary): nothing seen means nothing.
  if (!st.listening) return { ...base, status: "not-captured", why: lastLine(cap.stderr) ?? "tcpdump did not start" };
  const len = probeIpLength(plan.payloadBytes);
  const packets = parseTcpdump(cap.stdout ?? "").filter((p) => p.ipLength === len);
  const req = packets.filter((p) => p.icmp === "echo request");
  const rep = packets.filter((p) => p.icmp === "echo reply");
  const r: HopResult = { ...base, status: req.length + rep.length > 0 ? "seen" : "not-seen", requests: req.length, replies: rep.length };
  if (req[0]) r.request = req[0];
  if (rep[0]) r.reply = rep[0];
  if (cap.deviceVni !== undefined) r.deviceVni = cap.deviceVni;
  return r;
}

/** The NAT hop: the request's source before docker_gwbridge's MASQUERADE and after it, on the underlay. */
function natHop(hop: PlannedHop, before: HopResult | undefined, after: HopResult | undefined): HopResult {
  const base = { ...hop, namespace: after?.namespace ?? before?.namespace ?? plannedNamespace(hop.ns), requests: 0, replies: 0 };
  if (!hop.access.ok) return { ...base, status: "not-captured", why: hop.access.why };
  const a = before?.request;
  const b = after?.request;
  if (!a || !b) {
    const blind = [before, after].find((x) => x?.status === "not-captured");
    return blind
      ? { ...base, status: "not-captured", why: `derived from ${blind.id}, which was not captured` }
      : { ...base, status: "not-seen" };
  }
  return {
    ...base,
    status: "seen",
    requests: after!.requests,
    replies: after!.replies,
    request: b,
    ...(after!.reply ? { reply: after!.reply } : {}),
    nat: { before: a.srcIp, after: b.srcIp },
  };
}

function describeHop(h: HopResult): string {
  return `${h.device} in ${h.namespace}${h.host ? ` on ${h.host}` : ""}`;
}

/** Why the request did not reach `missing`, the first captured hop that did not see it. */
function missingCause(p: TracePlan, missing: HopResult, index: number, hops: HopResult[]): string {
  const dstSide = index >= hops.length / 2;
  const host = missing.host ?? "";
  const to = p.to.name;
  switch (missing.role) {
    case "container":
      if (index === 0)
        return `${p.from.name} never sent the probe: it has no route or no ARP answer for ${p.to.ip} (is ${to} running and attached to ${p.network}?)`;
      return p.kind === "macvlan"
        ? `${host}'s parent interface got the frame, but no macvlan child there has ${p.to.ip}: ${to} is stopped or disconnected from ${p.network}`
        : `no endpoint for ${p.to.ip} behind br0 on ${host}: ${to} is stopped or disconnected from ${p.network}`;
    case "overlay-bridge":
      return dstSide
        ? `the VXLAN device on ${host} did not hand the frame to br0 (it is not attached to the bridge)`
        : `the frame did not reach br0 in ${p.network}'s overlay namespace on ${host}: the veth between ${p.from.name} and the bridge is down`;
    case "vxlan":
      return dstSide
        ? `${host} received the VXLAN packet but its overlay namespace did not take it: no container of ${p.network} on ${host} (so no overlay namespace), or the VNI differs`
        : `br0 on ${host} did not forward the frame to the VXLAN device: ${host} has no FDB/ARP entry for ${p.to.ip} (the KV store or gossip has not told it about the endpoint)`;
    case "underlay":
      if (p.kind === "external")
        return `${host} did not send the packet out of ${missing.device}: no route to ${p.to.ip}, or forwarding/NAT is off`;
      return dstSide
        ? `${host}'s underlay link is cut: the switch sent the packet, ${missing.device} on ${host} never received it`
        : `the VXLAN device on ${host} did not send the packet: no VXLAN peer (FDB entry) for the destination MAC, or no underlay route/ARP to the peer host`;
    case "macvlan-parent":
      return dstSide
        ? `${host}'s underlay link is cut: the switch sent the frame, parent ${missing.device} on ${host} never received it`
        : `the macvlan child's frame did not leave through parent ${missing.device} on ${host}: the parent is down`;
    case "switch-port": {
      const prev = hops[index - 1];
      return prev?.role === "switch-port"
        ? `the switch did not deliver to port ${missing.device}: the port is down or not in the bridge`
        : `the underlay link between ${prev?.host ?? "the host"} and the switch is cut: ${prev ? describeHop(prev) : "the host"} sent it, switch port ${missing.device} never received it`;
    }
    case "gwbridge":
      return `${p.from.name}'s default route does not lead into docker_gwbridge on ${host}`;
    case "nat":
      return `${host} did not masquerade the packet`;
    case "target":
      return `the switch did not deliver to the target's port ${missing.device}: the target's link is down`;
  }
}

function verdict(
  p: TracePlan,
  hops: HopResult[],
  probe: ProbeOutcome,
  facts: TraceFacts,
): Pick<TraceResult, "delivered" | "answered" | "lastSeen" | "lastReplySeen" | "cause"> {
  const path = hops.filter((h) => !h.derived);
  const answered = probe.received > 0;
  let last = -1;
  path.forEach((h, i) => {
    if (h.requests > 0) last = i;
  });
  const out: ReturnType<typeof verdict> = { delivered: false, answered };
  if (last >= 0) out.lastSeen = path[last]!.id;
  const end = path[path.length - 1];
  out.delivered = end !== undefined && (end.requests > 0 || (end.status === "not-captured" && answered));

  const stateCause = (): string | undefined => {
    if (!facts.from.running) return `${facts.from.name} is ${facts.from.state}: no probe was sent`;
    if (facts.to && !facts.to.running) return `${facts.to.name} is ${facts.to.state}: nothing on ${p.network} has ${p.to.ip} any more`;
    if (facts.to && facts.to.attached === false)
      return `${facts.to.name} is not attached to ${p.network} (disconnected): nothing on ${p.network} has ${p.to.ip}`;
    return undefined;
  };
  const where = last >= 0 ? `last seen at ${describeHop(path[last]!)}` : "seen at no hop";

  if (!out.delivered) {
    // The first hop after the last sighting that was captured and saw nothing; a hop in between that
    // could not be captured because its device is down is the cut itself.
    let cause: string | undefined;
    for (let i = last + 1; i < path.length; i++) {
      const h = path[i]!;
      if (h.status === "not-captured" && isDeviceDown(h.why?.replace(/^tcpdump: /, ""))) {
        cause = `${h.device} (${h.namespace}) is down: the link is cut there`;
        break;
      }
      if (h.status === "not-seen") {
        cause = missingCause(p, h, i, path);
        break;
      }
    }
    const fromState = stateCause();
    if (fromState) cause = cause ? `${fromState}; ${cause}` : fromState;
    if (!cause) {
      const blind = path.slice(last + 1).filter((h) => h.status === "not-captured");
      cause = blind.length
        ? `the hops after that could not be captured (${blind.map((h) => `${h.id}: ${h.why}`).join("; ")}), so where it stopped is not known`
        : "no hop saw it";
    }
    out.cause = `${where}; ${cause}`;
    return out;
  }
  // Delivered: follow the reply back (reply order is path order reversed).
  let firstReply = -1;
  for (let i = path.length - 1; i >= 0; i--) if (path[i]!.replies > 0) firstReply = i;
  if (firstReply === -1) {
    if (!answered)
      out.cause = `delivered (${where}), but no reply was seen anywhere: ${p.to.name} does not answer ICMP echo (a firewall, or its stack is stuck)`;
    return out;
  }
  out.lastReplySeen = path[firstReply]!.id;
  if (!answered) {
    const before = path
      .slice(0, firstReply)
      .reverse()
      .find((h) => h.status !== "not-captured" && h.replies === 0);
    out.cause = `the reply was last seen at ${describeHop(path[firstReply]!)}${before ? ` and never reached ${describeHop(before)}` : ""}: the way back is broken there`;
  }
  return out;
}

export function analyzeTrace(
  p: TracePlan,
  captures: readonly HopCapture[],
  probe: ProbeOutcome,
  facts: TraceFacts,
  startedAt: string,
): TraceResult {
  const byId = new Map(captures.map((c) => [c.id, c]));
  const hops: HopResult[] = p.hops.map((h) => hopResult(p, h, byId.get(h.id)));
  hops.forEach((h, i) => {
    if (h.derived) hops[i] = natHop(h, hops[i - 1], hops[i + 1]);
  });
  const wire = hops.find((h) => h.request?.vxlan)?.request?.vxlan?.vni;
  const device = hops.find((h) => h.deviceVni !== undefined)?.deviceVni;
  const vni =
    p.kind === "overlay" && (wire !== undefined || device !== undefined)
      ? {
          ...(wire !== undefined ? { wire } : {}),
          ...(device !== undefined ? { device } : {}),
          ...(wire !== undefined && device !== undefined ? { matches: wire === device } : {}),
        }
      : undefined;
  const factLines = [facts.from, ...(facts.to ? [facts.to] : [])].map(
    (f) => `${f.name}: ${f.state}${f.attached === undefined ? "" : f.attached ? `, on ${p.network}` : `, not on ${p.network}`}`,
  );
  const v = verdict(p, hops, probe, facts);
  // A probe that did not make it: the explanation ends with the faults on its way (lab:faults).
  if (v.cause && p.faults?.length) v.cause = `${v.cause}; ${p.faults.join("; ")}`;
  return { plan: p, startedAt, probe, hops, ...v, ...(vni ? { vni } : {}), facts: factLines };
}

/** A packet in one line: MACs, IPs, TTL and, when encapsulated, the outer headers. */
export function packetLine(pk: CapturedPacket): string {
  const inner = `${pk.srcMac} > ${pk.dstMac}  ${pk.srcIp} > ${pk.dstIp}  ttl ${pk.ttl}`;
  const v = pk.vxlan;
  return v
    ? `VXLAN vni ${v.vni}  ${v.srcIp}:${v.srcPort} > ${v.dstIp}:${v.dstPort}  ttl ${v.ttl}  (${v.srcMac} > ${v.dstMac})  inner ${inner}`
    : inner;
}

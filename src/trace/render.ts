// A trace as text (hop by hop) and as a Mermaid sequence diagram, both from the TraceResult alone.
import { packetLine } from "./analyze.js";
import type { HopResult, TraceResult } from "./types.js";

export function traceTitle(r: TraceResult): string {
  const p = r.plan;
  return `trace ${p.from.name} (${p.from.ip}) -> ${p.to.name === p.to.ip ? p.to.ip : `${p.to.name} (${p.to.ip})`} over ${p.network} (${p.kind}), lab ${p.lab}`;
}

export function summaryLine(r: TraceResult): string {
  const p = r.probe;
  const probes = `${p.transmitted} probe(s) of ${r.plan.payloadBytes} bytes, ${p.received} answered`;
  if (r.delivered && r.answered && !r.cause) return `${probes}: delivered and answered`;
  return `${probes}: ${r.cause ?? (r.delivered ? "delivered" : "not delivered")}`;
}

function hopWhere(h: HopResult): string {
  return `${h.namespace}${h.host ? ` @ ${h.host}` : ""}`;
}

function hopLines(h: HopResult): string[] {
  if (h.status === "not-captured") return [`not captured: ${h.why ?? "?"}`];
  if (h.status === "not-seen") return ["NOT SEEN"];
  const lines: string[] = [];
  if (h.nat) lines.push(`source ${h.nat.before} -> ${h.nat.after} (MASQUERADE)`);
  if (h.request) lines.push(`request x${h.requests}: ${packetLine(h.request)}`);
  else lines.push("request: not seen");
  if (h.reply) lines.push(`reply   x${h.replies}: ${packetLine(h.reply)}`);
  else lines.push("reply: not seen");
  if (h.deviceVni !== undefined) lines.push(`device VNI ${h.deviceVni}`);
  return lines;
}

/** The path hop by hop: device, namespace, host, and what the request and the reply looked like there. */
export function formatTrace(r: TraceResult): string {
  const out = [traceTitle(r), ""];
  r.hops.forEach((h, i) => {
    const mark = h.status === "seen" ? "ok " : h.status === "not-seen" ? "-- " : "?? ";
    out.push(`${mark}${String(i + 1).padStart(2)}. ${h.device.padEnd(16)} ${hopWhere(h)}  [${h.role}]`);
    for (const l of hopLines(h)) out.push(`        ${l}`);
  });
  out.push("");
  if (r.vni) {
    const m =
      r.vni.matches === undefined
        ? ""
        : r.vni.matches
          ? " (equals the VXLAN device's own)"
          : ` (the VXLAN device says ${r.vni.device}: MISMATCH)`;
    out.push(`VNI on the wire: ${r.vni.wire ?? "not seen"}${m}`);
  }
  if (r.lastSeen) out.push(`last seen: ${r.lastSeen}${r.lastReplySeen ? `; reply last seen: ${r.lastReplySeen}` : ""}`);
  const blind = r.hops.filter((h) => h.status === "not-captured");
  if (blind.length) out.push(`not visible from here: ${blind.map((h) => h.id).join(", ")}`);
  out.push(`facts: ${r.facts.join("; ")}`);
  if (r.plan.faults?.length && !r.cause) out.push(`faults on the path: ${r.plan.faults.join("; ")}`);
  out.push(`probe: ${r.probe.command.join(" ")} (exit ${r.probe.exitCode})`);
  out.push(summaryLine(r));
  return `${out.join("\n")}\n`;
}

/** Mermaid labels: no quotes, no semicolons or hashes (they end a statement or start an entity). */
function mm(s: string): string {
  return s.replace(/[";#]/g, " ").replace(/\s+/g, " ").trim();
}

function shortPacket(h: HopResult, dir: "request" | "reply"): string {
  const pk = dir === "request" ? h.request : h.reply;
  if (!pk) return dir;
  const base = `${dir} ${pk.srcIp} > ${pk.dstIp} ttl ${pk.ttl}`;
  return pk.vxlan ? `VXLAN vni ${pk.vxlan.vni} ${pk.vxlan.srcIp} > ${pk.vxlan.dstIp} (${base})` : base;
}

/** The path as a Mermaid sequence diagram: one participant per hop, the request forward, the reply back. */
export function traceMermaid(r: TraceResult): string {
  const out = ["sequenceDiagram", `  %% ${mm(traceTitle(r))}`];
  out.push(...r.hops.map((h, i) => `  participant h${i} as ${mm(`${h.device}`)}<br/>${mm(hopWhere(h))}`));
  const seenReq = r.hops.map((h, i) => ({ h, i })).filter((x) => x.h.requests > 0);
  for (let k = 1; k < seenReq.length; k++) {
    const a = seenReq[k - 1]!;
    const b = seenReq[k]!;
    out.push(`  h${a.i}->>h${b.i}: ${mm(shortPacket(b.h, "request"))}`);
  }
  for (const [i, h] of r.hops.entries()) {
    if (h.status === "not-captured") out.push(`  Note over h${i}: not captured: ${mm(h.why ?? "")}`);
    else if (h.status === "not-seen") out.push(`  Note over h${i}: NOT SEEN`);
  }
  const seenRep = r.hops
    .map((h, i) => ({ h, i }))
    .filter((x) => x.h.replies > 0)
    .reverse();
  for (let k = 1; k < seenRep.length; k++) {
    const a = seenRep[k - 1]!;
    const b = seenRep[k]!;
    out.push(`  h${a.i}-->>h${b.i}: ${mm(shortPacket(b.h, "reply"))}`);
  }
  if (r.cause) {
    const last = r.hops.findIndex((h) => h.id === r.lastSeen);
    out.push(`  Note over h${Math.max(last, 0)}: ${mm(`stopped: ${r.cause}`)}`);
  }
  return `${out.join("\n")}\n`;
}

// A trace as a standalone SVG sequence diagram, in the topology picture's conventions (src/topology/svg.ts):
// one column (lifeline) per hop with its device, namespace and host on top; the request's arrows left to
// right between the hops that saw it, the reply's arrows back; a red cross where it was not seen, a grey
// lifeline where nothing could be captured; the verdict underneath.
import { line, rect, svgDocument, text, tw, xmlEscape } from "../topology/svg.js";
import { summaryLine, traceTitle } from "./render.js";
import type { HopResult, TraceResult } from "./types.js";

const M = 24;
const COL = 170; // column width
const HEAD = 78; // header box height: five lines
const ROW = 34; // one arrow per row
const REQUEST = "#1f6fb4";
const REPLY = "#2a9d3a";
const MISSING = "#c0392b";
const BLIND = "#9aa4ae";

function arrowLabel(h: HopResult, dir: "request" | "reply"): string {
  const pk = dir === "request" ? h.request : h.reply;
  if (!pk) return dir;
  return pk.vxlan ? `VXLAN vni ${pk.vxlan.vni} ${pk.vxlan.srcIp} > ${pk.vxlan.dstIp}` : `${pk.srcIp} > ${pk.dstIp} ttl ${pk.ttl}`;
}

function fitText(s: string, width: number, size: number): string {
  const max = Math.floor(width / (size * 0.61));
  return s.length <= max ? s : `${s.slice(0, Math.max(1, max - 1))}…`;
}

/** Words into lines of at most `max` characters (a longer word gets a line of its own). */
function wrap(s: string, max: number): string[] {
  const out: string[] = [];
  let cur = "";
  for (const w of s.split(" ")) {
    if (cur && cur.length + 1 + w.length > max) {
      out.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) out.push(cur);
  return out;
}

export function traceSvg(r: TraceResult): string {
  const n = r.hops.length;
  const x = (i: number): number => M + i * COL + COL / 2;
  const req = r.hops.map((h, i) => ({ h, i })).filter((v) => v.h.requests > 0);
  const rep = r.hops
    .map((h, i) => ({ h, i }))
    .filter((v) => v.h.replies > 0)
    .reverse();
  const steps = Math.max(1, req.length - 1) + Math.max(0, rep.length - 1);
  const top = M + 40;
  const bodyTop = top + HEAD + 20;
  const bodyBottom = bodyTop + (steps + 1) * ROW;
  const width = Math.max(M * 2 + n * COL, tw(traceTitle(r), 14) + M * 2, 640);
  const footer = [
    ...wrap(summaryLine(r), Math.floor((width - 2 * M) / (12 * 0.61))),
    ...(r.vni?.wire !== undefined
      ? [`VNI on the wire ${r.vni.wire}${r.vni.matches === false ? `, device says ${r.vni.device}` : " (the VXLAN device's own)"}`]
      : []),
  ];
  const height = bodyBottom + 24 + footer.length * 18 + M;
  const body: string[] = [text(M, M + 16, traceTitle(r), { size: 14, weight: "bold" })];

  r.hops.forEach((h, i) => {
    const cx = x(i);
    const color = h.status === "not-captured" ? BLIND : h.status === "not-seen" ? MISSING : "#607080";
    body.push(`<g class="hop" data-hop="${xmlEscape(h.id)}" data-status="${h.status}">`);
    body.push(line(cx, top + HEAD, cx, bodyBottom, color, 1.5, h.status === "not-captured" ? `stroke-dasharray="4 4"` : ""));
    body.push(rect(cx - COL / 2 + 6, top, COL - 12, HEAD, h.status === "seen" ? "#f4f6f8" : "#ffffff", color, `stroke-width="1.5"`));
    // "container test2 (sandbox 85e3cc728bd6)" -> two lines: the namespace, then what it is.
    const ns = h.namespace.split(/ (?=\()/);
    const lines = [h.device, ns[0] ?? "", ns.slice(1).join(" "), h.host ?? "", h.role];
    body.push(
      ...lines.map((s, k) =>
        text(cx, top + 16 + k * 14, fitText(s, COL - 20, 11), {
          size: 11,
          anchor: "middle",
          ...(k === 0 ? { weight: "bold" as const } : { fill: "#333" }),
        }),
      ),
    );
    if (h.status === "not-seen") {
      const y = bodyTop + ROW / 2;
      body.push(line(cx - 7, y - 7, cx + 7, y + 7, MISSING, 3), line(cx - 7, y + 7, cx + 7, y - 7, MISSING, 3));
      body.push(text(cx, y + 22, "not seen", { size: 11, anchor: "middle", fill: MISSING, halo: true }));
    } else if (h.status === "not-captured") {
      body.push(text(cx, bodyTop + ROW / 2, "not captured", { size: 11, anchor: "middle", fill: BLIND, halo: true }));
    }
    body.push("</g>");
  });

  const arrow = (a: number, b: number, y: number, color: string, label: string, dir: "request" | "reply", dashed: boolean): void => {
    const x1 = x(a);
    const x2 = x(b);
    const head = x2 > x1 ? -8 : 8;
    body.push(
      `<g class="arrow" data-dir="${dir}" data-from="${xmlEscape(r.hops[a]!.id)}" data-to="${xmlEscape(r.hops[b]!.id)}">`,
      line(x1, y, x2, y, color, 2, dashed ? `stroke-dasharray="6 4"` : ""),
      `<polygon points="${x2},${y} ${x2 + head},${y - 5} ${x2 + head},${y + 5}" fill="${color}"/>`,
      text((x1 + x2) / 2, y - 6, fitText(label, Math.abs(x2 - x1) + COL - 20, 10), { size: 10, anchor: "middle", fill: color, halo: true }),
      "</g>",
    );
  };
  let row = 1;
  for (let k = 1; k < req.length; k++, row++)
    arrow(req[k - 1]!.i, req[k]!.i, bodyTop + row * ROW, REQUEST, arrowLabel(req[k]!.h, "request"), "request", false);
  for (let k = 1; k < rep.length; k++, row++)
    arrow(rep[k - 1]!.i, rep[k]!.i, bodyTop + row * ROW, REPLY, arrowLabel(rep[k]!.h, "reply"), "reply", true);

  body.push(...footer.map((s, k) => text(M, bodyBottom + 24 + k * 18, s, { size: 12, ...(r.cause ? { fill: MISSING } : {}) })));
  return svgDocument(width, height, traceTitle(r), body);
}

// The lab topology as a standalone SVG, drawn by hand from the layout of layout.ts (no browser, no
// mermaid-cli): the underlay line with the KV store or swarm box hanging from it, the hosts with their
// containers, a band per network, and every container's line to each band it is attached to.
import { type LabPlan, type TopologyLive, type TopologyView, TOPOLOGY_HEADER, topologyView } from "../model/index.js";
import { LINE, layoutTopology, M, networkLabel, PAD, rangeLabel, type TopologyLayout, tw, UNDERLAY_COLOR } from "./layout.js";

export { tw } from "./layout.js";
export const FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace";
/** Escape text and attribute values for XML. */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

export interface TextOpts {
  size?: number;
  weight?: "bold";
  fill?: string;
  anchor?: "middle" | "end";
  halo?: boolean;
}

export function text(x: number, y: number, s: string, o: TextOpts = {}): string {
  const attrs = [`x="${x}"`, `y="${y}"`, `font-size="${o.size ?? 12}"`];
  if (o.weight) attrs.push(`font-weight="${o.weight}"`);
  if (o.fill) attrs.push(`fill="${o.fill}"`);
  if (o.anchor) attrs.push(`text-anchor="${o.anchor}"`);
  if (o.halo) attrs.push(`class="halo"`);
  return `<text ${attrs.join(" ")}>${xmlEscape(s)}</text>`;
}

export function rect(x: number, y: number, w: number, h: number, fill: string, stroke: string, extra = ""): string {
  return `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="6" fill="${fill}" stroke="${stroke}"${extra ? ` ${extra}` : ""}/>`;
}

export function line(x1: number, y1: number, x2: number, y2: number, stroke: string, width: number, extra = ""): string {
  return `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${stroke}" stroke-width="${width}"${extra ? ` ${extra}` : ""}/>`;
}

/** Render a topology view (see topologyView) as an SVG document. */
export function renderTopologySvg(v: TopologyView): string {
  const l = layoutTopology(v);
  const onTop: string[] = [];
  const body = [...drawTitle(l), ...drawUnderlay(l, v), ...drawSide(l, v), ...drawBands(l, v), ...drawHosts(l, v, onTop)];
  return svgDocument(l.width, l.height, l.title, [...body, ...onTop]);
}

function drawTitle(l: TopologyLayout): string[] {
  const body: string[] = [];
  body.push(text(M, l.titleY, l.title, { size: 16, weight: "bold" }));
  body.push(text(M, l.titleY + 18, TOPOLOGY_HEADER, { size: 11, fill: "#666" }));
  return body;
}

/** The underlay: a thick line across, the hosts' links up to it. */
function drawUnderlay(l: TopologyLayout, v: TopologyView): string[] {
  const body: string[] = [];
  const underlayEnd = l.side ? l.side.box.x + l.side.box.w : l.hostsEnd;
  body.push(`<g class="underlay" data-subnet="${xmlEscape(v.underlay.subnet)}">`);
  body.push(text(M, l.underlayY - 9, l.underlayLabel, { size: 13, weight: "bold", fill: UNDERLAY_COLOR }));
  body.push(line(M, l.underlayY, underlayEnd, l.underlayY, UNDERLAY_COLOR, 5, `stroke-linecap="round"`));
  for (const [i, h] of l.hosts.entries()) {
    const hv = v.hosts[i]!;
    const lx = h.box.x + 24;
    // Each host's link to the underlay in a group of its own: the live page colours it.
    body.push(`<g class="uplink" data-host="${xmlEscape(hv.name)}">`);
    body.push(line(lx, l.underlayY, lx, l.hostTop, UNDERLAY_COLOR, 2.5));
    body.push(`<circle cx="${lx}" cy="${l.underlayY}" r="4.5" fill="${UNDERLAY_COLOR}"/>`);
    body.push(text(lx + 8, l.underlayY + 28, `${hv.interface} ${hv.address}`, { fill: UNDERLAY_COLOR }));
    body.push("</g>");
  }
  body.push("</g>");
  return body;
}

/** The KV store's or the swarm's box, and its link to the underlay. */
function drawSide(l: TopologyLayout, v: TopologyView): string[] {
  const side = l.side;
  if (!side) return [];
  const { box } = side;
  const body: string[] = [];
  const lx = box.x + 24;
  const dashed = v.kv ? "" : `stroke-dasharray="5 4"`;
  body.push(`<g class="${v.kv ? "kv" : "swarm"}">`);
  body.push(line(lx, l.underlayY, lx, box.y, UNDERLAY_COLOR, 2.5, dashed));
  if (v.kv) body.push(`<circle cx="${lx}" cy="${l.underlayY}" r="4.5" fill="${UNDERLAY_COLOR}"/>`);
  if (side.address) body.push(text(lx + 8, l.underlayY + 28, side.address, { fill: UNDERLAY_COLOR }));
  body.push(rect(box.x, box.y, box.w, box.h, "#fff8e1", "#b58900", `stroke-width="1.5"`));
  body.push(...side.lines.map((s, i) => text(box.x + PAD, box.y + PAD + 12 + i * LINE, s, i === 0 ? { size: 13, weight: "bold" } : {})));
  body.push("</g>");
  return body;
}

/** Network bands (drawn before the hosts, so the drop lines and dots sit on top). */
function drawBands(l: TopologyLayout, v: TopologyView): string[] {
  const body: string[] = [];
  for (const n of v.networks) {
    const y = l.bandY.get(n.name)!;
    const color = l.colors.get(n.name)!;
    const dash = n.driver === "macvlan" ? `stroke-dasharray="10 5"` : "";
    body.push(`<g class="network" data-network="${xmlEscape(n.name)}" data-driver="${n.driver}">`);
    body.push(line(M, y, l.hostsEnd + 12, y, color, 4, dash));
    body.push(
      ...networkLabel(n).map((s, i) =>
        text(l.gutterX, y - 4 + i * LINE, s, i === 0 ? { size: 13, weight: "bold", fill: color } : { fill: color }),
      ),
    );
    if (n.driver === "macvlan") {
      for (const r of n.ranges) {
        const hi = v.hosts.findIndex((h) => h.name === r.host);
        const hb = l.hosts[hi]?.box;
        if (hb) body.push(text(hb.x + PAD, y + 17, rangeLabel(r.host, r.ipRange), { size: 11, fill: color, halo: true }));
      }
    }
    body.push("</g>");
  }
  return body;
}

/**
 * Hosts with their containers; each container drops a line to every band it is attached to. The
 * dots and address tags go to onTop, so lines to lower bands pass behind them.
 */
function drawHosts(l: TopologyLayout, v: TopologyView, onTop: string[]): string[] {
  const body: string[] = [];
  for (const [i, h] of l.hosts.entries()) {
    const b = h.box;
    body.push(`<g class="host" data-host="${xmlEscape(v.hosts[i]!.name)}">`);
    body.push(rect(b.x, b.y, b.w, b.h, "#f4f6f8", "#607080", `stroke-width="1.5"`));
    body.push(
      ...h.header.map((s, k) => text(b.x + PAD, b.y + PAD + 13 + k * LINE, s, k === 0 ? { size: 14, weight: "bold" } : { fill: "#333" })),
    );
    if (h.containers.length === 0) body.push(text(b.x + PAD, b.y + PAD + l.headerH + 14, "(no containers)", { fill: "#888" }));
    for (const c of h.containers) {
      const cb = c.box;
      body.push(`<g class="container" data-container="${xmlEscape(c.name)}">`);
      for (const d of c.drops) {
        const y = l.bandY.get(d.network);
        const color = l.colors.get(d.network) ?? UNDERLAY_COLOR;
        if (y === undefined) continue;
        body.push(line(d.x, cb.y + cb.h, d.x, y, color, 2.5, `class="link" data-network="${xmlEscape(d.network)}"`));
        const tagW = tw(d.ip, 11) + 8;
        onTop.push(
          `<g class="attachment" data-container="${xmlEscape(c.name)}" data-network="${xmlEscape(d.network)}">`,
          `<circle cx="${d.x}" cy="${y}" r="5" fill="${color}" stroke="#fff" stroke-width="1.5"/>`,
          `<rect x="${d.x + 6}" y="${y - 20}" width="${tagW}" height="15" rx="3" fill="#ffffff" stroke="${color}" stroke-width="0.8"/>`,
          text(d.x + 10, y - 9, d.ip, { size: 11, fill: color }),
          "</g>",
        );
      }
      body.push(rect(cb.x, cb.y, cb.w, cb.h, "#ffffff", "#8899aa"));
      c.lines.forEach((l, k) => {
        const ty = cb.y + PAD + 10 + k * LINE;
        if (l.color) body.push(`<rect x="${cb.x + PAD}" y="${ty - 9}" width="9" height="9" fill="${l.color}"/>`);
        body.push(text(cb.x + PAD + (l.color ? 14 : 0), ty, l.s, k === 0 ? { weight: "bold" } : {}));
      });
      body.push("</g>");
    }
    body.push("</g>");
  }
  return body;
}

/** A standalone SVG document: white background, monospace font, the halo class for labels over lines. */
export function svgDocument(width: number, height: number, title: string, body: readonly string[]): string {
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<title>${xmlEscape(title)}</title>`,
    `<style>.halo{paint-order:stroke;stroke:#ffffff;stroke-width:4px;stroke-linejoin:round}</style>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    `</svg>`,
    "",
  ].join("\n");
}

/** The plan (plus live facts where known) as an SVG document. */
export function topologySvg(plan: LabPlan, live?: TopologyLive): string {
  return renderTopologySvg(topologyView(plan, live));
}

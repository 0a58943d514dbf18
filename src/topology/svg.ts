// The lab topology as a standalone SVG, laid out by hand from the model's topology view (no browser,
// no mermaid-cli). Layout, top to bottom: the underlay line (with the KV store or swarm box hanging
// from it), the hosts side by side with their containers inside, then one horizontal band per
// overlay/macvlan network; every container drops a line in the network's colour to each band it is
// attached to. Network labels sit in a right-hand gutter that no line crosses.
import {
  type LabPlan,
  type TopologyLive,
  type TopologyNetwork,
  type TopologyView,
  TOPOLOGY_HEADER,
  topologyView,
  vniText,
} from "../model/index.js";

export const FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace";
const M = 24; // outer margin
const PAD = 10; // padding inside boxes
const LINE = 16; // line height for 12-13px text
const GAP = 28; // between hosts
const OVERLAY_COLORS = ["#1f6fb4", "#2a9d3a", "#8a4fbf", "#138c99"];
const MACVLAN_COLORS = ["#d9700f", "#c0392b", "#8c564b", "#b8860b"];
const UNDERLAY_COLOR = "#4a4a4a";

/** Escape text and attribute values for XML. */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** Width of a monospace string: DejaVu Sans Mono advances 0.602 em per character. */
export function tw(s: string, size: number): number {
  return Math.ceil(s.length * size * 0.61);
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

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function networkColors(networks: TopologyNetwork[]): Map<string, string> {
  const colors = new Map<string, string>();
  let o = 0;
  let m = 0;
  for (const n of networks) {
    colors.set(
      n.name,
      n.driver === "overlay" ? OVERLAY_COLORS[o++ % OVERLAY_COLORS.length]! : MACVLAN_COLORS[m++ % MACVLAN_COLORS.length]!,
    );
  }
  return colors;
}

/** Written under a macvlan band, in the column of the host that owns the range. */
function rangeLabel(host: string, ipRange: string): string {
  return `${host} ip-range ${ipRange}`;
}

function networkLabel(n: TopologyNetwork): string[] {
  return n.driver === "overlay"
    ? [`overlay ${n.name}`, `${n.subnet}  gw ${n.gateway}`, `${vniText(n)}, created on ${n.createdOn}`]
    : [`macvlan ${n.name}`, `${n.subnet}  gw ${n.gateway}`, `parent ${n.parent}, one ip-range per host`];
}

/** Render a topology view (see topologyView) as an SVG document. */
export function renderTopologySvg(v: TopologyView): string {
  const colors = networkColors(v.networks);
  const body: string[] = [];

  // Title and underlay line.
  const title = `Lab topology: ${v.name} (${v.summary})`;
  const titleY = M + 16;
  const underlayY = titleY + 58;
  const hostTop = underlayY + 46;

  // Host boxes: measure headers and containers.
  interface HostLayout {
    box: Box;
    header: string[];
    containers: { name: string; box: Box; lines: { s: string; color?: string }[]; drops: { x: number; network: string; ip: string }[] }[];
  }
  const headerLines = (h: TopologyView["hosts"][number]): string[] => {
    const l = [h.name, `${h.interface} ${h.address}`, h.engine, h.mode, `API ${h.endpoint}`];
    if (h.runsKv && v.kv) l.push(`runs the KV store (${v.kv.kind})`);
    return l;
  };
  const headerH = Math.max(...v.hosts.map((h) => headerLines(h).length)) * LINE + PAD;
  let maxContainerH = 0;
  let x = M;
  const hosts: HostLayout[] = v.hosts.map((h) => {
    const header = headerLines(h);
    const contentTop = hostTop + PAD + headerH;
    let cx = x + PAD;
    const containers = h.containers.map((c) => {
      const lines = [
        { s: c.hostname === c.name ? c.name : `${c.name} (${c.hostname})` },
        ...c.attachments.map((a) => ({
          s: `${a.network} ${a.ip}${a.plannedIp ? ` (plan ${a.plannedIp})` : ""}`,
          color: colors.get(a.network) ?? UNDERLAY_COLOR,
        })),
      ];
      const w = Math.max(120, ...lines.map((l, i) => tw(l.s, 12) + (i > 0 ? 14 : 0))) + 2 * PAD;
      const hgt = lines.length * LINE + PAD + 4;
      maxContainerH = Math.max(maxContainerH, hgt);
      const box = { x: cx, y: contentTop, w, h: hgt };
      cx += w + PAD;
      const k = c.attachments.length;
      const drops = c.attachments.map((a, j) => ({ x: Math.round(box.x + ((j + 1) * w) / (k + 1)), network: a.network, ip: a.ip }));
      return { name: c.name, box, lines, drops };
    });
    const rangeLabels = v.networks.flatMap((n) =>
      n.driver === "macvlan" ? n.ranges.filter((r) => r.host === h.name).map((r) => rangeLabel(r.host, r.ipRange)) : [],
    );
    const width = Math.max(
      cx - x,
      ...header.map((s, i) => tw(s, i === 0 ? 14 : 12) + 2 * PAD),
      ...rangeLabels.map((s) => tw(s, 11) + 2 * PAD),
      150,
    );
    const layout: HostLayout = { box: { x, y: hostTop, w: width, h: 0 }, header, containers };
    x += width + GAP;
    return layout;
  });
  const hostH = PAD + headerH + Math.max(maxContainerH, LINE + PAD) + PAD;
  for (const h of hosts) h.box.h = hostH;
  const hostsEnd = x - GAP; // right edge of the last host
  const gutterX = hostsEnd + GAP + 12;

  // KV store or swarm box, hanging from the underlay in the right-hand column.
  let sideBox: Box | undefined;
  let sideLines: string[] = [];
  let sideAddr = "";
  if (v.kv) {
    sideLines = [`KV store: ${v.kv.kind}`, `${v.kv.address}:${v.kv.port}`, v.kv.where];
    sideAddr = v.kv.address;
  } else if (v.swarm) {
    sideLines = ["swarm (raft, no KV store)", `manager ${v.swarm.manager}`, `address pool ${v.swarm.defaultAddrPool}`];
  }
  if (sideLines.length > 0) {
    const w = Math.max(...sideLines.map((s, i) => tw(s, i === 0 ? 13 : 12))) + 2 * PAD;
    sideBox = { x: gutterX, y: hostTop, w, h: sideLines.length * LINE + 2 * PAD };
  }

  // Network bands below the hosts.
  const bandTop = hostTop + hostH + 46;
  const bandStep = 3 * LINE + 30;
  const bandY = new Map(v.networks.map((n, i) => [n.name, bandTop + i * bandStep] as const));
  const labelW = Math.max(0, ...v.networks.flatMap((n) => networkLabel(n).map((s, i) => tw(s, i === 0 ? 13 : 12))));
  const underlayLabel = `underlay ${v.underlay.subnet}  gateway ${v.underlay.gateway}  (${v.underlay.interface} of every host)`;

  const width = Math.max(
    gutterX + Math.max(labelW, sideBox?.w ?? 0) + M,
    tw(title, 16) + 2 * M,
    tw(underlayLabel, 13) + 2 * M,
    tw(TOPOLOGY_HEADER, 11) + 2 * M,
  );
  const lastBand = v.networks.length > 0 ? bandTop + (v.networks.length - 1) * bandStep : hostTop + hostH;
  const height = lastBand + 2 * LINE + 8 + M;

  body.push(text(M, titleY, title, { size: 16, weight: "bold" }));
  body.push(text(M, titleY + 18, TOPOLOGY_HEADER, { size: 11, fill: "#666" }));

  // Underlay: a thick line across, the hosts' and the KV store's links up to it.
  const underlayEnd = sideBox ? sideBox.x + sideBox.w : hostsEnd;
  body.push(`<g class="underlay" data-subnet="${xmlEscape(v.underlay.subnet)}">`);
  body.push(text(M, underlayY - 9, underlayLabel, { size: 13, weight: "bold", fill: UNDERLAY_COLOR }));
  body.push(line(M, underlayY, underlayEnd, underlayY, UNDERLAY_COLOR, 5, `stroke-linecap="round"`));
  for (const [i, h] of hosts.entries()) {
    const hv = v.hosts[i]!;
    const lx = h.box.x + 24;
    body.push(line(lx, underlayY, lx, hostTop, UNDERLAY_COLOR, 2.5));
    body.push(`<circle cx="${lx}" cy="${underlayY}" r="4.5" fill="${UNDERLAY_COLOR}"/>`);
    body.push(text(lx + 8, underlayY + 28, `${hv.interface} ${hv.address}`, { fill: UNDERLAY_COLOR }));
  }
  body.push("</g>");
  if (sideBox) {
    const lx = sideBox.x + 24;
    const dashed = v.kv ? "" : `stroke-dasharray="5 4"`;
    body.push(`<g class="${v.kv ? "kv" : "swarm"}">`);
    body.push(line(lx, underlayY, lx, sideBox.y, UNDERLAY_COLOR, 2.5, dashed));
    if (v.kv) body.push(`<circle cx="${lx}" cy="${underlayY}" r="4.5" fill="${UNDERLAY_COLOR}"/>`);
    if (sideAddr) body.push(text(lx + 8, underlayY + 28, sideAddr, { fill: UNDERLAY_COLOR }));
    body.push(rect(sideBox.x, sideBox.y, sideBox.w, sideBox.h, "#fff8e1", "#b58900", `stroke-width="1.5"`));
    body.push(
      ...sideLines.map((s, i) => text(sideBox.x + PAD, sideBox.y + PAD + 12 + i * LINE, s, i === 0 ? { size: 13, weight: "bold" } : {})),
    );
    body.push("</g>");
  }

  // Network bands (drawn first, so the drop lines and dots sit on top).
  for (const n of v.networks) {
    const y = bandY.get(n.name)!;
    const color = colors.get(n.name)!;
    const dash = n.driver === "macvlan" ? `stroke-dasharray="10 5"` : "";
    body.push(`<g class="network" data-network="${xmlEscape(n.name)}" data-driver="${n.driver}">`);
    body.push(line(M, y, hostsEnd + 12, y, color, 4, dash));
    body.push(
      ...networkLabel(n).map((s, i) =>
        text(gutterX, y - 4 + i * LINE, s, i === 0 ? { size: 13, weight: "bold", fill: color } : { fill: color }),
      ),
    );
    if (n.driver === "macvlan") {
      for (const r of n.ranges) {
        const hi = v.hosts.findIndex((h) => h.name === r.host);
        const hb = hosts[hi]?.box;
        if (hb) body.push(text(hb.x + PAD, y + 17, rangeLabel(r.host, r.ipRange), { size: 11, fill: color, halo: true }));
      }
    }
    body.push("</g>");
  }

  // Hosts with their containers; each container drops a line to every band it is attached to.
  // The dots and address tags are collected in onTop, so lines to lower bands pass behind them.
  const onTop: string[] = [];
  for (const [i, h] of hosts.entries()) {
    const b = h.box;
    body.push(`<g class="host" data-host="${xmlEscape(v.hosts[i]!.name)}">`);
    body.push(rect(b.x, b.y, b.w, b.h, "#f4f6f8", "#607080", `stroke-width="1.5"`));
    body.push(
      ...h.header.map((s, k) => text(b.x + PAD, b.y + PAD + 13 + k * LINE, s, k === 0 ? { size: 14, weight: "bold" } : { fill: "#333" })),
    );
    if (h.containers.length === 0) body.push(text(b.x + PAD, b.y + PAD + headerH + 14, "(no containers)", { fill: "#888" }));
    for (const c of h.containers) {
      const cb = c.box;
      body.push(`<g class="container" data-container="${xmlEscape(c.name)}">`);
      for (const d of c.drops) {
        const y = bandY.get(d.network);
        const color = colors.get(d.network) ?? UNDERLAY_COLOR;
        if (y === undefined) continue;
        body.push(line(d.x, cb.y + cb.h, d.x, y, color, 2.5));
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

  return svgDocument(width, height, title, [...body, ...onTop]);
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

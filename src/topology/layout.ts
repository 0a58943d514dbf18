// Where everything of the topology picture goes: boxes, bands, the gutter and the picture's size,
// measured from the model's topology view. Drawing (svg.ts) only places what this computes; the live
// page draws the same layout.
import { type TopologyNetwork, type TopologyView, TOPOLOGY_HEADER, vniText } from "../model/index.js";

export const M = 24; // outer margin
export const PAD = 10; // padding inside boxes
export const LINE = 16; // line height for 12-13px text
const GAP = 28; // between hosts
const OVERLAY_COLORS = ["#1f6fb4", "#2a9d3a", "#8a4fbf", "#138c99"];
const MACVLAN_COLORS = ["#d9700f", "#c0392b", "#8c564b", "#b8860b"];
export const UNDERLAY_COLOR = "#4a4a4a";

/** Width of a monospace string: DejaVu Sans Mono advances 0.602 em per character. */
export function tw(s: string, size: number): number {
  return Math.ceil(s.length * size * 0.61);
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface ContainerLayout {
  name: string;
  box: Box;
  lines: { s: string; color?: string }[];
  /** Where its line to each network's band leaves the box. */
  drops: { x: number; network: string; ip: string }[];
}

export interface HostLayout {
  box: Box;
  header: string[];
  containers: ContainerLayout[];
}

export interface TopologyLayout {
  title: string;
  titleY: number;
  underlayY: number;
  underlayLabel: string;
  hostTop: number;
  headerH: number;
  hosts: HostLayout[];
  /** Right edge of the last host. */
  hostsEnd: number;
  /** Where the network labels and the KV or swarm box go, right of the hosts. */
  gutterX: number;
  /** The KV store's or the swarm's box, hanging from the underlay in the gutter. */
  side?: { box: Box; lines: string[]; address: string };
  /** Each network's band, top to bottom. */
  bandY: Map<string, number>;
  colors: Map<string, string>;
  width: number;
  height: number;
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
export function rangeLabel(host: string, ipRange: string): string {
  return `${host} ip-range ${ipRange}`;
}

export function networkLabel(n: TopologyNetwork): string[] {
  return n.driver === "overlay"
    ? [`overlay ${n.name}`, `${n.subnet}  gw ${n.gateway}`, `${vniText(n)}, created on ${n.createdOn}`]
    : [`macvlan ${n.name}`, `${n.subnet}  gw ${n.gateway}`, `parent ${n.parent}, one ip-range per host`];
}

/**
 * The layout, top to bottom: the underlay line (with the KV store or swarm box hanging from it), the
 * hosts side by side with their containers inside, then one horizontal band per overlay/macvlan
 * network; network labels sit in a right-hand gutter that no line crosses.
 */
export function layoutTopology(v: TopologyView): TopologyLayout {
  const colors = networkColors(v.networks);

  // Title and underlay line.
  const title = `Lab topology: ${v.name} (${v.summary})`;
  const titleY = M + 16;
  const underlayY = titleY + 58;
  const hostTop = underlayY + 46;

  // Host boxes: measure headers and containers.
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
  let side: TopologyLayout["side"];
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
    side = { box: { x: gutterX, y: hostTop, w, h: sideLines.length * LINE + 2 * PAD }, lines: sideLines, address: sideAddr };
  }

  // Network bands below the hosts.
  const bandTop = hostTop + hostH + 46;
  const bandStep = 3 * LINE + 30;
  const bandY = new Map(v.networks.map((n, i) => [n.name, bandTop + i * bandStep] as const));
  const labelW = Math.max(0, ...v.networks.flatMap((n) => networkLabel(n).map((s, i) => tw(s, i === 0 ? 13 : 12))));
  const underlayLabel = `underlay ${v.underlay.subnet}  gateway ${v.underlay.gateway}  (${v.underlay.interface} of every host)`;

  const width = Math.max(
    gutterX + Math.max(labelW, side?.box.w ?? 0) + M,
    tw(title, 16) + 2 * M,
    tw(underlayLabel, 13) + 2 * M,
    tw(TOPOLOGY_HEADER, 11) + 2 * M,
  );
  const lastBand = v.networks.length > 0 ? bandTop + (v.networks.length - 1) * bandStep : hostTop + hostH;
  const height = lastBand + 2 * LINE + 8 + M;

  return {
    title,
    titleY,
    underlayY,
    underlayLabel,
    hostTop,
    headerH,
    hosts,
    hostsEnd,
    gutterX,
    ...(side ? { side } : {}),
    bandY,
    colors,
    width,
    height,
  };
}

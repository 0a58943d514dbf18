// The lab's topology, derived from the plan only: a view both pictures are drawn from (Mermaid text
// here, SVG in src/topology/svg.ts), so the documentation can never be drawn by hand and drift.
// Pure: no I/O. Ordering is the plan's (hosts by index, networks and workloads in config order).
import { checkCount } from "./checks.js";
import type { KvPlan, LabPlan } from "./types.js";

/** What only a running lab knows; everything is optional and falls back to the plan. */
export interface TopologyLive {
  /** overlay network name -> the VXLAN VNI Docker gave it (read from the vxlan device). */
  vni?: Record<string, number>;
  /** container name -> network name -> the IPv4 address the running container has there. */
  ips?: Record<string, Record<string, string>>;
}

export interface TopologyAttachment {
  network: string;
  driver: "overlay" | "macvlan";
  ip: string;
  /** Set only when a live address differs from the planned one. */
  plannedIp?: string;
}

export interface TopologyContainer {
  name: string;
  hostname: string;
  host: string;
  attachments: TopologyAttachment[];
}

export interface TopologyHost {
  name: string;
  address: string;
  interface: string;
  /** "dockerd 20.10 (dind)" */
  engine: string;
  /** "kv: consul://198.18.0.2:8500" or "swarm manager" / "swarm worker". */
  mode: string;
  endpoint: string;
  /** Set when the KV store runs on this host (ssh hosts, as in the article). */
  runsKv: boolean;
  containers: TopologyContainer[];
}

export interface TopologyOverlay {
  driver: "overlay";
  name: string;
  subnet: string;
  gateway: string;
  createdOn: string;
  vni?: number;
}

export interface TopologyMacvlan {
  driver: "macvlan";
  name: string;
  subnet: string;
  gateway: string;
  parent: string;
  ranges: { host: string; ipRange: string }[];
}

export type TopologyNetwork = TopologyOverlay | TopologyMacvlan;

export interface TopologyKv {
  kind: string;
  address: string;
  port: number;
  /** "container on the machine running the lab", "host network of host1", ... */
  where: string;
}

export interface TopologyView {
  name: string;
  /** "dind hosts, classic overlay with a KV store (consul)" */
  summary: string;
  underlay: { subnet: string; gateway: string; interface: string };
  kv?: TopologyKv;
  swarm?: { manager: string; defaultAddrPool: string };
  hosts: TopologyHost[];
  networks: TopologyNetwork[];
}

function kvWhere(kv: KvPlan): string {
  switch (kv.provision) {
    case "local-container":
      return "container on the machine running the lab";
    case "host-container":
      return `container with host networking on ${kv.runsOn ?? "the first host"}`;
    case "netns":
      return "process in its own network namespace";
    case "external":
      return "external (not run by the lab)";
  }
}

/** The plan reduced to what a topology picture shows, with live facts merged in where known. */
export function topologyView(plan: LabPlan, live: TopologyLive = {}): TopologyView {
  const driverOf = new Map(plan.networks.map((n) => [n.name, n.driver] as const));
  const hosts: TopologyHost[] = plan.hosts.map((h) => ({
    name: h.name,
    address: h.address,
    interface: h.advertiseInterface,
    engine: `dockerd ${h.dockerVersion} (${h.kind})`,
    mode:
      plan.overlayMode === "kv"
        ? `kv: ${h.daemon.clusterStore ?? plan.kv?.url ?? "?"}`
        : `swarm ${plan.swarm?.manager === h.name ? "manager" : "worker"}`,
    endpoint: h.endpoint,
    runsKv: plan.kv?.provision === "host-container" && plan.kv.runsOn === h.name,
    containers: plan.workloads
      .filter((w) => w.host === h.name)
      .map((w) => ({
        name: w.name,
        hostname: w.hostname,
        host: w.host,
        attachments: w.attachments.map((a) => {
          const liveIp = live.ips?.[w.name]?.[a.network];
          const ip = liveIp ?? a.ipv4;
          return {
            network: a.network,
            driver: driverOf.get(a.network) ?? "overlay",
            ip,
            ...(ip !== a.ipv4 ? { plannedIp: a.ipv4 } : {}),
          };
        }),
      })),
  }));
  const networks: TopologyNetwork[] = plan.networks.map((n) => {
    if (n.driver === "overlay") {
      const vni = live.vni?.[n.name];
      return {
        driver: "overlay",
        name: n.name,
        subnet: n.subnet,
        gateway: n.gateway,
        createdOn: n.createdOn,
        ...(vni !== undefined ? { vni } : {}),
      };
    }
    return {
      driver: "macvlan",
      name: n.name,
      subnet: n.subnet,
      gateway: n.gateway,
      parent: n.parent,
      ranges: n.ranges.map((r) => ({ host: r.host, ipRange: r.ipRange })),
    };
  });
  const summary =
    plan.overlayMode === "kv"
      ? `${plan.hostKind} hosts, classic overlay with a KV store (${plan.kv?.kind ?? "?"})`
      : `${plan.hostKind} hosts, swarm-mode overlay`;
  return {
    name: plan.name,
    summary,
    underlay: { subnet: plan.underlay.subnet, gateway: plan.underlay.gateway, interface: plan.underlay.interface },
    ...(plan.kv ? { kv: { kind: plan.kv.kind, address: plan.kv.address, port: plan.kv.port, where: kvWhere(plan.kv) } } : {}),
    ...(plan.swarm ? { swarm: { manager: plan.swarm.manager, defaultAddrPool: plan.swarm.defaultAddrPool } } : {}),
    hosts,
    networks,
  };
}

/**
 * Text for a double-quoted Mermaid label: Mermaid's entity codes (#NN;) stand for the characters that
 * would end the string or be read as markup. Line breaks become <br/>, which Mermaid renders.
 */
export function mermaidLabel(text: string): string {
  const codes: Record<string, string> = { "#": "#35;", '"': "#34;", "<": "#60;", ">": "#62;", "&": "#38;", "`": "#96;", "|": "#124;" };
  return text
    .split("\n")
    .map((line) => line.replace(/[#"<>&`|]/g, (c) => codes[c]!))
    .join("<br/>");
}

const q = (text: string): string => `"${mermaidLabel(text)}"`;

/** VNI text shared by both pictures. */
export function vniText(n: TopologyOverlay): string {
  return n.vni !== undefined ? `VXLAN VNI ${n.vni}` : "VXLAN (VNI chosen by Docker)";
}

export const TOPOLOGY_HEADER = "Generated from the lab model by `npm run topology` (src/model/topology.ts). Do not edit by hand.";

/**
 * A Mermaid flowchart of the lab: the underlay and KV store on top, one subgraph per host (its
 * daemon and its containers), and one node per overlay/macvlan network that containers link to.
 * Node ids are positional (h0, c1, n2), so any names the model accepts are safe.
 */
export function topologyMermaid(plan: LabPlan, live?: TopologyLive): string {
  const v = topologyView(plan, live);
  const out: string[] = [`%% ${TOPOLOGY_HEADER}`, "flowchart TB"];
  const netId = new Map(v.networks.map((n, i) => [n.name, `n${i}`] as const));
  const hostId = new Map(v.hosts.map((h, i) => [h.name, `h${i}`] as const));

  out.push(`  underlay[[${q(`underlay ${v.underlay.subnet}\ngateway ${v.underlay.gateway}`)}]]`);
  if (v.kv) {
    out.push(`  kv[(${q(`KV store: ${v.kv.kind}\n${v.kv.address}:${v.kv.port}\n${v.kv.where}`)})]`);
  }
  if (v.swarm) {
    out.push(`  swarm>${q(`swarm (raft, no KV store)\nmanager ${v.swarm.manager}\naddress pool ${v.swarm.defaultAddrPool}`)}]`);
  }
  v.networks.forEach((n, i) => {
    if (n.driver === "overlay") {
      out.push(`  n${i}{{${q(`overlay ${n.name}\n${n.subnet}, gateway ${n.gateway}\n${vniText(n)}\ncreated on ${n.createdOn}`)}}}`);
    } else {
      out.push(`  n${i}[/${q(`macvlan ${n.name}\n${n.subnet}, gateway ${n.gateway}\nparent ${n.parent}`)}/]`);
    }
  });

  let c = 0;
  const links: string[] = [];
  if (v.kv) links.push(`  kv ---|${q(v.kv.address)}| underlay`);
  v.hosts.forEach((h, i) => {
    out.push(`  subgraph h${i}[${q(h.name)}]`, "    direction TB");
    const daemon = [`${h.name}`, `${h.interface} ${h.address}`, h.engine, h.mode];
    if (h.runsKv) daemon.push("runs the KV store");
    out.push(`    h${i}d[${q(daemon.join("\n"))}]`);
    for (const ct of h.containers) {
      const id = `c${c++}`;
      const lines = [ct.hostname === ct.name ? ct.name : `${ct.name} (hostname ${ct.hostname})`];
      for (const a of ct.attachments) {
        lines.push(`${a.network}: ${a.ip}${a.plannedIp ? ` (planned ${a.plannedIp})` : ""}`);
        const target = netId.get(a.network);
        if (target) links.push(`  ${id} ---|${q(a.ip)}| ${target}`);
      }
      out.push(`    ${id}(${q(lines.join("\n"))})`);
      links.push(`  h${i}d ~~~ ${id}`);
    }
    out.push("  end");
    links.push(`  underlay ---|${q(`${h.interface} ${h.address}`)}| h${i}d`);
    if (v.swarm) links.push(`  swarm -.- h${i}d`);
  });
  for (const n of v.networks) {
    if (n.driver !== "macvlan") continue;
    for (const r of n.ranges) {
      const h = hostId.get(r.host);
      if (h) links.push(`  ${h}d -.-|${q(`ip-range ${r.ipRange}`)}| ${netId.get(n.name)!}`);
    }
  }
  return `${[...out, ...links].join("\n")}\n`;
}

/** docs/topology.md: the Mermaid source in a fence (GitHub renders it) next to the generated SVG. */
export function topologyMarkdown(plan: LabPlan, live?: TopologyLive): string {
  const v = topologyView(plan, live);
  return [
    `# Lab topology: ${v.name} (${v.summary})`,
    "",
    `<!-- ${TOPOLOGY_HEADER} -->`,
    "",
    "Regenerate with `npm run topology -- --format markdown --out docs/topology.md` and",
    "`npm run topology -- --format svg --out docs/topology.svg` (tests/unit/topology.test.ts fails when they drift).",
    "",
    "![lab topology](topology.svg)",
    "",
    "```mermaid",
    topologyMermaid(plan, live).trimEnd(),
    "```",
    "",
  ].join("\n");
}

/** One line that says what a plan builds: the stack logs it before registering anything. */
export function planSummary(plan: LabPlan): string {
  const n = (count: number, what: string): string => `${count} ${what}${count === 1 ? "" : "s"}`;
  const mode = plan.overlayMode === "kv" && plan.kv ? `kv (${plan.kv.kind} at ${plan.kv.address}:${plan.kv.port})` : plan.overlayMode;
  const drivers = plan.networks.map((net) => `${net.name} ${net.driver}`).join(", ");
  const hosts = n(plan.hosts.length, `${plan.hostKind} host`);
  const networks = `${n(plan.networks.length, "network")} (${drivers})`;
  return `lab ${plan.name}: ${hosts}, overlay mode ${mode}, ${networks}, ${n(plan.workloads.length, "container")}, ${n(checkCount(plan.checks), "check")}`;
}

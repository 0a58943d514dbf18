// The topology pictures are generated from the plan: they show everything the plan holds, follow
// config changes, and the committed docs/topology.{md,svg} are exactly what the generator makes now.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it, vi } from "vitest";
import { main, parseArgs, UsageError } from "../../src/cli/topology.js";
import {
  buildPlan,
  type LabConfigInput,
  type LabPlan,
  mermaidLabel,
  topologyMarkdown,
  topologyMermaid,
  topologyView,
} from "../../src/model/index.js";
import { renderTopologySvg, topologySvg } from "../../src/topology/svg.js";
import type { Element } from "@xmldom/xmldom";
import { elements, groups, parseXml, svgDoc, texts } from "./svg-xml.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dev = buildPlan({});

/** The dev stack's config with some fields replaced (everything else as in DEFAULTS). */
function devConfig(over: Partial<LabConfigInput>): LabConfigInput {
  return {
    hosts: dev.hosts.map((h) => ({ name: h.name, address: h.address })),
    networks: [
      { name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" },
      { name: "mv_net1", driver: "macvlan", subnet: "198.18.0.0/24", ipRangePool: "198.18.0.128/25" },
    ],
    workloads: dev.workloads.map((w) => ({ name: w.name, host: w.host, networks: w.attachments.map((a) => a.network) })),
    ...over,
  };
}

/** Mermaid text split into its host subgraphs: subgraph label -> the lines inside it. */
function subgraphs(mermaid: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const l of mermaid.split("\n")) {
    const m = /^\s*subgraph \w+\["(.*)"\]$/.exec(l);
    if (m) {
      expect(current, "nested subgraph").toBeUndefined();
      current = [];
      out.set(m[1]!, current);
    } else if (l.trim() === "end") {
      expect(current, "end without subgraph").toBeDefined();
      current = undefined;
    } else current?.push(l);
  }
  expect(current, "unterminated subgraph").toBeUndefined();
  return out;
}

/** Every fact of the plan a picture must show, derived from the plan itself. */
function factsOf(plan: LabPlan): string[] {
  const facts = [plan.underlay.subnet, plan.underlay.gateway];
  if (plan.kv) facts.push(plan.kv.kind, `${plan.kv.address}:${plan.kv.port}`);
  for (const h of plan.hosts) {
    facts.push(
      h.name,
      h.address,
      plan.overlayMode === "kv" ? `kv: ${h.daemon.clusterStore!}` : `swarm ${plan.swarm!.manager === h.name ? "manager" : "worker"}`,
    );
  }
  for (const n of plan.networks) {
    facts.push(n.name, n.subnet);
    if (n.driver === "macvlan") facts.push(`parent ${n.parent}`, ...n.ranges.map((r) => r.ipRange));
  }
  for (const w of plan.workloads) facts.push(w.name, ...w.attachments.map((a) => a.ipv4));
  return facts;
}

describe("Mermaid picture of the dev stack (buildPlan({}))", () => {
  const text = topologyMermaid(dev);
  const hosts = subgraphs(text);

  it("is a flowchart that contains every host, network, container and address of the plan", () => {
    expect(text.split("\n")[1]).toBe("flowchart TB");
    for (const fact of factsOf(dev)) expect(text).toContain(fact);
    expect(text).toContain("KV store: consul<br/>198.18.0.2:8500");
    expect(text).toContain("underlay 198.18.0.0/24<br/>gateway 198.18.0.1");
  });

  it("has one subgraph per host, holding that host's daemon and exactly its containers", () => {
    expect([...hosts.keys()]).toEqual(dev.hosts.map((h) => h.name));
    for (const h of dev.hosts) {
      const inside = hosts.get(h.name)!.join("\n");
      expect(inside).toContain(`eth0 ${h.address}`);
      expect(inside).toContain(`kv: ${h.daemon.clusterStore!}`);
      for (const w of dev.workloads) {
        const node = new RegExp(`\\("${w.name}<br/>`);
        if (w.host === h.name) {
          expect(inside).toMatch(node);
          for (const a of w.attachments) expect(inside).toContain(`${a.network}: ${a.ipv4}`);
        } else expect(inside).not.toMatch(node);
      }
    }
  });

  it("links every container to each of its networks with its address, and every macvlan range to its host", () => {
    const nodeOf = (label: RegExp): string => {
      const line = text.split("\n").find((l) => label.test(l));
      expect(line, String(label)).toBeDefined();
      return /^\s*(\w+)/.exec(line!)![1]!;
    };
    for (const w of dev.workloads) {
      const c = nodeOf(new RegExp(`\\("${w.name}<br/>`));
      for (const a of w.attachments) {
        const n = nodeOf(new RegExp(`"(overlay|macvlan) ${a.network}<br/>`));
        expect(text).toContain(`  ${c} ---|"${a.ipv4}"| ${n}`);
      }
    }
    for (const n of dev.networks) {
      if (n.driver !== "macvlan") continue;
      const nid = nodeOf(new RegExp(`"macvlan ${n.name}<br/>`));
      for (const r of n.ranges) {
        const hid = nodeOf(new RegExp(`\\["${r.host}<br/>`));
        expect(text).toContain(`  ${hid} -.-|"ip-range ${r.ipRange}"| ${nid}`);
      }
    }
  });

  it("is deterministic and keeps every label's quotes balanced", () => {
    expect(topologyMermaid(buildPlan({}))).toBe(text);
    for (const l of text.split("\n").slice(1)) expect((l.match(/"/g) ?? []).length % 2, l).toBe(0);
  });
});

describe("the picture follows the config", () => {
  it("a third host appears with its address, its containers and its macvlan range", () => {
    const cfg = devConfig({});
    cfg.hosts!.push({ name: "host3", address: "198.18.0.13" });
    cfg.workloads!.push({ name: "test4", host: "host3", networks: ["ov_net1", "mv_net1"] });
    const plan = buildPlan(cfg);
    const text = topologyMermaid(plan);
    expect(text).not.toBe(topologyMermaid(dev));
    expect([...subgraphs(text).keys()]).toEqual(["host1", "host2", "host3"]);
    const test4 = plan.workloads.find((w) => w.name === "test4")!;
    const inside = subgraphs(text).get("host3")!.join("\n");
    expect(inside).toContain("eth0 198.18.0.13");
    for (const a of test4.attachments) expect(inside).toContain(`${a.network}: ${a.ipv4}`);
    const r3 = plan.networks.flatMap((n) => (n.driver === "macvlan" ? n.ranges : [])).find((r) => r.host === "host3")!;
    expect(text).toContain(`ip-range ${r3.ipRange}`);
    for (const fact of factsOf(plan)) expect(text).toContain(fact);
    const svg = svgDoc(topologySvg(plan));
    expect(groups(svg, "host").map((g) => g.getAttribute("data-host"))).toEqual(["host1", "host2", "host3"]);
  });

  it("a new overlay subnet replaces the old one and the containers' addresses", () => {
    const cfg = devConfig({});
    cfg.networks![0]!.subnet = "198.18.200.0/24";
    const plan = buildPlan(cfg);
    const text = topologyMermaid(plan);
    expect(text).toContain("overlay ov_net1<br/>198.18.200.0/24, gateway 198.18.200.1");
    expect(text).not.toContain("198.18.100.");
    expect(text).toContain("test1<br/>ov_net1: 198.18.200.2");
    expect(text).toContain("test2<br/>ov_net1: 198.18.200.3");
    const svgText = texts(svgDoc(topologySvg(plan))).join("\n");
    expect(svgText).toContain("198.18.200.0/24");
    expect(svgText).not.toContain("198.18.100.");
  });

  it("swarm mode shows manager/worker and no KV store", () => {
    const plan = buildPlan({ overlayMode: "swarm" });
    const text = topologyMermaid(plan);
    expect(text).toContain("host1<br/>eth0 198.18.0.11<br/>dockerd 27.5 (dind)<br/>swarm manager");
    expect(text).toContain("swarm worker");
    expect(text).not.toMatch(/^\s*kv\[/m);
    expect(text).not.toContain("kv:");
    expect(text).toContain(`swarm>"swarm (raft, no KV store)<br/>manager host1<br/>address pool ${plan.swarm!.defaultAddrPool}"]`);
    for (const fact of factsOf(plan)) expect(text).toContain(fact);
    const svg = svgDoc(topologySvg(plan));
    expect(groups(svg, "kv")).toHaveLength(0);
    expect(groups(svg, "swarm")).toHaveLength(1);
  });

  it("live facts: the VNI and the running containers' addresses replace the unknowns", () => {
    const live = { vni: { ov_net1: 4097 }, ips: { test1: { ov_net1: "198.18.100.9" } } };
    const text = topologyMermaid(dev, live);
    expect(text).toContain("VXLAN VNI 4097");
    expect(topologyMermaid(dev)).toContain("VXLAN (VNI chosen by Docker)");
    expect(text).toContain("ov_net1: 198.18.100.9 (planned 198.18.100.2)");
    expect(text).toContain(`---|"198.18.100.9"|`);
    expect(texts(svgDoc(topologySvg(dev, live))).join("\n")).toContain("VXLAN VNI 4097");
  });
});

describe("Mermaid label escaping", () => {
  it("turns quotes, markup, pipes and # into Mermaid entity codes and newlines into <br/>", () => {
    expect(mermaidLabel(`a "b" <i>&#x</i> |p| \`t\`\nnext`)).toBe(
      "a #34;b#34; #60;i#62;#38;#35;x#60;/i#62; #124;p#124; #96;t#96;<br/>next",
    );
    expect(mermaidLabel("plain 198.18.0.0/24, gw (x)")).toBe("plain 198.18.0.0/24, gw (x)");
  });
});

describe("SVG picture", () => {
  const xml = topologySvg(dev);
  const doc = svgDoc(xml);

  it("is well-formed XML (the checker does reject broken markup)", () => {
    expect(parseXml(xml.replace("</svg>", "")).problems).not.toEqual([]);
    expect(parseXml(xml.replace("<title>", "<title><b>")).problems).not.toEqual([]);
    expect(parseXml(`<svg xmlns="http://www.w3.org/2000/svg"><text>a < b</text></svg>`).problems).not.toEqual([]);
    expect(parseXml(`<svg xmlns="http://www.w3.org/2000/svg"><text>a & b</text></svg>`).problems).not.toEqual([]);
    expect(parseXml(`<svg xmlns="http://www.w3.org/2000/svg"><text>a &amp; b &#34;</text></svg>`).problems).toEqual([]);
  });

  it("shows every fact of the dev plan as text", () => {
    const all = texts(doc).join("\n");
    for (const fact of factsOf(dev)) expect(all).toContain(fact);
  });

  it("draws each container inside its host's box, with a dot on the band of each of its networks", () => {
    const bandY = new Map(
      groups(doc, "network").map((g) => [g.getAttribute("data-network"), elements(g, "line")[0]!.getAttribute("y1")] as const),
    );
    expect([...bandY.keys()]).toEqual(dev.networks.map((n) => n.name));
    const num = (e: Element, a: string): number => Number(e.getAttribute(a));
    for (const w of dev.workloads) {
      const host = groups(doc, "host").find((g) => g.getAttribute("data-host") === w.host)!;
      const hostBox = elements(host, "rect")[0]!;
      const box = elements(host, "g").find((g) => g.getAttribute("data-container") === w.name);
      expect(box, `${w.name} inside ${w.host}`).toBeDefined();
      const cRect = elements(box!, "rect")[0]!;
      expect(num(cRect, "x")).toBeGreaterThan(num(hostBox, "x"));
      expect(num(cRect, "x") + num(cRect, "width")).toBeLessThan(num(hostBox, "x") + num(hostBox, "width"));
      for (const a of w.attachments) {
        expect(texts(box!).join("\n")).toContain(`${a.network} ${a.ipv4}`);
        const att = groups(doc, "attachment").find(
          (g) => g.getAttribute("data-container") === w.name && g.getAttribute("data-network") === a.network,
        );
        expect(att, `${w.name} on ${a.network}`).toBeDefined();
        expect(elements(att!, "circle")[0]!.getAttribute("cy")).toBe(bandY.get(a.network));
        expect(texts(att!)).toEqual([a.ipv4]);
      }
    }
    expect(groups(doc, "attachment")).toHaveLength(dev.workloads.reduce((n, w) => n + w.attachments.length, 0));
  });

  it("fits everything it draws inside its canvas, and host boxes do not overlap", () => {
    const root = doc.documentElement!;
    const W = Number(root.getAttribute("width"));
    const H = Number(root.getAttribute("height"));
    expect(root.getAttribute("viewBox")).toBe(`0 0 ${W} ${H}`);
    for (const r of elements(doc, "rect")) {
      expect(Number(r.getAttribute("x")) + Number(r.getAttribute("width"))).toBeLessThanOrEqual(W);
      expect(Number(r.getAttribute("y")) + Number(r.getAttribute("height"))).toBeLessThanOrEqual(H);
    }
    for (const t of elements(doc, "text")) expect(Number(t.getAttribute("y"))).toBeLessThanOrEqual(H);
    const boxes = groups(doc, "host").map((g) => elements(g, "rect")[0]!);
    for (let i = 1; i < boxes.length; i++) {
      expect(Number(boxes[i]!.getAttribute("x"))).toBeGreaterThan(
        Number(boxes[i - 1]!.getAttribute("x")) + Number(boxes[i - 1]!.getAttribute("width")),
      );
    }
  });

  it("escapes text, so names with markup characters still give valid XML", () => {
    const v = topologyView(dev);
    const odd = renderTopologySvg({ ...v, name: `a<b>&"c'` });
    const t = svgDoc(odd).getElementsByTagName("title")[0]!;
    expect(t.textContent).toContain(`a<b>&"c'`);
  });
});

describe("committed docs are what the generator makes now", () => {
  it("docs/topology.md (regenerate: npm run topology -- --out docs/topology.md)", () => {
    const committed = readFileSync(join(ROOT, "docs/topology.md"), "utf8");
    expect(committed).toBe(topologyMarkdown(dev));
    expect(committed).toContain(`\`\`\`mermaid\n${topologyMermaid(dev)}`);
  });

  it("docs/topology.svg (regenerate: npm run topology -- --out docs/topology.svg)", () => {
    expect(readFileSync(join(ROOT, "docs/topology.svg"), "utf8")).toBe(topologySvg(dev));
  });
});

describe("npm run topology (src/cli/topology.ts)", () => {
  const dir = mkdtempSync(join(tmpdir(), "topology-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("parses flags: Mermaid by default, format from --out's extension, clear errors", () => {
    expect(parseArgs([])).toEqual({ format: "mermaid" });
    expect(parseArgs(["--out", "x.svg"])).toEqual({ format: "svg", out: "x.svg" });
    expect(parseArgs(["--out=docs/t.md"])).toEqual({ format: "markdown", out: "docs/t.md" });
    expect(parseArgs(["--config", "lab.json", "--format", "svg"])).toEqual({ format: "svg", config: "lab.json" });
    expect(() => parseArgs(["--format", "png"])).toThrow(/--format = "png": unknown format\. Fix: use one of mermaid, markdown, svg/);
    expect(() => parseArgs(["--out"])).toThrow(UsageError);
    expect(() => parseArgs(["--bogus"])).toThrow(/Unknown option '--bogus'; see --help/);
    expect(parseArgs(["--help"])).toBe("help");
  });

  it("writes the picture for a --config file, and refuses a bad config naming the field", async () => {
    const cfgPath = join(dir, "lab.json");
    const out = join(dir, "sub", "t.svg");
    const cfg = devConfig({});
    cfg.hosts!.push({ name: "host3", address: "198.18.0.13" });
    writeJson(cfgPath, cfg);
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await main(["--config", cfgPath, "--format", "svg", "--out", out])).toBe(0);
      expect(readFileSync(out, "utf8")).toBe(topologySvg(buildPlan(cfg)));
      writeJson(cfgPath, { networks: [{ name: "ov_net1", driver: "overlay", subnet: "10.0.0.0/24" }] });
      expect(await main(["--config", cfgPath])).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join("")).toMatch(
        /lab:networks\[0\]\.subnet = "10\.0\.0\.0\/24": outside the lab range/,
      );
    } finally {
      err.mockRestore();
    }
  });
});

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value));
}

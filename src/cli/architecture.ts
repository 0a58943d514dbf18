// npm run architecture: the project's layers and the imports between them, drawn from the code itself
// (every relative import of every TypeScript file outside the tests), as the Mermaid block of
// docs/architecture.md. tests/unit/architecture.test.ts fails when the committed block drifts from the
// code, or when an import runs against the layering (a lower layer importing a higher one).
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { REPO_ROOT } from "../lab/run.js";
import { type Cli, type CliStreams, parseFlags, runAsMain, runCli } from "./cli.js";

/** The layers, lowest first: a module may import its own layer's and lower layers' modules only. */
export const LAYERS: readonly { name: string; areas: readonly string[]; what: string }[] = [
  { name: "model", areas: ["src/model"], what: "config -> validated plan, specs, checks: pure data and functions" },
  { name: "clients", areas: ["src/docker", "src/tls"], what: "the Docker Engine API and CLI mappings, TLS material" },
  {
    name: "tools",
    areas: ["src/lab", "src/verify", "src/trace", "src/inspect", "src/topology", "src/view"],
    what: "what runs against real hosts: the lab driver, the verifier, trace, inspect, the pictures, the live page",
  },
  { name: "stack", areas: ["src/stack", "components"], what: "the Pulumi program's parts: steps and ComponentResources" },
  { name: "entry points", areas: ["index.ts", "src/cli", "bench"], what: "the stack program, the CLIs, the benchmark" },
];

/** The area of a repository path: its folder under src/, components/, bench/, or index.ts. */
export function areaOf(path: string): string | undefined {
  if (path === "index.ts") return "index.ts";
  const m = /^(src\/[^/]+|components|bench)\//.exec(path);
  return m ? m[1] : undefined;
}

function layerOf(area: string): number {
  return LAYERS.findIndex((l) => l.areas.includes(area));
}

function sources(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(".ts")) out.push(relative(root, p));
    }
  };
  for (const d of ["src", "components", "bench"]) walk(join(root, d));
  return ["index.ts", ...out.sort()];
}

export interface AreaEdge {
  from: string;
  to: string;
  /** How many imports run along it. */
  imports: number;
}

/** The imports between areas (an area's imports of itself left out), from every source file's text. */
export function areaEdges(root: string = REPO_ROOT): AreaEdge[] {
  const counts = new Map<string, number>();
  for (const file of sources(root)) {
    const from = areaOf(file);
    if (!from) continue;
    const text = readFileSync(join(root, file), "utf8");
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+"(\.{1,2}\/[^"]+)";/gms)) {
      const target = relative(root, resolve(dirname(join(root, file)), m[1]!)).replace(/\.js$/, ".ts");
      const to = areaOf(target);
      if (!to || to === from) continue;
      const key = `${from}\0${to}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts]
    .map(([k, imports]) => {
      const [from, to] = k.split("\0") as [string, string];
      return { from, to, imports };
    })
    .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
}

/** Imports that run against the layering: from a lower layer to a higher one. */
export function layeringViolations(edges: readonly AreaEdge[]): AreaEdge[] {
  return edges.filter((e) => layerOf(e.from) < layerOf(e.to));
}

const nodeId = (area: string): string => area.replace(/[^A-Za-z0-9]/g, "_");

/** The layers and the imports between their areas as a Mermaid flowchart, the highest layer on top. */
export function architectureMermaid(edges: readonly AreaEdge[]): string {
  const lines = [
    "%% Generated from the code's imports by `npm run architecture` (src/cli/architecture.ts). Do not edit by hand.",
    "flowchart TB",
  ];
  for (const [i, layer] of [...LAYERS.entries()].reverse()) {
    lines.push(`  subgraph L${i}["${layer.name}: ${layer.what}"]`, "    direction LR");
    for (const a of layer.areas) lines.push(`    ${nodeId(a)}["${a}"]`);
    lines.push("  end");
  }
  for (const e of edges) lines.push(`  ${nodeId(e.from)} -->|${e.imports}| ${nodeId(e.to)}`);
  return `${lines.join("\n")}\n`;
}

const BLOCK = /(<!-- architecture:begin[^>]*-->\n```mermaid\n)([\s\S]*?)(```\n<!-- architecture:end -->)/;

/** docs/architecture.md with its generated block replaced by the code's current picture. */
export function withArchitecture(markdown: string, mermaid: string): string {
  if (!BLOCK.test(markdown)) throw new Error("docs/architecture.md has no <!-- architecture:begin --> ... <!-- architecture:end --> block");
  return markdown.replace(BLOCK, (_, a: string, _old: string, b: string) => `${a}${mermaid}${b}`);
}

const USAGE = `usage: npm run architecture -- [--check]

  Draws the project's layers and the imports between them into docs/architecture.md.
  --check              change nothing; exit 1 when the committed picture is not the code's, or an
                       import runs against the layering
  -h, --help           this text

exit: 0 written (or up to date), 1 out of date or an import against the layering, 2 bad usage`;

interface ArchitectureArgs {
  check: boolean;
}

function run(args: ArchitectureArgs, { out, err }: CliStreams): number {
  const edges = areaEdges();
  const bad = layeringViolations(edges);
  for (const e of bad) err.write(`architecture: ${e.from} imports ${e.to} (${e.imports}x), a higher layer\n`);
  const file = join(REPO_ROOT, "docs/architecture.md");
  const before = readFileSync(file, "utf8");
  const after = withArchitecture(before, architectureMermaid(edges));
  if (args.check) {
    if (after !== before) err.write("architecture: docs/architecture.md is out of date; run npm run architecture\n");
    return after === before && bad.length === 0 ? 0 : 1;
  }
  if (after !== before) writeFileSync(file, after);
  out.write(`architecture: ${edges.length} arrows between ${new Set(edges.flatMap((e) => [e.from, e.to])).size} areas\n`);
  return bad.length === 0 ? 0 : 1;
}

export const architectureCli: Cli<ArchitectureArgs> = {
  name: "architecture",
  usage: USAGE,
  parse: (argv) => {
    const v = parseFlags(argv, { check: { type: "boolean" }, help: { type: "boolean", short: "h" } }).values;
    if (v.help) return "help";
    return { check: v.check ?? false };
  },
  run,
};

export function main(argv: string[]): Promise<number> {
  return runCli(architectureCli, argv);
}

runAsMain(architectureCli, import.meta.url);

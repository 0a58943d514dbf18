// npm run topology: the lab topology drawn from the model (Mermaid, docs/topology.md's markdown, or SVG),
// for any configuration.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, extname } from "node:path";
import { type LabPlan, topologyMarkdown, topologyMermaid } from "../model/index.js";
import { topologySvg } from "../topology/svg.js";
import { type Cli, type CliStreams, parseFlags, planFromArgs, runAsMain, runCli, UsageError } from "./cli.js";

export { UsageError } from "./cli.js";

export const FORMATS = ["mermaid", "markdown", "svg"] as const;
export type Format = (typeof FORMATS)[number];

export interface TopologyArgs {
  config?: string;
  format: Format;
  out?: string;
}

const USAGE = `usage: npm run topology -- [--config lab.json] [--format mermaid|markdown|svg] [--out file]

  --config FILE        lab config (JSON, the lab:* settings); default: the built-in dind dev lab
  --format F           mermaid (default), markdown (docs/topology.md's page) or svg; an --out ending in
                       .svg or .md picks it
  --out FILE           write there instead of stdout
  -h, --help           this text

exit: 0 drawn, 2 bad usage or configuration`;

export function parseArgs(argv: string[]): TopologyArgs | "help" {
  const v = parseFlags(argv, {
    config: { type: "string" },
    format: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  }).values;
  if (v.help) return "help";
  const { config, out } = v;
  let format = v.format;
  if (format === undefined) {
    const ext = out ? extname(out).toLowerCase() : "";
    format = ext === ".svg" ? "svg" : ext === ".md" ? "markdown" : "mermaid";
  }
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format = ${JSON.stringify(format)}: unknown format. Fix: use one of ${FORMATS.join(", ")}`);
  }
  return { format: format as Format, ...(config !== undefined ? { config } : {}), ...(out !== undefined ? { out } : {}) };
}

export function render(plan: LabPlan, format: Format): string {
  switch (format) {
    case "mermaid":
      return topologyMermaid(plan);
    case "markdown":
      return topologyMarkdown(plan);
    case "svg":
      return topologySvg(plan);
  }
}

function draw(args: TopologyArgs, { out, err }: CliStreams): number {
  const output = render(planFromArgs({ config: args.config }), args.format);
  if (args.out) {
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(args.out, output);
    err.write(`wrote ${args.out} (${args.format}, ${output.length} bytes)\n`);
  } else out.write(output);
  return 0;
}

export const topologyCli: Cli<TopologyArgs> = { name: "topology", usage: USAGE, parse: parseArgs, run: draw };

export function main(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  return runCli(topologyCli, argv, { out, err });
}

runAsMain(topologyCli, import.meta.url);

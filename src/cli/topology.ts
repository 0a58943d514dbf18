// npm run topology -- [--config lab.json] [--format mermaid|markdown|svg] [--out file]
// Prints (or writes) the lab topology generated from the model: Mermaid by default, for the default
// plan (buildPlan({}): the dind 2-host lab). Without --format, an --out ending in .svg or .md picks it.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, extname } from "node:path";
import { pathToFileURL } from "node:url";
import { buildPlan, LabConfigError, topologyMarkdown, topologyMermaid } from "../model/index.js";
import { topologySvg } from "../topology/svg.js";

export const FORMATS = ["mermaid", "markdown", "svg"] as const;
export type Format = (typeof FORMATS)[number];

export interface TopologyArgs {
  config?: string;
  format: Format;
  out?: string;
}

const USAGE = "usage: npm run topology -- [--config lab.json] [--format mermaid|markdown|svg] [--out file]";

export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${USAGE}`);
    this.name = "UsageError";
  }
}

export function parseArgs(argv: readonly string[]): TopologyArgs {
  let config: string | undefined;
  let format: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith("--") && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined || next.startsWith("--")) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case "--config":
        config = value();
        break;
      case "--format":
        format = value();
        break;
      case "--out":
        out = value();
        break;
      case "--help":
      case "-h":
        throw new UsageError("help");
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (format === undefined) {
    const ext = out ? extname(out).toLowerCase() : "";
    format = ext === ".svg" ? "svg" : ext === ".md" ? "markdown" : "mermaid";
  }
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format = ${JSON.stringify(format)}: unknown format. Fix: use one of ${FORMATS.join(", ")}`);
  }
  return { format: format as Format, ...(config !== undefined ? { config } : {}), ...(out !== undefined ? { out } : {}) };
}

/** The config file's JSON (a LabConfigInput: the same keys as the Pulumi config `lab:*`). */
export function readConfig(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`--config = ${JSON.stringify(path)}: cannot read it (${(e as Error).message}). Fix: pass an existing JSON file`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(
      `--config = ${JSON.stringify(path)}: not valid JSON (${(e as Error).message}). Fix: write the lab config as a JSON object`,
    );
  }
}

export function render(args: TopologyArgs): string {
  const plan = buildPlan(args.config !== undefined ? readConfig(args.config) : {});
  switch (args.format) {
    case "mermaid":
      return topologyMermaid(plan);
    case "markdown":
      return topologyMarkdown(plan);
    case "svg":
      return topologySvg(plan);
  }
}

export function main(argv: readonly string[]): number {
  try {
    const args = parseArgs(argv);
    const output = render(args);
    if (args.out) {
      mkdirSync(dirname(args.out), { recursive: true });
      writeFileSync(args.out, output);
      process.stderr.write(`wrote ${args.out} (${args.format}, ${output.length} bytes)\n`);
    } else process.stdout.write(output);
    return 0;
  } catch (e) {
    if (e instanceof UsageError && e.message.startsWith("help\n")) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (e instanceof UsageError || e instanceof LabConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) process.exitCode = main(process.argv.slice(2));

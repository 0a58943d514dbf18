// One skeleton for every CLI of the project (lab, verify, inspect, trace, topology, bench): one argument
// parser (node:util parseArgs), one UsageError, one config reader, and the same exit codes everywhere:
// 0 ok, 1 failed (the lab is not as expected, or the run failed), 2 bad usage or configuration (nothing
// was done). `--help` prints the usage, every subcommand included, and exits 0.
import { TlsMaterialError } from "../docker/tls.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { resolveEndpoints } from "../docker/endpoint.js";
import { buildPlan, type LabConfigInput, LabConfigError, type LabPlan, planChecks } from "../model/index.js";
import { parse as parseYaml } from "yaml";
import { labConfigFromPulumiJson } from "../stack/configValues.js";

/** The repository root, where the stack files are. */
const REPO_ROOT_DIR = fileURLToPath(new URL("../../", import.meta.url));

/** Bad usage or configuration: reported in one line, exit 2, nothing done. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface CliStreams {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** A command line program: how it reads its arguments and what it does with them. */
export interface Cli<A> {
  /** Its npm script (npm run <name>): the prefix of its error lines. */
  name: string;
  /** The --help text: every option and subcommand, and the exit codes. */
  usage: string;
  /** argv -> arguments, or "help"; a UsageError (or a LabConfigError) for anything wrong. */
  parse(argv: string[]): A | "help";
  /** Does the work; 0 when everything is as expected, 1 when not. */
  run(args: A, io: CliStreams): Promise<number> | number;
}

// A dind lab's client certificate missing is one too: nothing was contacted, and the message says where it comes from.
const usageProblem = (e: unknown): string | undefined =>
  e instanceof UsageError || e instanceof LabConfigError || e instanceof TlsMaterialError ? (e as Error).message : undefined;

/** Parse, run, and map what happened to the exit code (0, 1, 2); never throws. */
export async function runCli<A>(
  cli: Cli<A>,
  argv: string[],
  io: CliStreams = { out: process.stdout, err: process.stderr },
): Promise<number> {
  let args: A | "help";
  try {
    args = cli.parse(argv);
  } catch (e) {
    const usage = usageProblem(e);
    if (usage === undefined) throw e;
    io.err.write(`${cli.name}: error: ${usage}\n`);
    return 2;
  }
  if (args === "help") {
    io.out.write(`${cli.usage}\n`);
    return 0;
  }
  try {
    return await cli.run(args, io);
  } catch (e) {
    const usage = usageProblem(e);
    io.err.write(`${cli.name}: error: ${usage ?? (e instanceof Error ? e.message : String(e))}\n`);
    return usage !== undefined ? 2 : 1;
  }
}

/**
 * Runs the CLI when its module is the process's main script, and exits with its code as soon as it is
 * done: nothing the run left open (a socket to a daemon that hangs, a timer) keeps the process alive.
 * (Writes to stdout and stderr are synchronous on Linux, for files, pipes and terminals alike.)
 */
export function runAsMain<A>(cli: Cli<A>, moduleUrl: string): void {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? "").href) return;
  runCli(cli, process.argv.slice(2)).then(
    // Both streams flushed first (a pipe may still hold the last lines), then exit at once.
    (code) => process.stdout.write("", () => process.stderr.write("", () => process.exit(code))),
    (e: unknown) => {
      process.stderr.write(`${cli.name}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The options of every command that works on a lab: which lab, how to reach its hosts, and --help. */
export const LAB_OPTIONS = {
  config: { type: "string" },
  plan: { type: "string" },
  "pulumi-config": { type: "string" },
  endpoint: { type: "string", multiple: true },
  "ssh-key": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/**
 * node:util parseArgs, strict (an unknown option is an error), positionals only where the command
 * takes them; its error is a UsageError (exit 2), not a stack trace.
 */
export function parseFlags<O extends Options, P extends boolean = false>(argv: string[], options: O, allowPositionals?: P) {
  try {
    return parseArgs({ args: argv, options, strict: true as const, allowPositionals: (allowPositionals ?? false) as P });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split("\n")[0]}; see --help`);
  }
}

export interface CliIo {
  /** Reads standard input (for `--plan -`). */
  readStdin: () => string;
  /** The environment (LAB_STACK); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export const processIo: CliIo = { readStdin: () => readFileSync(0, "utf8") };

/**
 * A stack's lab settings from its file, Pulumi.<stack>.yaml in the repository (what `LAB_STACK=<stack>
 * npm run up` deploys): its `lab:` keys, without the Pulumi CLI. Secrets are not lab settings.
 */
export function labConfigFromStackFile(stack: string, root: string = REPO_ROOT_DIR): LabConfigInput {
  const file = join(root, `Pulumi.${stack}.yaml`);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, "utf8"));
  } catch (e) {
    throw new UsageError(
      `LAB_STACK=${stack}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); run from the repository with the stack's file, or pass --config`,
    );
  }
  const config = (doc as { config?: Record<string, unknown> } | null)?.config ?? {};
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k.startsWith("lab:") && !(typeof v === "object" && v !== null && "secure" in v)) input[k.slice(4)] = v;
  }
  return input as LabConfigInput;
}

export function readJson(path: string, flag: string, io: CliIo = processIo): unknown {
  let text: string;
  try {
    text = path === "-" ? io.readStdin() : readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(
      `${flag} ${path}: cannot read ${path === "-" ? "stdin" : "the file"} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${flag} ${path}: not valid JSON (${(e as Error).message}); write the file as JSON`);
  }
}

export function asPlan(raw: unknown, path: string): LabPlan {
  const p = raw as Partial<LabPlan> | null;
  const missing = (["name", "hosts", "networks", "workloads", "verification"] as const).filter(
    (k) => p === null || typeof p !== "object" || p[k] === undefined,
  );
  const checksOk = p?.checks === undefined || (Array.isArray(p.checks.pairs) && Array.isArray(p.checks.single));
  if (missing.length || !Array.isArray(p!.hosts) || !checksOk) {
    throw new UsageError(
      `--plan ${path}: not a LabPlan (missing ${missing.join(", ") || "hosts/checks lists"}); pass a plan built by buildPlan, or use --config for a lab config`,
    );
  }
  // Plans written before lab:faults and lab:expect have neither: none of them.
  const plan = { ...(p as LabPlan), faults: p!.faults ?? [], expectations: p!.expectations ?? [] };
  // The checks are a pure function of the plan: the stack leaves them out of what it hands over.
  if (plan.checks === undefined) return { ...plan, checks: planChecks(plan) };
  return { ...plan, checks: { ...plan.checks, expectations: plan.checks.expectations ?? [] } };
}

export interface PlanFlags {
  config?: string | undefined;
  plan?: string | undefined;
  "pulumi-config"?: string | undefined;
}

/**
 * The lab a command works on: --config FILE (a lab config, the lab:* settings as JSON), --plan FILE|- (a
 * built plan), --pulumi-config FILE (a stack's `pulumi config --json`), or none of them (the default
 * lab). `defaults` fills what a --config file (or the default lab) leaves out: `npm run lab` works on
 * netns labs.
 */
export function planFromArgs(v: PlanFlags, io: CliIo = processIo, defaults: LabConfigInput = {}): LabPlan {
  const given = (["config", "plan", "pulumi-config"] as const).filter((k) => v[k] !== undefined);
  if (given.length > 1) throw new UsageError(`${given.map((k) => `--${k}`).join(" and ")} are alternatives; pass only one of them`);
  const stack = (io.env ?? process.env)["LAB_STACK"];
  try {
    // The stack `npm run up` deployed (LAB_STACK), with a Pulumi stack's own defaults (its default kind is dind).
    if (given.length === 0 && stack) return buildPlan(labConfigFromStackFile(stack));
    if (v.plan !== undefined) return asPlan(readJson(v.plan, "--plan", io), v.plan);
    // A stack's config is a Pulumi stack's, whose own defaults apply (its default kind is dind).
    if (v["pulumi-config"] !== undefined) return buildPlan(labConfigFromPulumiJson(readJson(v["pulumi-config"], "--pulumi-config", io)));
    const input = v.config !== undefined ? readJson(v.config, "--config", io) : {};
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      throw new UsageError(`--config ${v.config}: not a lab config (a JSON object of lab:* settings, e.g. {"hostKind": "netns"})`);
    }
    return buildPlan({ ...defaults, ...input });
  } catch (e) {
    if (e instanceof LabConfigError) throw new UsageError(e.message);
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${given[0] ? `--${given[0]} ${v[given[0]]}: ` : ""}${(e as Error).message}`);
  }
}

/** --endpoint HOST=URL, repeatable; unknown hosts and malformed URLs are usage errors. */
export function endpointsFromArgs(plan: LabPlan, list: readonly string[] | undefined): Record<string, string> {
  const endpoints: Record<string, string> = {};
  for (const e of list ?? []) {
    const eq = e.indexOf("=");
    if (eq <= 0 || eq === e.length - 1)
      throw new UsageError(`--endpoint ${JSON.stringify(e)}: write it as HOST=URL, e.g. --endpoint host1=unix:///run/dnlab/lab/host1.sock`);
    endpoints[e.slice(0, eq)] = e.slice(eq + 1);
  }
  try {
    resolveEndpoints(plan, endpoints);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return endpoints;
}

export function positiveNumber(flag: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `${flag} ${JSON.stringify(v)}: must be a positive ${integer ? "whole number" : "number"}, e.g. ${flag} ${integer ? 16 : 20}`,
    );
  }
  return n;
}

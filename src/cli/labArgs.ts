// What the lab CLIs (verify, inspect) share: the plan from --config / --plan, --endpoint overrides,
// and one clear usage error for anything wrong.
import { readFileSync } from "node:fs";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { buildPlan, type LabPlan, LabConfigError, planChecks } from "../model/index.js";
import { resolveEndpoints } from "../docker/endpoint.js";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** node:util parseArgs, strict, with its error as a UsageError (exit 2) instead of a stack trace. */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split("\n")[0]}; see --help`);
  }
}

export interface CliIo {
  /** Reads standard input (for `--plan -`). */
  readStdin: () => string;
}

export const processIo: CliIo = { readStdin: () => readFileSync(0, "utf8") };

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
  // The checks are a pure function of the plan: the stack leaves them out of what it hands over.
  const plan = p as LabPlan;
  return plan.checks === undefined ? { ...plan, checks: planChecks(plan) } : plan;
}

/** --config FILE (a lab config), --plan FILE|- (a built plan), or neither (the default dind dev lab). */
export function planFromArgs(v: { config?: string | undefined; plan?: string | undefined }, io: CliIo = processIo): LabPlan {
  if (v.config !== undefined && v.plan !== undefined) throw new UsageError("--config and --plan are alternatives; pass only one of them");
  try {
    return v.plan !== undefined
      ? asPlan(readJson(v.plan, "--plan", io), v.plan)
      : buildPlan(v.config !== undefined ? readJson(v.config, "--config", io) : {});
  } catch (e) {
    if (e instanceof LabConfigError) throw new UsageError(e.message);
    throw e;
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

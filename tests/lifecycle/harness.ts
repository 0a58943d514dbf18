// One stack of the real project under the real engine: the Automation API's LocalWorkspace over the
// repository, a private PULUMI_HOME and file backend, and the stack's config written as a user writes
// it (Pulumi.<stack>.yaml). Every suite ends with destroy, `stack rm` and no leftovers on the machine.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { LocalWorkspace, PulumiCommand, type EngineEvent, type OpType, type Stack } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll } from "vitest";
import { describeLeftovers, downNetnsLab, isClean, labLeftovers } from "../../src/lab/netnsLab.js";
import { REPO_ROOT } from "../../src/lab/run.js";
import type { VerificationOutputs } from "../../components/verification.js";
import { buildPlan, type LabConfigInput, type LabPlan, LAST_VERIFY_FILE, readsKvRegistrations, shellJoin } from "../../src/model/index.js";
import type { VerifyReport } from "../../src/verify/report.js";
import { type EngineHome, engineHome, findEngine, findPlugins, stackFileText } from "../engine/tools.js";

export { stackFileText };

/** A test tool from scripts/test.sh's environment, else the cached build (the script builds it when missing, which takes minutes). */
export function testTool(envName: string, script: string): string {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  return execFileSync("bash", [script], { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 40 * 60_000 })
    .trim()
    .split("\n")
    .pop()!;
}

/**
 * Resolve the engine and plugins once per file; a missing piece fails the suite with what to do.
 * runUnder: a command the pulumi CLI (and so its plugins and the program's local commands) runs under,
 * e.g. scripts/images/outer-exec.sh, which runs it where a dind lab's published ports are.
 */
export function engineAndPlugins(
  plugins: readonly string[],
  runUnder?: () => string,
): { home: () => EngineHome; command: () => Promise<PulumiCommand> } {
  let home: EngineHome | undefined;
  let root = "";
  let wrapperRoot: string | undefined;
  beforeAll(() => {
    const engine = findEngine();
    if (!engine.ok) throw new Error(`npm run test:engine needs the Pulumi engine: ${engine.reason}`);
    const found = findPlugins(plugins);
    if (!found.ok) throw new Error(`npm run test:engine needs the provider plugins: ${found.reason}`);
    home = engineHome(engine.value, found.value);
    root = dirname(engine.value.binDir);
    if (runUnder) {
      // The Automation API runs <root>/bin/pulumi: a root of our own whose pulumi is the real one, run under the wrapper.
      wrapperRoot = mkdtempSync(join(tmpdir(), "dnlab-pulumi-under-"));
      mkdirSync(join(wrapperRoot, "bin"));
      const cli = join(wrapperRoot, "bin", "pulumi");
      writeFileSync(cli, `#!/bin/sh\nexec ${shellJoin([runUnder(), join(engine.value.binDir, "pulumi")])} "$@"\n`);
      chmodSync(cli, 0o755);
      root = wrapperRoot;
    }
  });
  afterAll(() => {
    home?.dispose();
    if (wrapperRoot) rmSync(wrapperRoot, { recursive: true, force: true });
  });
  return {
    home: () => {
      if (!home) throw new Error("engine home not ready");
      return home;
    },
    // The Automation API runs <root>/bin/pulumi.
    command: () => PulumiCommand.get({ root }),
  };
}

export interface Step {
  op: OpType;
  /** "<type>::<name>", e.g. "docker:index/container:Container::lab-test4". */
  resource: string;
}

export interface LabStack {
  readonly name: string;
  plan: LabPlan;
  stack: Stack;
  /** Write the stack's config file (the lab: keys as a user writes them) and re-plan. */
  configure(config: LabConfigInput): void;
  /** The preview's steps other than `same`, sorted. */
  previewSteps(opts?: { expectNoChanges?: boolean }): Promise<Step[]>;
  up(): Promise<Record<string, unknown>>;
  /** What the last up() printed (what a user sees of `pulumi up`). */
  printed: string;
  /** Where the engine keeps this stack's state and its home (PULUMI_HOME): secrets must not be there in the clear. */
  engineDirs(): string[];
  timings: Record<string, number>;
}

function stepOf(e: EngineEvent): Step | undefined {
  const m = e.resourcePreEvent?.metadata;
  // A replacement shows as replace plus its create-replacement/delete-replaced halves: keep the one.
  if (!m || ["same", "create-replacement", "delete-replaced", "discard-replaced"].includes(m.op) || m.type === "pulumi:pulumi:Stack")
    return undefined;
  return { op: m.op, resource: `${m.type}::${m.urn.slice(m.urn.lastIndexOf("::") + 2)}` };
}

/** Compare steps independent of order. */
export function sortSteps(steps: Step[]): Step[] {
  return [...steps].sort((a, b) => `${a.op} ${a.resource}`.localeCompare(`${b.op} ${b.resource}`));
}

/** What a lab on an engine other than this machine's namespaces needs from the harness (dind labs). */
export interface LabStackOptions {
  /**
   * The command the pulumi CLI runs under (see engineAndPlugins); read in beforeAll. A CLI in another
   * network namespace cannot reach the Automation API's event server (127.0.0.1 here): no engine events
   * arrive, so previewSteps sees none; read what the preview prints instead.
   */
  runUnder?: () => string;
  /** What of the lab is left after destroy, one line each (netns labs: checked by the harness itself). */
  leftovers?: () => string[];
  /** What to print when an up fails, before the lab is destroyed (netns labs: the hosts' state). */
  diagnostics?: (plan: LabPlan) => string;
}

/**
 * A stack named `stackName` whose lab is `config` (kind netns unless it says otherwise). beforeAll
 * creates it and clears a lab a crashed run left; afterAll destroys it, removes the stack and its file,
 * and fails if anything of the lab is left.
 */
export function useLabStack(
  stackName: string,
  config: LabConfigInput,
  env: Record<string, string> | (() => Record<string, string>) = {},
  opts: LabStackOptions = {},
): LabStack {
  // The consul provider serves only the KV registrations (a Consul the machine running the stack reaches).
  const initial = buildPlan({ hostKind: "netns", ...config });
  const consul = readsKvRegistrations(initial);
  const engine = engineAndPlugins(["command", "docker", ...(consul ? ["consul"] : [])], opts.runUnder);
  const file = join(REPO_ROOT, `Pulumi.${stackName}.yaml`);
  let current: LabConfigInput = { hostKind: "netns", ...config };
  const lab = {
    name: stackName,
    plan: buildPlan(current),
    stack: undefined as unknown as Stack,
    timings: {} as Record<string, number>,
    printed: "",
    engineDirs: () => [engine.home().stateDir, engine.home().env["PULUMI_HOME"]!],
    configure(next: LabConfigInput) {
      current = { hostKind: "netns", ...next };
      lab.plan = buildPlan(current);
      writeFileSync(file, stackFileText(current));
    },
    async previewSteps(opts: { expectNoChanges?: boolean } = {}) {
      const steps: Step[] = [];
      await lab.stack.preview({ ...opts, onEvent: (e) => void (stepOf(e) && steps.push(stepOf(e)!)) });
      return sortSteps(steps);
    },
    async up() {
      try {
        lab.printed = "";
        const r = await lab.stack.up({
          onOutput: (o) => {
            lab.printed += o;
            process.stdout.write(o);
          },
        });
        return Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.value]));
      } catch (e) {
        // What the hosts looked like when it failed: the lab is destroyed before anyone can look.
        console.log((opts.diagnostics ?? netnsDiagnostics)(lab.plan));
        throw e;
      }
    },
  };

  beforeAll(async () => {
    if (lab.plan.hostKind === "netns" && !isClean(labLeftovers(lab.plan))) await downNetnsLab(lab.plan);
    writeFileSync(file, stackFileText(current));
    lab.stack = await LocalWorkspace.createOrSelectStack(
      { stackName, workDir: REPO_ROOT },
      { envVars: { ...engine.home().env, ...(typeof env === "function" ? env() : env) }, pulumiCommand: await engine.command() },
    );
  }, 120_000);

  afterAll(async () => {
    const problems: string[] = [];
    try {
      if (lab.stack) {
        const t0 = Date.now();
        await lab.stack.destroy({ onOutput: (o) => process.stdout.write(o) });
        lab.timings["destroy"] = Date.now() - t0;
        await lab.stack.workspace.removeStack(stackName);
      }
    } catch (e) {
      problems.push(`destroy failed: ${(e as Error).message}`);
    } finally {
      if (existsSync(file)) rmSync(file);
    }
    if (opts.leftovers) {
      const left = opts.leftovers();
      if (left.length > 0) problems.push(`lab ${lab.plan.name} left things behind:\n${left.join("\n")}`);
    }
    if (lab.plan.hostKind === "netns") {
      const left = labLeftovers(lab.plan);
      if (!isClean(left)) {
        problems.push(`lab ${lab.plan.name} left things behind:\n${describeLeftovers(left)}`);
        await downNetnsLab(lab.plan);
      }
    }
    console.log(`[engine] ${stackName} timings (ms): ${JSON.stringify(lab.timings)}`);
    if (problems.length > 0) throw new Error(problems.join("\n"));
  }, 600_000);

  return lab;
}

const execFileAsync = promisify(execFile);

/** Each netns host's addresses, routes and the tail of its dockerd log. */
export function netnsDiagnostics(plan: LabPlan): string {
  const sh = (argv: string[]): string => {
    try {
      return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      return `(${argv.join(" ")} failed: ${(e as Error).message.split("\n")[0]})`;
    }
  };
  return plan.hosts
    .filter((h) => h.netns)
    .map((h) => {
      const net = `--net=/run/netns/${h.netns!.namespace}`;
      return [
        `--- ${h.name} (${h.netns!.namespace})`,
        sh(["nsenter", net, "ip", "-br", "addr"]),
        sh(["nsenter", net, "ip", "route"]),
        sh(["tail", "-n", "25", `${h.netns!.stateDir}/dockerd.log`]),
      ].join("\n");
    })
    .join("\n");
}

/** `npm run <script> [-- args]` from the repository, as a user types it: its exit code and all it printed. */
export async function npmRun(env: NodeJS.ProcessEnv, script: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return npmRunUnder([], env, script, ...args);
}

/** npmRun under a command prefix (e.g. scripts/images/outer-exec.sh: where a dind lab's ports are). */
export async function npmRunUnder(
  prefix: readonly string[],
  env: NodeJS.ProcessEnv,
  script: string,
  ...args: string[]
): Promise<{ code: number; out: string }> {
  const argv = [...prefix, "npm", "run", script, ...(args.length > 0 ? ["--", ...args] : [])];
  try {
    const r = await execFileAsync(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, env, maxBuffer: 64 << 20 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === "number" ? x.code : 1, out: `${x.stdout ?? ""}${x.stderr ?? ""}` };
  }
}

/** Time an async step into lab.timings[key]. */
export async function timed<T>(lab: LabStack, key: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    lab.timings[key] = Date.now() - t0;
  }
}

/** The stack's `verification` output: summary, counts per network and check type, failures. */
export type StackVerification = VerificationOutputs;
export const verificationOf = (out: Record<string, unknown>): StackVerification => out["verification"] as StackVerification;
/** The full report (every check) the stack's verify step saved for npm run inspect. */
export const savedVerification = (): VerifyReport => JSON.parse(readFileSync(join(REPO_ROOT, LAST_VERIFY_FILE), "utf8")) as VerifyReport;
/** How many checks failed unexpectedly in an up's outputs. */
export const failed = (out: Record<string, unknown>): number => verificationOf(out).summary.failed;

export const C = "docker:index/container:Container";
export const N = "docker:index/network:Network";
export const CMD = "command:local:Command";
export const W = "lab:workload:Workload";

// (a) The real engine, as users run it: `npm run up` (bring-up and the stack's verification), a
// no-change `npm run preview -- --expect-no-changes` and `npm run destroy` of a netns lab of N hosts,
// each timed from spawn to exit; beside the shell baseline doing the same bring-up (baseline/bringup.sh),
// the same checks (baseline/checks.sh) and the teardown (baseline/teardown.sh).
// The engine runs with a private PULUMI_HOME and file backend (tests/engine/tools.ts, as the lifecycle
// suites do) and a private stack whose Pulumi.<stack>.yaml sets lab:hostKind netns and lab:hosts.
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../src/lab/run.js";
import { buildPlan, type LabPlan } from "../src/model/index.js";
import { engineHome, type EngineHome, findEngine, findPlugins, stackFileText } from "../tests/engine/tools.js";
import { baselineArgs, checksArgs, teardownArgs } from "./baselineArgs.js";
import { bringupConfig } from "./configs.js";
import { BenchStopped, checkpoint, clearStale, type Log, teardown, track } from "./labs.js";
import { runTail, runTimed, type TimedRun } from "./proc.js";
import { type EngineCase, type EngineSection, TARGETS } from "./results.js";

export const ENGINE_STACK = "bench-engine";
const NPM_TIMEOUT_MS = 15 * 60_000;

export interface EngineBenchOptions {
  hosts: readonly number[];
  /** Runs of the default lab's host count (the target's case). */
  runs: number;
  /** Runs of the larger host counts. */
  bigRuns: number;
  /** Lab names: the stack's and the baseline script's. */
  oursLab: string;
  scriptLab: string;
  log: Log;
}

/** The engine and the plugins the netns stack needs, or why the section cannot run. */
export function engineOrSkip(env: NodeJS.ProcessEnv = process.env): { home: () => EngineHome } | { skipped: string } {
  const engine = findEngine(env);
  if (!engine.ok) return { skipped: `no Pulumi engine: ${engine.reason}` };
  const plugins = findPlugins(["command", "docker"], env);
  if (!plugins.ok) return { skipped: plugins.reason };
  return { home: () => engineHome(engine.value, plugins.value) };
}

/** "verify: 17 passed, 1 expected failure, 0 failed (1.23s wall)" in what `npm run up` printed. */
export function upVerifySummary(out: string): { line: string; wallMs?: number } | undefined {
  const m = /^.*(verify: \d+ passed.*?)\s*$/m.exec(out);
  if (!m) return undefined;
  const w = /\(([\d.]+)s wall/.exec(m[1]!);
  return { line: m[1]!, ...(w ? { wallMs: Number(w[1]) * 1000 } : {}) };
}

/** "(0.36s)", "(2s)", "(1m5s)" -> ms. */
function pulumiDurationMs(text: string): number | undefined {
  const m = /^(?:(\d+)m)?([\d.]+)s$/.exec(text.trim());
  return m ? (Number(m[1] ?? 0) * 60 + Number(m[2])) * 1000 : undefined;
}

/**
 * What `pulumi up` printed about its own time: "Duration: 16s" and each resource's "created (Ns)";
 * the slowest resources first (the stack and the lab's components span their children: left out).
 */
export function upTimings(out: string, top = 3): { durationMs?: number; slowest: { resource: string; ms: number }[] } {
  const d = /^Duration: (\S+)\s*$/m.exec(out);
  const durationMs = d ? pulumiDurationMs(d[1]!) : undefined;
  const created: { resource: string; ms: number }[] = [];
  for (const m of out.matchAll(/^\s*\+\s+(\S+)\s+(\S+)\s+created \(([^)]+)\)/gm)) {
    const ms = pulumiDurationMs(m[3]!);
    if (ms !== undefined && !/^(pulumi|lab):/.test(m[1]!)) created.push({ resource: m[2]!, ms });
  }
  created.sort((a, b) => b.ms - a.ms);
  return { ...(durationMs !== undefined ? { durationMs } : {}), slowest: created.slice(0, top) };
}

export async function benchEngine(o: EngineBenchOptions): Promise<EngineSection> {
  const found = engineOrSkip();
  if ("skipped" in found) {
    o.log(`  skipped: ${found.skipped}`);
    return { skipped: found.skipped, cases: [] };
  }
  const home = found.home();
  const file = join(REPO_ROOT, `Pulumi.${ENGINE_STACK}.yaml`);
  const env = { ...process.env, ...home.env, LAB_STACK: ENGINE_STACK };
  const npm = (script: string, ...args: string[]): Promise<TimedRun> =>
    runTimed(["npm", "run", script, ...(args.length ? ["--", ...args] : [])], { env, timeoutMs: NPM_TIMEOUT_MS });
  const cases: EngineCase[] = [];
  try {
    for (const hosts of o.hosts) {
      checkpoint();
      const runs = hosts <= TARGETS.upHosts ? o.runs : o.bigRuns;
      o.log(`  ${hosts} hosts (${runs} run(s): npm run up / preview / destroy, then the baseline)`);
      const ours = buildPlan(bringupConfig(o.oursLab, hosts));
      const script = buildPlan(bringupConfig(o.scriptLab, hosts));
      const c: EngineCase = {
        hosts,
        upMs: [],
        upEngineMs: [],
        previewMs: [],
        destroyMs: [],
        upVerifyMs: [],
        scriptBringupMs: [],
        scriptChecksMs: [],
        scriptTeardownMs: [],
        leftovers: [],
        errors: [],
      };
      writeFileSync(file, stackFileText(bringupConfig(o.oursLab, hosts)));
      for (let i = 1; i <= runs; i++) {
        // Alternate which goes first, so neither always runs on a machine still busy with the other's teardown.
        if (i % 2 === 1) {
          await runEngine(c, ours, i, npm, o.log);
          await runScript(c, script, i, o.log);
        } else {
          await runScript(c, script, i, o.log);
          await runEngine(c, ours, i, npm, o.log);
        }
      }
      cases.push(c);
    }
  } finally {
    await runTimed(["pulumi", "stack", "rm", "--yes", "--force", "--stack", ENGINE_STACK, "--non-interactive"], { env, timeoutMs: 60_000 });
    if (existsSync(file)) rmSync(file);
    home.dispose();
  }
  return { cases };
}

function failed(r: TimedRun): string {
  return r.timedOut ? `stopped after ${(r.wallMs / 1000).toFixed(0)} s` : `exit ${r.code}: ${runTail(r)}`;
}

async function afterTeardown(c: EngineCase, plan: LabPlan, what: string, log: Log): Promise<void> {
  // What the teardown left: the lab's own teardown removes it (not timed), labLeftovers says what it was.
  const down = await teardown(plan, log);
  if (down.error) c.errors.push(`${what}: clean-up after teardown: ${down.error}`);
  c.leftovers.push(...down.left);
}

async function runEngine(
  c: EngineCase,
  plan: LabPlan,
  i: number,
  npm: (s: string, ...a: string[]) => Promise<TimedRun>,
  log: Log,
): Promise<void> {
  checkpoint();
  await clearStale(plan, log);
  track(plan);
  try {
    const up = await npm("up");
    checkpoint();
    const v = upVerifySummary(up.stdout + up.stderr);
    if (up.code === 0) {
      c.upMs.push(up.wallMs);
      if (v?.wallMs !== undefined) c.upVerifyMs.push(v.wallMs);
      c.upVerifyLine = v?.line;
      const t = upTimings(up.stdout + up.stderr);
      if (t.durationMs !== undefined) c.upEngineMs.push(t.durationMs);
      c.upSlowest = t.slowest.map((x) => `${x.resource} ${(x.ms / 1000).toFixed(2)} s`);
      const pv = await npm("preview", "--expect-no-changes");
      checkpoint();
      if (pv.code === 0) c.previewMs.push(pv.wallMs);
      else c.errors.push(`npm run preview -- --expect-no-changes, run ${i}: ${failed(pv)}`);
      log(
        `    run ${i}: npm run up ${(up.wallMs / 1000).toFixed(2)} s (${v?.line ?? "no verify line"}), preview ${(pv.wallMs / 1000).toFixed(2)} s`,
      );
    } else {
      c.errors.push(`npm run up, run ${i}: ${failed(up)}`);
      log(`    run ${i}: npm run up FAILED: ${failed(up)}`);
    }
    const down = await npm("destroy");
    if (down.code === 0) c.destroyMs.push(down.wallMs);
    else c.errors.push(`npm run destroy, run ${i}: ${failed(down)}`);
    log(`    run ${i}: npm run destroy ${(down.wallMs / 1000).toFixed(2)} s${down.code === 0 ? "" : ` FAILED: ${failed(down)}`}`);
  } catch (e) {
    if (e instanceof BenchStopped) throw e;
    c.errors.push(`engine, run ${i}: ${(e as Error).message}`);
  } finally {
    await afterTeardown(c, plan, `npm run destroy, run ${i}`, log);
  }
}

async function runScript(c: EngineCase, plan: LabPlan, i: number, log: Log): Promise<void> {
  checkpoint();
  await clearStale(plan, log);
  track(plan);
  const timeoutMs = 10 * 60_000;
  try {
    const up = await runTimed(baselineArgs(plan), { timeoutMs });
    checkpoint();
    if (up.code === 0) {
      c.scriptBringupMs.push(up.wallMs);
      const checks = await runTimed(checksArgs(plan), { timeoutMs });
      checkpoint();
      c.scriptChecksLine = checks.stdout.trim().split("\n").pop();
      if (checks.code === 0) c.scriptChecksMs.push(checks.wallMs);
      else c.errors.push(`baseline checks, run ${i}: ${failed(checks)}`);
      log(
        `    run ${i}: baseline bring-up ${(up.wallMs / 1000).toFixed(2)} s, checks ${(checks.wallMs / 1000).toFixed(2)} s (${c.scriptChecksLine ?? "?"})`,
      );
    } else {
      c.errors.push(`baseline bring-up, run ${i}: ${failed(up)}`);
      log(`    run ${i}: baseline bring-up FAILED: ${failed(up)}`);
    }
    const down = await runTimed(teardownArgs(plan), { timeoutMs });
    if (down.code === 0) c.scriptTeardownMs.push(down.wallMs);
    else c.errors.push(`baseline teardown, run ${i}: ${failed(down)}`);
    log(`    run ${i}: baseline teardown ${(down.wallMs / 1000).toFixed(2)} s`);
  } catch (e) {
    if (e instanceof BenchStopped) throw e;
    c.errors.push(`baseline, run ${i}: ${(e as Error).message}`);
  } finally {
    await afterTeardown(c, plan, `baseline teardown, run ${i}`, log);
  }
}

// The real-lab parts of the benchmark (netns labs on this machine): bring-up ours vs the baseline
// script (a), verification wall time vs the slowest probe (b), teardown and leftovers (c).
// Every lab this module brings up is registered until it has been torn down, so the runner can tear
// everything down on failure or on a signal (cleanupAll).
import { describeLeftovers, downNetnsLab, isClean, labLeftovers, upNetnsLab } from "../src/lab/netnsLab.js";
import { spawn, type ChildProcess } from "node:child_process";
import { REPO_ROOT, type RunResult, sleep, tail } from "../src/lab/run.js";
import { applyNetworksAndWorkloads } from "../src/lab/workloads.js";
import { buildPlan, type LabPlan } from "../src/model/index.js";
import { verifyLab } from "../src/verify/index.js";
import { baselineArgs } from "./baselineArgs.js";
import { bringupConfig, ringChecks, verifyConfig } from "./configs.js";
import type { BenchResults, BringupCase, VerifyCase } from "./results.js";
import { median } from "./stats.js";

export type Log = (line: string) => void;

const active = new Map<string, LabPlan>();
/** The baseline script while it runs: stopped first on a signal, so it cannot rebuild what cleanup removes. */
const scripts = new Set<ChildProcess>();

export class BenchStopped extends Error {
  constructor() {
    super("interrupted");
    this.name = "BenchStopped";
  }
}

let stopRequested = false;

/**
 * Ctrl-C / SIGTERM: no new step starts (the next checkpoint throws BenchStopped), the baseline script
 * is stopped now, and the step in flight finishes; the runner's cleanup then tears everything down.
 */
export function requestStop(): void {
  stopRequested = true;
  for (const child of scripts) child.kill("SIGTERM");
}

function checkpoint(): void {
  if (stopRequested) throw new BenchStopped();
}

function spawnScript(argv: readonly string[], timeoutMs: number): Promise<RunResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    scripts.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("error", (e) => {
      stderr += String(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      scripts.delete(child);
      resolve({ code: signal ? null : code, stdout, stderr: signal ? `${stderr}\n(killed by ${signal})` : stderr, ms: Date.now() - t0 });
    });
  });
}

const oneLine = (m: string): string => m.split("\n").map((x) => x.trim()).filter(Boolean).join(" / ").slice(0, 400);

/**
 * Tear down a lab and report what is left of it (empty: nothing). A teardown that fails is tried once
 * more (an interrupted script, e.g. after Ctrl-C, leaves work that the next run finishes); what counts
 * is what labLeftovers finds at the end.
 */
async function teardown(plan: LabPlan, log: Log): Promise<{ ms: number; left: string[]; error?: string }> {
  const t0 = performance.now();
  let err: string | undefined;
  let firstError: string | undefined;
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      await downNetnsLab(plan);
      err = undefined;
    } catch (e) {
      err = oneLine((e as Error).message);
      firstError ??= err;
      log(`  teardown of ${plan.name} failed (attempt ${attempt}): ${err}`);
    }
    if (err === undefined && isClean(labLeftovers(plan))) break;
  }
  const ms = performance.now() - t0;
  const l = labLeftovers(plan);
  const left = isClean(l) ? [] : describeLeftovers(l).split("\n").map((x) => `${plan.name}: ${x}`);
  if (left.length === 0) active.delete(plan.name);
  else if (err !== undefined) left.unshift(`${plan.name}: teardown error: ${err}`);
  return { ms, left, ...(firstError !== undefined ? { error: firstError } : {}) };
}

/** Tear down every lab still registered (failure or signal). Returns what could not be cleaned. */
export async function cleanupAll(log: Log): Promise<string[]> {
  for (const child of scripts) child.kill("SIGTERM");
  const left: string[] = [];
  // Not concurrent with the main flow (that stopped at a checkpoint), but labs may still be registered
  // while this runs if it was forced by a second signal: loop until none is left.
  while (active.size > 0) {
    const plan = [...active.values()][0]!;
    log(`cleanup: tearing down ${plan.name}`);
    let down = await teardown(plan, log);
    // A bring-up step that was still running (it is not ours to kill) may finish after the teardown:
    // look again a moment later.
    await sleep(2000);
    if (!isClean(labLeftovers(plan))) down = await teardown(plan, log);
    left.push(...down.left);
    active.delete(plan.name);
  }
  return left;
}

/** A lab of an earlier, crashed bench run: remove it before measuring. */
async function clearStale(plan: LabPlan, log: Log): Promise<void> {
  if (isClean(labLeftovers(plan))) return;
  log(`  ${plan.name}: leftovers of an earlier run, tearing them down first`);
  await downNetnsLab(plan);
  const l = labLeftovers(plan);
  if (!isClean(l)) throw new Error(`lab ${plan.name} cannot be cleared before the bench:\n${describeLeftovers(l)}`);
}

function groupSteps(steps: { id: string; ms: number }[]): Record<string, number> {
  // Hosts and images come up in parallel: a phase lasts as long as its slowest step.
  const out: Record<string, number> = {};
  for (const st of steps) {
    const k = st.id.startsWith("host:") ? "hosts" : st.id.startsWith("image:") ? "images" : st.id;
    out[k] = Math.max(out[k] ?? 0, st.ms);
  }
  return out;
}

export interface BringupOptions {
  hosts: number;
  runs: number;
  oursLab: string;
  scriptLab: string;
  log: Log;
}

export async function benchBringup(o: BringupOptions): Promise<BringupCase> {
  const ours = buildPlan(bringupConfig(o.oursLab, o.hosts));
  const script = buildPlan(bringupConfig(o.scriptLab, o.hosts));
  const argv = baselineArgs(script);
  const c: BringupCase = { hosts: o.hosts, oursMs: [], scriptMs: [], oursSteps: {}, teardownMs: [], scriptTeardownMs: [], leftovers: [], errors: [] };
  const stepRuns: Record<string, number>[] = [];
  await clearStale(ours, o.log);
  await clearStale(script, o.log);

  const runOurs = async (i: number): Promise<void> => {
    checkpoint();
    active.set(ours.name, ours);
    try {
      const t0 = performance.now();
      const up = await upNetnsLab(ours);
      const t1 = performance.now();
      checkpoint();
      await applyNetworksAndWorkloads(ours);
      const t2 = performance.now();
      c.oursMs.push(t2 - t0);
      stepRuns.push({ ...groupSteps(up.steps), "networks+containers": t2 - t1 });
      o.log(`  run ${i}: ours ${((t2 - t0) / 1000).toFixed(2)} s`);
    } catch (e) {
      if (e instanceof BenchStopped) throw e;
      c.errors.push(`ours, run ${i}: ${(e as Error).message}`);
      o.log(`  run ${i}: ours FAILED: ${(e as Error).message.split("\n")[0]}`);
    }
    const down = await teardown(ours, o.log);
    if (down.error) c.errors.push(`teardown of ours, run ${i}: ${down.error}`);
    c.teardownMs.push(down.ms);
    c.leftovers.push(...down.left);
  };

  const runScript = async (i: number): Promise<void> => {
    checkpoint();
    active.set(script.name, script);
    const r = await spawnScript(argv, 600_000);
    checkpoint();
    if (r.code === 0) {
      c.scriptMs.push(r.ms);
      o.log(`  run ${i}: script ${(r.ms / 1000).toFixed(2)} s`);
    } else {
      c.errors.push(`script, run ${i}: exit ${r.code ?? "timeout"}: ${tail(r, 5)}`);
      o.log(`  run ${i}: script FAILED (exit ${r.code ?? "timeout"}): ${tail(r, 3)}`);
    }
    const down = await teardown(script, o.log);
    if (down.error) c.errors.push(`teardown of the script's lab, run ${i}: ${down.error}`);
    c.scriptTeardownMs.push(down.ms);
    c.leftovers.push(...down.left);
  };

  for (let i = 1; i <= o.runs; i++) {
    // Alternate which goes first, so neither always runs on a machine still busy with the other's teardown.
    if (i % 2 === 1) {
      await runOurs(i);
      await runScript(i);
    } else {
      await runScript(i);
      await runOurs(i);
    }
  }
  const keys = [...new Set(stepRuns.flatMap((x) => Object.keys(x)))];
  for (const k of keys) {
    const xs = stepRuns.map((x) => x[k]).filter((v): v is number => v !== undefined);
    if (xs.length) c.oursSteps[k] = median(xs);
  }
  return c;
}

export interface VerifyBenchOptions {
  containers: readonly number[];
  runs: number;
  lab: string;
  /** The verifier's concurrency (default: its own default, 32). */
  concurrency?: number;
  /** Further concurrency levels tried on the largest container count (is the limit concurrency or the hosts?). */
  extraConcurrency?: readonly number[];
  log: Log;
}

/** One lab with the largest container count; each smaller case verifies its first N containers. */
export async function benchVerify(o: VerifyBenchOptions): Promise<BenchResults["verify"]> {
  const max = Math.max(...o.containers);
  const plan = buildPlan(verifyConfig(o.lab, max));
  const cases: VerifyCase[] = [];
  const errors: string[] = [];
  let setupMs: number | undefined;
  let warmup: BenchResults["verify"]["warmup"];
  await clearStale(plan, o.log);
  active.set(plan.name, plan);
  try {
    const t0 = performance.now();
    checkpoint();
    await upNetnsLab(plan);
    checkpoint();
    await applyNetworksAndWorkloads(plan);
    setupMs = performance.now() - t0;
    o.log(`  lab ${plan.name} with ${max} containers up in ${(setupMs / 1000).toFixed(1)} s`);
    // Warm-up, not measured: right after bring-up the newest containers may not be known to the other
    // host yet (classic overlay: endpoints reach peers through the KV store and serf gossip), and the
    // first packets to a peer wait for ARP/VXLAN learning. Timing those would measure convergence.
    const w = await verifyLab(plan, { checks: ringChecks(plan), concurrency: o.concurrency ?? 32 });
    warmup = { wallMs: w.wallMs, failures: w.results.filter((x) => !x.ok).map((x) => `${x.id}: ${x.detail.split("\n")[0]}`) };
    o.log(`  warm-up: ${w.results.length} checks in ${(w.wallMs / 1000).toFixed(2)} s, ${w.summary.failed} unexpected`);
    const base = o.concurrency ?? 32;
    const runsOf = [
      ...o.containers.map((n) => ({ n, concurrency: base })),
      ...(o.extraConcurrency ?? []).filter((k) => k !== base).map((k) => ({ n: max, concurrency: k })),
    ];
    for (const { n, concurrency } of runsOf) {
      // Same lab name, same allocation order: the first n containers of the big lab are this plan's.
      const sub = buildPlan(verifyConfig(o.lab, n));
      const checks = ringChecks(sub);
      const c: VerifyCase = { containers: n, checks: checks.length, concurrency, wallMs: [], slowestMs: [], slowestIds: [], failures: [] };
      for (let i = 1; i <= o.runs; i++) {
        checkpoint();
        const rep = await verifyLab(sub, { checks, concurrency });
        c.wallMs.push(rep.wallMs);
        c.slowestMs.push(rep.slowest?.durationMs ?? 0);
        c.slowestIds.push(rep.slowest?.id ?? "");
        for (const x of rep.results.filter((y) => !y.ok)) c.failures.push(`run ${i}: ${x.id}: ${x.detail.split("\n")[0]}`);
        o.log(
          `  ${n} containers, ${concurrency} in flight, run ${i}: ${checks.length} checks in ${(rep.wallMs / 1000).toFixed(2)} s, slowest ${rep.slowest?.id} ${((rep.slowest?.durationMs ?? 0) / 1000).toFixed(2)} s, ${rep.summary.failed} unexpected`,
        );
      }
      cases.push(c);
    }
  } catch (e) {
    if (e instanceof BenchStopped) throw e;
    errors.push((e as Error).message);
    o.log(`  verification bench FAILED: ${(e as Error).message.split("\n")[0]}`);
  }
  const down = await teardown(plan, o.log);
  if (down.error) errors.push(`teardown: ${down.error}`);
  return { ...(setupMs !== undefined ? { setupMs } : {}), ...(warmup ? { warmup } : {}), cases, leftovers: down.left, errors };
}

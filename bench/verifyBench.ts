// (b) Verification as users run it: `npm run verify -- --config lab.json` against a real netns lab
// (2 hosts, etcd, one overlay, N busyboxes alternating between the hosts), the plan's full check list,
// timed from spawn to exit. The slowest probe is read from the report the process prints; "exit after
// report" is the time from its last byte on stdout to the process's exit.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { upNetnsLab } from "../src/lab/netnsLab.js";
import { applyNetworksAndWorkloads } from "../src/lab/workloads.js";
import { buildPlan } from "../src/model/index.js";
import { planCheckCount, verifyConfig } from "./configs.js";
import { BenchStopped, checkpoint, clearStale, type Log, teardown, track } from "./labs.js";
import { runTail, runTimed } from "./proc.js";
import type { BenchResults, VerifyCase, VerifyRun } from "./results.js";
import { parseVerifyOutput } from "./verifyOutput.js";

export interface VerifyBenchOptions {
  containers: readonly number[];
  /** Runs of the cases up to SMALL_CASE containers. */
  runs: number;
  /** Runs of the larger cases (each takes minutes with a verifier that probes one exec per check). */
  bigRuns: number;
  /** A verify process still running after this is stopped, and the case says so. */
  timeoutMs: number;
  lab: string;
  log: Log;
}

/** Cases up to this many containers get `runs` runs, larger ones `bigRuns`. */
export const SMALL_CASE = 16;

async function verifyOnce(configFile: string, o: VerifyBenchOptions): Promise<{ run: VerifyRun; failures: string[]; error?: string }> {
  const r = await runTimed(["npm", "run", "verify", "--", "--config", configFile, "--json"], { timeoutMs: o.timeoutMs });
  const exitAfterReportMs = r.lastStdoutMs === undefined ? undefined : Math.max(0, r.wallMs - r.lastStdoutMs);
  const base: VerifyRun = {
    wallMs: r.wallMs,
    code: r.code,
    timedOut: r.timedOut,
    ...(exitAfterReportMs !== undefined ? { exitAfterReportMs } : {}),
    ...(r.machineCpuMs !== undefined ? { machineCpuMs: r.machineCpuMs } : {}),
  };
  if (r.timedOut) return { run: base, failures: [], error: `stopped after ${(o.timeoutMs / 1000).toFixed(0)} s without a report` };
  try {
    const rep = parseVerifyOutput(r.stdout);
    return {
      run: {
        ...base,
        checks: rep.checks,
        ...(rep.reportedWallMs !== undefined ? { reportedWallMs: rep.reportedWallMs } : {}),
        ...(rep.slowestMs !== undefined ? { slowestMs: rep.slowestMs } : {}),
        ...(rep.slowestId !== undefined ? { slowestId: rep.slowestId } : {}),
      },
      failures: rep.failures,
    };
  } catch (e) {
    return { run: base, failures: [], error: `exit ${r.code}, report not readable: ${(e as Error).message}; ${runTail(r, 3)}` };
  }
}

/** One lab with the largest container count; each smaller case verifies a config of its first N containers. */
export async function benchVerify(o: VerifyBenchOptions): Promise<BenchResults["verify"]> {
  const max = Math.max(...o.containers);
  const plan = buildPlan(verifyConfig(o.lab, max));
  const cases: VerifyCase[] = [];
  const errors: string[] = [];
  let setupMs: number | undefined;
  let warmupMs: number | undefined;
  const dir = mkdtempSync(join(os.tmpdir(), "dnlab-bench-verify-"));
  await clearStale(plan, o.log);
  track(plan);
  try {
    const t0 = performance.now();
    checkpoint();
    await upNetnsLab(plan);
    checkpoint();
    await applyNetworksAndWorkloads(plan);
    setupMs = performance.now() - t0;
    o.log(`  lab ${plan.name} with ${max} containers up in ${(setupMs / 1000).toFixed(1)} s`);
    const fileFor = (n: number): string => {
      // Same lab name, same allocation order: the first n containers of the big lab are this config's.
      const f = join(dir, `verify-${n}.json`);
      writeFileSync(f, JSON.stringify(verifyConfig(o.lab, n)));
      return f;
    };
    // Warm-up, not measured: tsx's transform cache, the daemons' first execs, ARP/VXLAN learning.
    const min = Math.min(...o.containers);
    const w = await verifyOnce(fileFor(min), o);
    warmupMs = w.run.wallMs;
    o.log(`  warm-up (${min} containers): ${(w.run.wallMs / 1000).toFixed(2)} s${w.error ? `, ${w.error}` : ""}`);
    for (const n of [...o.containers].sort((a, b) => a - b)) {
      const file = fileFor(n);
      const planned = planCheckCount(buildPlan(verifyConfig(o.lab, n)));
      const c: VerifyCase = {
        containers: n,
        ...(planned !== undefined ? { plannedChecks: planned } : {}),
        runs: [],
        failures: [],
        errors: [],
      };
      const runs = n <= SMALL_CASE ? o.runs : o.bigRuns;
      for (let i = 1; i <= runs; i++) {
        checkpoint();
        const r = await verifyOnce(file, o);
        c.runs.push(r.run);
        c.failures.push(...r.failures.map((f) => `run ${i}: ${f}`));
        if (r.error) c.errors.push(`run ${i}: ${r.error}`);
        const x = r.run;
        o.log(
          `  ${n} containers, run ${i}: ${x.checks ?? "?"} checks, process ${(x.wallMs / 1000).toFixed(2)} s, slowest ${x.slowestId ?? "?"} ` +
            `${x.slowestMs !== undefined ? (x.slowestMs / 1000).toFixed(2) : "?"} s, exit ${x.exitAfterReportMs !== undefined ? (x.exitAfterReportMs / 1000).toFixed(2) : "?"} s after the report` +
            `${r.failures.length ? `, ${r.failures.length} unexpected` : ""}${r.error ? `; ${r.error}` : ""}`,
        );
        // The same size would time out again: the next runs add nothing but minutes.
        if (x.timedOut) break;
      }
      cases.push(c);
    }
  } catch (e) {
    if (e instanceof BenchStopped) throw e;
    errors.push((e as Error).message);
    o.log(`  verification bench FAILED: ${(e as Error).message.split("\n")[0]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const down = await teardown(plan, o.log);
  if (down.error) errors.push(`teardown: ${down.error}`);
  return {
    ...(setupMs !== undefined ? { setupMs } : {}),
    ...(warmupMs !== undefined ? { warmupMs } : {}),
    cases,
    leftovers: down.left,
    errors,
  };
}

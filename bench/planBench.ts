// (c) The plan at scale through the public API: buildPlan of 1000 containers (and a smaller size for
// the growth), each sample in a fresh process (bench/planOnce.ts) so its peak RSS is its own.
import { PLAN_CASES, type PlanCase } from "./configs.js";
import { BenchStopped, checkpoint, type Log } from "./labs.js";
import type { PlanSample } from "./planOnce.js";
import { runTail, runTimed } from "./proc.js";
import type { PlanResult } from "./results.js";

export async function benchPlan(o: { runs: number; log: Log; cases?: readonly PlanCase[] }): Promise<PlanResult[]> {
  const out: PlanResult[] = [];
  for (const c of o.cases ?? PLAN_CASES) {
    const res: PlanResult = { ...c, samples: [], processMs: [], errors: [] };
    for (let i = 1; i <= o.runs; i++) {
      checkpoint();
      try {
        const r = await runTimed([process.execPath, "--import", "tsx", "bench/planOnce.ts", JSON.stringify(c)], { timeoutMs: 10 * 60_000 });
        const last = r.stdout.trim().split("\n").pop() ?? "";
        if (r.code !== 0 || !last.startsWith("{")) {
          const why = /heap out of memory|Reached heap limit/.test(r.stderr) ? "JavaScript heap out of memory" : runTail(r, 3);
          throw new Error(`exit ${r.code ?? "timeout"} after ${(r.wallMs / 1000).toFixed(1)} s: ${why}`);
        }
        const s = JSON.parse(last) as PlanSample;
        res.samples.push(s);
        res.processMs.push(r.wallMs);
        o.log(
          `  ${c.containers} containers on ${c.hosts} hosts, run ${i}: buildPlan ${(s.buildMs / 1000).toFixed(2)} s, ` +
            `peak RSS ${s.maxRssMB.toFixed(0)} MB (${s.baseRssMB.toFixed(0)} MB before), ${s.checks ?? "?"} checks`,
        );
      } catch (e) {
        if (e instanceof BenchStopped) throw e;
        res.errors.push((e as Error).message);
        o.log(`  ${c.containers} containers, run ${i}: FAILED ${(e as Error).message}`);
        break; // the same input fails the same way
      }
    }
    out.push(res);
  }
  return out;
}

// npm run bench -- [--runs N] [--only bringup,verify,pulumi] [--hosts 2,4,8] [--containers 4,16,50]
//                  [--big-runs N] [--out DIR]
// Writes DIR/results.json and DIR/results.md (default: bench/). Root on Linux only: it brings up real
// netns labs (names bn1, bn2, bn3) and tears every one of them down again, also on failure or Ctrl-C.
import { existsSync, mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { REPO_ROOT, run, tail } from "../src/lab/run.js";
import { type EvalCase, evalCases } from "./configs.js";
import { BenchStopped, benchBringup, benchVerify, cleanupAll, requestStop } from "./labBench.js";
import { machineInfo } from "./machine.js";
import type { EvalSample } from "./pulumiEval.js";
import { type BenchResults, type EvalResult, renderMarkdown } from "./results.js";

const USAGE = `usage: npm run bench -- [options]   (as root, on Linux)

  --runs N            runs per figure; each figure is their median (default 3)
  --big-runs N        runs of the 1000-container evaluation cases (default 1: about 2 min each)
  --only LIST         sections: bringup, verify, pulumi (default: all)
  --hosts LIST        bring-up host counts (default 2,4,8)
  --containers LIST   verification container counts (default 4,16,50)
  --out DIR           where results.json and results.md go (default bench/)
  -h, --help          this text`;

/** The labs the bench brings up: ours, the baseline script's, the verification lab. */
export const BENCH_LABS = { ours: "bn1", script: "bn2", verify: "bn3" } as const;
const SECTIONS = ["bringup", "verify", "pulumi"] as const;
type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
  runs: number;
  bigRuns: number;
  only: Section[];
  hosts: number[];
  containers: number[];
  out: string;
}

export class UsageError extends Error {}

function intList(flag: string, v: string | undefined, def: number[], min: number, max: number): number[] {
  if (v === undefined) return def;
  const xs = v.split(",").map((x) => Number(x.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < min || x > max)) {
    throw new UsageError(`${flag} ${JSON.stringify(v)}: a comma-separated list of whole numbers from ${min} to ${max}, e.g. ${flag} ${def.join(",")}`);
  }
  return xs;
}

export function parseBenchArgs(argv: string[]): BenchOptions | "help" {
  let a;
  try {
    a = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        runs: { type: "string" },
        "big-runs": { type: "string" },
        only: { type: "string" },
        hosts: { type: "string" },
        containers: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split("\n")[0]}; see --help`);
  }
  const v = a.values;
  if (v.help) return "help";
  const only = v.only === undefined ? [...SECTIONS] : v.only.split(",").map((x) => x.trim());
  const bad = only.filter((x) => !(SECTIONS as readonly string[]).includes(x));
  if (bad.length || only.length === 0) throw new UsageError(`--only ${JSON.stringify(v.only)}: unknown section ${bad.join(", ")}; use a list of ${SECTIONS.join(", ")}`);
  return {
    runs: intList("--runs", v.runs, [3], 1, 50)[0]!,
    bigRuns: intList("--big-runs", v["big-runs"], [1], 1, 50)[0]!,
    only: only as Section[],
    // 8 hosts fill 198.18.0.11-18; the /24 underlay and 198.19.0.0/17 bridges hold up to 100.
    hosts: intList("--hosts", v.hosts, [2, 4, 8], 1, 100),
    // The overlay is a /24: at most 250 containers.
    containers: intList("--containers", v.containers, [4, 16, 50], 2, 250),
    out: v.out ?? join(REPO_ROOT, "bench"),
  };
}

/** Root on Linux, or a clear reason why not. */
export function privilegeProblem(platform: string = process.platform, uid: number | undefined = process.getuid?.()): string | undefined {
  if (platform !== "linux") return `the bench brings up network namespaces and dockerd's: it runs on Linux only (this is ${platform})`;
  if (uid !== 0) return `the bench must run as root (it creates network namespaces and starts dockerd); run: sudo npm run bench (uid is ${uid ?? "unknown"})`;
  return undefined;
}

const GNU_TIME = "/usr/bin/time";

export class EvalFailure extends Error {
  constructor(
    message: string,
    readonly ms: number,
    readonly maxRssMB: number | undefined,
  ) {
    super(message);
  }
}

/** One evaluation in a child process; GNU time records its peak RSS even when it dies (out of memory). */
async function evalOnce(c: EvalCase): Promise<EvalSample> {
  const dir = mkdtempSync(join(os.tmpdir(), "dnlab-bench-"));
  const timeFile = join(dir, "time");
  try {
    const child = [process.execPath, "--import", "tsx", "bench/pulumiEval.ts", JSON.stringify(c)];
    const argv = existsSync(GNU_TIME) ? [GNU_TIME, "-o", timeFile, "-f", "%M", ...child] : child;
    const r = await run(argv, { timeoutMs: 600_000 });
    const last = r.stdout.trim().split("\n").pop() ?? "";
    if (r.code === 0 && last.startsWith("{")) return JSON.parse(last) as EvalSample;
    let maxRssMB: number | undefined;
    try {
      const kb = Number(readFileSync(timeFile, "utf8").trim().split("\n").pop());
      if (Number.isFinite(kb) && kb > 0) maxRssMB = kb / 1024;
    } catch {
      /* no GNU time */
    }
    const out = tail(r, 40);
    const why = /heap out of memory|Reached heap limit/.test(out)
      ? "JavaScript heap out of memory"
      : out.replace(/\s+/g, " ").slice(-300);
    throw new EvalFailure(`exit ${r.code ?? "timeout"}: ${why}`, r.ms, maxRssMB);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchPulumi(o: BenchOptions, log: (l: string) => void, stopped: () => boolean): Promise<EvalResult[]> {
  const out: EvalResult[] = [];
  for (const c of evalCases()) {
    if (stopped()) throw new BenchStopped();
    const res: EvalResult = { case: c, samples: [], errors: [] };
    const runs = c.containers >= 1000 ? o.bigRuns : o.runs;
    for (let i = 1; i <= runs; i++) {
      try {
        const s = await evalOnce(c);
        res.samples.push(s);
        log(`  ${c.id}, run ${i}: ${(s.evalMs / 1000).toFixed(2)} s (buildPlan ${(s.planMs / 1000).toFixed(2)} s), ${s.resources} resources, peak RSS ${s.maxRssMB.toFixed(0)} MB`);
      } catch (e) {
        const f = e instanceof EvalFailure ? e : undefined;
        const at = f ? ` after ${(f.ms / 1000).toFixed(0)} s${f.maxRssMB !== undefined ? `, peak RSS ${f.maxRssMB.toFixed(0)} MB` : ""}` : "";
        res.errors.push(`${(e as Error).message}${at}`);
        log(`  ${c.id}, run ${i}: FAILED ${(e as Error).message}${at}`);
        break; // the same input fails the same way
      }
    }
    out.push(res);
  }
  return out;
}

export async function main(argv: string[]): Promise<number> {
  let o: BenchOptions | "help";
  try {
    o = parseBenchArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bench: error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (o === "help") {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const problem = privilegeProblem();
  if (problem) {
    process.stderr.write(`bench: error: ${problem}\n`);
    return 2;
  }
  const log = (l: string): void => {
    process.stderr.write(`${l}\n`);
  };
  const t0 = performance.now();
  const results: BenchResults = {
    version: 1,
    date: new Date().toISOString(),
    machine: machineInfo(),
    runs: o.runs,
    durationMs: 0,
    bringup: [],
    verify: { cases: [], leftovers: [], errors: [] },
    pulumi: [],
    errors: [],
    skipped: SECTIONS.filter((s) => !o.only.includes(s)),
  };

  // Ctrl-C / kill: the step in flight finishes, nothing new starts, everything is torn down (below, in
  // finally). A second signal tears down at once.
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      log(`bench: ${sig}: stopping after the current step, then tearing down the bench labs (again to tear down now)`);
      requestStop();
      return;
    }
    log(`bench: ${sig} again: tearing down now`);
    cleanupAll(log).then(
      (left) => {
        if (left.length) log(`bench: left behind:\n${left.join("\n")}`);
        process.exit(130);
      },
      () => process.exit(130),
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    if (o.only.includes("bringup")) {
      for (const hosts of o.hosts) {
        log(`a. bring-up, ${hosts} hosts (${o.runs} runs each, ours and script)`);
        try {
          results.bringup.push(await benchBringup({ hosts, runs: o.runs, oursLab: BENCH_LABS.ours, scriptLab: BENCH_LABS.script, log }));
        } catch (e) {
          if (e instanceof BenchStopped) throw e;
          results.errors.push(`bring-up ${hosts} hosts: ${(e as Error).message}`);
          log(`  FAILED: ${(e as Error).message}`);
        }
      }
    }
    if (o.only.includes("verify")) {
      log(`b. verification, ${o.containers.join("/")} containers (${o.runs} runs each)`);
      results.verify = await benchVerify({ containers: o.containers, runs: o.runs, lab: BENCH_LABS.verify, extraConcurrency: [128], log });
    }
    if (o.only.includes("pulumi") && signals === 0) {
      log(`d. program evaluation under Pulumi mocks (${o.runs} runs, ${o.bigRuns} for 1000 containers)`);
      results.pulumi = await benchPulumi(o, log, () => signals > 0);
    }
  } catch (e) {
    if (!(e instanceof BenchStopped)) {
      results.errors.push((e as Error).message);
      log(`bench: FAILED: ${(e as Error).message}`);
    }
  } finally {
    const left = await cleanupAll(log);
    if (left.length) results.errors.push(`left behind after cleanup: ${left.join("; ")}`);
  }
  if (signals > 0) {
    log(`bench: interrupted; results not written${results.errors.length ? `\n${results.errors.join("\n")}` : ""}`);
    return 130;
  }

  results.durationMs = performance.now() - t0;
  results.machine.loadEnd = os.loadavg()[0]!;
  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, "results.json"), JSON.stringify(results, null, 2) + "\n");
  const md = renderMarkdown(results);
  writeFileSync(join(o.out, "results.md"), md);
  process.stdout.write(md);
  log(`bench: wrote ${join(o.out, "results.json")} and ${join(o.out, "results.md")} in ${(results.durationMs / 60000).toFixed(1)} min`);
  return results.errors.length ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    async (e: unknown) => {
      process.stderr.write(`bench: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      await cleanupAll((l) => process.stderr.write(l + "\n")).catch(() => undefined);
      process.exit(1);
    },
  );
}

// npm run bench -- [--runs N] [--big-runs N] [--only engine,verify,plan] [--hosts 2,4,8]
//                  [--containers 4,16,50,200] [--verify-timeout S] [--out DIR]
// Writes DIR/results.json and DIR/results.md (default: bench/). Root on Linux only: it brings up real
// netns labs (names bn1, bn2, bn3) and tears every one of them down again, also on failure or Ctrl-C.
// Everything is measured as users run it: npm run up/preview/destroy, npm run verify, the public buildPlan.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { type Cli, parseFlags, runAsMain, runCli, UsageError } from "../src/cli/cli.js";
import { REPO_ROOT } from "../src/lab/run.js";
import { benchEngine } from "./engineBench.js";
import { BenchStopped, cleanupAll, requestStop } from "./labs.js";
import { machineInfo } from "./machine.js";
import { benchPlan } from "./planBench.js";
import { type BenchResults, renderMarkdown } from "./results.js";
import { benchVerify } from "./verifyBench.js";

const USAGE = `usage: npm run bench -- [options]   (as root, on Linux)

  --runs N            runs of the verification cases up to 16 containers, of the plan and of the
                      2-host engine case (default 3)
  --big-runs N        runs of the larger verification and engine cases (default 1: minutes each)
  --only LIST         sections: engine, verify, plan (default: all)
  --hosts LIST        engine host counts (default 2,4,8)
  --containers LIST   verification container counts (default 4,16,50,200)
  --verify-timeout S  stop a verify process after S seconds (default 360)
  --out DIR           where results.json and results.md go (default bench/)
  -h, --help          this text

The engine section needs the Pulumi CLI and the command and docker plugins (DNLAB_PULUMI_BIN,
DNLAB_PULUMI_PLUGINS, as npm run test:engine); without them it is skipped with the reason in the results.
exit: 0 every section ran, 1 a section failed (the results say which), 2 bad usage or not root, 130 interrupted`;

/** The labs the bench brings up: ours, the baseline script's, the verification lab. */
export const BENCH_LABS = { ours: "bn1", script: "bn2", verify: "bn3" } as const;
const SECTIONS = ["engine", "verify", "plan"] as const;
type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
  runs: number;
  bigRuns: number;
  only: Section[];
  hosts: number[];
  containers: number[];
  verifyTimeoutMs: number;
  out: string;
}

function intList(flag: string, v: string | undefined, def: number[], min: number, max: number): number[] {
  if (v === undefined) return def;
  const xs = v.split(",").map((x) => Number(x.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < min || x > max)) {
    throw new UsageError(
      `${flag} ${JSON.stringify(v)}: a comma-separated list of whole numbers from ${min} to ${max}, e.g. ${flag} ${def.join(",")}`,
    );
  }
  return xs;
}

export function parseBenchArgs(argv: string[]): BenchOptions | "help" {
  const a = parseFlags(argv, {
    runs: { type: "string" },
    "big-runs": { type: "string" },
    only: { type: "string" },
    hosts: { type: "string" },
    containers: { type: "string" },
    "verify-timeout": { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  const v = a.values;
  if (v.help) return "help";
  const only = v.only === undefined ? [...SECTIONS] : v.only.split(",").map((x) => x.trim());
  const bad = only.filter((x) => !(SECTIONS as readonly string[]).includes(x));
  if (bad.length || only.length === 0)
    throw new UsageError(`--only ${JSON.stringify(v.only)}: unknown section ${bad.join(", ")}; use a list of ${SECTIONS.join(", ")}`);
  return {
    runs: intList("--runs", v.runs, [3], 1, 50)[0]!,
    bigRuns: intList("--big-runs", v["big-runs"], [1], 1, 50)[0]!,
    only: only as Section[],
    // 8 hosts fill 198.18.0.11-18; the /24 underlay and 198.19.0.0/17 bridges hold up to 100.
    hosts: intList("--hosts", v.hosts, [2, 4, 8], 1, 100),
    // The overlay is a /24: at most 250 containers.
    containers: intList("--containers", v.containers, [4, 16, 50, 200], 2, 250),
    verifyTimeoutMs: intList("--verify-timeout", v["verify-timeout"], [360], 10, 7200)[0]! * 1000,
    out: v.out ?? join(REPO_ROOT, "bench"),
  };
}

/** Root on Linux, or a clear reason why not. */
export function privilegeProblem(platform: string = process.platform, uid: number | undefined = process.getuid?.()): string | undefined {
  if (platform !== "linux") return `the bench brings up network namespaces and dockerd's: it runs on Linux only (this is ${platform})`;
  if (uid !== 0)
    return `the bench must run as root (it creates network namespaces and starts dockerd); run: sudo npm run bench (uid is ${uid ?? "unknown"})`;
  return undefined;
}

async function runBench(o: BenchOptions): Promise<number> {
  const problem = privilegeProblem();
  if (problem) throw new UsageError(problem);
  const log = (l: string): void => {
    process.stderr.write(`${l}\n`);
  };
  const t0 = performance.now();
  const results: BenchResults = {
    version: 2,
    date: new Date().toISOString(),
    machine: machineInfo(),
    runs: o.runs,
    bigRuns: o.bigRuns,
    durationMs: 0,
    engine: { cases: [] },
    verify: { cases: [], leftovers: [], errors: [] },
    plan: [],
    errors: [],
    skipped: SECTIONS.filter((x) => !o.only.includes(x)),
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
    if (o.only.includes("engine")) {
      log(`a. the real engine: npm run up / preview / destroy, ${o.hosts.join("/")} hosts, beside the shell baseline`);
      try {
        results.engine = await benchEngine({
          hosts: o.hosts,
          runs: o.runs,
          bigRuns: o.bigRuns,
          oursLab: BENCH_LABS.ours,
          scriptLab: BENCH_LABS.script,
          log,
        });
      } catch (e) {
        if (e instanceof BenchStopped) throw e;
        results.errors.push(`engine: ${(e as Error).message}`);
        log(`  FAILED: ${(e as Error).message}`);
      }
    }
    if (o.only.includes("verify")) {
      log(`b. npm run verify, ${o.containers.join("/")} containers, full plans (${o.runs} run(s) up to 16 containers, ${o.bigRuns} above)`);
      results.verify = {
        ...(await benchVerify({
          containers: o.containers,
          runs: o.runs,
          bigRuns: o.bigRuns,
          timeoutMs: o.verifyTimeoutMs,
          lab: BENCH_LABS.verify,
          log,
        })),
        timeoutMs: o.verifyTimeoutMs,
      };
    }
    if (o.only.includes("plan")) {
      log(`c. buildPlan at scale (${o.runs} run(s))`);
      results.plan = await benchPlan({ runs: o.runs, log });
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
  writeFileSync(join(o.out, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  const md = renderMarkdown(results);
  writeFileSync(join(o.out, "results.md"), md);
  process.stdout.write(md);
  log(`bench: wrote ${join(o.out, "results.json")} and ${join(o.out, "results.md")} in ${(results.durationMs / 60000).toFixed(1)} min`);
  return results.errors.length ? 1 : 0;
}

export const benchCli: Cli<BenchOptions> = { name: "bench", usage: USAGE, parse: parseBenchArgs, run: runBench };

export function main(argv: string[]): Promise<number> {
  return runCli(benchCli, argv);
}

runAsMain(benchCli, import.meta.url);

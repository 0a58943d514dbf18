// One plan build through the public API (buildPlan), in its own process so that its peak memory is its
// own: the bench's plan section runs it once per sample.
//
// usage: tsx bench/planOnce.ts '{"hosts":10,"containers":1000}'   -> one JSON line (PlanSample) on stdout
import { pathToFileURL } from "node:url";
import { buildPlan } from "../src/model/index.js";
import { type PlanCase, planCheckCount, planConfig } from "./configs.js";

export interface PlanSample {
  /** buildPlan alone: validation, addresses, daemon flags, checks. */
  buildMs: number;
  /** RSS once the modules are loaded, before buildPlan. */
  baseRssMB: number;
  /** Peak RSS of the process (process.resourceUsage().maxRSS), the plan held. */
  maxRssMB: number;
  /** The plan's checks when it holds them as a list. */
  checks?: number;
}

const MB = 1024 * 1024;

function main(): void {
  const c = JSON.parse(process.argv[2] ?? "null") as PlanCase | null;
  if (!c || !Number.isInteger(c.hosts) || !Number.isInteger(c.containers)) {
    process.stderr.write(`usage: tsx bench/planOnce.ts '{"hosts":10,"containers":1000}'\n`);
    process.exit(2);
  }
  const config = planConfig(c.hosts, c.containers);
  const baseRssMB = process.memoryUsage().rss / MB;
  const t0 = performance.now();
  const plan = buildPlan(config);
  const buildMs = performance.now() - t0;
  const checks = planCheckCount(plan);
  const sample: PlanSample = {
    buildMs,
    baseRssMB,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    ...(checks !== undefined ? { checks } : {}),
  };
  process.stdout.write(`${JSON.stringify(sample)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main();

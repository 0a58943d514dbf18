// The netns labs the bench brings up, registered until they are torn down, so the runner can tear
// everything down on failure or on a signal (cleanupAll); and the stop checkpoint between steps.
import { describeLeftovers, downNetnsLab, isClean, labLeftovers } from "../src/lab/netnsLab.js";
import { sleep } from "../src/lab/run.js";
import type { LabPlan } from "../src/model/index.js";
import { stopAllRuns } from "./proc.js";

export type Log = (line: string) => void;

const active = new Map<string, LabPlan>();
export class BenchStopped extends Error {
  constructor() {
    super("interrupted");
    this.name = "BenchStopped";
  }
}

let stopRequested = false;

/**
 * Ctrl-C / SIGTERM: no new step starts (the next checkpoint throws BenchStopped), the commands in
 * flight (npm run ..., baseline scripts) are stopped now, so they cannot rebuild what cleanup removes;
 * the runner's cleanup then tears everything down.
 */
export function requestStop(): void {
  stopRequested = true;
  stopAllRuns();
}

export function checkpoint(): void {
  if (stopRequested) throw new BenchStopped();
}

const oneLine = (m: string): string =>
  m
    .split("\n")
    .map((x) => x.trim())
    .filter(Boolean)
    .join(" / ")
    .slice(0, 400);

/**
 * Tear down a lab and report what is left of it (empty: nothing). A teardown that fails is tried once
 * more (an interrupted script, e.g. after Ctrl-C, leaves work that the next run finishes); what counts
 * is what labLeftovers finds at the end.
 */
export async function teardown(plan: LabPlan, log: Log): Promise<{ ms: number; left: string[]; error?: string }> {
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
  const left = isClean(l)
    ? []
    : describeLeftovers(l)
        .split("\n")
        .map((x) => `${plan.name}: ${x}`);
  if (left.length === 0) active.delete(plan.name);
  else if (err !== undefined) left.unshift(`${plan.name}: teardown error: ${err}`);
  return { ms, left, ...(firstError !== undefined ? { error: firstError } : {}) };
}

/** Register a lab before anything of it exists: cleanupAll tears it down if the bench stops. */
export function track(plan: LabPlan): void {
  active.set(plan.name, plan);
}

/** Tear down every lab still registered (failure or signal). Returns what could not be cleaned. */
export async function cleanupAll(log: Log): Promise<string[]> {
  stopAllRuns();
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
export async function clearStale(plan: LabPlan, log: Log): Promise<void> {
  if (isClean(labLeftovers(plan))) return;
  log(`  ${plan.name}: leftovers of an earlier run, tearing them down first`);
  await downNetnsLab(plan);
  const l = labLeftovers(plan);
  if (!isClean(l)) throw new Error(`lab ${plan.name} cannot be cleared before the bench:\n${describeLeftovers(l)}`);
}

// A real netns lab for one test suite: brought up in beforeAll, torn down in afterAll, and afterAll
// fails if anything of the lab (process, namespace, mount, dir) is left on the machine.
// Call inside describeRealLab(...) so the gate has already checked root/Linux/packages.
import { afterAll, beforeAll } from "vitest";
import { describeLeftovers, downNetnsLab, isClean, labLeftovers, type NetnsLabOptions, upNetnsLab } from "../../src/lab/netnsLab.js";
import { applyNetworksAndWorkloads } from "../../src/lab/workloads.js";
import { buildPlan, type LabConfigInput, type LabPlan } from "../../src/model/index.js";

export interface RealLab {
  plan: LabPlan;
  /** Bring-up time of the hosts (switch, KV, dockerds, images), ms. */
  upMs: number;
  /** Time to create the scenario's networks and containers, ms (0 when not applied). */
  applyMs: number;
  /** Teardown time, ms (set by afterAll, or by a test that tears down itself). */
  downMs: number;
}

export interface HarnessOptions extends NetnsLabOptions {
  /** Also create the plan's networks and containers (kv mode: the overlay works right away). */
  workloads?: boolean;
  /** Print script output (default: only on failure, through the error). */
  verbose?: boolean;
}

/** Fail unless nothing of the lab is left on the machine. */
export function assertNoLeftovers(plan: LabPlan): void {
  const left = labLeftovers(plan);
  if (!isClean(left)) throw new Error(`lab ${plan.name} left things behind:\n${describeLeftovers(left)}`);
}

export function useNetnsLab(config: LabConfigInput, opts: HarnessOptions = {}): RealLab {
  const plan = buildPlan({ ...config, hostKind: "netns" });
  const lab: RealLab = { plan, upMs: 0, applyMs: 0, downMs: 0 };
  const runOpts: NetnsLabOptions = { ...opts, ...(opts.verbose ? { log: (l: string) => console.log(l) } : {}) };

  beforeAll(async () => {
    // A crashed earlier run of this suite may have left its lab behind: clear it first.
    if (!isClean(labLeftovers(plan))) await downNetnsLab(plan, runOpts);
    const up = await upNetnsLab(plan, runOpts);
    lab.upMs = up.ms;
    if (opts.workloads) {
      const t0 = Date.now();
      await applyNetworksAndWorkloads(plan, runOpts);
      lab.applyMs = Date.now() - t0;
    }
  });

  afterAll(async () => {
    const down = await downNetnsLab(plan, runOpts);
    if (lab.downMs === 0) lab.downMs = down.ms;
    assertNoLeftovers(plan);
  });

  return lab;
}

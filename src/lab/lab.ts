// The whole netns lab in one call, for every overlay mode (what `npm run lab -- up|down` runs):
//   up:   preflight (machine, kernel) -> switch, KV, hosts, images (upNetnsLab, rolls itself back)
//         -> [swarm: init on the manager, join the workers] -> networks (from their specs)
//         -> containers.
//   down: the plan's containers -> [swarm: leave, workers first, the manager last] -> downNetnsLab.
// A failure after the hosts are up rolls the lab back completely, so a failed up leaves nothing behind;
// unless the lab was already there when up started (an up over a running lab): then nothing that was
// running before is destroyed, and the error says what is up and how to remove it.
import type { LabPlan } from "../model/index.js";
import { downNetnsLab, isClean, type Leftovers, labLeftovers, type NetnsLabOptions, type StepTiming, upNetnsLab } from "./netnsLab.js";
import { recoverStuckDaemons } from "./recover.js";
import { run } from "./run.js";
import { applyFaults, removeAllFaults } from "./faults.js";
import { downSwarm, upSwarm } from "./swarm.js";
import { type ApplyOptions, applyNetworks, applyWorkloads, docker, removeContainer } from "./workloads.js";

export interface LabOptions extends NetnsLabOptions, ApplyOptions {
  /** Only the hosts (switch, KV, dockerds, images): no swarm, networks or containers. */
  hostsOnly?: boolean;
}

export type LabStage = "daemons" | "swarm" | "networks" | "containers" | "faults";

export interface LabUpResult {
  /** Preflight, switch, KV, hosts and images. */
  hostsMs: number;
  /** swarm init + joins (0 in kv mode). */
  swarmMs: number;
  /** Networks (0 with hostsOnly). */
  networksMs: number;
  /** Containers (0 with hostsOnly). */
  containersMs: number;
  /** lab:faults, applied once the lab exists (0 with hostsOnly). */
  faultsMs: number;
  ms: number;
  steps: StepTiming[];
}

export interface LabDownResult {
  ms: number;
  /** Containers removed before the teardown, ms. */
  containersMs: number;
  /** swarm leave on every node, ms (0 in kv mode). */
  swarmMs: number;
  steps: StepTiming[];
  /** Problems before the teardown (the teardown went on; what is left is judged by labLeftovers). */
  warnings: string[];
}

/** `lab up` failed after the hosts were up. */
export class LabUpError extends Error {
  constructor(
    readonly stage: LabStage,
    readonly reason: Error,
    /** The lab was torn down again and nothing of it is left on the machine. */
    readonly rolledBack: boolean,
    /** The lab was there before this up: it was left as it is. */
    readonly preexisting: boolean,
    /** What of the lab is on the machine after the failure (and the rollback). */
    readonly left: Leftovers,
    rollbackError?: Error,
  ) {
    const what = preexisting
      ? "the lab was already up when this run started, so it was not rolled back"
      : rolledBack
        ? "rolled back: nothing of the lab is left on this machine"
        : `the rollback did not remove everything${rollbackError ? ` (${rollbackError.message})` : ""}`;
    super(`lab up failed at ${stage}; ${what}.\n${reason.message}`);
    this.name = "LabUpError";
  }
}

/** Bring the whole lab up: hosts, then (swarm mode) the swarm, then networks and containers. */
export async function upLab(plan: LabPlan, opts: LabOptions = {}): Promise<LabUpResult> {
  const t0 = Date.now();
  const preexisting = !isClean(labLeftovers(plan));
  const hosts = await upNetnsLab(plan, opts);
  const result: LabUpResult = { hostsMs: hosts.ms, swarmMs: 0, networksMs: 0, containersMs: 0, faultsMs: 0, ms: 0, steps: hosts.steps };
  if (opts.hostsOnly) return { ...result, ms: Date.now() - t0 };
  let stage: LabStage = "daemons";
  try {
    // Over a running lab, first a daemon left stuck by Docker 20.10's thread-namespace defect is
    // restarted (src/lab/recover.ts): its KV writes would fail the networks and containers below.
    if (preexisting)
      await recoverStuckDaemons(plan, { ...(opts.log ? { log: (l: string) => opts.log?.(`[lab] ${l}`) } : {}), ...recoveryEnv(opts) });
    stage = "swarm";
    if (plan.overlayMode === "swarm") {
      const t = Date.now();
      await upSwarm(plan, opts);
      result.swarmMs = Date.now() - t;
    }
    stage = "networks";
    let t = Date.now();
    await applyNetworks(plan, opts);
    result.networksMs = Date.now() - t;
    stage = "containers";
    t = Date.now();
    await applyWorkloads(plan, opts);
    result.containersMs = Date.now() - t;
    stage = "faults";
    t = Date.now();
    for (const line of await applyFaults(plan, opts)) opts.log?.(`[lab] ${line}`);
    result.faultsMs = Date.now() - t;
  } catch (e) {
    const reason = e as Error;
    if (preexisting) throw new LabUpError(stage, reason, false, true, labLeftovers(plan));
    opts.log?.(`[lab] ${stage} of ${plan.name} failed; rolling the lab back`);
    let rollbackError: Error | undefined;
    try {
      await downLab(plan, opts);
    } catch (d) {
      rollbackError = d as Error;
    }
    const left = labLeftovers(plan);
    throw new LabUpError(stage, reason, isClean(left), false, left, rollbackError);
  }
  return { ...result, ms: Date.now() - t0 };
}

/** Tear the whole lab down (idempotent): containers, the swarm (workers, then the manager), the hosts. */
export async function downLab(plan: LabPlan, opts: LabOptions = {}): Promise<LabDownResult> {
  const t0 = Date.now();
  const warnings: string[] = [];
  // Faults first: a stopped daemon is started again (its containers are then removed as they should),
  // and the records kept in the lab's directory go with them.
  await removeAllFaults(plan, opts).catch((e: Error) => warnings.push(e.message));
  await Promise.all(
    plan.hosts.map(async (h) => {
      for (const w of plan.workloads.filter((x) => x.host === h.name)) await removeContainer(h, w.name);
    }),
  );
  const containersMs = Date.now() - t0;
  let swarmMs = 0;
  if (plan.overlayMode === "swarm") {
    const t = Date.now();
    for (const e of await downSwarm(plan, opts)) warnings.push(e.message);
    swarmMs = Date.now() - t;
  }
  for (const w of warnings) opts.log?.(`[lab] warning: ${w}`);
  const down = await downNetnsLab(plan, opts);
  return { ms: Date.now() - t0, containersMs, swarmMs, steps: down.steps, warnings };
}

/** What of the lab is up right now, one line each (for `lab status` and a failed `lab up`). */
export async function labStatus(plan: LabPlan, namespaces?: Set<string>): Promise<string[]> {
  const ns = namespaces ?? new Set((await run(["ip", "netns", "list"])).stdout.split("\n").map((l) => l.split(" ")[0]));
  const mark = (b: boolean): string => (b ? "up  " : "down");
  const lines: string[] = [`lab ${plan.name} (${plan.overlayMode} overlay)`];
  lines.push(
    `  ${mark(ns.has(plan.netns!.switchNamespace))} switch ${plan.netns!.switchNamespace} ${plan.underlay.gateway}/${plan.underlay.prefixLength}`,
  );
  if (plan.kv?.provision === "netns")
    lines.push(
      `  ${mark(ns.has(plan.netns!.kvNamespace))} kv     ${plan.netns!.kvNamespace} ${plan.kv.kind} ${plan.kv.address}:${plan.kv.port}`,
    );
  const hostLines = await Promise.all(
    plan.hosts.map(async (h) => {
      const info = await docker(h, ["info", "--format", "{{.Name}} {{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"], 10_000);
      if (info.code !== 0) return [`  ${mark(false)} host   ${h.netns!.namespace} ${h.address} ${h.endpoint}: dockerd not answering`];
      const [name, swarm, manager] = info.stdout.trim().split(" ");
      const ps = await docker(h, ["ps", "-a", "--format", "{{.Names}} ({{.State}})"], 10_000);
      const containers = ps.stdout.trim().split("\n").filter(Boolean);
      const swarmText = swarm === "active" ? `, swarm ${manager === "true" ? "manager" : "worker"}` : "";
      return [
        `  ${mark(true)} host   ${h.netns!.namespace} ${h.address} ${h.endpoint}: dockerd ok (hostname ${name}${swarmText}), containers: ${containers.join(", ") || "none"}`,
      ];
    }),
  );
  lines.push(...hostLines.flat());
  return lines;
}

/** The binaries the lab's hosts run (host-up --dockerd ...), as the environment a restart must see. */
function recoveryEnv(opts: LabOptions): { env: NodeJS.ProcessEnv } {
  return {
    env: {
      ...process.env,
      ...(opts.dockerdBinary ? { DNLAB_DOCKERD: opts.dockerdBinary } : {}),
      ...(opts.docker26Binary ? { DNLAB_DOCKERD_26: opts.docker26Binary } : {}),
      ...(opts.consulBinary ? { DNLAB_CONSUL: opts.consulBinary } : {}),
    },
  };
}

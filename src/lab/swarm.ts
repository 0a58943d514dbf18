// The swarm of a swarm-mode netns lab, made and unmade with the very script calls the Pulumi stack runs
// (swarmCalls of src/model/remoteCommands.ts, scripts/swarm/*.sh): init on the manager prints the worker
// join token on stdout (kept out of every log), join on every worker with SWARM_JOIN_TOKEN in its
// environment; leave on the workers first and the manager last. The overlays are created afterwards by
// applyNetworks from their specs, like the stack's networks after its SwarmCluster.
import { fillSwarmToken, type LabPlan, type ScriptCall, SWARM_TOKEN_ENV, swarmCalls, type SwarmCalls } from "../model/index.js";
import { type RunResult, runScriptCall, tail } from "./run.js";
import { DOCKER_CLI } from "./workloads.js";

export interface SwarmOptions {
  log?: (line: string) => void;
  /** Per script call (default 120 s). */
  timeoutMs?: number;
}

export interface SwarmUpResult {
  manager: string;
  workers: string[];
  ms: number;
}

/** The calls for this machine's hosts: netns hosts are reached through the Debian docker CLI. */
export function labSwarmCalls(plan: LabPlan): SwarmCalls {
  return swarmCalls(plan, { dockerCli: DOCKER_CLI });
}

export class SwarmStepError extends Error {
  constructor(
    readonly call: ScriptCall,
    readonly result: RunResult,
    what: string,
  ) {
    super(
      `swarm ${what} on ${call.host} failed (exit ${result.code ?? "timeout"}): bash ${call.script} ${call.args.join(" ")}\n${tail(result)}`,
    );
    this.name = "SwarmStepError";
  }
}

async function runCall(
  call: ScriptCall,
  what: string,
  opts: SwarmOptions,
  env: Record<string, string> = {},
  streamStdout = true,
): Promise<RunResult> {
  const log = opts.log;
  // init's stdout is the join token: never streamed; its progress (stderr) is logged when it is done.
  const r = await runScriptCall(
    call,
    { timeoutMs: opts.timeoutMs ?? 120_000, ...(log && streamStdout ? { onLine: (l: string) => log(`[swarm ${call.host}] ${l}`) } : {}) },
    env,
  );
  if (log && !streamStdout) for (const l of r.stderr.split("\n").filter(Boolean)) log(`[swarm ${call.host}] ${l}`);
  if (r.code !== 0) {
    // Never let a token reach an error message.
    const safe = streamStdout ? r : { ...r, stdout: "" };
    throw new SwarmStepError(call, safe, what);
  }
  return r;
}

/**
 * init on the manager, then every worker joins (in parallel; each one is tried, the first error is
 * rethrown once all have settled). Idempotent: init on a manager prints the token again, a node
 * already in this swarm is left alone.
 */
export async function upSwarm(plan: LabPlan, opts: SwarmOptions = {}): Promise<SwarmUpResult> {
  const t0 = Date.now();
  const calls = labSwarmCalls(plan);
  const init = await runCall(calls.init, "init", opts, {}, false);
  const token = init.stdout.trim().split("\n").pop() ?? "";
  if (!/^SWMTKN-[A-Za-z0-9-]+$/.test(token)) {
    throw new Error(
      `swarm init on ${calls.manager} printed no join token on stdout (bash ${calls.init.script} ${calls.init.args.join(" ")})`,
    );
  }
  // The join calls carry a placeholder where the token goes, as the stack fills it from init's secret stdout.
  const joinEnv = (j: ScriptCall): Record<string, string> => ({ [SWARM_TOKEN_ENV]: fillSwarmToken(j.env[SWARM_TOKEN_ENV] ?? "", token) });
  const settled = await Promise.allSettled(calls.join.map((j) => runCall(j, "join", opts, joinEnv(j))));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  return { manager: calls.manager, workers: calls.join.map((j) => j.host), ms: Date.now() - t0 };
}

/**
 * leave.sh on every node: the workers first (in parallel), the manager last. Keeps going past errors
 * and returns them (teardown goes on; a daemon that does not answer counts as gone, as leave.sh says).
 */
export async function downSwarm(plan: LabPlan, opts: SwarmOptions = {}): Promise<Error[]> {
  const calls = labSwarmCalls(plan);
  const errors: Error[] = [];
  const manager = calls.leave.filter((c) => c.host === calls.manager);
  const workers = calls.leave.filter((c) => c.host !== calls.manager);
  for (const group of [workers, manager]) {
    const settled = await Promise.allSettled(group.map((c) => runCall(c, "leave", opts)));
    for (const s of settled) if (s.status === "rejected") errors.push(s.reason as Error);
  }
  return errors;
}

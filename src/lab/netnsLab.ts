// The TypeScript driver of a netns lab: runs the steps of src/model/netnsCommands.ts in order (switch,
// KV, hosts in parallel, images in parallel) and, when any step fails, tears down everything this run
// started, so a failed bring-up never leaves a half-built lab. Also reports leftovers (processes,
// namespaces, mounts, dirs) so tests can assert that a teardown really cleaned up.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import {
  DEFAULT_NETNS_SCRIPTS_DIR,
  DOCKER26_FIX,
  type LabPlan,
  type NetnsCommandOptions,
  netnsCommands,
  netnsKvDir,
  netnsLabDirs,
  type NetnsStep,
  neighbourReservation,
  shellJoin,
  netnsSteps,
  zookeeperDockerdProblem,
} from "../model/index.js";
import { checkKernel, type KernelProbe, systemKernelProbe } from "./kernel.js";
import { run, type RunResult, tail } from "./run.js";

export interface NetnsPreflightOptions extends NetnsCommandOptions {
  /** Progress lines; the preflight's notes (things that refuse nothing) go here. */
  log?: (line: string) => void;
  /** How the kernel's features are found out (tests pass a fake); default: links in a throwaway namespace. */
  kernelProbe?: KernelProbe;
}

export interface NetnsLabOptions extends NetnsPreflightOptions {
  /** Per-step timeout; a step that hangs counts as failed. */
  stepTimeoutMs?: number;
}

export interface StepTiming {
  id: string;
  ms: number;
}

export interface UpResult {
  ms: number;
  steps: StepTiming[];
}

export interface DownResult {
  ms: number;
  steps: StepTiming[];
}

export class NetnsStepError extends Error {
  constructor(
    readonly step: string,
    readonly result: RunResult,
    argv: readonly string[],
  ) {
    super(`netns step ${step} failed (exit ${result.code ?? "timeout"}): ${shellJoin(argv)}\n${tail(result)}`);
    this.name = "NetnsStepError";
  }
}

async function runStep(id: string, argv: readonly string[], opts: NetnsLabOptions): Promise<StepTiming> {
  const log = opts.log;
  const r = await run(argv, {
    ...(opts.stepTimeoutMs !== undefined ? { timeoutMs: opts.stepTimeoutMs } : {}),
    ...(log ? { onLine: (l: string) => log(`[${id}] ${l}`) } : {}),
  });
  if (r.code !== 0) throw new NetnsStepError(id, r, argv);
  return { id, ms: r.ms };
}

/** Run steps in parallel; every step is tried, the first error is rethrown after all have settled. */
async function parallel(
  steps: NetnsStep[],
  which: "create" | "delete",
  opts: NetnsLabOptions,
  started: NetnsStep[],
): Promise<StepTiming[]> {
  started.push(...steps);
  const settled = await Promise.allSettled(steps.map((s) => runStep(s.id, s[which], opts)));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<StepTiming>).value);
}

/** Debian's dockerd; host-up.sh uses the same default. */
export const DOCKERD = "/usr/sbin/dockerd";

/**
 * Checks that need the machine (the pure plan cannot know them), run before anything is created:
 * one clear error naming the setting, the value and the fix.
 */
export async function netnsPreflight(plan: LabPlan, opts: NetnsPreflightOptions = {}): Promise<void> {
  const problems: string[] = [];
  // The dockerd the hosts will run (host-up.sh --dockerd): the cluster-store backends are compiled
  // in, so the KV check is about that very binary.
  const dockerd = opts.dockerdBinary ?? DOCKERD;
  const haveDockerd = existsSync(dockerd);
  if (!haveDockerd) {
    problems.push(
      opts.dockerdBinary === undefined
        ? `${DOCKERD} is missing. Fix: run scripts/install-deps.sh as root`
        : `dockerdBinary = ${JSON.stringify(dockerd)} does not exist. Fix: npm run dockerd:build and pass the path it prints (DNLAB_DOCKERD), or leave it unset for ${DOCKERD}`,
    );
  }
  if (opts.docker26Binary !== undefined && plan.hosts.some((h) => h.netnsDockerd === "26") && !existsSync(opts.docker26Binary)) {
    problems.push(`docker26Binary = ${JSON.stringify(opts.docker26Binary)} does not exist. Fix: ${DOCKER26_FIX}`);
  }
  const kv = plan.kv;
  if (kv && plan.overlayMode === "kv" && haveDockerd) {
    const backend = kv.kind === "zookeeper" ? "zookeeper" : kv.kind;
    const r = await run(["grep", "-q", `libkv/store/${backend}`, dockerd]);
    if (r.code !== 0) {
      const which = dockerd === DOCKERD ? `${DOCKERD} (Debian's docker.io 20.10)` : dockerd;
      problems.push(
        `lab:kv.kind = ${JSON.stringify(kv.kind)}: ${which} was built without the ${backend} cluster-store backend, ` +
          `so its daemons cannot use ${kv.url}. Fix: set kv.kind to etcd, or use a dockerd that has it: ` +
          `npm run dockerd:build, then DNLAB_DOCKERD=<the path it prints> (dockerdBinary)`,
      );
    }
  }
  if (kv?.kind === "zookeeper" && plan.overlayMode === "kv" && haveDockerd) {
    const v = await run([dockerd, "--version"]);
    const why = zookeeperDockerdProblem(v.code === 0 ? v.stdout : "");
    if (why) {
      const which = dockerd === DOCKERD ? `${DOCKERD} (Debian's docker.io 20.10)` : dockerd;
      problems.push(
        `lab:kv.kind = "zookeeper": ${which}: ${why}. Fix: npm run dockerd:build (its dockerd carries the fix), ` +
          "then DNLAB_DOCKERD=<the path it prints> (dockerdBinary); or set kv.kind to etcd or consul",
      );
    }
  }
  if (kv?.provision === "netns" && kv.kind === "zookeeper") {
    // The script's own check (scripts/netns/zookeeper.sh): the files kv-up.sh will run.
    const dir = opts.scriptsDir ?? DEFAULT_NETNS_SCRIPTS_DIR;
    const r = await run(["bash", "-c", 'source "$1"; zk_missing', "_", `${dir}/zookeeper.sh`]);
    const missing = r.code === 0 ? r.stdout.trim() : `cannot check (${r.stderr.trim()})`;
    if (missing !== "") problems.push(`lab:kv.kind = "zookeeper": ${missing.split("\n")[0]}`);
  }
  if (kv?.provision === "netns" && kv.kind === "consul" && opts.consulBinary && !existsSync(opts.consulBinary)) {
    problems.push(`consul binary ${opts.consulBinary} does not exist. Fix: npm run consul:build and pass the path it prints`);
  }
  if (existsSync("/run/containerd/containerd.sock")) {
    problems.push(
      "a system containerd listens on /run/containerd/containerd.sock and every lab dockerd would adopt it. Fix: systemctl disable --now docker containerd",
    );
  }
  // vxlan / macvlan / 802.1q for the networks the plan has (IPVS only as a note in swarm mode).
  const kernel = await checkKernel(plan, opts.kernelProbe ?? systemKernelProbe);
  problems.push(...kernel.problems);
  for (const n of kernel.notes) opts.log?.(`[preflight] note: ${n}`);
  if (problems.length > 0)
    throw new Error(`netns lab ${plan.name} cannot be created here; nothing was created:\n  - ${problems.join("\n  - ")}`);
}

/**
 * Bring the lab's hosts up. Idempotent (every script is). On failure everything this call started
 * is deleted again, in reverse order, and the original error is rethrown.
 */
export async function upNetnsLab(plan: LabPlan, opts: NetnsLabOptions = {}): Promise<UpResult> {
  const t0 = Date.now();
  const c = netnsCommands(plan, opts); // throws on bad input before anything is created
  await netnsPreflight(plan, opts);
  const started: NetnsStep[] = [];
  const timings: StepTiming[] = [];
  try {
    timings.push(...(await parallel([c.neighbours], "create", opts, started)));
    timings.push(...(await parallel([c.switch], "create", opts, started)));
    if (c.kv) timings.push(...(await parallel([c.kv], "create", opts, started)));
    timings.push(...(await parallel(c.hosts, "create", opts, started)));
    timings.push(...(await parallel(c.images, "create", opts, started)));
  } catch (e) {
    opts.log?.(`[lab] bring-up of ${plan.name} failed; tearing down ${started.map((s) => s.id).join(", ")}`);
    const undo = await deleteSteps(started, opts);
    if (undo.errors.length > 0) {
      const msg = undo.errors.map((x) => x.message).join("\n");
      throw new Error(`${(e as Error).message}\n\nand the teardown after it failed too:\n${msg}`);
    }
    throw e;
  }
  return { ms: Date.now() - t0, steps: timings };
}

/** Delete steps in reverse bring-up order (per kind in parallel); keeps going past errors. */
async function deleteSteps(steps: NetnsStep[], opts: NetnsLabOptions): Promise<{ timings: StepTiming[]; errors: Error[] }> {
  const order: NetnsStep["kind"][] = ["image", "host", "kv", "switch", "neighbours"];
  const timings: StepTiming[] = [];
  const errors: Error[] = [];
  for (const kind of order) {
    const group = steps.filter((s) => s.kind === kind);
    const settled = await Promise.allSettled(group.map((s) => runStep(s.id, s.delete, opts)));
    for (const r of settled) {
      if (r.status === "fulfilled") timings.push(r.value);
      else errors.push(r.reason as Error);
    }
  }
  return { timings, errors };
}

/** Tear the whole lab down (idempotent: tearing down a lab that is not there succeeds). */
export async function downNetnsLab(plan: LabPlan, opts: NetnsLabOptions = {}): Promise<DownResult> {
  const t0 = Date.now();
  // Neither a consul nor a Docker 26 binary is needed to stop them; placeholders keep netnsCommands happy.
  const tools = { ...opts, consulBinary: opts.consulBinary ?? "consul", docker26Binary: opts.docker26Binary ?? "dockerd" };
  const { timings, errors } = await deleteSteps(netnsSteps(plan, tools), opts);
  if (errors.length > 0) throw new Error(`teardown of netns lab ${plan.name} failed:\n${errors.map((e) => e.message).join("\n")}`);
  return { ms: Date.now() - t0, steps: timings };
}

export interface LabProcess {
  pid: number;
  cmd: string;
  why: string;
}

export interface Leftovers {
  processes: LabProcess[];
  namespaces: string[];
  mounts: string[];
  dirs: string[];
  /** The lab's reservation in the kernel's neighbour table (scripts/netns/neigh-table.sh). */
  reservations: string[];
}

export function isClean(l: Leftovers): boolean {
  return l.processes.length + l.namespaces.length + l.mounts.length + l.dirs.length + l.reservations.length === 0;
}

export function describeLeftovers(l: Leftovers): string {
  const parts: string[] = [];
  for (const p of l.processes) parts.push(`process ${p.pid} (${p.why}): ${p.cmd}`);
  for (const n of l.namespaces) parts.push(`namespace ${n}`);
  for (const m of l.mounts) parts.push(`mount ${m}`);
  for (const d of l.dirs) parts.push(`dir ${d}`);
  for (const r of l.reservations) parts.push(`neighbour-table reservation ${r}`);
  return parts.length === 0 ? "nothing left" : parts.join("\n");
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function liveCmdline(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The state is the field after the parenthesised command name.
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  if (state === "Z") return undefined;
  const cmd = readText(`/proc/${pid}/cmdline`);
  return cmd === undefined ? undefined : cmd.split("\0").join(" ").trim();
}

/**
 * What of this lab still exists on the machine: processes whose pid is recorded (dockerd pidfiles,
 * the KV pid) or whose command line names the lab's dirs (dockerd, containerd, containerd-shims, KV),
 * network namespaces named <lab>-*, mounts under the lab's dirs or of its namespaces, and the dirs.
 */
export function labLeftovers(plan: LabPlan): Leftovers {
  const dirs = plan.netns ? netnsLabDirs(plan) : [];
  const markers = dirs.map((d) => `${d}/`);
  const processes = new Map<number, LabProcess>();
  const recorded: [string, string][] = [];
  for (const h of plan.hosts) if (h.netns) recorded.push([h.netns.pidFile, `dockerd of ${h.name} (pidfile)`]);
  if (plan.netns) recorded.push([`${netnsKvDir(plan)}/kv.pid`, "KV store (recorded pid)"]);
  for (const [file, why] of recorded) {
    const pid = Number((readText(file) ?? "").trim());
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const cmd = liveCmdline(pid);
    if (cmd !== undefined) processes.set(pid, { pid, cmd, why });
  }
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid || processes.has(pid)) continue;
    const cmd = liveCmdline(pid);
    if (cmd === undefined) continue;
    const m = markers.find((mk) => cmd.includes(mk));
    if (m) processes.set(pid, { pid, cmd, why: `command line names ${m}` });
  }

  const nsPrefix = `${plan.name}-`;
  const namespaces = existsSync("/run/netns")
    ? readdirSync("/run/netns")
        .filter((n) => n.startsWith(nsPrefix))
        .sort()
    : [];

  const mounts: string[] = [];
  for (const line of (readText("/proc/self/mountinfo") ?? "").split("\n")) {
    const mp = line.split(" ")[4];
    if (mp === undefined) continue;
    const point = mp.replace(/\\040/g, " ");
    const ours = dirs.some((d) => point === d || point.startsWith(`${d}/`)) || point.startsWith(`/run/netns/${nsPrefix}`);
    if (ours) mounts.push(point);
  }

  return {
    processes: [...processes.values()].sort((a, b) => a.pid - b.pid),
    namespaces,
    mounts: [...new Set(mounts)].sort(),
    dirs: dirs.filter((d) => existsSync(d)),
    reservations: [neighbourReservation(plan)].filter((f) => existsSync(f)),
  };
}

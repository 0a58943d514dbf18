// The scenario's networks and containers on real daemons, through the Debian docker CLI
// (/usr/bin/docker -H <endpoint from the plan>), each made from the model's spec (src/model/specs.ts,
// mapped by src/docker/cli.ts), as the stack's components make them from the same specs: every network
// on the hosts networkHosts() names (an overlay on its creator, in swarm mode on the manager once the
// swarm is formed; a macvlan on every host with that host's --ip-range), every container with its
// addresses and aliases. Idempotent: what exists is left alone, and a network that exists but differs
// from its spec is an error (it would give the lab other addresses than the plan's).
//
// A step that fails is retried while peers converge; a failed `docker run` may have created the
// container before failing to start it, so every failed attempt removes that half-created container
// first (else the retry fails on "Conflict. The container name is already in use").
import { connectArgv, containerArgvs, DOCKER_CLI, type InspectedNetwork, networkCreateArgv, networkDifferences } from "../docker/cli.js";
import {
  type HostPlan,
  type LabPlan,
  type NetworkPlan,
  networkHosts,
  networkSpec,
  type WorkloadPlan,
  workloadSpec,
} from "../model/index.js";
import { run, type RunResult, sleep, tail } from "./run.js";

export { DOCKER_CLI };

export function hostOf(plan: LabPlan, name: string): HostPlan {
  const h = plan.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no host named ${JSON.stringify(name)} in lab ${plan.name} (hosts: ${plan.hosts.map((x) => x.name).join(", ")})`);
  return h;
}

/** docker CLI argv against one host of the plan. */
export function dockerArgv(host: HostPlan, args: readonly string[]): string[] {
  return [DOCKER_CLI, "-H", host.endpoint, ...args];
}

export async function docker(host: HostPlan, args: readonly string[], timeoutMs = 60_000): Promise<RunResult> {
  return run(dockerArgv(host, args), { timeoutMs });
}

/** Like docker(), but a non-zero exit is an error naming the host and the command. */
export async function dockerOk(host: HostPlan, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  const r = await docker(host, args, timeoutMs);
  if (r.code !== 0) throw new Error(`docker on ${host.name} failed: docker ${args.join(" ")}\n${tail(r)}`);
  return r.stdout;
}

/**
 * Is there a container or network of exactly this name? `docker inspect` falls back to an ID prefix,
 * and names like c10 are hex: a missing c10 would be "found" as the container whose ID starts c10.
 */
async function exists(host: HostPlan, kind: "network" | "container", name: string): Promise<boolean> {
  const r = await docker(host, [kind, "inspect", "--format", "{{.Name}}", name]);
  return r.code === 0 && r.stdout.trim() === (kind === "container" ? `/${name}` : name);
}

/** Errors no retry can fix: the attempt is not repeated (the run's output names the cause). */
const PERMANENT =
  /invalid reference format|Unable to find image|pull access denied|No such image|does not belong to any of this network's subnets|unknown flag|invalid argument/i;

export interface RetryOptions {
  /** Runs after every failed attempt (the last one too): undo what the attempt may have left. */
  cleanup?: () => Promise<void>;
  /** Pause between attempts, ms (default 500). */
  pauseMs?: number;
}

/**
 * Retry a step that depends on a peer becoming ready (the KV connection, swarm gossip) until
 * timeoutMs; errors matching PERMANENT end it at once.
 */
export async function retry<T>(what: string, timeoutMs: number, f: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (e) {
      if (opts.cleanup) await opts.cleanup();
      const msg = (e as Error).message;
      if (PERMANENT.test(msg)) throw new Error(`${what}: failed (attempt ${attempt}, not retried: no retry can fix this): ${msg}`);
      if (Date.now() >= deadline) throw new Error(`${what}: still failing after ${timeoutMs} ms (${attempt} attempts): ${msg}`);
      await sleep(opts.pauseMs ?? 500);
    }
  }
}

/** docker rm -f, quietly: an absent container is fine (used to undo a half-created one). */
export async function removeContainer(host: HostPlan, name: string): Promise<void> {
  await docker(host, ["rm", "-f", name], 30_000);
}

export interface ApplyOptions {
  log?: (line: string) => void;
  /** How long to wait for the overlay to appear on the other hosts / for the KV connection. */
  convergeTimeoutMs?: number;
}

/** The network as it exists on a host, or undefined. */
async function inspectNetwork(host: HostPlan, name: string): Promise<InspectedNetwork | undefined> {
  const r = await docker(host, ["network", "inspect", "--format", "{{json .}}", name]);
  if (r.code !== 0) return undefined;
  const n = JSON.parse(r.stdout) as InspectedNetwork;
  return n.Name === name ? n : undefined;
}

/** One network on one host, as its spec says: created if absent, refused if it exists otherwise. */
async function applyNetwork(plan: LabPlan, net: NetworkPlan, host: HostPlan, opts: ApplyOptions): Promise<void> {
  const spec = networkSpec(net, host.name);
  const have = await inspectNetwork(host, net.name);
  if (have) {
    const diffs = networkDifferences(have, spec);
    if (diffs.length > 0) {
      throw new Error(
        `network ${net.name} exists on ${host.name} with ${diffs.join(", ")}; remove it (docker -H ${host.endpoint} network rm ${net.name}) or rename the lab's network`,
      );
    }
    return;
  }
  const argv = networkCreateArgv(spec);
  opts.log?.(`[${host.name}] docker ${argv.join(" ")}`);
  // Right after start-up a kv-mode daemon may not have connected to the KV store yet.
  const wait = net.driver === "overlay" && plan.overlayMode === "kv" ? (opts.convergeTimeoutMs ?? 30_000) : 0;
  await retry(`create ${net.driver} ${net.name} on ${host.name}`, wait, () => dockerOk(host, argv));
}

/** Create the plan's networks on the hosts their specs name (every host is tried; the first error is rethrown). */
export async function applyNetworks(plan: LabPlan, opts: ApplyOptions = {}): Promise<void> {
  for (const net of plan.networks) {
    const settled = await Promise.allSettled(networkHosts(net).map((h) => applyNetwork(plan, net, hostOf(plan, h), opts)));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }
}

/** Wait until a kv-mode overlay created on one host is visible on another (through the KV store). */
export async function waitForNetwork(host: HostPlan, network: string, timeoutMs = 30_000): Promise<void> {
  await retry(`network ${network} on ${host.name}`, timeoutMs, () =>
    dockerOk(host, ["network", "inspect", "--format", "{{.Scope}}", network]),
  );
}

/** Create (or start) one container of the plan, from its spec, as the docker provider makes it. */
async function applyWorkload(plan: LabPlan, w: WorkloadPlan, opts: ApplyOptions): Promise<void> {
  const wait = opts.convergeTimeoutMs ?? 30_000;
  const h = hostOf(plan, w.host);
  const spec = workloadSpec(w);
  for (const a of w.attachments) {
    const net = plan.networks.find((n) => n.name === a.network);
    if (net?.driver === "overlay" && plan.overlayMode === "kv") await waitForNetwork(h, net.name, wait);
  }
  if (await exists(h, "container", w.name)) {
    // Ours from an earlier run: join what it misses (a network the config added), and run it.
    const joined = (
      await dockerOk(h, ["container", "inspect", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", w.name])
    )
      .trim()
      .split(/\s+/);
    for (const a of spec.attachments.filter((x) => !joined.includes(x.network))) await dockerOk(h, connectArgv(w.name, a));
    const state = (await dockerOk(h, ["container", "inspect", "--format", "{{.State.Running}}", w.name])).trim();
    if (state !== "true") await dockerOk(h, ["start", w.name]);
    return;
  }
  // A step can fail after the container exists (starting it: address in use, attaching to a swarm
  // network): the container goes before the next attempt, and after the last.
  await retry(
    `create ${w.name} on ${h.name}`,
    wait,
    async () => {
      for (const argv of containerArgvs(spec)) {
        opts.log?.(`[${h.name}] docker ${argv.join(" ")}`);
        await dockerOk(h, argv);
      }
    },
    { cleanup: () => removeContainer(h, w.name) },
  );
}

/**
 * Create (or start) the plan's containers: the hosts in
 * parallel, each host's containers in plan order. Every host is tried; the first error is rethrown
 * once all have settled (so nothing is still being created when the caller rolls back).
 */
export async function applyWorkloads(plan: LabPlan, opts: ApplyOptions = {}): Promise<void> {
  const settled = await Promise.allSettled(
    plan.hosts.map(async (h) => {
      for (const w of plan.workloads.filter((x) => x.host === h.name)) await applyWorkload(plan, w, opts);
    }),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
}

/** Networks then workloads: everything the scenario puts on the hosts. */
export async function applyNetworksAndWorkloads(plan: LabPlan, opts: ApplyOptions = {}): Promise<void> {
  await applyNetworks(plan, opts);
  await applyWorkloads(plan, opts);
}

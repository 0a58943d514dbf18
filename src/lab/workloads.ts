// The scenario's networks and containers on real daemons, through the Debian docker CLI
// (/usr/bin/docker -H <endpoint from the plan>): the overlay on its createdOn host, the macvlan on
// every host with that host's --ip-range, and the containers with --ip / --hostname / --network-alias.
// Idempotent: what exists is left alone.
//
// Swarm mode: the swarm itself (init on the manager, join on the others) is made by src/lab/swarm.ts
// with scripts/swarm/; the overlays are then created here by scripts/swarm/network.sh (the calls of
// swarmCalls, as the stack runs them), never with the kv-mode `docker network create`.
//
// A step that fails is retried while peers converge; a failed `docker run` may have created the
// container before failing to start it, so every failed attempt removes that half-created container
// first (else the retry fails on "Conflict. The container name is already in use").
import {
  type HostPlan,
  type LabPlan,
  type MacvlanNetworkPlan,
  type NetworkPlan,
  type OverlayNetworkPlan,
  swarmCalls,
  type WorkloadPlan,
} from "../model/index.js";
import { run, type RunResult, runScriptCall, sleep, tail } from "./run.js";

/** The Debian client: another (older) docker client may sit earlier on PATH. */
export const DOCKER_CLI = "/usr/bin/docker";

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

function mtuOpt(net: NetworkPlan): string[] {
  return net.mtu === undefined ? [] : ["-o", `com.docker.network.driver.mtu=${net.mtu}`];
}

/** `docker network create` args for an overlay (run on net.createdOn only). */
export function overlayCreateArgs(net: OverlayNetworkPlan): string[] {
  return [
    "network",
    "create",
    "-d",
    "overlay",
    "--subnet",
    net.subnet,
    "--gateway",
    net.gateway,
    ...(net.ipRange ? ["--ip-range", net.ipRange] : []),
    ...(net.attachable ? ["--attachable"] : []),
    ...mtuOpt(net),
    net.name,
  ];
}

/** `docker network create` args for a macvlan on one host: its own --ip-range (macvlan IPAM is per host). */
export function macvlanCreateArgs(net: MacvlanNetworkPlan, host: string): string[] {
  const range = net.ranges.find((r) => r.host === host);
  if (!range) throw new Error(`macvlan ${net.name} has no ip-range for host ${host}`);
  return [
    "network",
    "create",
    "-d",
    "macvlan",
    "--subnet",
    net.subnet,
    "--gateway",
    net.gateway,
    "--ip-range",
    range.ipRange,
    "-o",
    `parent=${net.parent}`,
    ...mtuOpt(net),
    net.name,
  ];
}

function aliasArgs(flag: string, aliases: readonly string[]): string[] {
  return aliases.flatMap((a) => [flag, a]);
}

/**
 * `docker run` args: detached busybox with a tty (its CMD sh stays up), on the first network. With
 * Docker's init as PID 1: the verifier's probes leave orphans (busybox timeout's watcher) that only an
 * init reaps; under a plain sh they stay zombies, and a large lab's verification ran the machine out of pids.
 */
export function containerRunArgs(w: WorkloadPlan): string[] {
  const first = w.attachments[0];
  if (!first) throw new Error(`workload ${w.name} has no network`);
  return [
    "run",
    "-d",
    "-i",
    "-t",
    "--init",
    "--name",
    w.name,
    "--hostname",
    w.hostname,
    "--network",
    first.network,
    "--ip",
    first.ipv4,
    ...aliasArgs("--network-alias", first.aliases),
    w.image,
  ];
}

/** `docker network connect` args for the further attachments. */
export function connectArgs(w: WorkloadPlan): string[][] {
  return w.attachments.slice(1).map((a) => ["network", "connect", "--ip", a.ipv4, ...aliasArgs("--alias", a.aliases), a.network, w.name]);
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

/** Create the plan's networks (overlay on its createdOn host, macvlan on every host). */
export async function applyNetworks(plan: LabPlan, opts: ApplyOptions = {}): Promise<void> {
  const wait = opts.convergeTimeoutMs ?? 30_000;
  const swarm = plan.overlayMode === "swarm" ? swarmCalls(plan, { dockerCli: DOCKER_CLI }) : undefined;
  for (const net of plan.networks) {
    if (net.driver === "overlay" && swarm) {
      // A swarm-scoped attachable overlay, made on the manager by network.sh (idempotent; refuses one that differs).
      const call = swarm.networks.find((n) => n.name === net.name)?.create;
      if (!call) throw new Error(`swarm calls have no network ${net.name}`);
      opts.log?.(`[${call.host}] ${call.script} ${call.args.join(" ")}`);
      const r = await runScriptCall(call, {
        timeoutMs: 120_000,
        ...(opts.log ? { onLine: (l: string) => opts.log?.(`[${call.host}] ${l}`) } : {}),
      });
      if (r.code !== 0)
        throw new Error(
          `create swarm overlay ${net.name} on ${call.host} failed (exit ${r.code ?? "timeout"}): ${call.script} ${call.args.join(" ")}\n${tail(r)}`,
        );
    } else if (net.driver === "overlay") {
      const h = hostOf(plan, net.createdOn);
      if (!(await exists(h, "network", net.name))) {
        opts.log?.(`[${h.name}] docker ${overlayCreateArgs(net).join(" ")}`);
        // Right after start-up a kv-mode daemon may not have connected to the KV store yet.
        await retry(`create overlay ${net.name} on ${h.name}`, wait, () => dockerOk(h, overlayCreateArgs(net)));
      }
    } else {
      // Every host is tried, and nothing is still running when the first error is rethrown.
      const settled = await Promise.allSettled(
        plan.hosts.map(async (h) => {
          if (await exists(h, "network", net.name)) return;
          opts.log?.(`[${h.name}] docker ${macvlanCreateArgs(net, h.name).join(" ")}`);
          await dockerOk(h, macvlanCreateArgs(net, h.name));
        }),
      );
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
    }
  }
}

/** Wait until a kv-mode overlay created on one host is visible on another (through the KV store). */
export async function waitForNetwork(host: HostPlan, network: string, timeoutMs = 30_000): Promise<void> {
  await retry(`network ${network} on ${host.name}`, timeoutMs, () =>
    dockerOk(host, ["network", "inspect", "--format", "{{.Scope}}", network]),
  );
}

/** Create (or start) one container of the plan, and connect its further networks. */
async function applyWorkload(plan: LabPlan, w: WorkloadPlan, opts: ApplyOptions): Promise<void> {
  const wait = opts.convergeTimeoutMs ?? 30_000;
  const h = hostOf(plan, w.host);
  for (const a of w.attachments) {
    const net = plan.networks.find((n) => n.name === a.network);
    if (net?.driver === "overlay" && plan.overlayMode === "kv") await waitForNetwork(h, net.name, wait);
  }
  if (await exists(h, "container", w.name)) {
    const state = (await dockerOk(h, ["container", "inspect", "--format", "{{.State.Running}}", w.name])).trim();
    if (state !== "true") await dockerOk(h, ["start", w.name]);
  } else {
    opts.log?.(`[${h.name}] docker ${containerRunArgs(w).join(" ")}`);
    // `docker run` can fail after it created the container (e.g. starting it: address in use,
    // attaching to a swarm network): remove that one before the next attempt, and after the last.
    await retry(`run ${w.name} on ${h.name}`, wait, () => dockerOk(h, containerRunArgs(w)), { cleanup: () => removeContainer(h, w.name) });
  }
  const connected = (
    await dockerOk(h, ["container", "inspect", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", w.name])
  )
    .trim()
    .split(/\s+/);
  for (const args of connectArgs(w)) {
    const net = args[args.length - 2]!;
    if (connected.includes(net)) continue;
    opts.log?.(`[${h.name}] docker ${args.join(" ")}`);
    await dockerOk(h, args);
  }
}

/**
 * Create (or start) the plan's containers, and connect their further networks: the hosts in
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

/** Remove the plan's containers and networks (the reverse of applyNetworksAndWorkloads). */
export async function removeNetworksAndWorkloads(plan: LabPlan, opts: ApplyOptions = {}): Promise<void> {
  for (const w of [...plan.workloads].reverse()) {
    const h = hostOf(plan, w.host);
    if (await exists(h, "container", w.name)) {
      opts.log?.(`[${h.name}] docker rm -f ${w.name}`);
      await dockerOk(h, ["rm", "-f", w.name]);
    }
  }
  const swarm = plan.overlayMode === "swarm" ? swarmCalls(plan, { dockerCli: DOCKER_CLI }) : undefined;
  for (const net of [...plan.networks].reverse()) {
    const remove = swarm?.networks.find((n) => n.name === net.name)?.remove;
    if (remove && net.driver === "overlay") {
      const r = await runScriptCall(remove, { timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`remove swarm overlay ${net.name} failed: ${remove.script} ${remove.args.join(" ")}\n${tail(r)}`);
      continue;
    }
    const hosts = net.driver === "overlay" ? [hostOf(plan, net.createdOn)] : plan.hosts;
    for (const h of hosts) {
      if (await exists(h, "network", net.name)) await dockerOk(h, ["network", "rm", net.name]);
    }
  }
}

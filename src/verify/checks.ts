// The probes behind every CheckPlan kind. A container's probes (ping, dns, external, and the route and
// CNM view) go out in one docker exec that runs them concurrently inside it (scripts/verify/probes.sh),
// each under its own timeout and with its own result and timing; the host-level pings of a host go out
// the same way through its helper container. Those execs run concurrently (bounded). VXLAN counters are
// sampled before and after the container probes so that they show the traffic this very run pushed
// through the tunnel.
import { availableParallelism } from "node:os";
import { type CheckKind, type CheckPlan, type HostPlan, kvRecordRead, type LabPlan } from "../model/index.js";
import { type BatchOutput, type BatchProbe, batchCommand, isTimeoutExit, parseBatchOutput, type ProbeAttempt } from "./batch.js";
import { type ContainerInfo, type DockerEngine, type ExecResult, type NetworkInfo, namedContainer } from "../docker/api.js";
import {
  type DevCounters,
  findVxlanDevice,
  ipInSubnet,
  overlaySandboxName,
  pickOverlaySandbox,
  parseDefaultRoute,
  parseIpAddr,
  parseIpLink,
  parseNslookup,
  parsePing,
  parseProcNetDev,
  vniFromKvRecord,
  vniFromOptions,
} from "./parse.js";

export type Outcome = "pass" | "fail";

export interface CheckResult {
  id: string;
  kind: CheckKind;
  from: string;
  host: string;
  target: string;
  network?: string;
  expect: Outcome;
  /** What the probe observed. */
  outcome: Outcome;
  /** outcome === expect, and the probe could actually run. */
  ok: boolean;
  /** The plan expects this check to fail (e.g. a host pinging its own macvlan child). */
  expected: boolean;
  /** The probe could not run at all (container stopped, daemon unreachable, timeout): never ok. */
  error: boolean;
  /** Why the plan expects this outcome. */
  reason: string;
  /** What happened. */
  detail: string;
  /**
   * From the moment the verifier set out to run the probe (the exec of its container's batch included)
   * until its result was known. For a batched probe, data.probeMs is the probe alone inside the container.
   */
  durationMs: number;
  data?: Record<string, unknown>;
}

export interface RunOptions {
  /** Docker engine per host name. */
  engines: ReadonlyMap<string, DockerEngine>;
  /** Per-check timeout (default 20 s): a probe's attempts share it; a host-level check gets it whole. */
  checkTimeoutMs?: number;
  /**
   * Execs in flight at once: one per container (its batch of probes) or host (default 256: every
   * container of a large lab at once, so no probe waits for another container's batch).
   */
  concurrency?: number;
  /**
   * Probes running at once over all containers (default 32 per CPU core); each container's batch gets its
   * share, 2 to 64. Every probe is a few short-lived processes: far more of them than the cores can run
   * leave pings waiting for the CPU past their 2 s reply window, and a healthy lab reports lost replies.
   */
  probesInFlight?: number;
  /** Image of the host-level helper container (default: the image of a workload on that host). */
  helperImage?: string;
  /** ping attempts before a probe counts as failed (default 2: the first packet to a new peer may be lost to ARP/VXLAN learning). */
  pingAttempts?: number;
  /** How long cleanup waits for a helper container still being created (default 5 s). */
  cleanupGraceMs?: number;
  /**
   * Retry window for checks that fail where a pass is expected (default 0: report the first round).
   * A lab right after an apply may still be converging; a check that passes within the window counts,
   * and its result says on which round.
   */
  settleMs?: number;
  /** Called as each check finishes (progress output); a retried check reports again. */
  onResult?: (r: CheckResult) => void;
}

/** A probe that could not run: the result is an error, whatever the expectation. */
export class ProbeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProbeError";
  }
}

interface ProbeOutcome {
  outcome: Outcome;
  detail: string;
  data?: Record<string, unknown>;
}

/** Runs fn over items with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** Resolves with fn's value, or rejects with a ProbeError after ms (and aborts the signal fn got). */
export async function withDeadline<T>(ms: number, what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort();
      reject(new ProbeError(`${what} timed out after ${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`));
    }, ms);
  });
  try {
    return await Promise.race([fn(ac.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function describeState(c: ContainerInfo): string {
  const s = c.State;
  return s.Status === "exited" && s.ExitCode !== undefined ? `exited with code ${s.ExitCode}` : s.Status;
}

interface NetState {
  route: string;
  addrs: ReturnType<typeof parseIpAddr>;
  macs: Map<string, string>;
}

interface VxlanSample {
  networkId: string;
  sandbox: string;
  device?: string;
  vni?: number;
  vniSource?: string;
  counters?: DevCounters;
  error?: string;
}

const HELPER_LABEL = "dnlab.verify";

/** One verification run: caches what several checks need, owns the helper containers. */
export class VerifyRun {
  private readonly hosts: Map<string, HostPlan>;
  private readonly containers = new Map<string, Promise<ContainerInfo | undefined>>();
  private readonly networks = new Map<string, Promise<NetworkInfo | undefined>>();
  private readonly reachable = new Map<string, Promise<string | undefined>>();
  private readonly helpers = new Map<string, Promise<string>>();
  private readonly helperNames = new Map<string, string>();
  private readonly before = new Map<string, VxlanSample>();
  private readonly workloadByIp = new Map<string, { name: string; host: string }>();
  private readonly workloadHost = new Map<string, string>();
  private readonly checkTimeoutMs: number;
  private readonly pingAttempts: number;
  private readonly probesInFlight: number;
  /** Hosts whose helper needs the exec-root netns dir (they have vxlan checks in this run). */
  private readonly netnsHosts: Set<string>;

  constructor(
    private readonly plan: LabPlan,
    checks: readonly CheckPlan[],
    private readonly o: RunOptions,
  ) {
    this.netnsHosts = new Set(checks.filter((c) => c.kind === "vxlan").map((c) => c.host));
    this.hosts = new Map(plan.hosts.map((h) => [h.name, h]));
    for (const w of plan.workloads) {
      this.workloadHost.set(w.name, w.host);
      for (const a of w.attachments) this.workloadByIp.set(a.ipv4, { name: w.name, host: w.host });
    }
    this.checkTimeoutMs = o.checkTimeoutMs ?? 20_000;
    this.pingAttempts = Math.max(1, o.pingAttempts ?? 2);
    this.probesInFlight = Math.max(1, o.probesInFlight ?? 32 * availableParallelism());
  }

  /**
   * Forgets what containers and networks looked like: a settling round must see the lab as it is now
   * (a container created a moment ago may have had no address on its network yet).
   */
  forgetInspections(): void {
    this.containers.clear();
    this.networks.clear();
  }

  private engine(host: string): DockerEngine {
    const e = this.o.engines.get(host);
    if (!e) throw new ProbeError(`no Docker endpoint for host ${host}`);
    return e;
  }

  private once<T>(cache: Map<string, Promise<T>>, key: string, fn: () => Promise<T>): Promise<T> {
    let p = cache.get(key);
    if (!p) {
      p = fn();
      cache.set(key, p);
      p.catch(() => undefined); // a rejected cache entry is reported by whoever awaits it
    }
    return p;
  }

  /** undefined when the host's daemon answers; otherwise why not. */
  private hostProblem(host: string): Promise<string | undefined> {
    return this.once(this.reachable, host, async () => {
      const e = this.o.engines.get(host);
      if (!e) return `no Docker endpoint for host ${host}`;
      try {
        await e.ping({ timeoutMs: 5_000 });
        return undefined;
      } catch (err) {
        return `host ${host}'s Docker endpoint ${e.endpoint} is unreachable: ${(err as Error).message}`;
      }
    });
  }

  private async requireHost(host: string): Promise<DockerEngine> {
    const problem = await this.hostProblem(host);
    if (problem) throw new ProbeError(problem);
    return this.engine(host);
  }

  /** The container of exactly that name (namedContainer: not one whose ID starts with it). */
  private inspect(host: string, name: string): Promise<ContainerInfo | undefined> {
    return this.once(this.containers, `${host}/${name}`, async () =>
      namedContainer(await (await this.requireHost(host)).inspectContainer(name), name),
    );
  }

  /** The container, running; otherwise a ProbeError with a clear reason. */
  private async running(host: string, name: string): Promise<ContainerInfo> {
    const c = await this.inspect(host, name);
    if (!c) throw new ProbeError(`container ${name} does not exist on ${host}`);
    if (!c.State.Running) throw new ProbeError(`container ${name} is not running (${describeState(c)})`);
    return c;
  }

  private network(host: string, name: string): Promise<NetworkInfo | undefined> {
    return this.once(this.networks, `${host}/${name}`, async () => (await this.requireHost(host)).inspectNetwork(name));
  }

  // ---- host-level helper container ----

  private helperImage(host: string): string {
    if (this.o.helperImage) return this.o.helperImage;
    const w = this.plan.workloads.find((x) => x.host === host) ?? this.plan.workloads[0];
    return w?.image ?? "busybox:latest";
  }

  /** A helper on the host's own network stack: host network, CAP_SYS_ADMIN for nsenter, the exec-root netns dir at /netns. */
  private helper(host: string): Promise<string> {
    return this.once(this.helpers, host, async () => {
      const e = await this.requireHost(host);
      const h = this.hosts.get(host);
      const lifetime = Math.ceil(this.checkTimeoutMs / 1000) * 4 + 120; // exits (and is auto-removed) even if we die
      const suffix = Math.random().toString(36).slice(2, 8);
      const name = `dnlab-verify-${host}-${suffix}`;
      this.helperNames.set(host, name);
      // --privileged is not used: on hosts whose capability bounding set lacks one cap runc refuses it;
      // nsenter --net only needs CAP_SYS_ADMIN.
      const id = await e.createContainer(
        {
          image: this.helperImage(host),
          cmd: ["sleep", String(lifetime)],
          name,
          labels: { [HELPER_LABEL]: this.plan.name },
          // Host network only. Not --pid host: nsenter --net=<file> does not need it, and a PID
          // namespace of its own keeps every signal the helper sends (busybox `timeout`) inside it.
          networkMode: "host",
          capAdd: ["SYS_ADMIN"],
          binds: this.netnsHosts.has(host) && h ? [`${h.daemon.execRoot}/netns:/netns:ro`] : [],
          autoRemove: true,
        },
        { timeoutMs: this.checkTimeoutMs },
      );
      try {
        await e.startContainer(id, { timeoutMs: this.checkTimeoutMs });
      } catch (err) {
        await e.removeContainer(id).catch(() => undefined);
        throw new ProbeError(`helper container on ${host} did not start: ${(err as Error).message}`);
      }
      return id;
    });
  }

  private async execOnHost(host: string, cmd: string[], signal: AbortSignal): Promise<ExecResult> {
    const id = await this.helper(host);
    return this.engine(host).exec(id, cmd, { signal, timeoutMs: this.checkTimeoutMs });
  }

  /**
   * Removes the helper containers. Bounded: a daemon that hangs (e.g. waiting for its lost KV store)
   * must not hold the report; such a helper still exits and removes itself when its sleep ends.
   */
  async cleanup(): Promise<void> {
    await Promise.all(
      [...this.helpers].map(async ([host, p]) => {
        // A create/start still pending on a hung daemon is not waited for: remove by name instead.
        // The grace timer is cleared once the helper answers: a pending timer would keep the process
        // alive for its full 5 s after the report is out.
        let grace: ReturnType<typeof setTimeout> | undefined;
        const id = await Promise.race([
          p.catch(() => undefined),
          new Promise<undefined>((r) => {
            grace = setTimeout(() => r(undefined), this.o.cleanupGraceMs ?? 5_000);
          }),
        ]).finally(() => clearTimeout(grace));
        const ref = id ?? this.helperNames.get(host);
        if (ref)
          await this.engine(host)
            .removeContainer(ref, { timeoutMs: 5_000 })
            .catch(() => undefined);
      }),
    );
  }

  // ---- probes ----

  /**
   * One-packet pings, retried (pingAttempts) only when a reply is expected: the first packet to a new
   * peer may be lost to ARP/VXLAN learning, while a retry of a ping expected to fail only costs time.
   * The batch script stops at the first reply; a name that does not resolve is reported as such.
   */
  private pingAttemptsFor(expect: Outcome): number {
    return expect === "pass" ? this.pingAttempts : 1;
  }

  private pingOutcome(runs: readonly ProbeAttempt[], target: string, expectedIp?: string): ProbeOutcome {
    const attempts: { exitCode: number; replyFrom?: string; error?: string }[] = [];
    let last = parsePing("");
    for (const r of runs) {
      last = parsePing(r.output);
      attempts.push({
        exitCode: r.exitCode,
        ...(last.replyFrom ? { replyFrom: last.replyFrom } : {}),
        ...(last.resolveError ? { error: last.resolveError } : {}),
      });
      if (r.exitCode === 0 && last.replies > 0) {
        const data = { resolved: last.resolved, replyFrom: last.replyFrom, rttMs: last.rttMs, attempts: attempts.length };
        if (expectedIp !== undefined && last.replyFrom !== expectedIp) {
          return { outcome: "fail", detail: `${target} answered from ${last.replyFrom ?? "?"}, expected ${expectedIp}`, data };
        }
        const named = last.resolved && last.resolved !== target ? `${target} is ${last.resolved}, ` : "";
        return { outcome: "pass", detail: `${named}reply from ${last.replyFrom} in ${last.rttMs ?? "?"} ms`, data };
      }
    }
    const why =
      last.resolveError ??
      `no reply from ${target} (${attempts.length} attempt${attempts.length === 1 ? "" : "s"}, ${2 * attempts.length} s)`;
    return { outcome: "fail", detail: why, data: { resolved: last.resolved, attempts: attempts.length } };
  }

  /** When a probe toward a lab container fails, say whether that container is down. */
  private async targetNote(target: string): Promise<string> {
    const w = this.workloadHost.has(target) ? { name: target, host: this.workloadHost.get(target)! } : this.workloadByIp.get(target);
    if (!w) return "";
    try {
      const c = await this.inspect(w.host, w.name);
      if (!c) return `; target container ${w.name} does not exist on ${w.host}`;
      if (!c.State.Running) return `; target container ${w.name} is not running (${describeState(c)})`;
    } catch {
      /* the host is unreachable: its own checks say so */
    }
    return "";
  }

  private async dnsOutcome(c: CheckPlan, runs: readonly ProbeAttempt[]): Promise<ProbeOutcome> {
    const r = runs.at(-1) ?? { exitCode: -1, output: "" };
    const ns = parseNslookup(r.output);
    const data = { server: ns.server, addresses: ns.addresses };
    if (c.expectedIp !== undefined && ns.addresses.includes(c.expectedIp)) {
      return { outcome: "pass", detail: `${c.target} -> ${ns.addresses.join(", ")} (server ${ns.server ?? "?"})`, data };
    }
    const got = ns.addresses.length ? `resolved to ${ns.addresses.join(", ")}` : (ns.error ?? `no answer (exit ${r.exitCode})`);
    return {
      outcome: "fail",
      detail: `${c.target}: ${got}, expected ${c.expectedIp ?? "an address"}${await this.targetNote(c.target)}`,
      data,
    };
  }

  private async gwbridgeRoute(c: CheckPlan, st: NetState): Promise<ProbeOutcome> {
    const def = parseDefaultRoute(st.route);
    if (!def) return { outcome: "fail", detail: `${c.from} has no default route`, data: { routes: st.route.trim() } };
    const gw = await this.network(c.host, "docker_gwbridge");
    const subnets = (gw?.IPAM?.Config ?? []).map((x) => x.Subnet).filter((s): s is string => typeof s === "string");
    const ips = st.addrs.filter((a) => a.name === def.dev);
    const data = { dev: def.dev, via: def.via, addresses: ips.map((a) => a.cidr), gwbridgeSubnets: subnets };
    if (!gw) return { outcome: "fail", detail: `no docker_gwbridge network on ${c.host}`, data };
    const hit = ips.find((a) => subnets.some((s) => ipInSubnet(a.ip, s)));
    if (hit)
      return {
        outcome: "pass",
        detail: `default via ${def.via ?? "-"} dev ${def.dev} (${hit.ip} in docker_gwbridge ${subnets.join(", ")})`,
        data,
      };
    return {
      outcome: "fail",
      detail: `default route leaves through ${def.dev} (${ips.map((a) => a.cidr).join(", ") || "no IPv4"}), not docker_gwbridge ${subnets.join(", ")}`,
      data,
    };
  }

  private async cnm(c: CheckPlan, st: NetState): Promise<ProbeOutcome> {
    const info = await this.running(c.host, c.from);
    const ifaceOf = (ip: string | undefined): string | undefined => st.addrs.find((a) => a.ip === ip)?.name;
    const endpoints = Object.entries(info.NetworkSettings.Networks ?? {}).map(([network, ep]) => ({
      network,
      networkId: ep.NetworkID,
      endpointId: ep.EndpointID,
      ip: ep.IPAddress ? `${ep.IPAddress}/${ep.IPPrefixLen ?? 32}` : undefined,
      mac: ep.MacAddress,
      gateway: ep.Gateway,
      interface: ifaceOf(ep.IPAddress),
    }));
    const gw = await this.network(c.host, "docker_gwbridge").catch(() => undefined);
    const gwSubnets = (gw?.IPAM?.Config ?? []).map((x) => x.Subnet).filter((s): s is string => typeof s === "string");
    const known = new Set(endpoints.map((e) => e.interface));
    const interfaces = st.addrs
      .filter((a) => a.name !== "lo")
      .map((a) => ({
        name: a.name,
        ip: a.cidr,
        mac: st.macs.get(a.name),
        ...(known.has(a.name) ? {} : gwSubnets.some((s) => ipInSubnet(a.ip, s)) ? { network: "docker_gwbridge" } : {}),
      }));
    const data = {
      sandboxId: info.NetworkSettings.SandboxID,
      sandboxKey: info.NetworkSettings.SandboxKey,
      pid: info.State.Pid,
      endpoints,
      interfaces,
    };
    const problems: string[] = [];
    if (!info.NetworkSettings.SandboxKey) problems.push("no sandbox");
    const w = this.plan.workloads.find((x) => x.name === c.from);
    for (const a of w?.attachments ?? []) {
      const ep = endpoints.find((e) => e.network === a.network);
      if (!ep) problems.push(`no endpoint on ${a.network}`);
      else if (ep.ip?.split("/")[0] !== a.ipv4) problems.push(`${a.network} endpoint has ${ep.ip ?? "no IP"}, planned ${a.ipv4}`);
      else if (!ep.interface) problems.push(`no interface in the sandbox carries ${a.ipv4}`);
    }
    const eps = endpoints.map((e) => `${e.network}: ${e.interface ?? "?"} ${e.ip ?? "-"} ${e.mac ?? ""}`.trim());
    const extra = interfaces.filter((i) => i.network).map((i) => `${i.network}: ${i.name} ${i.ip}`);
    const sandbox = `sandbox ${(info.NetworkSettings.SandboxID ?? "").slice(0, 12)} ${info.NetworkSettings.SandboxKey ?? ""}`.trim();
    const detail = `${sandbox}; ${[...eps, ...extra].join("; ")}`;
    return problems.length ? { outcome: "fail", detail: `${problems.join("; ")} (${detail})`, data } : { outcome: "pass", detail, data };
  }

  private async sampleVxlan(host: string, network: string, signal: AbortSignal): Promise<VxlanSample> {
    const net = await this.network(host, network);
    if (!net) {
      const kv =
        this.plan.overlayMode === "kv" && this.plan.kv
          ? ` (a kv-mode overlay is looked up in the cluster store: can ${host} reach ${this.plan.kv.url}?)`
          : "";
      throw new ProbeError(`network ${network} not found on ${host}${kv}`);
    }
    if (net.Driver !== "overlay") throw new ProbeError(`network ${network} on ${host} is ${net.Driver}, not overlay`);
    const execRoot = this.hosts.get(host)?.daemon.execRoot ?? "?";
    const ls = await this.execOnHost(host, ["ls", "-1", "/netns"], signal);
    const sandbox = pickOverlaySandbox(ls.stdout.split("\n"), net.Id);
    const s: VxlanSample = { networkId: net.Id, sandbox: sandbox ?? overlaySandboxName(net.Id) };
    if (!sandbox) {
      s.error = `no overlay sandbox <epoch>-${net.Id.slice(0, 9)}… in ${execRoot}/netns on ${host} (no local container on ${network}?)`;
      return s;
    }
    const r = await this.execOnHost(host, ["nsenter", `--net=/netns/${sandbox}`, "cat", "/proc/net/dev"], signal);
    let dev = r.exitCode === 0 ? findVxlanDevice(parseProcNetDev(r.stdout), net.Id) : undefined;
    if (!dev) {
      // Docker keeps the device in the host's namespace when it cannot use a sandbox ("vx-<vni>-<id>").
      const hostDevs = await this.execOnHost(host, ["cat", "/proc/net/dev"], signal);
      const d = findVxlanDevice(parseProcNetDev(hostDevs.stdout), net.Id);
      if (d?.vni !== undefined) dev = d;
    }
    if (!dev) {
      s.error =
        r.exitCode !== 0
          ? `overlay sandbox ${sandbox} in ${execRoot}/netns is not readable (a stale file of a removed sandbox?): ${(r.stderr || r.stdout).trim()}`
          : `no VXLAN device in overlay sandbox ${sandbox}`;
      return s;
    }
    s.device = dev.name;
    s.counters = dev.counters;
    if (dev.vni !== undefined) {
      s.vni = dev.vni;
      s.vniSource = "device name";
    } else if (vniFromOptions(net.Options) !== undefined) {
      s.vni = vniFromOptions(net.Options);
      s.vniSource = "network options";
    } else {
      const v = await this.vniFromKv(host, net.Id, signal);
      if (v !== undefined) {
        s.vni = v;
        s.vniSource = `${this.plan.kv?.kind} record`;
      }
    }
    return s;
  }

  /** Classic overlay: the VNI lives in the network's KV record (the sandbox's vxlan0 name does not carry it). */
  private async vniFromKv(host: string, networkId: string, signal: AbortSignal): Promise<number | undefined> {
    const kv = this.plan.kv;
    if (!kv || this.plan.overlayMode !== "kv") return undefined;
    // Bounded to 5 s: an unreachable KV store (the host lost its underlay) must not hold the check
    // until its deadline: the VNI is only reported.
    const read = kvRecordRead(kv, networkId, 5);
    if (!read) return undefined;
    const r = await this.execOnHost(host, read.argv, signal).catch(() => undefined);
    if (r?.exitCode !== 0) return undefined;
    try {
      const record = read.record(r.stdout);
      return record === undefined ? undefined : vniFromKvRecord(record);
    } catch {
      return undefined;
    }
  }

  /**
   * Phase 0: counters before the probes, for the per-run delta. Bounded tighter than a check: a host
   * that answers slowly (e.g. its daemon lost its KV store) must not hold every probe back; the
   * vxlan check itself reports the problem later.
   */
  async sampleBefore(checks: readonly CheckPlan[]): Promise<void> {
    const ms = Math.min(this.checkTimeoutMs, 8_000);
    await Promise.all(
      checks
        .filter((c) => c.kind === "vxlan")
        .map(async (c) => {
          try {
            const s = await withDeadline(ms, `vxlan sample on ${c.host}`, (sig) => this.sampleVxlan(c.host, c.network ?? c.target, sig));
            this.before.set(`${c.host}/${c.network ?? c.target}`, s);
          } catch {
            /* the after-sample reports the problem */
          }
        }),
    );
  }

  private async vxlan(c: CheckPlan, signal: AbortSignal): Promise<ProbeOutcome> {
    const after = await this.sampleVxlan(c.host, c.network ?? c.target, signal);
    const before = this.before.get(`${c.host}/${c.network ?? c.target}`);
    const data: Record<string, unknown> = { networkId: after.networkId.slice(0, 12), sandbox: after.sandbox };
    if (after.error || !after.counters || !after.device) return { outcome: "fail", detail: after.error ?? "no VXLAN device", data };
    const a = after.counters;
    Object.assign(data, {
      device: after.device,
      vni: after.vni ?? null,
      vniSource: after.vniSource ?? null,
      rxPackets: a.rxPackets,
      txPackets: a.txPackets,
      rxBytes: a.rxBytes,
      txBytes: a.txBytes,
      txErrors: a.txErrors,
      txDropped: a.txDropped,
    });
    let delta = "";
    if (before?.counters && before.device === after.device) {
      const d = { rxPackets: a.rxPackets - before.counters.rxPackets, txPackets: a.txPackets - before.counters.txPackets };
      data.delta = d;
      delta = `, this run +${d.rxPackets}/+${d.txPackets}`;
    }
    const vni = after.vni !== undefined ? `VNI ${after.vni}` : "VNI unknown";
    const detail = `${after.device} (${vni}) in ${after.sandbox}: rx ${a.rxPackets} / tx ${a.txPackets} packets${delta}`;
    const pass = a.rxPackets > 0 && a.txPackets > 0;
    return { outcome: pass ? "pass" : "fail", detail: pass ? detail : `${detail}: no encapsulated traffic`, data };
  }

  /** A check's result from what its probe saw (or why it could not run); reported through onResult. */
  private result(c: CheckPlan, p: ProbeOutcome, error: boolean, durationMs: number): CheckResult {
    const r: CheckResult = {
      id: c.id,
      kind: c.kind,
      from: c.from,
      host: c.host,
      target: c.target,
      ...(c.network ? { network: c.network } : {}),
      expect: c.expect,
      outcome: p.outcome,
      ok: !error && p.outcome === c.expect,
      expected: c.expect === "fail",
      error,
      reason: c.reason,
      detail: p.detail,
      durationMs: Math.round(durationMs),
      ...(p.data ? { data: p.data } : {}),
    };
    this.o.onResult?.(r);
    return r;
  }

  /** Runs one vxlan check under its timeout; never throws. */
  async runCheck(c: CheckPlan): Promise<CheckResult> {
    const started = performance.now();
    try {
      await this.requireHost(c.host);
      const p = await withDeadline(this.checkTimeoutMs, c.id, (signal) => this.vxlan(c, signal));
      return this.result(c, p, false, performance.now() - started);
    } catch (err) {
      return this.result(
        c,
        { outcome: "fail", detail: err instanceof Error ? err.message : String(err) },
        true,
        performance.now() - started,
      );
    }
  }

  /**
   * Runs the checks of one container (or, with no container, the host-level pings of a host through its
   * helper) in one exec of scripts/verify/probes.sh; never throws. `share`: how many such execs run at
   * once, which divides probesInFlight between them.
   */
  async runBatch(host: string, container: string | undefined, checks: readonly CheckPlan[], share: number): Promise<CheckResult[]> {
    const started = performance.now();
    const probes: BatchProbe[] = [];
    const probeOf = checks.map((c) => {
      if (c.kind !== "ping" && c.kind !== "external" && c.kind !== "host-ping" && c.kind !== "dns") return undefined;
      probes.push(
        c.kind === "dns"
          ? { kind: "dns", target: c.target, attempts: 1 }
          : { kind: "ping", target: c.target, attempts: this.pingAttemptsFor(c.expect) },
      );
      return probes.length - 1;
    });
    const state = checks.some((c) => c.kind === "gwbridge-route" || c.kind === "cnm");
    const workers = Math.max(1, Math.min(probes.length, Math.max(2, Math.min(64, Math.floor(this.probesInFlight / Math.max(1, share))))));
    // A probe's attempts share the check timeout, in whole seconds (ping -w, the script's clock).
    const probeTimeoutS = Math.max(1, Math.ceil(this.checkTimeoutMs / 1000));
    // The batch's own bound (a daemon that hangs must not hold the run): a check timeout for each probe
    // a worker goes through (each may time out), and a few seconds for the exec.
    const deadlineMs = Math.ceil(probes.length / workers) * probeTimeoutS * 1000 + Math.min(5_000, this.checkTimeoutMs);
    const where = container ? `container ${container} on ${host}` : `the helper on ${host}`;
    let batch: BatchOutput;
    let doneMs: number;
    try {
      batch = await withDeadline(deadlineMs, `the probes in ${where}`, async (signal) => {
        await this.requireHost(host);
        // By ID: the name could fall back to another container's ID prefix (see inspect).
        const ref = container ? (await this.running(host, container)).Id : await this.helper(host);
        const r = await this.engine(host).exec(ref, batchCommand({ probeTimeoutS, workers, state, probes }), {
          signal,
          timeoutMs: deadlineMs,
        });
        const b = parseBatchOutput(r.stdout);
        if (b.done === undefined) {
          throw new ProbeError(
            `the probe script in ${where} exited ${r.exitCode} before it finished: ${(r.stderr || r.stdout).trim().slice(-300) || "no output"}`,
          );
        }
        return b;
      });
      doneMs = performance.now() - started;
    } catch (err) {
      const p: ProbeOutcome = { outcome: "fail", detail: err instanceof Error ? err.message : String(err) };
      return checks.map((c) => this.result(c, p, true, performance.now() - started));
    }
    // When a probe's result was known: the exec's round trip less what the script still did after it
    // (differences of the container's clock only, so a remote host's clock offset does not matter).
    const at = (end: number | undefined): number =>
      end !== undefined && batch.done !== undefined ? Math.max(0, doneMs - (batch.done - end) * 1000) : doneMs;
    return Promise.all(
      checks.map(async (c, i) => {
        let ms = doneMs;
        try {
          const k = probeOf[i];
          if (k !== undefined) {
            const run = batch.probes.get(k);
            if (!run || run.end === undefined) throw new ProbeError(`the probe script in ${where} printed no result for ${c.id}`);
            ms = at(run.end);
            const last = run.attempts.at(-1);
            if (!last || isTimeoutExit(last.exitCode)) throw new ProbeError(`${c.id} timed out after ${probeTimeoutS} s`);
            const p = c.kind === "dns" ? await this.dnsOutcome(c, run.attempts) : this.pingOutcome(run.attempts, c.target, c.expectedIp);
            if (c.kind !== "dns" && p.outcome === "fail") p.detail += await this.targetNote(c.target);
            p.data = { ...p.data, probeMs: Math.round((run.end - run.start) * 1000) };
            return this.result(c, p, false, ms);
          }
          if (c.kind !== "gwbridge-route" && c.kind !== "cnm")
            throw new ProbeError(`a ${c.kind} check does not run in a container's probes`);
          const st = batch.state;
          if (!st) throw new ProbeError(`the probe script in ${where} printed no routes or addresses`);
          ms = at(st.end);
          if (st.exitCode !== 0)
            throw new ProbeError(
              `ip route/addr/link in ${c.from} exited ${st.exitCode}: ${[st.route, st.addr, st.link].join("\n").trim()}`,
            );
          const net: NetState = { route: st.route, addrs: parseIpAddr(st.addr), macs: parseIpLink(st.link) };
          const p = c.kind === "cnm" ? await this.cnm(c, net) : await this.gwbridgeRoute(c, net);
          // Its own time inside the container, as a probe's: reading the state, not waiting for the exec.
          if (st.start !== undefined && st.end !== undefined) p.data = { ...p.data, probeMs: Math.round((st.end - st.start) * 1000) };
          return this.result(c, p, false, ms);
        } catch (err) {
          return this.result(c, { outcome: "fail", detail: err instanceof Error ? err.message : String(err) }, true, ms);
        }
      }),
    );
  }
}

const SETTLE_PAUSE_MS = 1_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Indexed {
  c: CheckPlan;
  i: number;
}

/** One exec per container (and one per host for its host-level pings), `limit` of them at once. */
async function runBatches(
  run: VerifyRun,
  items: readonly Indexed[],
  limit: number,
  done: (x: Indexed, r: CheckResult) => void,
): Promise<void> {
  const groups = new Map<string, { host: string; container?: string; items: Indexed[] }>();
  for (const x of items) {
    const container = x.c.kind === "host-ping" ? undefined : x.c.from;
    const key = `${x.c.host}\0${container ?? ""}`;
    let g = groups.get(key);
    if (!g) {
      g = { host: x.c.host, ...(container !== undefined ? { container } : {}), items: [] };
      groups.set(key, g);
    }
    g.items.push(x);
  }
  const list = [...groups.values()];
  const share = Math.min(limit, list.length);
  await mapLimit(list, limit, async (g) => {
    const results = await run.runBatch(
      g.host,
      g.container,
      g.items.map((x) => x.c),
      share,
    );
    for (const [j, r] of results.entries()) done(g.items[j]!, r);
  });
}

/**
 * Runs the checks: VXLAN counters first, then every container's probes (one exec each, concurrently),
 * then the VXLAN checks (after the probes have sent traffic through the tunnels). Results come back in
 * plan order.
 */
export async function runChecks(plan: LabPlan, checks: readonly CheckPlan[], o: RunOptions): Promise<CheckResult[]> {
  const run = new VerifyRun(plan, checks, o);
  const limit = o.concurrency ?? 256;
  try {
    const indexed = checks.map((c, i) => ({ c, i }));
    const vx = indexed.filter((x) => x.c.kind === "vxlan");
    const rest = indexed.filter((x) => x.c.kind !== "vxlan");
    await run.sampleBefore(vx.map((x) => x.c));
    const out = new Array<CheckResult>(checks.length);
    const deadline = performance.now() + (o.settleMs ?? 0);
    await runBatches(run, rest, limit, (x, r) => (out[x.i] = r));
    // Converging: re-run what failed where a pass is expected (not probes that could not run at all:
    // a stopped container or a lost daemon does not come back by waiting), once a second, until the window closes.
    const settling = (x: { i: number }): boolean => {
      const r = out[x.i]!;
      return !r.ok && !r.error && r.expect === "pass";
    };
    let pending = rest.filter(settling);
    for (let round = 2; pending.length > 0 && performance.now() + SETTLE_PAUSE_MS < deadline; round++) {
      await sleep(SETTLE_PAUSE_MS);
      run.forgetInspections();
      await runBatches(
        run,
        pending,
        limit,
        (x, r) => (out[x.i] = { ...r, detail: `${r.detail} [round ${round}]`, data: { ...r.data, round } }),
      );
      pending = pending.filter(settling);
    }
    await mapLimit(vx, limit, async (x) => (out[x.i] = await run.runCheck(x.c)));
    return out;
  } finally {
    await run.cleanup();
  }
}

// One verification run: every check of a plan against the live lab. A container's probes (ping, dns,
// external, and the route and CNM view) go out in one docker exec that runs them concurrently inside
// it (scripts/verify/probes.sh), each under its own timeout and with its own result and timing; the
// host-level pings of a host go out the same way through its helper container. Those execs run
// concurrently (bounded). VXLAN counters are sampled before and after the container probes
// (vxlan.ts), so that they show the traffic this very run pushed through the tunnel. What each probe's
// output means is outcomes.ts; the daemons as the run sees them, hosts.ts.
import { availableParallelism } from "node:os";
import type { CheckPlan, LabPlan } from "../model/index.js";
import type { DockerEngine } from "../docker/api.js";
import { type BatchOutput, type BatchProbe, batchCommand, isTimeoutExit, parseBatchOutput } from "./batch.js";
import { DaemonNetnsCheck } from "./daemon.js";
import { describeState, LabHosts } from "./hosts.js";
import { cnm, dnsOutcome, gwbridgeRoute, measureOutcome, mtuOutcome, type NetState, pingOutcome } from "./outcomes.js";
import { parseIpAddr, parseIpLink } from "./parse.js";
import { mapLimit, sleep, withDeadline } from "./pool.js";
import { type CheckResult, checkResult, failure, ProbeError, type ProbeOutcome } from "./result.js";
import { VxlanSampler } from "./vxlan.js";

export type { CheckResult, Outcome } from "./result.js";
export { mapLimit, withDeadline } from "./pool.js";

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
  /** Seconds before a daemon thread found in a deleted namespace is looked at again (default DAEMON_RECHECK_S). */
  daemonRecheckS?: number;
}

/** One verification run: its hosts, its VXLAN samples, and the batches of probes. */
export class VerifyRun {
  readonly hosts: LabHosts;
  readonly vxlan: VxlanSampler;
  readonly daemons: DaemonNetnsCheck;
  private readonly workloadByIp = new Map<string, { name: string; host: string }>();
  private readonly workloadHost = new Map<string, string>();
  private readonly checkTimeoutMs: number;
  private readonly pingAttempts: number;
  private readonly probesInFlight: number;

  constructor(
    private readonly plan: LabPlan,
    checks: readonly CheckPlan[],
    private readonly o: RunOptions,
  ) {
    this.checkTimeoutMs = o.checkTimeoutMs ?? 20_000;
    this.hosts = new LabHosts(plan, o.engines, {
      checkTimeoutMs: this.checkTimeoutMs,
      ...(o.helperImage !== undefined ? { helperImage: o.helperImage } : {}),
      ...(o.cleanupGraceMs !== undefined ? { cleanupGraceMs: o.cleanupGraceMs } : {}),
      netnsHosts: new Set(checks.filter((c) => c.kind === "vxlan").map((c) => c.host)),
    });
    this.vxlan = new VxlanSampler(plan, this.hosts, this.checkTimeoutMs);
    this.daemons = new DaemonNetnsCheck(plan, this.hosts, o.daemonRecheckS);
    for (const w of plan.workloads) {
      this.workloadHost.set(w.name, w.host);
      for (const a of w.attachments) this.workloadByIp.set(a.ipv4, { name: w.name, host: w.host });
    }
    this.pingAttempts = Math.max(1, o.pingAttempts ?? 2);
    this.probesInFlight = Math.max(1, o.probesInFlight ?? 32 * availableParallelism());
  }

  /**
   * One-packet pings, retried (pingAttempts) only when a reply is expected: the first packet to a new
   * peer may be lost to ARP/VXLAN learning, while a retry of a ping expected to fail only costs time.
   * The batch script stops at the first reply; a name that does not resolve is reported as such.
   */
  private pingAttemptsFor(expect: CheckPlan["expect"]): number {
    return expect === "pass" ? this.pingAttempts : 1;
  }

  /** The probe a check runs in its container's batch (undefined: not a probe, the container's state instead). */
  private batchProbe(c: CheckPlan): BatchProbe | undefined {
    switch (c.kind) {
      case "dns":
        return { kind: "dns", target: c.target, attempts: 1 };
      case "mtu":
        return { kind: "mtu", target: c.target, attempts: c.attempts ?? this.pingAttemptsFor(c.expect), arg: c.size ?? "auto" };
      case "ping":
      case "external":
      case "host-ping":
        return c.measure
          ? { kind: "series", target: c.target, attempts: 1, arg: c.measure.count }
          : { kind: "ping", target: c.target, attempts: c.attempts ?? this.pingAttemptsFor(c.expect) };
      default:
        return undefined;
    }
  }

  /** When a probe toward a lab container fails, say whether that container is down. */
  private async targetNote(target: string): Promise<string> {
    const w = this.workloadHost.has(target) ? { name: target, host: this.workloadHost.get(target)! } : this.workloadByIp.get(target);
    if (!w) return "";
    try {
      const c = await this.hosts.inspect(w.host, w.name);
      if (!c) return `; target container ${w.name} does not exist on ${w.host}`;
      if (!c.State.Running) return `; target container ${w.name} is not running (${describeState(c)})`;
    } catch {
      /* the host is unreachable: its own checks say so */
    }
    return "";
  }

  /** A check's result, reported through onResult. */
  private result(c: CheckPlan, p: ProbeOutcome, error: boolean, durationMs: number): CheckResult {
    const r = checkResult(c, p, error, durationMs);
    this.o.onResult?.(r);
    return r;
  }

  /** The hosts (or containers on hosts) a check depends on, besides its own. */
  hostsOf(c: CheckPlan): Set<string> {
    const out = new Set([c.host]);
    const t = this.workloadHost.get(c.target) ?? this.workloadByIp.get(c.target)?.host;
    if (t !== undefined) out.add(t);
    return out;
  }

  /** Runs one host-level check (vxlan, daemon-netns) under its timeout; never throws. */
  async runCheck(c: CheckPlan): Promise<CheckResult> {
    const started = performance.now();
    try {
      await this.hosts.requireHost(c.host);
      // The daemon check may look twice, recheckS apart: that wait is on top of the check's timeout.
      const ms = c.kind === "daemon-netns" ? this.checkTimeoutMs + this.daemons.recheckS * 1000 : this.checkTimeoutMs;
      const p = await withDeadline(ms, c.id, (signal) =>
        c.kind === "daemon-netns" ? this.daemons.check(c, signal) : this.vxlan.check(c, signal),
      );
      return this.result(c, p, false, performance.now() - started);
    } catch (err) {
      return this.result(c, failure(err), true, performance.now() - started);
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
      const probe = this.batchProbe(c);
      if (!probe) return undefined;
      probes.push(probe);
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
        await this.hosts.requireHost(host);
        // By ID: the name could fall back to another container's ID prefix (see inspect).
        const ref = container ? (await this.hosts.running(host, container)).Id : await this.hosts.helper(host);
        const r = await this.hosts.engine(host).exec(ref, batchCommand({ probeTimeoutS, workers, state, probes }), {
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
      return checks.map((c) => this.result(c, failure(err), true, performance.now() - started));
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
            const p =
              c.kind === "dns"
                ? dnsOutcome(c, run.attempts, await this.targetNote(c.target))
                : c.kind === "mtu"
                  ? mtuOutcome(c, run.attempts)
                  : c.measure
                    ? measureOutcome(c, run.attempts)
                    : pingOutcome(run.attempts, c.target, c.expectedIp);
            if (c.kind !== "dns" && p.outcome === "fail" && !c.measure) p.detail += await this.targetNote(c.target);
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
          const p =
            c.kind === "cnm"
              ? cnm(
                  net,
                  await this.hosts.running(c.host, c.from),
                  await this.hosts.network(c.host, "docker_gwbridge").catch(() => undefined),
                  this.plan.workloads.find((x) => x.name === c.from),
                )
              : gwbridgeRoute(c, net, await this.hosts.network(c.host, "docker_gwbridge"));
          // Its own time inside the container, as a probe's: reading the state, not waiting for the exec.
          if (st.start !== undefined && st.end !== undefined) p.data = { ...p.data, probeMs: Math.round((st.end - st.start) * 1000) };
          return this.result(c, p, false, ms);
        } catch (err) {
          return this.result(c, failure(err), true, ms);
        }
      }),
    );
  }
}

const SETTLE_PAUSE_MS = 1_000;

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
    const daemon = indexed.filter((x) => x.c.kind === "daemon-netns");
    const rest = indexed.filter((x) => x.c.kind !== "vxlan" && x.c.kind !== "daemon-netns");
    const out = new Array<CheckResult>(checks.length);
    // The daemons first and alongside everything else: a stuck one may take a second look, seconds later.
    const stuck = new Set<string>();
    const daemonsDone = mapLimit(daemon, limit, async (x) => {
      const r = await run.runCheck(x.c);
      out[x.i] = r;
      if (!r.ok && !r.error) stuck.add(x.c.host);
    });
    await run.vxlan.sampleBefore(vx.map((x) => x.c));
    const deadline = performance.now() + (o.settleMs ?? 0);
    await runBatches(run, rest, limit, (x, r) => (out[x.i] = r));
    // Converging: re-run what failed where a pass is expected (not probes that could not run at all:
    // a stopped container or a lost daemon does not come back by waiting; nor what goes through a
    // stuck daemon: waiting does not unstick it), once a second, until the window closes.
    const settling = (x: Indexed): boolean => {
      const r = out[x.i]!;
      return !r.ok && !r.error && r.expect === "pass" && ![...run.hostsOf(x.c)].some((h) => stuck.has(h));
    };
    let pending = rest.filter(settling);
    for (let round = 2; pending.length > 0 && performance.now() + SETTLE_PAUSE_MS < deadline; round++) {
      await sleep(SETTLE_PAUSE_MS);
      run.hosts.forgetInspections();
      await runBatches(
        run,
        pending,
        limit,
        (x, r) => (out[x.i] = { ...r, detail: `${r.detail} [round ${round}]`, data: { ...r.data, round } }),
      );
      pending = pending.filter(settling);
    }
    await mapLimit(vx, limit, async (x) => (out[x.i] = await run.runCheck(x.c)));
    await daemonsDone;
    return blockByStuckDaemons(run, checks, out);
  } finally {
    await run.hosts.cleanup();
  }
}

/**
 * One failure per stuck daemon, not a wall of them: every other check that failed and goes through a
 * host whose dockerd is stuck (its own probes, or probes toward its containers) is marked as blocked by
 * that host's daemon-netns check, which names the cause and the fix.
 */
export function blockByStuckDaemons(run: Pick<VerifyRun, "hostsOf">, checks: readonly CheckPlan[], out: CheckResult[]): CheckResult[] {
  const stuck = new Map<string, string>();
  for (const r of out) if (r.kind === "daemon-netns" && !r.ok && !r.error) stuck.set(r.host, r.id);
  if (stuck.size === 0) return out;
  return out.map((r, i) => {
    if (r.ok || r.kind === "daemon-netns") return r;
    const by = [...run.hostsOf(checks[i]!)].map((h) => stuck.get(h)).find((x) => x !== undefined);
    return by === undefined ? r : { ...r, blockedBy: by };
  });
}

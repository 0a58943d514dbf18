// The VXLAN check: the overlay's VXLAN device in the network's sandbox namespace on a host, its VNI
// (from the device's name, the network's options or the KV store's record) and its packet counters,
// read before the probes and after them, so the check shows the traffic this very run pushed through
// the tunnel.
import type { CheckPlan, LabPlan } from "../model/index.js";
import { kvRecordRead } from "../model/index.js";
import type { LabHosts } from "./hosts.js";
import {
  type DevCounters,
  findVxlanDevice,
  overlaySandboxName,
  parseProcNetDev,
  pickOverlaySandbox,
  vniFromKvRecord,
  vniFromOptions,
} from "./parse.js";
import { withDeadline } from "./pool.js";
import { ProbeError, type ProbeOutcome } from "./result.js";

export interface VxlanSample {
  networkId: string;
  sandbox: string;
  device?: string;
  vni?: number;
  vniSource?: string;
  counters?: DevCounters;
  error?: string;
}

export class VxlanSampler {
  private readonly before = new Map<string, VxlanSample>();

  constructor(
    private readonly plan: LabPlan,
    private readonly hosts: LabHosts,
    private readonly checkTimeoutMs: number,
  ) {}

  private async sample(host: string, network: string, signal: AbortSignal): Promise<VxlanSample> {
    const net = await this.hosts.network(host, network);
    if (!net) {
      const kv =
        this.plan.overlayMode === "kv" && this.plan.kv
          ? ` (a kv-mode overlay is looked up in the cluster store: can ${host} reach ${this.plan.kv.url}?)`
          : "";
      throw new ProbeError(`network ${network} not found on ${host}${kv}`);
    }
    if (net.Driver !== "overlay") throw new ProbeError(`network ${network} on ${host} is ${net.Driver}, not overlay`);
    const execRoot = this.hosts.execRoot(host) ?? "?";
    const ls = await this.hosts.execOnHost(host, ["ls", "-1", "/netns"], signal);
    const sandbox = pickOverlaySandbox(ls.stdout.split("\n"), net.Id);
    const s: VxlanSample = { networkId: net.Id, sandbox: sandbox ?? overlaySandboxName(net.Id) };
    if (!sandbox) {
      s.error = `no overlay sandbox <epoch>-${net.Id.slice(0, 9)}… in ${execRoot}/netns on ${host} (no local container on ${network}?)`;
      return s;
    }
    const r = await this.hosts.execOnHost(host, ["nsenter", `--net=/netns/${sandbox}`, "cat", "/proc/net/dev"], signal);
    let dev = r.exitCode === 0 ? findVxlanDevice(parseProcNetDev(r.stdout), net.Id) : undefined;
    if (!dev) {
      // Docker keeps the device in the host's namespace when it cannot use a sandbox ("vx-<vni>-<id>").
      const hostDevs = await this.hosts.execOnHost(host, ["cat", "/proc/net/dev"], signal);
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
    const r = await this.hosts.execOnHost(host, read.argv, signal).catch(() => undefined);
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
            const s = await withDeadline(ms, `vxlan sample on ${c.host}`, (sig) => this.sample(c.host, c.network ?? c.target, sig));
            this.before.set(`${c.host}/${c.network ?? c.target}`, s);
          } catch {
            /* the after-sample reports the problem */
          }
        }),
    );
  }

  async check(c: CheckPlan, signal: AbortSignal): Promise<ProbeOutcome> {
    const after = await this.sample(c.host, c.network ?? c.target, signal);
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
    // This run's traffic when the counters were read before the probes (the device is the same): a tunnel
    // that carried traffic once but carries none now (a host dropping VXLAN) must not pass on old totals.
    let moved = a.rxPackets > 0 && a.txPackets > 0;
    if (before?.counters && before.device === after.device) {
      const d = { rxPackets: a.rxPackets - before.counters.rxPackets, txPackets: a.txPackets - before.counters.txPackets };
      data.delta = d;
      delta = `, this run +${d.rxPackets}/+${d.txPackets}`;
      moved = d.rxPackets > 0 && d.txPackets > 0;
    }
    const vni = after.vni !== undefined ? `VNI ${after.vni}` : "VNI unknown";
    const detail = `${after.device} (${vni}) in ${after.sandbox}: rx ${a.rxPackets} / tx ${a.txPackets} packets${delta}`;
    return {
      outcome: moved ? "pass" : "fail",
      detail: moved ? detail : `${detail}: no encapsulated traffic${delta ? " both ways this run" : ""}`,
      data,
    };
  }
}

// A lab for the live page's unit tests, in memory: inspect sees every host and container (those in
// `down` exited) and the plan's faults as active (plus any `extraFaults`), the verification comes out as
// the plan expects every check but those of a down container, those `flipped` and those through a
// `stuck` daemon (blocked by its daemon-netns check), and the trace is the real one of docs/trace.json
// (test2 -> test1 on the default netns lab), stopped at test1 when it is down.
import { readFileSync } from "node:fs";
import type { InspectFault, InspectReport } from "../../src/inspect/index.js";
import { buildPlan, daemonCheckId, describeFault, expandChecks, faultSetting, type LabPlan } from "../../src/model/index.js";
import type { TraceRequest } from "../../src/trace/plan.js";
import type { TraceResult } from "../../src/trace/types.js";
import { buildReport, type CheckResult, checkResult, type VerifyReport } from "../../src/verify/index.js";
import type { LabAccess } from "../../src/view/lab.js";

/** The lab docs/trace.json was traced on: the default scenario on netns hosts, etcd. */
export const fakePlan = (): LabPlan => buildPlan({ name: "lab", hostKind: "netns", kv: { kind: "etcd" } });

/** The default netns lab with a fault on host2's VXLAN, a named MTU fault on host1 and three expectations of the user's. */
export const faultedPlan = (): LabPlan =>
  buildPlan({
    name: "lab",
    hostKind: "netns",
    kv: { kind: "etcd" },
    faults: [
      { host: "host2", kind: "drop-vxlan" },
      { name: "small-underlay", host: "host1", kind: "mtu", mtu: 1400 },
    ],
    expect: [
      { name: "test2 finds test1 by name", from: "test2", to: "test1", network: "ov_net1", probe: "dns" },
      { name: "test2 cannot ping test1", from: "test2", to: "test1", network: "ov_net1", probe: "ping", expect: "fail" },
      { name: "test3 reaches its host", from: "test3", to: "host1", probe: "ping", expect: "pass" },
    ],
  });

export const savedTrace = (): TraceResult =>
  JSON.parse(readFileSync(new URL("../../docs/trace.json", import.meta.url), "utf8")) as TraceResult;

export class FakeLab implements LabAccess {
  readonly down = new Set<string>();
  /** Checks (by id) whose outcome is the opposite of what the plan expects. */
  readonly flipped = new Set<string>();
  /** Hosts whose dockerd is stuck: their daemon-netns check fails, and what runs there is blocked by it. */
  readonly stuck = new Set<string>();
  /** Fault records inspect finds besides the plan's (stale ones). */
  extraFaults: InspectFault[] = [];
  running = true;
  verifications = 0;
  traces: TraceRequest[] = [];
  /** Holds each verification until released (tests of "already running"). */
  gate: Promise<void> | undefined;

  async inspect(plan: LabPlan): Promise<InspectReport> {
    const err = this.running ? undefined : "connect ENOENT";
    return {
      lab: plan.name,
      hostKind: plan.hostKind,
      overlayMode: plan.overlayMode,
      inspectedAt: new Date().toISOString(),
      healthy: this.running && this.down.size === 0,
      hosts: plan.hosts.map((h) => ({
        name: h.name,
        kind: h.kind,
        address: h.address,
        endpoint: h.endpoint,
        reachable: this.running,
        ...(err ? { error: `${h.endpoint}: GET /version: ${err}` } : { dockerVersion: "20.10.24", mode: "cluster-store" }),
      })),
      networks: plan.networks.map((n) => ({
        name: n.name,
        driver: n.driver,
        subnet: n.subnet,
        plannedSubnet: n.subnet,
        ...(n.driver === "overlay" ? { vni: 256 } : {}),
        hosts: [],
      })),
      containers: plan.workloads.map((w) => {
        const up = this.running && !this.down.has(w.name);
        return {
          name: w.name,
          host: w.host,
          state: !this.running ? "unknown (host unreachable)" : up ? "running" : "exited (137)",
          running: up,
          ips: up ? Object.fromEntries(w.attachments.map((a) => [a.network, a.ipv4] as const)) : {},
          problems: [],
        };
      }),
      faults: [
        ...plan.faults.map(
          (f): InspectFault => ({
            host: f.host,
            name: f.name,
            kind: f.kind,
            setting: faultSetting(f),
            state: "active",
            effect: describeFault(f, plan),
            since: "2026-12-06T10:00:00Z",
          }),
        ),
        ...this.extraFaults,
      ],
      lastVerification: { file: "", found: false },
    };
  }

  async verify(plan: LabPlan, onResult: (r: CheckResult) => void): Promise<VerifyReport> {
    this.verifications++;
    const started = new Date();
    if (this.gate) await this.gate;
    const ips = new Map(plan.workloads.flatMap((w) => w.attachments.map((a) => [a.ipv4, w.name] as const)));
    const results: CheckResult[] = [];
    for (const c of expandChecks(plan.checks)) {
      const to = ips.get(c.expectedIp ?? c.target) ?? c.target;
      const broken = this.down.has(c.from) || this.down.has(to);
      const pass = (c.expect === "pass") !== this.flipped.has(c.id);
      let r = broken
        ? checkResult(c, { outcome: "fail", detail: `${this.down.has(c.from) ? c.from : to} is not running` }, this.down.has(c.from), 40)
        : checkResult(c, { outcome: pass ? "pass" : "fail", detail: pass ? "reply in 0.05 ms" : "no reply" }, c.expect === "no-run", 120);
      if (this.stuck.has(c.host)) {
        r =
          c.kind === "daemon-netns"
            ? checkResult(c, { outcome: "fail", detail: `${c.host}'s dockerd is stuck` }, false, 30)
            : c.expect === "no-run"
              ? r
              : { ...checkResult(c, { outcome: "fail", detail: "timed out" }, true, 5000), blockedBy: daemonCheckId(c.host) };
      }
      results.push(r);
      onResult(r);
      await new Promise((res) => setTimeout(res, 1));
    }
    return buildReport(plan.name, started, Date.now() - started.getTime(), results);
  }

  async trace(_plan: LabPlan, req: TraceRequest): Promise<TraceResult> {
    this.traces.push(req);
    const t = savedTrace();
    if (!this.down.has(req.to)) return t;
    // Stopped: the request crosses the underlay to host1's VXLAN device, and no further.
    const last = t.hops.findIndex((h) => h.id === "host1/overlay/vxlan");
    return {
      ...t,
      hops: t.hops.map((h, i) => (i > last ? { ...h, status: "not-seen", requests: 0, replies: 0 } : { ...h, replies: 0 })),
      delivered: false,
      answered: false,
      lastSeen: t.hops[last]!.id,
      cause: `last seen at vxlan0 in 1-fd1fb93efb @ host1; ${req.to} is exited (137): nothing on ov_net1 has 198.18.100.2 any more`,
    };
  }
}

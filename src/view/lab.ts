// What the live page shows of a lab, apart from HTTP: the running lab as inspect reads it, the topology
// drawn by src/topology for that live view, the last verification's colours, and the page's two actions,
// a verification (src/verify) and a trace between two containers of the plan (src/trace). Nothing here
// runs anything a request names: the checks and the trace's endpoints come from the plan.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { SshOptions } from "../docker/transport.js";
import { type InspectContainer, type InspectHost, type InspectReport, inspectLab } from "../inspect/index.js";
import { checkCount, type LabPlan, LAST_VERIFY_FILE, type TopologyLive, topologyView } from "../model/index.js";
import { layoutTopology } from "../topology/layout.js";
import { renderTopologySvg } from "../topology/svg.js";
import { runTrace } from "../trace/capture.js";
import { planTrace, type TraceRequest } from "../trace/plan.js";
import { summaryLine as traceSummary, traceTitle } from "../trace/render.js";
import { traceSvg } from "../trace/svg.js";
import type { TraceResult } from "../trace/types.js";
import { type CheckResult, summaryLine, type VerifyReport, verifyLab } from "../verify/index.js";
import { type ViewFault, viewFaults } from "./faults.js";
import { CheckIndex, type CheckRow, checkRows, type ElementKey, type ElementStatus, expectationRows, Progress } from "./status.js";
import { type TracePath, tracePath } from "./tracePath.js";

/** How the page reaches the lab: the same calls the verify, inspect and trace CLIs make. */
export interface LabAccess {
  inspect(plan: LabPlan): Promise<InspectReport>;
  verify(plan: LabPlan, onResult: (r: CheckResult) => void): Promise<VerifyReport>;
  trace(plan: LabPlan, req: TraceRequest): Promise<TraceResult>;
}

export interface AccessOptions {
  endpoints?: Readonly<Record<string, string>>;
  ssh?: SshOptions;
  /** The verification's retry window for failing checks (the page shows the lab as it is: default 0). */
  settleMs?: number;
  checkTimeoutMs?: number;
}

/** The real lab, through src/inspect, src/verify and src/trace. */
export function labAccess(o: AccessOptions): LabAccess {
  const reach = { ...(o.endpoints ? { endpoints: o.endpoints } : {}), ...(o.ssh ? { ssh: o.ssh } : {}) };
  return {
    inspect: (plan) => inspectLab(plan, { ...reach, timeoutMs: 3_000 }),
    verify: (plan, onResult) =>
      verifyLab(plan, {
        ...reach,
        settleMs: o.settleMs ?? 0,
        ...(o.checkTimeoutMs !== undefined ? { checkTimeoutMs: o.checkTimeoutMs } : {}),
        onResult,
      }),
    trace: (plan, req) => runTrace(plan, req, reach),
  };
}

/** Where the page's lab came from, to say how to start it when it is not running. */
export type LabSource =
  | { kind: "default" }
  | { kind: "config"; file: string }
  | { kind: "plan"; file: string }
  | { kind: "pulumi-config"; file: string }
  | { kind: "stack"; stack: string };

/** The commands that start the lab, for the page to show when it is not running. */
export function startCommands(plan: LabPlan, source: LabSource): string[] {
  const stackUp = (stack?: string): string => (stack && stack !== "dev" ? `LAB_STACK=${stack} npm run up` : "npm run up");
  switch (source.kind) {
    case "stack":
      return [stackUp(source.stack)];
    case "config":
      return plan.hostKind === "netns"
        ? [`sudo npm run lab -- up --config ${source.file}`, `or a stack with these lab: settings: LAB_STACK=<stack> npm run up`]
        : [`LAB_STACK=<stack> npm run up   (a stack whose Pulumi.<stack>.yaml has the lab: settings of ${source.file})`];
    case "pulumi-config":
      return ["LAB_STACK=<the stack> npm run up"];
    case "plan":
      return plan.hostKind === "netns" ? ["sudo npm run lab -- up --config <the lab config of this plan>"] : ["npm run up"];
    case "default":
      return plan.hostKind === "netns" ? ["sudo npm run lab -- up"] : [stackUp()];
  }
}

/** A host as the page shows it: inspect's view of it, what the page draws. */
export type LiveHost = Pick<InspectHost, "name" | "reachable" | "dockerVersion" | "mode" | "error">;

/** A container as inspect reports it, its ips live where it has them, else the plan's. */
export type LiveContainer = InspectContainer;

export interface VerificationInfo {
  /** Where the colours come from: the saved report, or a run from this page. */
  source: string;
  startedAt: string;
  wallMs: number;
  ok: boolean;
  summary: VerifyReport["summary"];
  summaryLine: string;
}

/** Everything the page draws; sent whole on load and after every change. */
export interface ViewState {
  lab: { name: string; hostKind: string; overlayMode: string; summary: string; checks: number };
  /** Some host of the lab answers. */
  running: boolean;
  /** Why the lab is not running (each host's error), and how to start it. */
  notRunning?: { reason: string; commands: string[] };
  inspectedAt?: string;
  hosts: LiveHost[];
  containers: LiveContainer[];
  /** The topology for the live view: the same drawing as docs/topology.svg (src/topology/svg.ts). */
  svg: string;
  verification?: VerificationInfo;
  /** Why the saved report was not used (unreadable, another lab's). */
  verificationNote?: string;
  statuses: Record<ElementKey, ElementStatus>;
  verifying: boolean;
  tracing: boolean;
  /** The lab's faults (lab:faults) as inspect found them on the hosts, stale records included. */
  faults: ViewFault[];
  /** The user's own expectations (lab:expect), in the order written, with the last verification's results. */
  expectations: CheckRow[];
}

export interface TraceResponse {
  title: string;
  summary: string;
  result: TraceResult;
  /** The hop-by-hop sequence diagram (src/trace/svg.ts). */
  svg: string;
  /** The hops placed on the topology picture. */
  path: TracePath;
}

export class BusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BusyError";
  }
}

export interface ViewEvents {
  verifyStart(total: number): void;
  verifyProgress(done: number, total: number, changed: Record<ElementKey, ElementStatus>): void;
  verifyDone(info: VerificationInfo): void;
  verifyError(message: string): void;
  state(): void;
}

/** The saved report, if it is a report of this lab. */
function readReport(file: string, lab: string): { report?: VerifyReport; note?: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? { note: `no saved verification (${file}): press "verify now"` } : { note: `${file}: cannot read (${code})` };
  }
  try {
    const r = JSON.parse(text) as Partial<VerifyReport>;
    if (!r || typeof r !== "object" || !Array.isArray(r.results) || !r.summary) return { note: `${file}: not a verification report` };
    if (r.lab !== lab) return { note: `${file} is a report of lab ${JSON.stringify(r.lab)}, not of ${lab}: press "verify now"` };
    return { report: r as VerifyReport };
  } catch (e) {
    return { note: `${file}: not JSON (${(e as Error).message})` };
  }
}

export interface ViewLabOptions {
  source: LabSource;
  /** The saved report (default .lab/last-verify.json); "verify now" writes it again, as the stack does. */
  verifyFile?: string;
  now?: () => Date;
}

/** The lab behind the page: its state, and the verification and trace the page may start. */
export class ViewLab {
  readonly index: CheckIndex;
  private readonly verifyFile: string;
  private live: InspectReport | undefined;
  private liveError: string | undefined;
  private report: VerifyReport | undefined;
  private reportSource = "";
  private reportNote: string | undefined;
  private results = new Map<string, CheckResult>();
  private verifying = false;
  private tracing = false;
  private refreshing: Promise<void> | undefined;
  private refreshedAt = 0;

  constructor(
    readonly plan: LabPlan,
    private readonly access: LabAccess,
    private readonly o: ViewLabOptions,
  ) {
    this.index = new CheckIndex(plan);
    this.verifyFile = o.verifyFile ?? LAST_VERIFY_FILE;
    this.loadReport();
  }

  private loadReport(): void {
    const { report, note } = readReport(this.verifyFile, this.plan.name);
    this.reportNote = note;
    if (report) this.useReport(report, this.verifyFile);
  }

  private useReport(report: VerifyReport, source: string): void {
    this.report = report;
    this.reportSource = source;
    this.results = new Map(report.results.map((r) => [r.id, r] as const));
  }

  /** Reads the lab again (at most one read at a time; callers share it). */
  refresh(): Promise<void> {
    this.refreshing ??= this.access
      .inspect(this.plan)
      .then(
        (r) => {
          this.live = r;
          this.liveError = undefined;
        },
        (e: unknown) => {
          this.liveError = e instanceof Error ? e.message : String(e);
        },
      )
      .finally(() => {
        this.refreshing = undefined;
        this.refreshedAt = Date.now();
      });
    return this.refreshing;
  }

  /** How long ago the lab was last read. */
  ageMs(): number {
    return Date.now() - this.refreshedAt;
  }

  get busy(): { verifying: boolean; tracing: boolean } {
    return { verifying: this.verifying, tracing: this.tracing };
  }

  private liveTopology(): TopologyLive {
    const live: TopologyLive = {};
    if (!this.live) return live;
    const vni: Record<string, number> = {};
    for (const n of this.live.networks) if (n.vni !== undefined) vni[n.name] = n.vni;
    const ips: Record<string, Record<string, string>> = {};
    for (const c of this.live.containers) if (c.running) ips[c.name] = c.ips;
    return { vni, ips };
  }

  verificationInfo(): VerificationInfo | undefined {
    const r = this.report;
    if (!r) return undefined;
    return {
      source: this.reportSource,
      startedAt: r.startedAt,
      wallMs: r.wallMs,
      ok: r.ok,
      summary: r.summary,
      summaryLine: summaryLine(r.summary),
    };
  }

  state(): ViewState {
    const plan = this.plan;
    const view = topologyView(plan, this.liveTopology());
    const hosts: LiveHost[] = plan.hosts.map((h) => {
      const l = this.live?.hosts.find((x) => x.name === h.name);
      return {
        name: h.name,
        reachable: l?.reachable ?? false,
        ...(l?.dockerVersion ? { dockerVersion: l.dockerVersion } : {}),
        ...(l?.mode ? { mode: l.mode } : {}),
        ...(l?.error ? { error: l.error } : !l ? { error: this.liveError ?? "not read yet" } : {}),
      };
    });
    const running = hosts.some((h) => h.reachable);
    const containers: LiveContainer[] = plan.workloads.map((w) => {
      const l = this.live?.containers.find((x) => x.name === w.name);
      const planned = Object.fromEntries(w.attachments.map((a) => [a.network, a.ipv4] as const));
      return {
        name: w.name,
        host: w.host,
        state: l?.state ?? "unknown",
        running: l?.running ?? false,
        ips: { ...planned, ...(l?.running ? l.ips : {}) },
        problems: l?.problems ?? [],
      };
    });
    const verification = this.verificationInfo();
    return {
      lab: {
        name: plan.name,
        hostKind: plan.hostKind,
        overlayMode: plan.overlayMode,
        summary: view.summary,
        checks: checkCount(plan.checks),
      },
      running,
      ...(running
        ? {}
        : {
            notRunning: {
              reason: hosts.map((h) => `${h.name}: ${h.error ?? "does not answer"}`).join("; "),
              commands: startCommands(plan, this.o.source),
            },
          }),
      ...(this.live ? { inspectedAt: this.live.inspectedAt } : {}),
      hosts,
      containers,
      svg: renderTopologySvg(view).replace(/^<\?xml[^>]*>\n/, ""),
      ...(verification ? { verification } : {}),
      ...(this.reportNote && !verification ? { verificationNote: this.reportNote } : {}),
      statuses: this.index.statuses(this.results),
      verifying: this.verifying,
      tracing: this.tracing,
      faults: viewFaults(plan, this.live?.faults, this.liveError),
      expectations: expectationRows(plan, this.results),
    };
  }

  /** The checks behind one element of the picture, with their results. */
  checks(key: ElementKey): { rows: CheckRow[]; startedAt?: string } | undefined {
    const rows = checkRows(this.index, key, this.results);
    return rows && { rows, ...(this.report ? { startedAt: this.report.startedAt } : {}) };
  }

  /**
   * Starts a verification of the whole plan; progress and the end go to `events`. Refused while one runs.
   * The report is saved where the stack saves its own (npm run inspect shows it).
   */
  startVerify(events: ViewEvents): void {
    if (this.verifying) throw new BusyError("a verification is already running");
    this.verifying = true;
    const total = checkCount(this.plan.checks);
    const progress = new Progress(this.index);
    let done = 0;
    let pending: Record<ElementKey, ElementStatus> = {};
    let timer: NodeJS.Timeout | undefined;
    // Results arrive by the hundred at once: one event per 100 ms carries what changed meanwhile.
    const flush = (): void => {
      timer = undefined;
      events.verifyProgress(done, total, pending);
      pending = {};
    };
    events.verifyStart(total);
    this.access
      .verify(this.plan, (r) => {
        if (!progress.results.has(r.id)) done++;
        Object.assign(pending, progress.add(r));
        timer ??= setTimeout(flush, 100);
      })
      .then(
        async (report) => {
          if (timer) clearTimeout(timer);
          flush();
          try {
            mkdirSync(dirname(this.verifyFile), { recursive: true });
            writeFileSync(this.verifyFile, `${JSON.stringify(report, null, 2)}\n`);
            this.useReport(report, this.verifyFile);
          } catch (e) {
            this.useReport(report, `this page (not saved: ${(e as Error).message})`);
          }
          this.reportNote = undefined;
          this.verifying = false;
          await this.refresh();
          events.verifyDone(this.verificationInfo()!);
          events.state();
        },
        (e: unknown) => {
          if (timer) clearTimeout(timer);
          this.verifying = false;
          events.verifyError(e instanceof Error ? e.message : String(e));
          events.state();
        },
      );
  }

  /** Names the request gives are looked up in the plan; anything else is refused before anything runs. */
  validateTrace(from: unknown, to: unknown): TraceRequest {
    const names = this.plan.workloads.map((w) => w.name);
    for (const [what, v] of [
      ["from", from],
      ["to", to],
    ] as const) {
      if (typeof v !== "string" || !names.includes(v))
        throw new TypeError(`${what}: ${JSON.stringify(v)} is not a container of lab ${this.plan.name} (${names.join(", ")})`);
    }
    const req: TraceRequest = { from: from as string, to: to as string, payloadBytes: 1100 + Math.floor(Math.random() * 300) };
    planTrace(this.plan, req); // same container, no common network: a TraceInputError, nothing run
    return req;
  }

  async trace(req: TraceRequest): Promise<TraceResponse> {
    if (this.tracing) throw new BusyError("a trace is already running");
    this.tracing = true;
    try {
      const result = await this.access.trace(this.plan, req);
      const layout = layoutTopology(topologyView(this.plan, this.liveTopology()));
      return {
        title: traceTitle(result),
        summary: traceSummary(result),
        result,
        svg: traceSvg(result),
        path: tracePath(this.plan, layout, result),
      };
    } finally {
      this.tracing = false;
    }
  }
}

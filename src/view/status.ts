// What each element of the topology picture stands for in the verification: the checks that concern a
// container, a container's link to a network, a host, a network and the KV store, and the colour they
// come to (pass, expected fail, fail, blocked, not run), and the user's own expectations (lab:expect).
// Pure: the plan's checks and a report's results in, the statuses out. The live page only paints what
// this computes.
import { type CheckPlan, eachCheck, type Expectation, type LabPlan } from "../model/index.js";
import { type CheckResult, statusOf } from "../verify/index.js";

/**
 * A check's colour: as expected and passing, as expected and failing or not running (the plan predicts
 * it: a fault's effect, a host and its own macvlan child), not as expected, blocked (it failed through a
 * stuck dockerd: that host's daemon-netns check is the failure that counts), or no result.
 */
export type CheckStatus = "pass" | "xfail" | "fail" | "blocked" | "notrun";

/**
 * An element of the picture, as the SVG's data attributes name it: container:test1, link:test1@ov_net1
 * (the container's line to the network), host:host1, network:ov_net1, kv.
 */
export type ElementKey = string;

export const containerKey = (name: string): ElementKey => `container:${name}`;
export const linkKey = (container: string, network: string): ElementKey => `link:${container}@${network}`;
export const hostKey = (name: string): ElementKey => `host:${name}`;
export const networkKey = (name: string): ElementKey => `network:${name}`;
export const KV_KEY: ElementKey = "kv";

export interface StatusCounts {
  pass: number;
  xfail: number;
  fail: number;
  blocked: number;
  notrun: number;
}

export interface ElementStatus {
  status: CheckStatus;
  counts: StatusCounts;
}

/** The fields of a result its colour depends on. */
export type ResultStatus = Pick<CheckResult, "ok" | "expected" | "blockedBy">;

export function statusOfResult(r: ResultStatus | undefined): CheckStatus {
  if (r === undefined) return "notrun";
  // Not counted as failed (the verifier's summary does the same): the stuck daemon's own check is red.
  if (r.blockedBy !== undefined) return "blocked";
  if (!r.ok) return "fail";
  return r.expected ? "xfail" : "pass";
}

/**
 * One colour for many checks: any unexpected result makes it red; then any check blocked by a stuck
 * daemon (what it stands for is not known); otherwise a pass makes it green (a container whose checks
 * pass is healthy even when one of them is an expected failure); only expected failures give their own
 * colour; nothing run, grey.
 */
export function combine(c: StatusCounts): CheckStatus {
  if (c.fail > 0) return "fail";
  if (c.blocked > 0) return "blocked";
  if (c.pass > 0) return "pass";
  if (c.xfail > 0) return "xfail";
  return "notrun";
}

const zero = (): StatusCounts => ({ pass: 0, xfail: 0, fail: 0, blocked: 0, notrun: 0 });

/** The plan's checks, and for each the elements of the picture it concerns (and back). */
export class CheckIndex {
  readonly checks = new Map<string, CheckPlan>();
  readonly elementsOf = new Map<string, ElementKey[]>();
  readonly checksOf = new Map<ElementKey, string[]>();

  constructor(readonly plan: LabPlan) {
    const workloads = new Set(plan.workloads.map((w) => w.name));
    const hosts = new Map(plan.hosts.map((h) => [h.name, h] as const));
    const hostByAddress = new Map(plan.hosts.map((h) => [h.address, h.name] as const));
    // network -> address -> container: an IP target names its container on the check's network.
    const byIp = new Map<string, Map<string, string>>();
    for (const w of plan.workloads)
      for (const a of w.attachments) {
        if (!byIp.has(a.network)) byIp.set(a.network, new Map());
        byIp.get(a.network)!.set(a.ipv4, w.name);
      }
    const attached = new Set(plan.workloads.flatMap((w) => w.attachments.map((a) => linkKey(w.name, a.network))));
    // Every element is known, even one no check concerns: it is then "not run" for good.
    for (const w of plan.workloads) {
      this.checksOf.set(containerKey(w.name), []);
      for (const a of w.attachments) this.checksOf.set(linkKey(w.name, a.network), []);
    }
    for (const h of plan.hosts) this.checksOf.set(hostKey(h.name), []);
    for (const n of plan.networks) this.checksOf.set(networkKey(n.name), []);
    if (plan.kv) this.checksOf.set(KV_KEY, []);

    for (const c of eachCheck(plan.checks)) {
      const containers = new Set<string>();
      const hostNames = new Set<string>();
      if (workloads.has(c.from)) containers.add(c.from);
      else if (hosts.has(c.from)) hostNames.add(c.from);
      if (workloads.has(c.target)) containers.add(c.target);
      else {
        // An IP, or an alias whose address the check expects.
        const ip = c.expectedIp ?? c.target;
        const w = c.network !== undefined ? byIp.get(c.network)?.get(ip) : undefined;
        if (w !== undefined) containers.add(w);
        const h = hostByAddress.get(c.target);
        if (h !== undefined) hostNames.add(h);
      }
      const keys: ElementKey[] = [];
      for (const w of containers) {
        keys.push(containerKey(w));
        if (c.network !== undefined && attached.has(linkKey(w, c.network))) keys.push(linkKey(w, c.network));
      }
      for (const h of hostNames) keys.push(hostKey(h));
      if (c.network !== undefined && this.checksOf.has(networkKey(c.network))) keys.push(networkKey(c.network));
      if (plan.kv && c.target === plan.kv.address) keys.push(KV_KEY);
      this.checks.set(c.id, c);
      this.elementsOf.set(c.id, keys);
      for (const k of keys) this.checksOf.get(k)!.push(c.id);
    }
  }

  /** Every element's colour from a run's results (by check id); a check without a result is "not run". */
  statuses(results: ReadonlyMap<string, ResultStatus>): Record<ElementKey, ElementStatus> {
    const out: Record<ElementKey, ElementStatus> = {};
    for (const [key, ids] of this.checksOf) {
      const counts = zero();
      for (const id of ids) counts[statusOfResult(results.get(id))]++;
      out[key] = { status: combine(counts), counts };
    }
    return out;
  }
}

/** One row of an element's check list. */
export interface CheckRow {
  id: string;
  status: CheckStatus;
  /** The verification table's word for it: PASS, XFAIL, NORUN, BLOCKED, FAIL, XPASS!, RAN!, ERROR (absent when not run). */
  word?: string;
  kind: string;
  from: string;
  target: string;
  network?: string;
  expect: Expectation;
  /** Why the plan expects this outcome. */
  reason: string;
  /** The faults (their labels, lab:faults[i] kind) that set the expectation: the report's own field, else the plan's. */
  faults?: string[];
  /** The failed daemon-netns check that stands for this one. */
  blockedBy?: string;
  /** A user's expectation (lab:expect): its name and key. */
  expectation?: { name: string; key: string };
  /** What the probe saw (absent when not run). */
  detail?: string;
  durationMs?: number;
}

/** A check and its result (if any) as a row. */
function rowOf(c: CheckPlan, r: CheckResult | undefined): CheckRow {
  const faults = r?.faults ?? c.faults;
  return {
    id: c.id,
    status: statusOfResult(r),
    ...(r ? { word: statusOf(r) } : {}),
    kind: c.kind,
    from: c.from,
    target: c.target,
    ...(c.network !== undefined ? { network: c.network } : {}),
    expect: c.expect,
    reason: c.reason,
    ...(faults?.length ? { faults } : {}),
    ...(r?.blockedBy !== undefined ? { blockedBy: r.blockedBy } : {}),
    ...(c.expectation ? { expectation: c.expectation } : {}),
    ...(r ? { detail: r.detail, durationMs: r.durationMs } : {}),
  };
}

/** The checks of one element with their results, failures first. Undefined for an element the plan does not have. */
export function checkRows(index: CheckIndex, key: ElementKey, results: ReadonlyMap<string, CheckResult>): CheckRow[] | undefined {
  const ids = index.checksOf.get(key);
  if (!ids) return undefined;
  const order: Record<CheckStatus, number> = { fail: 0, blocked: 1, notrun: 2, xfail: 3, pass: 4 };
  return ids.map((id) => rowOf(index.checks.get(id)!, results.get(id))).sort((a, b) => order[a.status] - order[b.status]);
}

/** The user's own expectations (lab:expect), in the order written, each with its result (if any). */
export function expectationRows(plan: LabPlan, results: ReadonlyMap<string, CheckResult>): CheckRow[] {
  return (plan.checks.expectations ?? []).map((c) => rowOf(c, results.get(c.id)));
}

/**
 * A verification in progress: the elements whose colour changed with each new result. A check reported
 * again (a retry round) replaces its earlier result.
 */
export class Progress {
  private readonly counts = new Map<ElementKey, StatusCounts>();
  readonly results = new Map<string, CheckResult>();

  constructor(private readonly index: CheckIndex) {}

  /** Takes a result; returns the elements it concerns with their colour over this run's results so far. */
  add(r: CheckResult): Record<ElementKey, ElementStatus> {
    const keys = this.index.elementsOf.get(r.id) ?? [];
    const before = this.results.get(r.id);
    this.results.set(r.id, r);
    const out: Record<ElementKey, ElementStatus> = {};
    for (const k of keys) {
      let c = this.counts.get(k);
      if (!c) {
        c = zero();
        this.counts.set(k, c);
      }
      if (before) c[statusOfResult(before)]--;
      c[statusOfResult(r)]++;
      out[k] = { status: combine(c), counts: { ...c } };
    }
    return out;
  }
}

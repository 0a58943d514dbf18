// Verification results as structured JSON and as a plain, aligned text table.
import type { Expectation } from "../model/index.js";
import type { CheckResult, Outcome } from "./checks.js";

export interface VerifySummary {
  total: number;
  /** ok and expected to pass. */
  passed: number;
  /** ok and expected to fail (the failure the plan predicts happened). */
  expectedFailures: number;
  /** not ok: unexpected failures, unexpected passes, and probes that could not run. */
  failed: number;
  unexpectedPasses: number;
  errors: number;
  /** Not ok, but stood for by a failed daemon-netns check (the host's dockerd is stuck): not in failed. */
  blocked: number;
}

/** How the checks of one network and check type went. */
export interface CheckCounts {
  passed: number;
  expectedFailures: number;
  failed: number;
  /** Failed through a stuck dockerd (only when there are any): its daemon-netns check counts instead. */
  blocked?: number;
}

/** A check that did not go as the plan expects. */
export interface CheckFailure {
  id: string;
  ok: false;
  outcome: Outcome;
  expect: Expectation;
  error: boolean;
  detail: string;
}

/** How one of the user's expectations (lab:expect) went: what the stack exports under verification.expectations. */
export interface ExpectationResult {
  name: string;
  /** lab:expect[i] */
  key: string;
  ok: boolean;
  /** PASS, XFAIL (expected to fail, and did), FAIL, XPASS! (expected to fail, and passed), ERROR. */
  status: string;
  expect: Expectation;
  outcome: Outcome;
  detail: string;
  /** What a measured expectation measured (sent, lossPct, rttMedianMs, ...). */
  measured?: Record<string, unknown>;
}

/** A measured series (loss and RTT through a faulted host, or a user's lossPct/rttMs): what it measured. */
export interface Measurement {
  id: string;
  ok: boolean;
  sent?: number;
  lossPct?: number;
  rttMedianMs?: number;
  rttSpreadMs?: number;
  /** The faults it measures (lab:faults[i] kind). */
  faults?: string[];
}

/**
 * The report without its per-check results: what the stack exports (and keeps in its state) however
 * large the lab. The full report goes to the file `npm run inspect` reads.
 */
export interface VerifyBrief {
  lab: string;
  startedAt: string;
  wallMs: number;
  ok: boolean;
  summary: VerifySummary;
  slowest?: { id: string; durationMs: number };
  /** network ("-" for checks of no one network: cnm) -> check type (the id's prefix: ping-name, dns, ...). */
  counts: Record<string, Record<string, CheckCounts>>;
  failures: CheckFailure[];
  /** How many failures the brief leaves out (it keeps the first BRIEF_FAILURES; the saved report has all). */
  failuresOmitted?: number;
  /** Daemons restarted before this verification (verify --recover): the host, why, how long it took. */
  recovered?: { host: string; reason: string; ms: number }[];
  /** The user's own expectations (lab:expect), every one, in the order written. */
  expectations: ExpectationResult[];
  /** Every measured series, with what it measured. */
  measurements: Measurement[];
}

export interface VerifyReport extends VerifyBrief {
  results: CheckResult[];
}

export function summarize(results: readonly CheckResult[]): VerifySummary {
  const s: VerifySummary = { total: results.length, passed: 0, expectedFailures: 0, failed: 0, unexpectedPasses: 0, errors: 0, blocked: 0 };
  for (const r of results) {
    if (r.blockedBy !== undefined) s.blocked++;
    else if (r.ok) {
      if (r.expected) s.expectedFailures++;
      else s.passed++;
    } else {
      s.failed++;
      if (r.error) s.errors++;
      // Passed where a failure was expected, or ran where it was expected not to: the fault had no effect.
      else if (r.outcome === "pass" || r.expect === "no-run") s.unexpectedPasses++;
    }
  }
  return s;
}

/** The check type of a result: its id's prefix (ping-name, ping-ip, dns, dns-alias, vxlan, ...). */
export const checkType = (r: { id: string; kind: string }): string => /^([a-z-]+):/.exec(r.id)?.[1] ?? r.kind;

export function countChecks(results: readonly CheckResult[]): Record<string, Record<string, CheckCounts>> {
  const out: Record<string, Record<string, CheckCounts>> = {};
  for (const r of results) {
    const net = r.network ?? "-";
    out[net] ??= {};
    const byType = out[net];
    const type = checkType(r);
    byType[type] ??= { passed: 0, expectedFailures: 0, failed: 0 };
    const c = byType[type];
    if (r.blockedBy !== undefined) c.blocked = (c.blocked ?? 0) + 1;
    else if (!r.ok) c.failed++;
    else if (r.expected) c.expectedFailures++;
    else c.passed++;
  }
  return out;
}

export function failuresOf(results: readonly CheckResult[]): CheckFailure[] {
  return results
    .filter((r) => !r.ok && r.blockedBy === undefined)
    .map((r) => ({ id: r.id, ok: false, outcome: r.outcome, expect: r.expect, error: r.error, detail: r.detail }));
}

/** Failures a brief lists at most: a lab that is broken everywhere must not flood the stack's state. */
export const BRIEF_FAILURES = 200;

/** The report minus its per-check results (and failures beyond BRIEF_FAILURES). */
export function briefOf(report: VerifyReport): VerifyBrief {
  const { results: _all, failures, ...brief } = report;
  if (failures.length <= BRIEF_FAILURES) return { ...brief, failures };
  return { ...brief, failures: failures.slice(0, BRIEF_FAILURES), failuresOmitted: failures.length - BRIEF_FAILURES };
}

export function expectationsOf(results: readonly CheckResult[]): ExpectationResult[] {
  return results
    .filter((r) => r.expectation)
    .map((r) => ({
      name: r.expectation!.name,
      key: r.expectation!.key,
      ok: r.ok,
      status: statusOf(r),
      expect: r.expect,
      outcome: r.outcome,
      detail: r.detail,
      ...(r.data && "sent" in r.data ? { measured: r.data } : {}),
    }));
}

export function measurementsOf(results: readonly CheckResult[]): Measurement[] {
  return results
    .filter((r) => r.data && typeof r.data["sent"] === "number")
    .map((r) => {
      const d = r.data as { sent?: number; lossPct?: number; rttMedianMs?: number; rttSpreadMs?: number };
      return {
        id: r.id,
        ok: r.ok,
        ...(d.sent !== undefined ? { sent: d.sent } : {}),
        ...(d.lossPct !== undefined ? { lossPct: d.lossPct } : {}),
        ...(d.rttMedianMs !== undefined ? { rttMedianMs: d.rttMedianMs } : {}),
        ...(d.rttSpreadMs !== undefined ? { rttSpreadMs: d.rttSpreadMs } : {}),
        ...(r.faults ? { faults: r.faults } : {}),
      };
    });
}

export function buildReport(lab: string, startedAt: Date, wallMs: number, results: CheckResult[]): VerifyReport {
  const summary = summarize(results);
  const slow = results.reduce<CheckResult | undefined>((m, r) => (m === undefined || r.durationMs > m.durationMs ? r : m), undefined);
  return {
    lab,
    startedAt: startedAt.toISOString(),
    wallMs: Math.round(wallMs),
    ok: summary.failed === 0,
    summary,
    ...(slow ? { slowest: { id: slow.id, durationMs: slow.durationMs } } : {}),
    counts: countChecks(results),
    failures: failuresOf(results),
    expectations: expectationsOf(results),
    measurements: measurementsOf(results),
    results,
  };
}

/** The status word of one row. */
export function statusOf(r: Pick<CheckResult, "ok" | "expected" | "error" | "outcome" | "expect" | "blockedBy">): string {
  if (r.blockedBy !== undefined) return "BLOCKED";
  if (r.ok) return r.error ? "NORUN" : r.expected ? "XFAIL" : "PASS";
  if (r.error) return "ERROR";
  if (r.expect === "no-run") return "RAN!";
  return r.outcome === "pass" ? "XPASS!" : "FAIL";
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : word.endsWith("s") ? "es" : "s"}`;

export function summaryLine(s: VerifySummary): string {
  const extra: string[] = [];
  if (s.unexpectedPasses) extra.push(`${s.unexpectedPasses} unexpectedly passed`);
  if (s.errors) extra.push(`${s.errors} could not run`);
  if (s.blocked) extra.push(`${s.blocked} more not counted: they went through a stuck dockerd`);
  return `verify: ${s.passed} passed, ${plural(s.expectedFailures, "expected failure")}, ${s.failed} failed${extra.length ? ` (${extra.join(", ")})` : ""}`;
}

function pad(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - text.length));
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i < widths.length ? pad(c, widths[i]!) : c))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

const EXPECTED_WORDS: Record<CheckResult["expect"], string> = {
  pass: "expected",
  fail: "expected to fail",
  "no-run": "expected not to run",
};

/**
 * An aligned table: STATUS, CHECK, KIND, FROM, TARGET, TIME, DETAIL (expected failures also show why),
 * then the user's expectations (lab:expect) in a section of their own, by name.
 * onlyFailures: just the rows that did not go as expected (what `pulumi up` shows of a large lab).
 */
export function formatTable(report: VerifyReport, o: { maxDetail?: number; onlyFailures?: boolean } = {}): string {
  const max = o.maxDetail ?? 140;
  const cut = (d: string): string => (d.length > max ? `${d.slice(0, max - 1)}…` : d);
  const shown = o.onlyFailures ? report.results.filter((r) => !r.ok && r.blockedBy === undefined) : report.results;
  const rows = shown
    .filter((r) => !r.expectation)
    .map((r) => {
      let detail = r.detail;
      if (r.blockedBy !== undefined) detail = `[blocked by ${r.blockedBy}] ${detail}`;
      if (r.expected) detail = `${detail} [${r.ok ? "expected" : EXPECTED_WORDS[r.expect]}: ${r.reason}]`;
      return [statusOf(r), r.id, r.kind, r.from, r.target, `${(r.durationMs / 1000).toFixed(2)}s`, cut(detail)];
    });
  const out = rows.length || !o.onlyFailures ? table(["STATUS", "CHECK", "KIND", "FROM", "TARGET", "TIME", "DETAIL"], rows) : [];
  const mine = shown.filter((r) => r.expectation);
  if (mine.length) {
    if (out.length) out.push("");
    out.push("EXPECTATIONS (lab:expect)");
    out.push(
      ...table(
        ["STATUS", "NAME", "KEY", "EXPECT", "DETAIL"],
        mine.map((r) => [statusOf(r), r.expectation!.name, r.expectation!.key, r.expect, cut(r.detail)]),
      ),
    );
    const all = report.results.filter((r) => r.expectation);
    out.push(`lab:expect: ${all.filter((r) => r.ok).length} of ${all.length} as written`);
  }
  out.push("");
  const slow = report.slowest ? `; slowest ${report.slowest.id} ${(report.slowest.durationMs / 1000).toFixed(2)}s` : "";
  out.push(`${summaryLine(report.summary)} (${(report.wallMs / 1000).toFixed(2)}s wall${slow})`);
  return `${out.join("\n")}\n`;
}

// Verification results as structured JSON and as a plain, aligned text table.
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
  expect: Outcome;
  error: boolean;
  detail: string;
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
      else if (r.outcome === "pass") s.unexpectedPasses++;
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
    results,
  };
}

/** The status word of one row. */
export function statusOf(r: CheckResult): string {
  if (r.blockedBy !== undefined) return "BLOCKED";
  if (r.ok) return r.expected ? "XFAIL" : "PASS";
  if (r.error) return "ERROR";
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

/**
 * An aligned table: STATUS, CHECK, KIND, FROM, TARGET, TIME, DETAIL (expected failures also show why).
 * onlyFailures: just the rows that did not go as expected (what `pulumi up` shows of a large lab).
 */
export function formatTable(report: VerifyReport, o: { maxDetail?: number; onlyFailures?: boolean } = {}): string {
  const max = o.maxDetail ?? 140;
  const head = ["STATUS", "CHECK", "KIND", "FROM", "TARGET", "TIME", "DETAIL"];
  const rows = (o.onlyFailures ? report.results.filter((r) => !r.ok && r.blockedBy === undefined) : report.results).map((r) => {
    let detail = r.detail;
    if (r.blockedBy !== undefined) detail = `[blocked by ${r.blockedBy}] ${detail}`;
    if (r.expected) detail = `${detail} [${r.ok ? "expected" : "expected to fail"}: ${r.reason}]`;
    if (detail.length > max) detail = `${detail.slice(0, max - 1)}…`;
    return [statusOf(r), r.id, r.kind, r.from, r.target, `${(r.durationMs / 1000).toFixed(2)}s`, detail];
  });
  const widths = head.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i < widths.length ? pad(c, widths[i]!) : c))
      .join("  ")
      .trimEnd();
  const out = [line(head), ...rows.map(line)];
  out.push("");
  const slow = report.slowest ? `; slowest ${report.slowest.id} ${(report.slowest.durationMs / 1000).toFixed(2)}s` : "";
  out.push(`${summaryLine(report.summary)} (${(report.wallMs / 1000).toFixed(2)}s wall${slow})`);
  return `${out.join("\n")}\n`;
}

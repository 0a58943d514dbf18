// What the bench reads from `npm run verify`'s stdout: the report a user sees (the table, or the JSON
// report with --json). Only what the report prints is used, so the bench does not depend on the
// verifier's internals: the number of checks, the slowest one and unexpected results.
// Pure: unit-tested (tests/unit/bench-report.test.ts).

export interface VerifyOutput {
  checks: number;
  /** The verifier's own wall time, as the report states it. */
  reportedWallMs?: number;
  slowestId?: string;
  slowestMs?: number;
  failed: number;
  /** Up to 5 unexpected results, "id: detail". */
  failures: string[];
}

const SUMMARY = /^verify: (\d+) passed, (\d+) expected failures?, (\d+) failed.*\(([\d.]+)s wall(?:; slowest (\S+) ([\d.]+)s)?\)\s*$/m;
const BAD = new Set(["FAIL", "ERROR", "XPASS!"]);

interface JsonReport {
  wallMs: number;
  summary: { failed: number };
  slowest?: { id: string; durationMs: number };
  results: { id: string; ok: boolean; durationMs: number; detail: string; data?: { probeMs?: number } }[];
}

/** A check's probe time: the probe alone inside its container when the report has it (batched probes:
 * durationMs also counts the wait for its container's turn), else its whole time. */
const probeTime = (x: JsonReport["results"][number]): number => (typeof x.data?.probeMs === "number" ? x.data.probeMs : x.durationMs);

function fromJson(text: string): VerifyOutput {
  const r = JSON.parse(text) as JsonReport;
  const slowestRow = r.results.reduce<JsonReport["results"][number] | undefined>(
    (m, x) => (m === undefined || probeTime(x) > probeTime(m) ? x : m),
    undefined,
  );
  const slow = slowestRow ? { id: slowestRow.id, durationMs: probeTime(slowestRow) } : r.slowest;
  return {
    checks: r.results.length,
    reportedWallMs: r.wallMs,
    ...(slow ? { slowestId: slow.id, slowestMs: slow.durationMs } : {}),
    failed: r.summary.failed,
    failures: r.results
      .filter((x) => !x.ok)
      .slice(0, 5)
      .map((x) => `${x.id}: ${x.detail.split("\n")[0]}`),
  };
}

/**
 * The table: a header row (STATUS CHECK ... TIME DETAIL), one row per check, then the summary line
 * "verify: P passed, E expected failures, F failed (Ws wall; slowest ID Ts)". The slowest probe is the
 * largest TIME of the rows (the summary's "slowest" when the rows cannot be read).
 */
function fromTable(text: string): VerifyOutput {
  const m = SUMMARY.exec(text);
  if (!m)
    throw new Error(
      `no summary line ("verify: N passed, ...") in the report: ${text.trim().split("\n").slice(-3).join(" / ").slice(0, 300)}`,
    );
  const lines = text.split("\n");
  const head = lines.findIndex((l) => /^STATUS\s+CHECK\s/.test(l));
  let checks = 0;
  let slowestId = m[5];
  let slowestMs = m[6] !== undefined ? Number(m[6]) * 1000 : undefined;
  const failures: string[] = [];
  if (head >= 0) {
    let rowMax: { id: string; ms: number } | undefined;
    for (const l of lines.slice(head + 1)) {
      if (l.trim() === "") break;
      const cells = l.split(/\s{2,}/);
      checks++;
      const time = cells.find((c) => /^\d+\.\d+s$/.test(c));
      const ms = time ? Number(time.slice(0, -1)) * 1000 : undefined;
      if (ms !== undefined && (rowMax === undefined || ms > rowMax.ms)) rowMax = { id: cells[1] ?? "?", ms };
      if (BAD.has(cells[0] ?? "") && failures.length < 5) failures.push(`${cells[1]}: ${cells.at(-1)}`);
    }
    if (rowMax) {
      slowestId = rowMax.id;
      slowestMs = rowMax.ms;
    }
  } else {
    checks = Number(m[1]) + Number(m[2]) + Number(m[3]);
  }
  return {
    checks,
    reportedWallMs: Number(m[4]) * 1000,
    ...(slowestId !== undefined ? { slowestId } : {}),
    ...(slowestMs !== undefined ? { slowestMs } : {}),
    failed: Number(m[3]),
    failures,
  };
}

/** The report in what `npm run verify` printed on stdout (npm's "> ..." banner lines come first). */
export function parseVerifyOutput(stdout: string): VerifyOutput {
  const json = stdout.startsWith("{") ? 0 : stdout.indexOf("\n{") + 1;
  return json > 0 || stdout.startsWith("{") ? fromJson(stdout.slice(json)) : fromTable(stdout);
}

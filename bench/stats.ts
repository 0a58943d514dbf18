// Statistics and markdown helpers of the benchmark: pure, unit-tested (tests/unit/bench-stats.test.ts).

export interface Summary {
  /** Number of samples. */
  n: number;
  median: number;
  min: number;
  max: number;
}

/** The median of a non-empty list (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of no samples");
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) throw new Error("summary of no samples");
  return { n: xs.length, median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/** a / b of two summaries' medians (undefined when b is 0). */
export function ratio(a: Summary, b: Summary): number | undefined {
  return b.median === 0 ? undefined : a.median / b.median;
}

export interface LinearFit {
  slope: number;
  intercept: number;
  /** Coefficient of determination: 1 = the points lie on the line. */
  r2: number;
}

/** Least-squares line y = slope * x + intercept. Needs at least two distinct x values. */
export function linearFit(xs: readonly number[], ys: readonly number[]): LinearFit {
  if (xs.length !== ys.length || xs.length < 2) throw new Error("linearFit needs two or more (x, y) pairs");
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) throw new Error("linearFit needs two or more distinct x values");
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept, r2 };
}

/**
 * The growth exponent k of y ~ x^k between consecutive points (log-log slope): about 1 for linear
 * growth, about 2 for quadratic. One value per step, e.g. [2->10, 10->50, ...].
 */
export function growthExponents(xs: readonly number[], ys: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < xs.length; i++) {
    const x0 = xs[i - 1]!;
    const x1 = xs[i]!;
    const y0 = ys[i - 1]!;
    const y1 = ys[i]!;
    if (x0 <= 0 || x1 <= 0 || y0 <= 0 || y1 <= 0 || x0 === x1) out.push(Number.NaN);
    else out.push(Math.log(y1 / y0) / Math.log(x1 / x0));
  }
  return out;
}

/** A verdict for a series: linear when every step's exponent stays at or below `limit` (default 1.3). */
export function growthVerdict(exponents: readonly number[], limit = 1.3): "linear" | "superlinear" | "unknown" {
  const finite = exponents.filter((e) => Number.isFinite(e));
  if (finite.length === 0) return "unknown";
  return finite.every((e) => e <= limit) ? "linear" : "superlinear";
}

/** "median (min–max)" in seconds, or "median" alone for a single sample. */
export function fmtSummarySeconds(s: Summary, digits = 2): string {
  const m = (ms: number): string => (ms / 1000).toFixed(digits);
  return s.n === 1 || s.min === s.max ? `${m(s.median)} s` : `${m(s.median)} s (${m(s.min)}–${m(s.max)})`;
}

export function fmtSummary(s: Summary, unit: string, digits = 0): string {
  const f = (v: number): string => v.toFixed(digits);
  return s.n === 1 || s.min === s.max ? `${f(s.median)} ${unit}` : `${f(s.median)} ${unit} (${f(s.min)}–${f(s.max)})`;
}

export function fmtRatio(r: number | undefined, digits = 2): string {
  return r === undefined || !Number.isFinite(r) ? "n/a" : `${r.toFixed(digits)}x`;
}

/** Escapes a markdown table cell (pipes and newlines would break the row). */
export function mdCell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** A GitHub markdown table; `align` per column: "l" (default) or "r". */
export function markdownTable(head: readonly string[], rows: readonly (readonly string[])[], align: readonly ("l" | "r")[] = []): string {
  for (const r of rows) {
    if (r.length !== head.length) throw new Error(`table row has ${r.length} cells, header has ${head.length}: ${r.join(" | ")}`);
  }
  const line = (cells: readonly string[]): string => `| ${cells.map(mdCell).join(" | ")} |`;
  const sep = `|${head.map((_, i) => (align[i] === "r" ? "---:" : "---")).join("|")}|`;
  return [line(head), sep, ...rows.map(line)].join("\n");
}

// One error for a bad configuration, listing every problem with its key, value and fix.

export interface ConfigProblem {
  /** The config key, as the user writes it: lab:hosts[1].name */
  key: string;
  value: unknown;
  problem: string;
  fix: string;
}

function show(value: unknown): string {
  if (value === undefined) return "(missing)";
  return JSON.stringify(value);
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.key} = ${show(p.value)}: ${p.problem}. Fix: ${p.fix}.`;
}

export class LabConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    const n = problems.length;
    super(
      `Invalid lab configuration (${n} problem${n === 1 ? "" : "s"}); nothing was created:\n` +
        problems.map((p) => `  - ${formatProblem(p)}`).join("\n"),
    );
    this.name = "LabConfigError";
    this.problems = problems;
  }
}

/** Collects problems while a config is read; `throwIfAny` raises them all at once. */
export class Problems {
  readonly list: ConfigProblem[] = [];
  add(key: string, value: unknown, problem: string, fix: string): void {
    this.list.push({ key, value, problem, fix });
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new LabConfigError(this.list);
  }
}

/** Levenshtein distance: how many single-character edits turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `word` (ignoring case, so `hostkind` finds `hostKind`), or undefined when
 * none is close enough to be the likely intent: at most max(2, a third of the word) edits, and fewer
 * edits than the word has letters (else nothing of it survives and the guess would only mislead).
 */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const limit = Math.min(Math.max(2, Math.floor(w.length / 3)), w.length - 1);
  let best: { candidate: string; d: number } | undefined;
  for (const candidate of candidates) {
    const d = editDistance(w, candidate.toLowerCase());
    if (d <= limit && (best === undefined || d < best.d)) best = { candidate, d };
  }
  return best?.candidate;
}

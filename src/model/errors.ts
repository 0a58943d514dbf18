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

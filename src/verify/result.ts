// What one check's run comes to: its outcome against the plan's expectation, or why it could not run.
import type { CheckKind, CheckPlan, Expectation } from "../model/index.js";

/** What a probe found: it passed or failed (a probe that could not run is `error`, with outcome fail). */
export type Outcome = "pass" | "fail";

export interface CheckResult {
  id: string;
  kind: CheckKind;
  from: string;
  host: string;
  target: string;
  network?: string;
  /** pass, fail, or no-run: a fault stopped the daemon the check runs on. */
  expect: Expectation;
  /** What the probe observed. */
  outcome: Outcome;
  /** outcome === expect, and the probe could actually run; or it could not, as expected (no-run). */
  ok: boolean;
  /** The plan expects this check not to pass (a host pinging its own macvlan child, a fault's effect). */
  expected: boolean;
  /** The probe could not run at all (container stopped, daemon unreachable, timeout): ok only when expected (no-run). */
  error: boolean;
  /** Why the plan expects this outcome. */
  reason: string;
  /** What happened. */
  detail: string;
  /**
   * From the moment the verifier set out to run the probe (the exec of its container's batch included)
   * until its result was known. For a batched probe, data.probeMs is the probe alone inside the container.
   */
  durationMs: number;
  data?: Record<string, unknown>;
  /**
   * The id of the failed check that stands for this one (a daemon-netns check: the host's dockerd is
   * stuck, so what failed through it says nothing more). Not ok, yet not counted as failed.
   */
  blockedBy?: string;
  /** The faults that set the expectation (lab:faults[i] kind). */
  faults?: string[];
  /** A user's expectation (lab:expect): its name and key. */
  expectation?: { name: string; key: string };
}

/** A probe that could not run: the result is an error, whatever the expectation. */
export class ProbeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProbeError";
  }
}

export interface ProbeOutcome {
  outcome: Outcome;
  detail: string;
  data?: Record<string, unknown>;
}

/** A check's result from what its probe saw (or why it could not run). */
export function checkResult(c: CheckPlan, p: ProbeOutcome, error: boolean, durationMs: number): CheckResult {
  return {
    id: c.id,
    kind: c.kind,
    from: c.from,
    host: c.host,
    target: c.target,
    ...(c.network ? { network: c.network } : {}),
    expect: c.expect,
    outcome: p.outcome,
    ok: error ? c.expect === "no-run" : p.outcome === c.expect,
    expected: c.expect !== "pass",
    error,
    reason: c.reason,
    detail: p.detail,
    durationMs: Math.round(durationMs),
    ...(p.data ? { data: p.data } : {}),
    ...(c.faults ? { faults: c.faults } : {}),
    ...(c.expectation ? { expectation: c.expectation } : {}),
  };
}

/** A probe that failed to run, as an outcome (the error's message is what happened). */
export function failure(err: unknown): ProbeOutcome {
  return { outcome: "fail", detail: err instanceof Error ? err.message : String(err) };
}

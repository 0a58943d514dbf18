// The problem lines of a lab config that buildPlan rejects, for the validation tests.
import { expect } from "vitest";
import { buildPlan, LabConfigError } from "../../src/model/index.js";

/** The LabConfigError's problem lines for `config` (heading dropped, trimmed); throws if the config is accepted. */
export function configProblems(config: unknown): string[] {
  try {
    buildPlan(config);
  } catch (e) {
    expect(e).toBeInstanceOf(LabConfigError);
    return (e as LabConfigError).message
      .split("\n")
      .slice(1)
      .map((l) => l.trim());
  }
  throw new Error("expected the config to be rejected");
}

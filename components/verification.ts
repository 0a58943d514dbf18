import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { LabPlan } from "../src/model/index.js";
import type { CheckCounts, CheckFailure, ExpectationResult, Measurement } from "../src/verify/report.js";
import type { ShellStep } from "../src/stack/steps.js";

export interface VerificationArgs {
  plan: LabPlan;
  step: ShellStep;
  /** Everything the checks probe: the command re-runs whenever one of these changes. */
  subjects: pulumi.CustomResource[];
  /** What must be in place before the checks run (the faults: the plan, on stdin, says what they do). */
  after?: pulumi.Resource[];
}

export interface VerificationSummary {
  passed: number;
  expectedFailures: number;
  failed: number;
}

/** What the stack exports of a verification: small however many checks the lab has. */
export interface VerificationOutputs {
  summary: VerificationSummary;
  /** lab:expect, each by name: how it went (every one, in the order written). */
  expectations: ExpectationResult[];
  /** Every measured series: loss and RTT through faulted hosts, and the user's lossPct/rttMs. */
  measurements: Measurement[];
  /** network -> check type -> counts. */
  counts: Record<string, Record<string, CheckCounts>>;
  /** The checks that did not go as expected (at most the first 200; failuresOmitted says how many more). */
  failures: CheckFailure[];
  failuresOmitted?: number;
}

/** What the verifier reads on stdin: the plan, minus the checks it derives itself (planChecks). */
export function verifierInput(plan: LabPlan): string {
  const { checks: _derived, ...rest } = plan;
  return JSON.stringify(rest);
}

/** Reads the verifier's JSON summary (--json-summary; the JSON document on stdout). */
export function parseVerifierOutput(stdout: string): VerificationOutputs {
  const start = stdout.indexOf("{");
  if (start < 0) throw new Error(`verifier printed no JSON report:\n${stdout}`);
  const doc = JSON.parse(stdout.slice(start)) as VerificationOutputs;
  return {
    summary: doc.summary,
    counts: doc.counts,
    failures: doc.failures,
    expectations: doc.expectations ?? [],
    measurements: doc.measurements ?? [],
    ...(doc.failuresOmitted !== undefined ? { failuresOmitted: doc.failuresOmitted } : {}),
  };
}

/**
 * Proves the lab after every apply: runs the verifier (overlay pairs by name and IP, embedded DNS,
 * docker_gwbridge, VXLAN, macvlan, CNM view) once every probed resource exists, and again whenever
 * one of them changes. A failed check fails `pulumi up` with the verifier's readable report. The stack
 * keeps the summary, the counts per network and check type and the failures; the full report (every
 * check) is the file the verifier saves, which `npm run inspect` reads.
 */
export class Verification extends pulumi.ComponentResource {
  readonly run: command.local.Command;
  readonly summary: pulumi.Output<VerificationSummary>;
  readonly counts: pulumi.Output<VerificationOutputs["counts"]>;
  readonly failures: pulumi.Output<CheckFailure[]>;
  readonly expectations: pulumi.Output<ExpectationResult[]>;
  readonly measurements: pulumi.Output<Measurement[]>;

  constructor(name: string, args: VerificationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:verify:Verification", name, {}, opts);
    this.run = new command.local.Command(
      name,
      {
        create: args.step.create,
        // Re-run on every change of what is probed (ids change on replacement).
        update: args.step.create,
        triggers: args.subjects.map((r) => r.id),
        // The plan without its checks (the verifier derives them): large labs have many thousands.
        stdin: verifierInput(args.plan),
        ...(args.step.environment ? { environment: args.step.environment } : {}),
        logging: "stderr",
      },
      { parent: this, dependsOn: [...args.subjects, ...(args.after ?? [])] },
    );
    const parsed = this.run.stdout.apply(parseVerifierOutput);
    this.summary = parsed.apply((p) => p.summary);
    this.counts = parsed.apply((p) => p.counts);
    this.failures = parsed.apply((p) => p.failures);
    this.expectations = parsed.apply((p) => p.expectations);
    this.measurements = parsed.apply((p) => p.measurements);
    this.registerOutputs({
      summary: this.summary,
      counts: this.counts,
      failures: this.failures,
      expectations: this.expectations,
      measurements: this.measurements,
    });
  }
}

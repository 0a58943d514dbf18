import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { LabPlan } from "../src/model/index.js";
import type { ShellStep } from "./steps.js";

export interface VerificationArgs {
  plan: LabPlan;
  step: ShellStep;
  /** Everything the checks probe: the command re-runs whenever one of these changes. */
  subjects: pulumi.CustomResource[];
}

export interface VerificationSummary {
  passed: number;
  expectedFailures: number;
  failed: number;
}

export interface VerificationCheckResult {
  id: string;
  ok: boolean;
  outcome: string;
  expect: string;
  detail: string;
}

/** What the verifier reads on stdin: the plan, minus the checks it derives itself (planChecks). */
export function verifierInput(plan: LabPlan): string {
  const { checks: _derived, ...rest } = plan;
  return JSON.stringify(rest);
}

/** Reads the verifier's JSON report (the last JSON document on stdout). */
export function parseVerifierOutput(stdout: string): { summary: VerificationSummary; checks: VerificationCheckResult[] } {
  const start = stdout.indexOf("{");
  if (start < 0) throw new Error(`verifier printed no JSON report:\n${stdout}`);
  const doc = JSON.parse(stdout.slice(start)) as { summary: VerificationSummary; results: VerificationCheckResult[] };
  return {
    summary: doc.summary,
    checks: doc.results.map((r) => ({ id: r.id, ok: r.ok, outcome: r.outcome, expect: r.expect, detail: r.detail })),
  };
}

/**
 * Proves the lab after every apply: runs the verifier (overlay pairs by name and IP, embedded DNS,
 * docker_gwbridge, VXLAN, macvlan, CNM view) once every probed resource exists, and again whenever
 * one of them changes. A failed check fails `pulumi up` with the verifier's readable report.
 */
export class Verification extends pulumi.ComponentResource {
  readonly run: command.local.Command;
  readonly summary: pulumi.Output<VerificationSummary>;
  readonly checks: pulumi.Output<VerificationCheckResult[]>;

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
      { parent: this, dependsOn: args.subjects },
    );
    const parsed = this.run.stdout.apply(parseVerifierOutput);
    this.summary = parsed.apply((p) => p.summary);
    this.checks = parsed.apply((p) => p.checks);
    this.registerOutputs({ summary: this.summary, checks: this.checks });
  }
}

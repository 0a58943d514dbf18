// The Verification component: what it runs, what it exports, and how a failing lab reaches the user.
import { describe, expect, it } from "vitest";
import { parseVerifierOutput } from "../../components/verification.js";
import { parseCli } from "../../src/cli/verify.js";
import { buildPlan } from "../../src/model/index.js";
import { buildReport, type CheckResult, formatTable } from "../../src/verify/index.js";
import { promiseOf, runLab } from "./harness.js";

function resultsFor(failing: string[]): CheckResult[] {
  const plan = buildPlan({});
  return plan.checks.map((c) => {
    const bad = failing.includes(c.id);
    const outcome = bad ? (c.expect === "pass" ? "fail" : "pass") : c.expect;
    return { id: c.id, kind: c.kind, from: c.from, host: c.host, target: c.target, expect: c.expect, outcome, ok: !bad, expected: c.expect === "fail", error: false, reason: c.reason, detail: bad ? "100% packet loss" : "ok", durationMs: 12 };
  });
}

describe("Verification", async () => {
  const run = await runLab({});

  it("runs the verifier with the plan on stdin, saving the report for npm run inspect", () => {
    const cmd = run.one("command:local:Command", "lab-verify").inputs as { create: string; update: string; stdin: string };
    expect(cmd.create).toBe("npx --no-install tsx src/cli/verify.ts --plan - --json --quiet --save .lab/last-verify.json");
    expect(cmd.update).toBe(cmd.create);
    // The verifier derives the checks again from the rest of the plan: the same list.
    const handed = JSON.parse(cmd.stdin) as Record<string, unknown>;
    expect(handed["checks"]).toBeUndefined();
    const c = parseCli(["--plan", "-"], { readStdin: () => cmd.stdin });
    if (c === "help") throw new Error("help");
    expect(c.plan).toEqual(run.plan);
  });

  it("re-runs whenever a probed network or container changes (their ids are its triggers)", () => {
    const triggers = run.one("command:local:Command", "lab-verify").inputs["triggers"];
    expect(triggers).toEqual(["lab-ov_net1-id", "lab-mv_net1-host1-id", "lab-mv_net1-host2-id", "lab-test1-id", "lab-test2-id", "lab-test3-id"]);
  });

  it("exports the summary and every check", async () => {
    const summary = await promiseOf(run.lab.verification!.summary);
    const checks = await promiseOf(run.lab.verification!.checks);
    expect(summary).toEqual({ passed: run.plan.checks.length - 1, expectedFailures: 1, failed: 0 });
    expect(checks.map((c) => c.id)).toEqual(run.plan.checks.map((c) => c.id));
    expect(checks.find((c) => c.id === "host-ping:host1->test3@mv_net1")).toMatchObject({ ok: true, expect: "fail", outcome: "fail" });
  });

  it("reads the verifier's real JSON report", () => {
    const report = buildReport("lab", new Date(0), 1500, resultsFor(["ping-name:test2->test1@ov_net1"]));
    const parsed = parseVerifierOutput(JSON.stringify(report, null, 2) + "\n");
    expect(parsed.summary).toMatchObject({ failed: 1, expectedFailures: 1 });
    expect(parsed.checks.find((c) => c.id === "ping-name:test2->test1@ov_net1")).toEqual({ id: "ping-name:test2->test1@ov_net1", ok: false, outcome: "fail", expect: "pass", detail: "100% packet loss" });
  });

  it("a failing check's report names it in the table the user sees", () => {
    const report = buildReport("lab", new Date(0), 1500, resultsFor(["dns:test2->test1@ov_net1"]));
    const table = formatTable(report);
    expect(table).toMatch(/FAIL\s+dns:test2->test1@ov_net1/);
    expect(table).toMatch(/XFAIL\s+host-ping:host1->test3@mv_net1/);
    expect(table).toContain("1 failed");
  });

  it("is left out when verification is disabled", async () => {
    const off = await runLab({ verification: { enabled: false } });
    expect(off.byType("lab:verify:Verification")).toEqual([]);
    expect(off.lab.verification).toBeUndefined();
  });
});

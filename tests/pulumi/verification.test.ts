// The Verification component: what it runs, what it exports, and how a failing lab reaches the user.
import { describe, expect, it } from "vitest";
import { parseVerifierOutput } from "../../components/verification.js";
import { parseCli } from "../../src/cli/verify.js";
import { buildPlan, checkCount } from "../../src/model/index.js";
import { briefOf, buildReport, type CheckResult, formatTable } from "../../src/verify/index.js";
import { fakeResults, promiseOf, runLab } from "./harness.js";

const resultsFor = (failing: string[]): CheckResult[] => fakeResults(buildPlan({}), failing);

describe("Verification", async () => {
  const run = await runLab({});

  it("runs the verifier with the plan on stdin, saving the report for npm run inspect", () => {
    const cmd = run.one("command:local:Command", "lab-verify").inputs as { create: string; update: string; stdin: string };
    // failUpOn never (the default): the failures are reported and the up goes on; faults the config no longer has are removed
    // first; --recover (kv mode): a dockerd stuck by Docker 20.10's thread-namespace defect is restarted in this step.
    expect(cmd.create).toBe(
      "node --import tsx src/cli/verify.ts --plan - --json-summary --quiet --save .lab/last-verify.json --fail-on never --converge-faults --recover",
    );
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
    expect(triggers).toEqual([
      "lab-ov_net1-id",
      "lab-mv_net1-host1-id",
      "lab-mv_net1-host2-id",
      "lab-test1-id",
      "lab-test2-id",
      "lab-test3-id",
    ]);
  });

  it("exports the summary, the counts per network and check type, and the failures; not every check", async () => {
    const summary = await promiseOf(run.lab.verification!.summary);
    const counts = await promiseOf(run.lab.verification!.counts);
    const failures = await promiseOf(run.lab.verification!.failures);
    expect(summary).toMatchObject({ passed: checkCount(run.plan.checks) - 1, expectedFailures: 1, failed: 0 });
    expect(counts["ov_net1"]).toEqual({
      "ping-name": { passed: 2, expectedFailures: 0, failed: 0 },
      dns: { passed: 2, expectedFailures: 0, failed: 0 },
      "ping-ip": { passed: 2, expectedFailures: 0, failed: 0 },
      "gwbridge-route": { passed: 2, expectedFailures: 0, failed: 0 },
      external: { passed: 2, expectedFailures: 0, failed: 0 },
      vxlan: { passed: 2, expectedFailures: 0, failed: 0 },
    });
    expect(counts["mv_net1"]!["host-ping"]).toEqual({ passed: 1, expectedFailures: 1, failed: 0 });
    expect(counts["-"]).toEqual({
      cnm: { passed: 3, expectedFailures: 0, failed: 0 },
      "daemon-netns": { passed: 2, expectedFailures: 0, failed: 0 },
    });
    expect(failures).toEqual([]);
    const out = JSON.stringify(await promiseOf(run.lab.verification!.summary)) + JSON.stringify(counts);
    expect(out).not.toContain("test1->test2");
  });

  it("reads the verifier's JSON summary: the failures with their detail", () => {
    const report = buildReport("lab", new Date(0), 1500, resultsFor(["ping-name:test2->test1@ov_net1"]));
    const parsed = parseVerifierOutput(`${JSON.stringify(briefOf(report), null, 2)}\n`);
    expect(parsed.summary).toMatchObject({ failed: 1, expectedFailures: 1 });
    expect(parsed.counts["ov_net1"]!["ping-name"]).toEqual({ passed: 1, expectedFailures: 0, failed: 1 });
    expect(parsed.failures).toEqual([
      { id: "ping-name:test2->test1@ov_net1", ok: false, outcome: "fail", expect: "pass", error: false, detail: "100% packet loss" },
    ]);
  });

  it("a lab that fails everywhere: the summary lists the first 200 failures and how many more there are", () => {
    const plan = buildPlan({
      workloads: Array.from({ length: 20 }, (_, i) => ({ name: `c${i + 1}`, host: `host${(i % 2) + 1}`, networks: ["ov_net1"] })),
    });
    const results = fakeResults(
      plan,
      fakeResults(plan).map((r) => r.id),
    );
    const parsed = parseVerifierOutput(JSON.stringify(briefOf(buildReport("lab", new Date(0), 1500, results))));
    expect(parsed.failures).toHaveLength(200);
    expect(parsed.failuresOmitted).toBe(results.length - 200);
  });

  it("a failing check's report names it in the table the user sees; pulumi up shows only the failed rows", () => {
    const report = buildReport("lab", new Date(0), 1500, resultsFor(["dns:test2->test1@ov_net1"]));
    const table = formatTable(report);
    expect(table).toMatch(/FAIL\s+dns:test2->test1@ov_net1/);
    expect(table).toMatch(/XFAIL\s+host-ping:host1->test3@mv_net1/);
    expect(table).toContain("1 failed");
    const failed = formatTable(report, { onlyFailures: true });
    expect(failed).toMatch(/FAIL\s+dns:test2->test1@ov_net1/);
    expect(failed).not.toContain("host-ping:host1->test3@mv_net1");
    expect(failed).toContain("1 failed");
  });

  it("is left out when verification is disabled", async () => {
    const off = await runLab({ verification: { enabled: false } });
    expect(off.byType("lab:verify:Verification")).toEqual([]);
    expect(off.lab.verification).toBeUndefined();
  });
});

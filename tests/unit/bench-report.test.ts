// The bench's configs (valid for the model at every size), the baseline scripts' argv, the reading of
// `npm run verify`'s report and of `npm run up`'s verification line, and the results.md rendering with
// targets, verdicts and the reasons for missed ones.
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { baselineArgs, checksArgs, teardownArgs } from "../../bench/baselineArgs.js";
import { bringupConfig, hostAddress, PLAN_CASES, planCheckCount, planConfig, verifyConfig } from "../../bench/configs.js";
import { engineOrSkip, upTimings, upVerifySummary } from "../../bench/engineBench.js";
import { type BenchResults, type EngineCase, renderMarkdown, targetChecks, type VerifyCase } from "../../bench/results.js";
import { machineCpuMs } from "../../bench/proc.js";
import { parseBenchArgs, privilegeProblem } from "../../bench/run.js";
import { UsageError } from "../../src/cli/cli.js";
import { parseVerifyOutput } from "../../bench/verifyOutput.js";
import { containerArgvs, networkCreateArgv } from "../../src/docker/cli.js";
import { buildPlan, expandChecks, networkSpec, workloadSpec } from "../../src/model/index.js";
import { buildReport, formatTable, summaryLine, type CheckResult } from "../../src/verify/index.js";

describe("bench configs", () => {
  it("host addresses stay inside the /20 underlay and never hit the gateway or the KV", () => {
    expect(hostAddress(0)).toBe("198.18.1.1");
    expect(hostAddress(255)).toBe("198.18.2.0");
  });
  it("the plan cases' address plan is one the model accepts, 1000 containers included", () => {
    // Every container on one host keeps the (quadratic) check list empty; the addressing is what is tested.
    for (const c of PLAN_CASES) {
      const plan = buildPlan(planConfig(1, c.containers));
      expect(new Set(plan.workloads.map((w) => w.attachments[0]!.ipv4)).size).toBe(c.containers + 1);
    }
    const ten = buildPlan(planConfig(10, 20));
    expect(ten.hosts).toHaveLength(10);
    expect(ten.networks.map((n) => n.driver)).toEqual(["overlay", "macvlan"]);
  });
  it("an engine lab is a netns etcd lab with one container per host", () => {
    const plan = buildPlan(bringupConfig("bn1", 8));
    expect(plan.hostKind).toBe("netns");
    expect(plan.kv?.kind).toBe("etcd");
    expect(plan.workloads.map((w) => w.host)).toEqual(plan.hosts.map((h) => h.name));
  });
  it("the first N containers of the big verification lab are exactly the small plan's (same hosts and IPs)", () => {
    const big = buildPlan(verifyConfig("bn3", 200));
    const small = buildPlan(verifyConfig("bn3", 4));
    expect(small.workloads).toEqual(big.workloads.slice(0, 4));
  });
  it("counts a plan's checks as the verifier runs them: 50 containers on 2 hosts, 3 probes per cross-host pair and the rest", () => {
    const plan = buildPlan(verifyConfig("bn3", 50));
    expect(planCheckCount(plan)).toBe(expandChecks(plan.checks).length);
    expect(planCheckCount(plan)).toBeGreaterThan(3 * 25 * 25 * 2);
  });
});

describe("baseline argv", () => {
  it("passes the model's names and paths to the bring-up script", () => {
    const plan = buildPlan(bringupConfig("bn2", 2));
    const argv = baselineArgs(plan);
    expect(argv.slice(0, 2)).toEqual(["bash", "bench/baseline/bringup.sh"]);
    const opt = (k: string): string | undefined => argv[argv.indexOf(k) + 1];
    expect(opt("--switch")).toBe("bn2-sw");
    expect(opt("--kv-dir")).toBe("/run/dnlab/bn2/kv");
    expect(opt("--kv-address")).toBe("198.18.0.2/24");
    const hosts = argv.filter((_, i) => argv[i - 1] === "--host");
    expect(hosts).toHaveLength(2);
    const f = hosts[0]!.split(";");
    expect(f.slice(0, 9)).toEqual([
      "host1",
      "bn2-host1",
      "v-host1",
      "198.18.0.11/24",
      "/var/lib/dnlab/bn2/host1",
      "/var/lib/dnlab/bn2/host1/data",
      "/run/dnlab/bn2/host1.exec",
      "/run/dnlab/bn2/host1.pid",
      "/run/dnlab/bn2/host1.sock",
    ]);
    expect(f.slice(9)).toEqual(plan.hosts[0]!.daemon.args);
    // The network and the containers are the model's specs as CLI argv, word by word.
    const runs = argv.filter((_, i) => argv[i - 1] === "--run").map((r) => r.split("\x1f"));
    expect(runs).toEqual(plan.workloads.flatMap((w, i) => containerArgvs(workloadSpec(w)).map((a) => [String(i), ...a])));
    expect(runs[0]).toContain("trap 'exit 0' TERM INT; sleep 2147483647 & wait");
    expect(opt("--network-create")?.split("\x1f")).toEqual(networkCreateArgv(networkSpec(plan.networks[0]!, "host1")));
  });
  it("gives the checks script every host's socket and exec-root and every container's planned IP", () => {
    const plan = buildPlan(bringupConfig("bn2", 2));
    const argv = checksArgs(plan);
    expect(argv.slice(0, 4)).toEqual(["bash", "bench/baseline/checks.sh", "--network", "ov_net1"]);
    expect(argv.filter((_, i) => argv[i - 1] === "--host")).toEqual([
      "host1;/run/dnlab/bn2/host1.sock;/run/dnlab/bn2/host1.exec",
      "host2;/run/dnlab/bn2/host2.sock;/run/dnlab/bn2/host2.exec",
    ]);
    expect(argv.filter((_, i) => argv[i - 1] === "--container")).toEqual(
      plan.workloads.map((w) => `${w.name};${w.host};${w.attachments[0]!.ipv4}`),
    );
  });
  it("tears down with the lab's own scripts: hosts, then the KV store, then the switch", () => {
    const steps = teardownArgs(buildPlan(bringupConfig("bn2", 2))).filter((_, i, a) => a[i - 1] === "--step");
    expect(steps.map((x) => x.split(";")[1])).toEqual([
      "scripts/netns/host-down.sh",
      "scripts/netns/host-down.sh",
      "scripts/netns/kv-down.sh",
      "scripts/netns/switch-down.sh",
    ]);
    expect(steps[0]).toContain(";--namespace;bn2-host1;");
  });
  it("refuses plans it cannot build", () => {
    expect(() => baselineArgs(buildPlan({ hostKind: "netns", kv: { kind: "etcd" } }))).toThrow(/exactly one overlay/);
    expect(() => checksArgs(buildPlan({}))).toThrow(/not a netns lab/);
  });
});

describe("reading npm run verify's report", () => {
  const result = (id: string, ms: number, ok = true): CheckResult =>
    ({
      id,
      kind: "ping",
      from: "c1",
      host: "host1",
      target: "c2",
      expect: "pass",
      reason: "r",
      ok,
      outcome: ok ? "pass" : "fail",
      expected: false,
      detail: ok ? "reply" : "no reply from c2",
      durationMs: ms,
    }) as CheckResult;
  const report = buildReport("bn3", new Date(0), 4321, [
    result("ping-name:c1->c2@ov_net1", 800),
    result("dns:c1->c2@ov_net1", 1250),
    result("ping-ip:c2->c1@ov_net1", 300, false),
  ]);
  const banner = "\n> docker-network-lab@0.1.0 verify\n> node --import tsx src/cli/verify.ts --config x.json\n\n";

  it("the table a user sees: checks, the slowest row, the verifier's wall time, unexpected results", () => {
    const r = parseVerifyOutput(banner + formatTable(report));
    expect(r).toMatchObject({ checks: 3, reportedWallMs: 4321 - 1, slowestId: "dns:c1->c2@ov_net1", slowestMs: 1250, failed: 1 });
    expect(r.failures).toEqual(["ping-ip:c2->c1@ov_net1: no reply from c2"]);
  });
  it("the JSON report (--json), after npm's banner", () => {
    const r = parseVerifyOutput(`${banner + JSON.stringify(report, null, 2)}\n`);
    expect(r).toMatchObject({ checks: 3, reportedWallMs: 4321, slowestId: "dns:c1->c2@ov_net1", slowestMs: 1250, failed: 1 });
  });
  it("in the JSON report, a batched probe's own time (data.probeMs), not its wait for its container's turn", () => {
    const batched = buildReport("bn3", new Date(0), 4321, [
      { ...result("ping-name:c1->c2@ov_net1", 4000), data: { probeMs: 40 } },
      { ...result("dns:c1->c2@ov_net1", 3900), data: { probeMs: 900 } },
    ]);
    expect(parseVerifyOutput(JSON.stringify(batched))).toMatchObject({ slowestId: "dns:c1->c2@ov_net1", slowestMs: 900 });
  });
  it("falls back on the summary line's slowest when there is no table", () => {
    const r = parseVerifyOutput(`${summaryLine(report.summary)} (4.32s wall; slowest dns:c1->c2@ov_net1 1.25s)\n`);
    expect(r).toMatchObject({ checks: 3, slowestMs: 1250, failed: 1 });
  });
  it("no report is one clear error", () => {
    expect(() => parseVerifyOutput(`${banner}verify: internal error: boom\n`)).toThrow(/no summary line/);
  });
  it("finds the verification line in what npm run up printed", () => {
    const out =
      "Updating (bench-engine):\n  lab:stack:Verification verify  verify: 8 passed, 0 expected failures, 0 failed (1.50s wall)\nResources: 30 created\n";
    expect(upVerifySummary(out)).toEqual({ line: "verify: 8 passed, 0 expected failures, 0 failed (1.50s wall)", wallMs: 1500 });
    expect(upVerifySummary("Resources: 30 created\n")).toBeUndefined();
  });
  it("reads pulumi's own duration and the slowest resources from what npm run up printed", () => {
    const out = [
      " +  pulumi:pulumi:Stack lab-bench-engine creating (1s) lab bn1: 2 netns hosts",
      " +  command:local:Command bn1-kv created (0.36s) [kv-up] etcd ready",
      " +  docker:index:Network bn1-ov_net1 created (2s)",
      " +  command:local:Command bn1-verify created (1m5s) verify: 14 passed, 0 expected failures, 0 failed (3.23s wall)",
      " +  lab:index:NetworkLab bn1 created (70s)",
      " +  pulumi:pulumi:Stack lab-bench-engine created (72s) 1 message",
      "Duration: 1m13s",
    ].join("\n");
    expect(upTimings(out, 2)).toEqual({
      durationMs: 73_000,
      slowest: [
        { resource: "bn1-verify", ms: 65_000 },
        { resource: "bn1-ov_net1", ms: 2000 },
      ],
    });
    expect(upTimings("nothing")).toEqual({ slowest: [] });
  });
});

describe("bench CLI", () => {
  it("without the engine, the engine section is skipped with what to do", () => {
    expect(engineOrSkip({ DNLAB_PULUMI_BIN: "/nonexistent" })).toEqual({
      skipped: expect.stringMatching(
        /^no Pulumi engine: DNLAB_PULUMI_BIN=\/nonexistent has no pulumi binary \(run: bash scripts\/build-pulumi.sh\)/,
      ),
    });
  });
  it("defaults and lists", () => {
    expect(parseBenchArgs([])).toMatchObject({
      runs: 3,
      bigRuns: 1,
      only: ["engine", "verify", "plan"],
      hosts: [2, 4, 8],
      containers: [4, 16, 50, 200],
      verifyTimeoutMs: 360_000,
    });
    expect(parseBenchArgs(["--runs", "5", "--only", "plan,verify", "--hosts", "2,3", "--verify-timeout", "60"])).toMatchObject({
      runs: 5,
      only: ["plan", "verify"],
      hosts: [2, 3],
      verifyTimeoutMs: 60_000,
    });
  });
  it("bad input is one clear usage error", () => {
    expect(() => parseBenchArgs(["--runs", "0"])).toThrow(UsageError);
    expect(() => parseBenchArgs(["--only", "engine,pulumi"])).toThrow(/unknown section pulumi/);
    expect(() => parseBenchArgs(["--containers", "300"])).toThrow(/from 2 to 250/);
  });
  it("root on Linux only, with a clear message", () => {
    expect(privilegeProblem("darwin", 0)).toMatch(/Linux only/);
    expect(privilegeProblem("linux", 1000)).toMatch(/as root/);
    expect(privilegeProblem("linux", 0)).toBeUndefined();
  });
});

const run = (wallMs: number, slowestMs: number, o: { checks?: number; reportedWallMs?: number; exitAfterReportMs?: number } = {}) => ({
  wallMs,
  code: 0,
  timedOut: false,
  slowestMs,
  slowestId: "ping-name:c1->c2@ov_net1",
  checks: o.checks ?? 100,
  reportedWallMs: o.reportedWallMs ?? wallMs - 1000,
  exitAfterReportMs: o.exitAfterReportMs ?? 20,
});

function engineCase(hosts: number, upMs: number[], scriptBringupMs: number[], scriptChecksMs: number[]): EngineCase {
  return {
    hosts,
    upMs,
    upVerifyMs: upMs.map(() => 3000),
    upEngineMs: upMs.map((x) => x - 1500),
    upSlowest: ["bn1-verify 4.00 s", "bn1-ov_net1 2.00 s"],
    previewMs: [5000],
    destroyMs: [8000],
    scriptBringupMs,
    scriptChecksMs,
    scriptTeardownMs: [4000],
    leftovers: [],
    errors: [],
  };
}

function results(over: Partial<BenchResults> = {}): BenchResults {
  const verify: VerifyCase[] = [
    { containers: 4, plannedChecks: 38, runs: [run(2500, 900, { checks: 38 })], failures: [], errors: [] },
    { containers: 50, plannedChecks: 3902, runs: [run(12000, 2000, { checks: 3902, reportedWallMs: 11000 })], failures: [], errors: [] },
    { containers: 200, plannedChecks: 60602, runs: [run(6000, 4000, { checks: 60602, exitAfterReportMs: 40 })], failures: [], errors: [] },
  ];
  return {
    version: 2,
    date: "2026-01-02T03:04:05.000Z",
    machine: {
      cpus: 2,
      cpuModel: "Test CPU",
      memoryGiB: 8,
      kernel: "6.1.0",
      os: "Debian 12",
      docker: "20.10.24",
      node: "v20.0.0",
      loadStart: 0.5,
      loadEnd: 0.7,
    },
    runs: 3,
    bigRuns: 1,
    durationMs: 600_000,
    engine: {
      cases: [engineCase(2, [12000, 14000, 13000], [5000, 5000, 5000], [1000, 1000, 1000]), engineCase(8, [30000], [12000], [2000])],
    },
    verify: { setupMs: 40_000, warmupMs: 2000, timeoutMs: 300_000, cases: verify, leftovers: [], errors: [] },
    plan: [
      {
        hosts: 10,
        containers: 200,
        samples: [{ buildMs: 100, baseRssMB: 70, maxRssMB: 110, checks: 108630 }],
        processMs: [600],
        errors: [],
      },
      {
        hosts: 10,
        containers: 1000,
        samples: [{ buildMs: 2500, baseRssMB: 70, maxRssMB: 1070, checks: 2703030 }],
        processMs: [3000],
        errors: [],
      },
    ],
    errors: [],
    skipped: [],
    ...over,
  };
}

describe("results.md", () => {
  const byWhat = (r: BenchResults, start: string) => targetChecks(r).find((x) => x.what.startsWith(start));

  it("marks met and missed targets, and says why a missed one is missed", () => {
    const r = results();
    // 13 s vs 5 + 1 s.
    expect(byWhat(r, "npm run up, 2 netns hosts")).toMatchObject({ measured: "2.17x", met: false });
    expect(byWhat(r, "npm run up, 2 netns hosts")!.why).toMatch(
      /inside the up the verification took 3\.00 s \(vs 1\.00 s.*everything else 10\.00 s \(vs 5\.00 s for the script's bring-up\); a no-change preview.*takes 5\.00 s: that fixed cost alone is 0\.83x the whole baseline, and the bring-up as resources takes the other 5\.00 s; pulumi reports the update itself as 11\.50 s, so 1\.50 s of the command is npm and the CLI starting and exiting; slowest resources: bn1-verify 4\.00 s, bn1-ov_net1 2\.00 s$/,
    );
    // Only the default lab's host count is a target; 8 hosts are in the table.
    expect(targetChecks(r).filter((x) => x.what.startsWith("npm run up"))).toHaveLength(1);
    expect(byWhat(r, "verification, 50 ")).toMatchObject({ measured: "6.00x", met: false });
    expect(byWhat(r, "verification, 50 ")!.why).toMatch(
      /3902 checks: the process took 12\.00 s, the verifier's own wall time 11\.00 s, the slowest probe 2\.00 s; 2\.8 ms/,
    );
    expect(byWhat(r, "verification, 200 ")).toMatchObject({ measured: "1.50x", met: true });
    expect(byWhat(r, "verification, 200 ")!.why).toBeUndefined();
    // 4 containers: in the table, no target.
    expect(byWhat(r, "verification, 4 ")).toBeUndefined();
    expect(byWhat(r, "npm run verify exits")).toMatchObject({ measured: "0.04 s", met: true });
    expect(byWhat(r, "buildPlan, 1000 containers on 10 hosts: time")).toMatchObject({ measured: "2.50 s", met: false });
    expect(byWhat(r, "buildPlan, 1000 containers on 10 hosts: time")!.why).toMatch(
      /2703030 checks\); from 200 to 1000 containers it grows as containers\^2\.00/,
    );
    expect(byWhat(r, "buildPlan, 1000 containers: peak RSS")).toMatchObject({ measured: "1070 MB", met: false });
    expect(byWhat(r, "buildPlan, 1000 containers: peak RSS")!.why).toMatch(/70 MB is node.*adds 1000 MB .*containers\^2\.00/);
    expect(byWhat(r, "teardown")).toMatchObject({ measured: "nothing", met: true });
  });
  it("with the machine's CPU measured, a missed verification says what floor the cores set and how close the run came", () => {
    const r = results();
    r.verify.cases[1]!.runs[0]!.machineCpuMs = 22_000; // 11 s on 2 cores
    const why = byWhat(r, "verification, 50 ")!.why!;
    expect(why).toMatch(
      /the machine spent 22\.00 s of CPU during the run \(5\.64 ms per check: .*\), which on 2 cores is a floor of 11\.00 s for the wall time; the run took 1\.09x that floor/,
    );
    const md = renderMarkdown(r);
    expect(md).toContain("| 50 | 3902 | 1 | 12.00 s | 11.00 s | 2.00 s | 6.00x | 22.00 s | 1.09x | 0.02 s | none |");
  });

  it("reads the machine's busy CPU time from /proc/stat (user, nice, system, irq, softirq, steal; not idle or iowait)", () => {
    const d = mkdtempSync(join(os.tmpdir(), "dnlab-stat-"));
    writeFileSync(join(d, "stat"), "cpu  100 2 30 5000 70 4 5 1 0 0\ncpu0 50 1 15 2500 35 2 2 0 0 0\n");
    expect(machineCpuMs(join(d, "stat"))).toBe((100 + 2 + 30 + 4 + 5 + 1) * 10);
    expect(machineCpuMs(join(d, "missing"))).toBeUndefined();
  });

  it("a verify process stopped by the timeout misses its target, with the time the last finished size projects", () => {
    const r = results();
    r.verify.cases[2] = {
      containers: 200,
      plannedChecks: 60602,
      runs: [{ wallMs: 300_000, code: null, timedOut: true }],
      failures: [],
      errors: ["run 1: stopped"],
    };
    const t = byWhat(r, "verification, 200 ")!;
    expect(t).toMatchObject({ measured: "stopped after 300.00 s", met: false });
    expect(t.why).toMatch(
      /stopped after 300\.00 s without a report; 50 containers ran 3902 checks in 11\.00 s \(2\.8 ms each\), so the 60602 checks of 200 containers take about 170\.84 s/,
    );
  });
  it("a process that lingers after its report misses the exit target, saying whether every run does", () => {
    const r = results();
    r.verify.cases[1]!.runs[0]!.exitAfterReportMs = 5000;
    const t = byWhat(r, "npm run verify exits")!;
    expect(t).toMatchObject({ measured: "5.00 s", met: false });
    expect(t.why).toMatch(/over 50 containers.*most runs exit in time/);
    for (const c of r.verify.cases) c.runs[0]!.exitAfterReportMs = 5000;
    expect(byWhat(r, "npm run verify exits")!.why).toMatch(/every run lingers/);
  });
  it("a skipped engine section is a target not measured, with the reason", () => {
    const r = results({ engine: { skipped: "missing provider plugin(s): command v1.2.1", cases: [] } });
    expect(byWhat(r, "npm run up")).toMatchObject({
      measured: "skipped",
      met: undefined,
      why: "missing provider plugin(s): command v1.2.1",
    });
    const md = renderMarkdown(r);
    expect(md).toContain("| not measured |");
    expect(md).toContain("Skipped: missing provider plugin(s): command v1.2.1");
    // Skipped by option: no row at all.
    expect(byWhat(results({ skipped: ["engine"] }), "npm run up")).toBeUndefined();
  });
  it("a plan that runs out of memory misses both plan targets with the error", () => {
    const r = results();
    r.plan[1] = {
      hosts: 10,
      containers: 1000,
      samples: [],
      processMs: [],
      errors: ["exit 134 after 40.0 s: JavaScript heap out of memory"],
    };
    expect(byWhat(r, "buildPlan, 1000 containers on 10 hosts: time")).toMatchObject({
      measured: "failed",
      met: false,
      why: "exit 134 after 40.0 s: JavaScript heap out of memory",
    });
    expect(byWhat(r, "buildPlan, 1000 containers: peak RSS")).toMatchObject({ met: false });
  });
  it("renders the machine, the tables and the verdicts", () => {
    const md = renderMarkdown(results());
    expect(md).toContain("| 2026-01-02 | 2 × Test CPU | 8.0 GiB | 6.1.0 | 20.10.24 | v20.0.0 | 0.50 / 0.70 |");
    expect(md).toContain("| 2 | 13.00 s (12.00–14.00) | 3.00 s | 6.00 s (5.00 s + 1.00 s) | 2.17x | 5.00 s | 8.00 s | 4.00 s | 2.00x |");
    expect(md).toContain("| 50 | 3902 | 1 | 12.00 s | 11.00 s | 2.00 s | 6.00x | n/a | n/a | 0.02 s | none |");
    expect(md).toContain("| 1000 | 10 | 2703030 | 2.50 s | 3.00 s | 1070 MB | 70 MB |");
    expect(md).toMatch(
      /\| verification, 50 containers \(full plan, 3902 checks\): npm run verify wall \/ slowest probe \| <= 1.5x \| 6.00x \| \*\*missed\*\* \|/,
    );
    expect(md).toContain("nothing was left after any teardown");
  });
  it("reports leftovers as a missed target", () => {
    const r = results();
    r.engine.cases[0]!.leftovers = ["bn1: namespace bn1-host1"];
    expect(byWhat(r, "teardown")).toMatchObject({ met: false, why: "bn1: namespace bn1-host1" });
    expect(renderMarkdown(r)).toContain("left behind: bn1: namespace bn1-host1");
  });
});

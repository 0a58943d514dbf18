// The bench's configs (valid for the model at every size), its baseline argv, its check subset, and
// the results.md rendering with targets and the reasons for missed ones.
import { describe, expect, it } from "vitest";
import { baselineArgs } from "../../bench/baselineArgs.js";
import { bringupConfig, evalCases, evalConfig, hostAddress, ringChecks, verifyConfig } from "../../bench/configs.js";
import { parseBenchArgs, privilegeProblem, UsageError } from "../../bench/run.js";
import { type BenchResults, renderMarkdown, rising, targetChecks } from "../../bench/results.js";
import { buildPlan, checkCount, expandChecks } from "../../src/model/index.js";

describe("bench configs", () => {
  it("host addresses stay inside the /20 underlay and never hit the gateway or the KV", () => {
    expect(hostAddress(0)).toBe("198.18.1.1");
    expect(hostAddress(255)).toBe("198.18.2.0");
  });
  it("every evaluation case's address plan is one the model accepts (200 hosts, 1000 containers)", () => {
    // Few containers per host count keep the (quadratic) check list small; the addressing is what is tested.
    for (const c of evalCases()) {
      const plan = buildPlan(evalConfig({ ...c, containers: 2 }));
      expect(plan.hosts).toHaveLength(c.hosts);
      expect(plan.networks.map((n) => n.driver)).toEqual(["overlay", "macvlan"]);
      const mv = plan.networks.find((n) => n.driver === "macvlan");
      expect(mv && mv.driver === "macvlan" ? new Set(mv.ranges.map((r) => r.ipRange)).size : 0).toBe(c.hosts);
    }
    // The overlay holds 1000 containers (all on one host: no cross-host pairs to check).
    const many = buildPlan(evalConfig({ id: "x", hosts: 1, containers: 1000, verification: false }));
    expect(new Set(many.workloads.map((w) => w.attachments[0]!.ipv4)).size).toBe(1001);
  });
  it("a bring-up config is a netns etcd lab with one container per host", () => {
    const plan = buildPlan(bringupConfig("bn1", 8));
    expect(plan.hostKind).toBe("netns");
    expect(plan.kv?.kind).toBe("etcd");
    expect(plan.workloads.map((w) => w.host)).toEqual(plan.hosts.map((h) => h.name));
  });
  it("the ring keeps 3 pair checks per container (to the next one) and all per-container/per-host checks", () => {
    const plan = buildPlan(verifyConfig("bn3", 16));
    const ring = ringChecks(plan);
    const pairs = ring.filter((c) => /^(ping-name|dns|ping-ip):/.test(c.id));
    expect(pairs).toHaveLength(16 * 3);
    expect(pairs.map((c) => c.id)).toContain("ping-name:c16->c1@ov_net1");
    expect(pairs.map((c) => c.id)).not.toContain("ping-name:c1->c4@ov_net1");
    const rest = expandChecks(plan.checks).filter((c) => !/^(ping-name|dns|ping-ip):/.test(c.id));
    expect(ring.length).toBe(pairs.length + rest.length);
    // The full plan grows with the square of the containers.
    expect(checkCount(plan.checks)).toBeGreaterThan(ring.length * 4);
  });
  it("the first N containers of the big verification lab are exactly the small plan's (same hosts and IPs)", () => {
    const big = buildPlan(verifyConfig("bn3", 50));
    const small = buildPlan(verifyConfig("bn3", 4));
    expect(small.workloads).toEqual(big.workloads.slice(0, 4));
  });
});

describe("baseline argv", () => {
  it("passes the model's names and paths to the script", () => {
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
    expect(f.slice(0, 11)).toEqual([
      "host1",
      "bn2-host1",
      "v-host1",
      "198.18.0.11/24",
      "/var/lib/dnlab/bn2/host1",
      "/var/lib/dnlab/bn2/host1/data",
      "/run/dnlab/bn2/host1.exec",
      "/run/dnlab/bn2/host1.pid",
      "/run/dnlab/bn2/host1.sock",
      "c1",
      plan.workloads[0]!.attachments[0]!.ipv4,
    ]);
    expect(f.slice(11)).toEqual(plan.hosts[0]!.daemon.args);
  });
  it("refuses plans it cannot build", () => {
    expect(() => baselineArgs(buildPlan({ hostKind: "netns", kv: { kind: "etcd" } }))).toThrow(/exactly one overlay/);
    expect(() => baselineArgs(buildPlan({}))).toThrow(/not a netns lab/);
  });
});

describe("bench CLI", () => {
  it("defaults and lists", () => {
    const o = parseBenchArgs(["--runs", "5", "--only", "pulumi,verify", "--hosts", "2,3"]);
    expect(o).toMatchObject({ runs: 5, bigRuns: 1, only: ["pulumi", "verify"], hosts: [2, 3], containers: [4, 16, 50] });
  });
  it("bad input is one clear usage error", () => {
    expect(() => parseBenchArgs(["--runs", "0"])).toThrow(UsageError);
    expect(() => parseBenchArgs(["--only", "bringup,nope"])).toThrow(/unknown section nope/);
    expect(() => parseBenchArgs(["--containers", "300"])).toThrow(/from 2 to 250/);
  });
  it("root on Linux only, with a clear message", () => {
    expect(privilegeProblem("darwin", 0)).toMatch(/Linux only/);
    expect(privilegeProblem("linux", 1000)).toMatch(/as root/);
    expect(privilegeProblem("linux", 0)).toBeUndefined();
  });
});

function results(over: Partial<BenchResults> = {}): BenchResults {
  return {
    version: 1,
    date: "2026-01-02T03:04:05.000Z",
    machine: { cpus: 2, cpuModel: "Test CPU", memoryGiB: 8, kernel: "6.1.0", os: "Debian 12", docker: "20.10.24", node: "v20.0.0", loadStart: 0.5, loadEnd: 0.7 },
    runs: 3,
    durationMs: 600_000,
    bringup: [
      { hosts: 2, oursMs: [6000, 5000, 7000], scriptMs: [5000, 5000, 5000], oursSteps: { hosts: 1000, kv: 900 }, teardownMs: [4000], scriptTeardownMs: [4000], leftovers: [], errors: [] },
      { hosts: 8, oursMs: [20000, 21000, 22000], scriptMs: [10000, 10000, 10000], oursSteps: { hosts: 3000, "networks+containers": 12000 }, teardownMs: [9000], scriptTeardownMs: [9000], leftovers: [], errors: [] },
    ],
    verify: {
      setupMs: 40_000,
      warmup: { wallMs: 12_000, failures: ["ping-name:c46->c47@ov_net1: bad address 'c47'"] },
      cases: [
        { containers: 4, checks: 26, concurrency: 32, wallMs: [2400], slowestMs: [900], slowestIds: ["x"], failures: [] },
        { containers: 50, checks: 302, concurrency: 32, wallMs: [9000, 10000, 11000], slowestMs: [2000, 2000, 2000], slowestIds: ["x"], failures: [] },
        { containers: 50, checks: 302, concurrency: 128, wallMs: [6000], slowestMs: [4000], slowestIds: ["x"], failures: [] },
      ],
      leftovers: [],
      errors: [],
    },
    pulumi: [2, 10, 100].map((h) => ({
      case: { id: `${h}-hosts`, hosts: h, containers: h, verification: true },
      samples: [{ id: `${h}-hosts`, ok: true, planMs: h * 2, evalMs: h * 30, resources: h * 9, checks: h * h * 3, planJsonMB: 1, baseRssMB: 100, maxRssMB: 100 + h }],
      errors: [],
    })),
    errors: [],
    skipped: [],
    ...over,
  };
}

describe("results.md", () => {
  it("a rising memory exponent is called out", () => {
    expect(rising([0.4, 0.8, 1.0, 1.25])).toBe(true);
    expect(rising([0.4, 0.8, 0.7, 1.25])).toBe(false);
    expect(rising([0.4, 0.6, 0.9])).toBe(false);
  });

  it("marks met and missed targets, and says why a missed one is missed", () => {
    const t = targetChecks(results());
    const byWhat = (s: string) => t.find((x) => x.what.startsWith(s))!;
    expect(byWhat("bring-up, 2 hosts")).toMatchObject({ measured: "1.20x", met: true });
    expect(byWhat("bring-up, 8 hosts")).toMatchObject({ measured: "2.10x", met: false });
    expect(byWhat("bring-up, 8 hosts").why).toMatch(/networks\+containers 12\.00 s/);
    expect(byWhat("verification, 50")).toMatchObject({ measured: "5.00x", met: false });
    expect(byWhat("verification, 50").why).toMatch(/10 wave.*; with 128 in flight the wall time is 6\.00 s \(1\.50x the slowest probe\)$/);
    // The extra concurrency level explains; it is not a target row of its own.
    expect(t.filter((x) => x.what.startsWith("verification, 50"))).toHaveLength(1);
    expect(byWhat("verification, 4 ")).toMatchObject({ measured: "2.67x", met: false });
    expect(byWhat("verification, 4 ").why).toMatch(/all 26 checks are in flight at once.*other 1\.50 s.*fixed phases/);
    expect(byWhat("program evaluation")).toMatchObject({ measured: "3.00 s", met: false });
    expect(byWhat("program evaluation").why).toMatch(/30000 checks/);
    expect(byWhat("teardown")).toMatchObject({ measured: "nothing", met: true });
  });
  it("renders the machine, the tables and the growth verdict", () => {
    const md = renderMarkdown(results());
    expect(md).toContain("| 2026-01-02 | 2 × Test CPU | 8.0 GiB | 6.1.0 | 20.10.24 | v20.0.0 | 0.50 / 0.70 |");
    expect(md).toContain("| 2 | 6.00 s (5.00–7.00) | 5.00 s | 1.20x |");
    expect(md).toContain("| bring-up, 8 hosts: ours / script | <= 1.5x | 2.10x | **missed** |");
    expect(md).toMatch(/time k = 1\.00, 1\.00 \(linear\)/);
    expect(md).toContain("nothing was left after any teardown");
    expect(md).toContain("1 unexpected result(s) right after bring-up: ping-name:c46->c47@ov_net1: bad address 'c47'. None of them failed again");
    const r = results();
    r.verify.cases[1]!.failures = ["run 1: ping-name:c46->c47@ov_net1: bad address 'c47'"];
    expect(renderMarkdown(r)).toContain("1 of them failed again in the measured runs: not a slow convergence");
  });
  it("reports leftovers as a missed target", () => {
    const r = results();
    r.bringup[0]!.leftovers = ["bn1: namespace bn1-host1"];
    const t = targetChecks(r).find((x) => x.what.startsWith("teardown"))!;
    expect(t).toMatchObject({ met: false, why: "bn1: namespace bn1-host1" });
    expect(renderMarkdown(r)).toContain("left behind: bn1: namespace bn1-host1");
  });
});

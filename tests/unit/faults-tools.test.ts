// The lab tools name the faults: `npm run trace` ends its explanation with the faults on the probe's
// way (and says whether an MTU fault's underlay holds this probe), `npm run inspect` lists every host's
// faults against the records on the hosts (active, not applied, stale), and the verifier's report has
// the user's expectations in a section of their own.
import { describe, expect, it } from "vitest";
import { formatInspect, inspectLab } from "../../src/inspect/index.js";
import { buildPlan, type CheckPlan, expandChecks } from "../../src/model/index.js";
import { analyzeTrace } from "../../src/trace/analyze.js";
import { planTrace } from "../../src/trace/plan.js";
import { formatTrace, summaryLine } from "../../src/trace/render.js";
import {
  buildReport,
  type CheckResult,
  checkResult,
  expectationsOf,
  formatTable,
  measurementsOf,
  summarize,
} from "../../src/verify/index.js";
import { fakesFor } from "./inspect-fake.js";

const faulty = buildPlan({
  name: "tf",
  hostKind: "netns",
  kv: { kind: "etcd" },
  faults: [
    { host: "host1", kind: "drop-vxlan" },
    { name: "small-underlay", host: "host2", kind: "mtu", mtu: 1400 },
  ],
});

describe("trace names the faults on the way", () => {
  const running = { from: { name: "test2", state: "running", running: true, attached: true } };
  it("a probe that is not delivered: the explanation ends with the faults of both hosts", () => {
    const tp = planTrace(faulty, { from: "test2", to: "test1", payloadBytes: 1300, count: 2 });
    expect(tp.faults).toEqual([
      "host1 drops VXLAN (UDP 4789) in and out (lab:faults[0] drop-vxlan)",
      "eth0 of host2 has MTU 1400; the overlay sends 1450 (1500 with VXLAN) (lab:faults[1] mtu small-underlay): this probe's VXLAN packets are 1378 bytes, which fit",
    ]);
    const r = analyzeTrace(
      tp,
      [],
      { command: ["ping"], exitCode: 1, transmitted: 2, received: 0, output: "" },
      { ...running, to: { name: "test1", state: "running", running: true, attached: true } },
      "2026-01-01T00:00:00Z",
    );
    expect(r.cause).toMatch(/; host1 drops VXLAN \(UDP 4789\) in and out \(lab:faults\[0\] drop-vxlan\); eth0 of host2 has MTU 1400/);
    expect(summaryLine(r)).toContain("(lab:faults[0] drop-vxlan)");
    // A probe too large for the smaller underlay is told so.
    const big = planTrace(faulty, { from: "test2", to: "test1", payloadBytes: 1399, count: 2 });
    expect(big.faults![1]).toContain("this probe's VXLAN packets are 1477 bytes, more than 1400");
  });

  it("a delivered probe past a fault lists it as a fact; the way out does not list VXLAN drops", () => {
    const plan = buildPlan({ name: "tf", hostKind: "netns", kv: { kind: "etcd" }, faults: [{ host: "host2", kind: "loss", loss: "10%" }] });
    const tp = planTrace(plan, { from: "test2", to: "test1", payloadBytes: 1200, count: 2 });
    const r = analyzeTrace(
      tp,
      [],
      { command: ["ping"], exitCode: 0, transmitted: 2, received: 2, output: "" },
      { from: running.from, to: { name: "test1", state: "running", running: true, attached: true } },
      "2026-01-01T00:00:00Z",
    );
    expect(formatTrace(r)).toContain("faults on the path: host2 drops 10% of its underlay packets, in and out (lab:faults[0] loss)");
    // The way out (docker_gwbridge, NAT) does not use VXLAN: host1's drop is not on it.
    const out = planTrace(faulty, { from: "test1", to: "external", payloadBytes: 1200, count: 2 });
    expect(out.faults).toBeUndefined();
  });
});

describe("inspect lists the faults per host", () => {
  it("planned and in effect, planned but not applied, recorded but no longer planned", async () => {
    const fakes = fakesFor(faulty);
    const [drop, mtu] = faulty.faults;
    const r = await inspectLab(faulty, {
      engineFactory: (_e, host) => fakes.get(host)!,
      readVni: false,
      verifyFile: "/nonexistent",
      faultStatus: async (host) =>
        host === "host1"
          ? [{ host, id: drop!.id, name: drop!.name, kind: "drop-vxlan", method: "iptables", since: "2026-01-01T00:00:00Z", active: true }]
          : [{ host, id: "00000000", name: "old-loss", kind: "loss", method: "iptables", since: "2026-01-01T00:00:00Z", active: true }],
    });
    expect(r.faults.map((f) => [f.host, f.name, f.state])).toEqual([
      ["host1", drop!.name, "active"],
      ["host2", mtu!.name, "not applied"],
      ["host2", "old-loss", "stale"],
    ]);
    expect(r.healthy).toBe(false);
    const text = formatInspect(r);
    expect(text).toContain("FAULTS (lab:faults)");
    expect(text).toMatch(/host1 +drop-vxlan-host1 +drop-vxlan +- +active +2026-01-01T00:00:00Z +host1 drops VXLAN/);
    expect(text).toMatch(/host2 +small-underlay +mtu +MTU 1400 +not applied/);
  });
});

describe("the report's own section for lab:expect", () => {
  it("lists the expectations by name, counts them, and keeps measurements", () => {
    const plan = buildPlan({
      hostKind: "netns",
      expect: [
        { name: "test2 reaches test1 by name", from: "test2", to: "test1", network: "ov_net1" },
        { name: "test3 cannot reach its host", from: "test3", to: "host1", expect: "fail" },
        { from: "test1", to: "test2", lossPct: { max: 0 } },
      ],
    });
    const results: CheckResult[] = expandChecks(plan.checks).map((c: CheckPlan) =>
      checkResult(
        c,
        c.id === "expect:test3 cannot reach its host"
          ? { outcome: "pass", detail: "reply from 198.18.0.11 in 0.1 ms" }
          : c.measure
            ? { outcome: "pass", detail: "20 sent, 0 lost (0%)", data: { sent: 20, lossPct: 0, rttMedianMs: 0.1 } }
            : { outcome: c.expect === "fail" ? "fail" : "pass", detail: "as planned" },
        false,
        10,
      ),
    );
    const report = buildReport(plan.name, new Date(0), 100, results);
    expect(summarize(results).unexpectedPasses).toBe(1);
    expect(expectationsOf(results).map((e) => [e.name, e.key, e.status])).toEqual([
      ["test2 reaches test1 by name", "lab:expect[0]", "PASS"],
      ["test3 cannot reach its host", "lab:expect[1]", "XPASS!"],
      ["test1->test2 ping lossPct", "lab:expect[2]", "PASS"],
    ]);
    expect(measurementsOf(results)).toEqual([{ id: "expect:test1->test2 ping lossPct", ok: true, sent: 20, lossPct: 0, rttMedianMs: 0.1 }]);
    const table = formatTable(report);
    expect(table).toContain("EXPECTATIONS (lab:expect)");
    expect(table).toMatch(/XPASS! +test3 cannot reach its host +lab:expect\[1\] +fail +reply from 198\.18\.0\.11/);
    expect(table).toContain("lab:expect: 2 of 3 as written");
    // The model's table does not repeat them.
    expect(table.split("EXPECTATIONS")[0]).not.toContain("expect:");
  });
});

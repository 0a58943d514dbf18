// lab:faults and lab:expect under the real engine, netns hosts: the lab up without faults; faults added
// (each its own lab:fault:Fault, created after the lab) and verified clean with their effects; a fault
// changed in place (the preview updates that fault only, and re-runs the verification); the faults
// removed, and the verification of that very up clean with every check passing, the host as before;
// no-change previews between; destroy leaving nothing (the harness). And a delay, which needs netem
// this kernel has not, refused before anything is created.
import { describe, expect, it } from "vitest";
import { faultStatus } from "../../src/lab/faults.js";
import { isClean, labLeftovers } from "../../src/lab/netnsLab.js";
import { run } from "../../src/lab/run.js";
import { checkCount, type LabConfigInput, type LabPlan } from "../../src/model/index.js";
import { CMD, type StackVerification, sortSteps, timed, useLabStack, verificationOf } from "./harness.js";

const FAULT = "lab:fault:Fault";
const T = 600_000;

const base: LabConfigInput = {
  name: "ef1",
  expect: [
    { name: "test2 reaches test1 by name", from: "test2", to: "test1", network: "ov_net1" },
    { name: "test3 cannot reach its own host", from: "test3", to: "host1", expect: "fail" },
  ],
};
const faults = (loss: string): LabConfigInput => ({
  ...base,
  faults: [
    { host: "host2", kind: "loss", loss },
    { name: "small-underlay", host: "host2", kind: "mtu", mtu: 1400 },
  ],
  expect: [...base.expect!, { name: "loss through host2", from: "test1", to: "test2", network: "ov_net1", lossPct: { min: 5 } }],
});

/** host2's network state, as a fault may change it (iptables without counters, qdiscs, links, addresses, routes). */
async function host2State(plan: LabPlan): Promise<string> {
  const ns = plan.hosts.find((h) => h.name === "host2")!.netns!.namespace;
  const r = await run([
    "nsenter",
    `--net=/run/netns/${ns}`,
    "sh",
    "-c",
    "iptables-save | grep -v '^#'; tc qdisc show dev eth0; ip -o link show dev eth0; ip -o addr show dev eth0; ip route",
  ]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.replace(/\[\d+:\d+\]/g, "[-]");
}

function clean(v: StackVerification, plan: LabPlan): void {
  expect(v.summary.failed, JSON.stringify(v.failures, null, 2)).toBe(0);
  expect(v.summary.passed + v.summary.expectedFailures).toBe(checkCount(plan.checks));
  for (const e of v.expectations) expect(e.ok, `${e.name}: ${e.detail}`).toBe(true);
}

describe("netns: faults and expectations through the engine", () => {
  const lab = useLabStack("enginetest-netns-faults", base);
  let before = "";

  it(
    "up without faults: clean, the user's expectations as written",
    async () => {
      const out = await timed(lab, "up", () => lab.up());
      const v = verificationOf(out);
      clean(v, lab.plan);
      expect(v.expectations.map((e) => [e.name, e.status])).toEqual([
        ["test2 reaches test1 by name", "PASS"],
        ["test3 cannot reach its own host", "XFAIL"],
      ]);
      before = await host2State(lab.plan);
    },
    T,
  );

  it(
    "faults added: each its own resource; up applies them after the lab and verifies clean with their effects",
    async () => {
      lab.configure(faults("30%"));
      expect(await lab.previewSteps()).toEqual(
        sortSteps([
          { op: "create", resource: `${FAULT}::ef1-fault-loss-host2` },
          { op: "create", resource: `${CMD}::ef1-fault-loss-host2` },
          { op: "create", resource: `${FAULT}::ef1-fault-small-underlay` },
          { op: "create", resource: `${CMD}::ef1-fault-small-underlay` },
          { op: "update", resource: `${CMD}::ef1-verify` },
        ]),
      );
      const out = await timed(lab, "up with faults", () => lab.up());
      const v = verificationOf(out);
      clean(v, lab.plan);
      // The faults' effects, as planned: full-size DF probes across host2 fail, the loss is measured.
      expect(v.summary.expectedFailures).toBeGreaterThan(1);
      const measured = v.measurements.filter((m) => m.id.startsWith("loss:") || m.id === "expect:loss through host2");
      expect(measured.length).toBe(3);
      for (const m of measured) expect(m.lossPct, m.id).toBeGreaterThan(0);
      console.log(`[engine] loss 30% on host2, measured: ${measured.map((m) => `${m.id} ${m.lossPct}%`).join(", ")}`);
      expect((out["faults"] as { name: string }[]).map((f) => f.name)).toEqual(["loss-host2", "small-underlay"]);
      expect((await faultStatus(lab.plan, "host2")).map((f) => [f.name, f.active]).sort()).toEqual([
        ["loss-host2", true],
        ["small-underlay", true],
      ]);
    },
    T,
  );

  it(
    "a second preview shows no changes",
    async () => {
      await timed(lab, "no-change preview", () => lab.stack.preview({ expectNoChanges: true }));
    },
    T,
  );

  it(
    "a fault changed in place: the preview updates that fault only (and re-runs the verification); up converges clean",
    async () => {
      lab.configure(faults("20%"));
      expect(await lab.previewSteps()).toEqual(
        sortSteps([
          { op: "update", resource: `${CMD}::ef1-fault-loss-host2` },
          { op: "update", resource: `${CMD}::ef1-verify` },
        ]),
      );
      const out = await timed(lab, "fault changed", () => lab.up());
      clean(verificationOf(out), lab.plan);
      await lab.stack.preview({ expectNoChanges: true });
    },
    T,
  );

  it(
    "faults removed: deleted, and that very up's verification is clean with every check passing; host2 as before",
    async () => {
      lab.configure(base);
      expect(await lab.previewSteps()).toEqual(
        sortSteps([
          { op: "delete", resource: `${FAULT}::ef1-fault-loss-host2` },
          { op: "delete", resource: `${CMD}::ef1-fault-loss-host2` },
          { op: "delete", resource: `${FAULT}::ef1-fault-small-underlay` },
          { op: "delete", resource: `${CMD}::ef1-fault-small-underlay` },
          { op: "update", resource: `${CMD}::ef1-verify` },
        ]),
      );
      const out = await timed(lab, "faults removed", () => lab.up());
      const v = verificationOf(out);
      clean(v, lab.plan);
      // Only the lab's own expected failure (a host and its own macvlan child) is left, and the user's (test3).
      expect(v.summary.expectedFailures).toBe(2);
      expect(v.measurements).toEqual([]);
      expect(await faultStatus(lab.plan, "host2")).toEqual([]);
      expect((await host2State(lab.plan)).split("\n")).toEqual(before.split("\n"));
      await timed(lab, "no-change preview after", () => lab.stack.preview({ expectNoChanges: true }));
    },
    T,
  );
});

describe("netns: a delay fault on a kernel without netem is refused before anything is created", () => {
  const lab = useLabStack("enginetest-netns-delay", { name: "ef2", faults: [{ host: "host2", kind: "delay", delay: "50ms" }] });

  it("up names the key, the missing sch_netem and the fix, and nothing of the lab exists", async () => {
    await expect(lab.up()).rejects.toThrow(/lab:faults\[0\]\.kind = "delay" \(delay-host2 on host2\): this kernel has no netem support/);
    expect(isClean(labLeftovers(lab.plan))).toBe(true);
  });
});

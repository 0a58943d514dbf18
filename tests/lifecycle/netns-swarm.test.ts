// Swarm mode under the real engine: the default two-host swarm stack, then three hosts, and an overlay
// replacement (swarm refuses to remove a network still used by a task: its containers must go first).
import { describe, expect, it } from "vitest";
import type { LabConfigInput } from "../../src/model/index.js";
import { C, CMD, failed, N, sortSteps, timed, useLabStack } from "./harness.js";

describe("netns swarm: default stack, a third host, an overlay replacement", () => {
  const base: LabConfigInput = { name: "es1", overlayMode: "swarm" };
  const lab = useLabStack("enginetest-netns-swarm", base);

  it("fresh preview, then up verifies clean; the join token never reaches the output", async () => {
    await timed(lab, "fresh preview", () => lab.previewSteps());
    let printed = "";
    const r = await timed(lab, "up", () => lab.stack.up({ onOutput: (o) => (printed += o) }));
    const out = Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.value]));
    expect(failed(out)).toBe(0);
    expect(printed).toContain("swarm-init");
    expect(printed).not.toMatch(/SWMTKN-/);
    expect(JSON.stringify(r.outputs)).not.toMatch(/SWMTKN-/);
    await lab.stack.preview({ expectNoChanges: true });
  });

  it("a third host joins, with a container of its own; up converges", async () => {
    const three: LabConfigInput = {
      ...base,
      hosts: [
        { name: "host1", address: "198.18.0.11" },
        { name: "host2", address: "198.18.0.12" },
        { name: "host3", address: "198.18.0.13" },
      ],
      workloads: [
        { name: "test1", host: "host1", networks: ["ov_net1"] },
        { name: "test2", host: "host2", networks: ["ov_net1"] },
        { name: "test3", host: "host1", networks: ["mv_net1"] },
        { name: "test4", host: "host3", networks: ["ov_net1"] },
      ],
    };
    lab.configure(three);
    const steps = await lab.previewSteps();
    expect(steps.filter((s) => s.op === "create").map((s) => s.resource)).toEqual(
      expect.arrayContaining([`${CMD}::es1-host3`, `${CMD}::es1-swarm-join-host3`, `${N}::es1-mv_net1-host3`, `${C}::es1-test4`]),
    );
    // The swarm and its overlay stay as they are; the macvlan pool is re-split for three hosts (each
    // host's --ip-range shrinks from a /26 to a /27), which replaces the per-host macvlan networks and
    // the container on them.
    expect(steps.filter((s) => s.op === "replace").map((s) => s.resource)).toEqual([
      `${CMD}::es1-verify`,
      `${C}::es1-test3`,
      `${N}::es1-mv_net1-host1`,
      `${N}::es1-mv_net1-host2`,
    ]);
    const out = await timed(lab, "add host", () => lab.up());
    expect(failed(out)).toBe(0);
  });

  it("changing the overlay replaces it with its containers (deleted first); up converges", async () => {
    const cfg: LabConfigInput = {
      name: "es1",
      overlayMode: "swarm",
      hosts: lab.plan.hosts.map((h) => ({ name: h.name, address: h.address })),
      networks: [
        { name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24", mtu: 1400 },
        { name: "mv_net1", driver: "macvlan", subnet: "198.18.0.0/24", ipRangePool: "198.18.0.128/25" },
      ],
      workloads: lab.plan.workloads.map((w) => ({ name: w.name, host: w.host, networks: w.attachments.map((a) => a.network) })),
    };
    lab.configure(cfg);
    expect(await lab.previewSteps()).toEqual(
      sortSteps([
        { op: "replace", resource: `${N}::es1-ov_net1` },
        { op: "replace", resource: `${C}::es1-test1` },
        { op: "replace", resource: `${C}::es1-test2` },
        { op: "replace", resource: `${C}::es1-test4` },
        { op: "replace", resource: `${CMD}::es1-verify` },
      ]),
    );
    const out = await timed(lab, "overlay mtu", () => lab.up());
    expect(failed(out)).toBe(0);
    await lab.stack.preview({ expectNoChanges: true });
  });
});

describe("netns swarm of five hosts, a container on each", () => {
  const five: LabConfigInput = {
    name: "es5",
    overlayMode: "swarm",
    hosts: [1, 2, 3, 4, 5].map((i) => ({ name: `host${i}`, address: `198.18.0.${10 + i}` })),
    networks: [{ name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" }],
    workloads: [1, 2, 3, 4, 5].map((i) => ({ name: `c${i}`, host: `host${i}`, networks: ["ov_net1"] })),
  };
  const lab = useLabStack("enginetest-netns-swarm5", five);

  it("comes up with every container at its planned address and verifies clean", async () => {
    const out = await timed(lab, "up", () => lab.up());
    expect(failed(out)).toBe(0);
    const containers = out["containers"] as Record<string, { ips: Record<string, string> }>;
    expect(Object.values(containers).map((c) => c.ips["ov_net1"])).toEqual([
      "198.18.100.2",
      "198.18.100.3",
      "198.18.100.4",
      "198.18.100.5",
      "198.18.100.6",
    ]);
    await lab.stack.preview({ expectNoChanges: true });
  });
});

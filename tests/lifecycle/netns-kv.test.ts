// The default netns lab (kv mode, etcd) through its whole life under the real engine: a fresh
// preview, up, outputs, a no-change preview and refresh, three config changes that each preview
// exactly the expected steps and converge, and a destroy that leaves nothing.
import { describe, expect, it } from "vitest";
import { C, CMD, failed, N, sortSteps, timed, useLabStack, verificationOf, W } from "./harness.js";
import type { LabConfigInput } from "../../src/model/index.js";

const base: LabConfigInput = { name: "en1" };
const T = 600_000;

describe("netns kv (etcd): up, no-change preview/refresh, changes, destroy", () => {
  const lab = useLabStack("enginetest-netns-kv", base);

  it(
    "previews a fresh stack without reaching for daemons that do not exist yet",
    async () => {
      const steps = await timed(lab, "fresh preview", () => lab.previewSteps());
      expect(steps.every((s) => s.op === "create")).toBe(true);
      expect(steps.map((s) => s.resource)).toEqual(
        expect.arrayContaining([`${C}::en1-test1`, `${C}::en1-test3`, `${N}::en1-ov_net1`, `${CMD}::en1-verify`]),
      );
    },
    T,
  );

  it(
    "up: the lab comes up and verifies clean",
    async () => {
      const out = await timed(lab, "up", () => lab.up());
      const v = verificationOf(out);
      expect(v.summary.failed).toBe(0);
      expect(v.summary.passed).toBeGreaterThan(10);
      expect(v.summary.expectedFailures).toBe(1); // host1 cannot reach its own macvlan child
      const containers = out["containers"] as Record<string, { host: string; ips: Record<string, string> }>;
      expect(containers["test2"]).toMatchObject({ host: "host2", ips: { ov_net1: "198.18.100.3" } });
    },
    T,
  );

  it(
    "a second preview shows no changes, and refresh finds no drift",
    async () => {
      await timed(lab, "no-change preview", () => lab.stack.preview({ expectNoChanges: true }));
      await timed(lab, "refresh", () => lab.stack.refresh({ expectNoChanges: true }));
    },
    T,
  );

  const withTest4: LabConfigInput = {
    ...base,
    workloads: [
      { name: "test1", host: "host1", networks: ["ov_net1"] },
      { name: "test2", host: "host2", networks: ["ov_net1"] },
      { name: "test3", host: "host1", networks: ["mv_net1"] },
      { name: "test4", host: "host2", networks: ["ov_net1", "mv_net1"] },
    ],
  };

  it(
    "adding a workload creates exactly it and re-runs the verification; up converges",
    async () => {
      lab.configure(withTest4);
      expect(await lab.previewSteps()).toEqual(
        sortSteps([
          { op: "create", resource: `${W}::en1-test4` },
          { op: "create", resource: `${C}::en1-test4` },
          { op: "replace", resource: `${CMD}::en1-verify` },
        ]),
      );
      const out = await timed(lab, "add workload", () => lab.up());
      expect(failed(out)).toBe(0);
      await lab.stack.preview({ expectNoChanges: true });
    },
    T,
  );

  it(
    "removing it deletes exactly it; up converges",
    async () => {
      lab.configure(base);
      expect(await lab.previewSteps()).toEqual(
        sortSteps([
          { op: "delete", resource: `${W}::en1-test4` },
          { op: "delete", resource: `${C}::en1-test4` },
          { op: "replace", resource: `${CMD}::en1-verify` },
        ]),
      );
      const out = await timed(lab, "remove workload", () => lab.up());
      expect(failed(out)).toBe(0);
    },
    T,
  );

  it(
    "an overlay's MTU replaces the network and takes its containers with it (deleted first); up converges",
    async () => {
      const mtu: LabConfigInput = {
        ...base,
        networks: [
          { name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24", mtu: 1400 },
          { name: "mv_net1", driver: "macvlan", subnet: "198.18.0.0/24", ipRangePool: "198.18.0.128/25" },
        ],
      };
      lab.configure(mtu);
      expect(await lab.previewSteps()).toEqual(
        sortSteps([
          { op: "replace", resource: `${N}::en1-ov_net1` },
          { op: "replace", resource: `${C}::en1-test1` },
          { op: "replace", resource: `${C}::en1-test2` },
          { op: "replace", resource: `${CMD}::en1-verify` },
        ]),
      );
      const out = await timed(lab, "overlay mtu", () => lab.up());
      expect(failed(out)).toBe(0);
      await lab.stack.preview({ expectNoChanges: true });
    },
    T,
  );
});

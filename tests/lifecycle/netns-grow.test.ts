// A netns lab that grows past what the kernel's default neighbour table holds, under the real engine:
// the lab's reservation (<lab>-underlay-neighbours) is updated in place, not replaced, the 32-container
// lab verifies clean, and destroy releases the reservation (the harness checks labLeftovers, which
// lists a reservation left behind) and puts the machine's own table size back.
import { existsSync, readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { NEIGH_RESERVATIONS_DIR, neighbourReservation } from "../../src/model/index.js";
import { buildPlan, checkCount, type LabConfigInput, machineNeighbourNeed } from "../../src/model/index.js";
import { C, CMD, timed, useLabStack, verificationOf } from "./harness.js";

const T = 600_000;
const withContainers = (n: number): LabConfigInput => ({
  name: "eg1",
  kv: { kind: "etcd" },
  networks: [{ name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" }],
  workloads: Array.from({ length: n }, (_, i) => ({ name: `w${i + 1}`, host: `host${(i % 2) + 1}`, networks: ["ov_net1"] })),
});
const small = withContainers(2);
const big = withContainers(32);
const gcThresh3 = (): number => Number(readFileSync("/proc/sys/net/ipv4/neigh/default/gc_thresh3", "utf8").trim());
const reserved = (): string => readFileSync(neighbourReservation(buildPlan({ hostKind: "netns", ...small })), "utf8").trim();

// The machine's own size, before the lab reserves anything.
const before = gcThresh3();

describe("netns lab growing past the kernel's default neighbour table", () => {
  const lab = useLabStack("enginetest-netns-grow", small);

  it(
    "up with 2 containers reserves the size the model gives",
    async () => {
      const out = await timed(lab, "up small", () => lab.up());
      expect(verificationOf(out).summary.failed).toBe(0);
      const need = machineNeighbourNeed(buildPlan({ hostKind: "netns", ...small })).gcThresh3;
      expect(reserved()).toBe(String(need));
      expect(gcThresh3()).toBeGreaterThanOrEqual(need);
    },
    T,
  );

  it(
    "32 containers: the reservation is updated in place before the containers come, and the lab verifies clean",
    async () => {
      lab.configure(big);
      const steps = await lab.previewSteps();
      expect(steps).toContainEqual({ op: "update", resource: `${CMD}::eg1-underlay-neighbours` });
      expect(steps.filter((s) => s.op === "create" && s.resource.startsWith(`${C}::`))).toHaveLength(30);
      expect(steps.filter((s) => s.op === "replace" || s.op === "delete").map((s) => s.resource)).toEqual([`${CMD}::eg1-verify`]);
      const out = await timed(lab, "up big", () => lab.up());
      const plan = buildPlan({ hostKind: "netns", ...big });
      const v = verificationOf(out);
      expect(v.summary).toMatchObject({ total: checkCount(plan.checks), failed: 0 });
      const need = machineNeighbourNeed(plan).gcThresh3;
      expect(need).toBeGreaterThan(2048); // past the small lab's size: the update had something to do
      expect(reserved()).toBe(String(need));
      expect(gcThresh3()).toBeGreaterThanOrEqual(need);
      await timed(lab, "no-change preview", () => lab.stack.preview({ expectNoChanges: true }));
    },
    T,
  );
});

// After the describe's hooks, the harness's destroy included: the reservation is gone (labLeftovers,
// in the harness) and the table is back to the machine's own size, unless another lab still reserves.
afterAll(() => {
  if (existsSync(NEIGH_RESERVATIONS_DIR)) return;
  expect(gcThresh3()).toBe(before);
});

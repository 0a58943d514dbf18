// One replacement of each kind of resource the overlay and container suites do not cover, from
// preview to a converged up with a clean verification: the macvlan network, a host's daemon settings,
// and the KV store (which takes every daemon, and so everything, with it).
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import type { LabConfigInput } from "../../src/model/index.js";
import { C, CMD, failed, N, timed, type Step, useLabStack } from "./harness.js";

const replaced = (steps: Step[]): string[] =>
  steps
    .filter((s) => s.op === "replace")
    .map((s) => s.resource)
    .sort();

const mv = (ipRangePool: string) => ({ name: "mv_net1", driver: "macvlan", subnet: "198.18.0.0/24", ipRangePool });
const ov = { name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" };
const base: LabConfigInput = { name: "er1", networks: [ov, mv("198.18.0.128/25")] };

describe("netns replacements: macvlan, host daemon settings, KV store", () => {
  const lab = useLabStack("enginetest-netns-replace", base);

  it("up", async () => {
    expect(failed(await timed(lab, "up", () => lab.up()))).toBe(0);
  });

  it("a macvlan's ranges: both hosts' networks and the container on them are replaced; up converges", async () => {
    lab.configure({ ...base, networks: [ov, mv("198.18.0.64/26")] });
    expect(replaced(await lab.previewSteps())).toEqual(
      [`${CMD}::er1-verify`, `${C}::er1-test3`, `${N}::er1-mv_net1-host1`, `${N}::er1-mv_net1-host2`].sort(),
    );
    expect(failed(await timed(lab, "macvlan", () => lab.up()))).toBe(0);
    await lab.stack.preview({ expectNoChanges: true });
  });

  it("the hosts' daemon settings (--bip) are applied in place: each daemon restarts with them, its containers come back; up converges", async () => {
    const next: LabConfigInput = { ...base, networks: [ov, mv("198.18.0.64/26")], bridge: { bipBase: "198.19.64.0/18" } };
    lab.configure(next);
    const steps = await lab.previewSteps();
    // The two daemons and the verification (its plan changed); nothing on the hosts.
    expect(steps).toEqual([
      { op: "update", resource: `${CMD}::er1-host1` },
      { op: "update", resource: `${CMD}::er1-host2` },
      { op: "update", resource: `${CMD}::er1-verify` },
    ]);
    const pids = lab.plan.hosts.map((h) => readFileSync(h.netns!.pidFile, "utf8").trim());
    expect(failed(await timed(lab, "daemon settings", () => lab.up()))).toBe(0);
    for (const [i, h] of lab.plan.hosts.entries()) {
      // A new daemon, running with the new --bip.
      const pid = readFileSync(h.netns!.pidFile, "utf8").trim();
      expect(pid).not.toBe(pids[i]);
      expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")).toContain(`198.19.${64 + i}.1/24`);
    }
    await lab.stack.preview({ expectNoChanges: true });
  });

  it("the KV store: a new store knows no daemon, so every daemon and everything on it is re-created; up converges", async () => {
    lab.configure({
      ...base,
      networks: [ov, mv("198.18.0.64/26")],
      bridge: { bipBase: "198.19.64.0/18" },
      kv: { kind: "etcd", port: 12379 },
    });
    const steps = await lab.previewSteps();
    const r = replaced(steps);
    // Besides replacements, only the hosts' providers change (their endpoint is unknown until the new daemons exist).
    expect(steps.filter((s) => s.op !== "replace")).toEqual([
      { op: "update", resource: "pulumi:providers:docker::er1-host1-provider" },
      { op: "update", resource: "pulumi:providers:docker::er1-host2-provider" },
    ]);
    for (const x of [`${CMD}::er1-kv`, `${CMD}::er1-host1`, `${CMD}::er1-host2`, `${N}::er1-ov_net1`, `${C}::er1-test1`, `${C}::er1-test2`])
      expect(r).toContain(x);
    expect(r).not.toContain(`${CMD}::er1-underlay`);
    expect(failed(await timed(lab, "kv store", () => lab.up()))).toBe(0);
    await lab.stack.preview({ expectNoChanges: true });
  });
});

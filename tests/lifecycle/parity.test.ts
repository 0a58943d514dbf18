// One lab, one description, under the real engine: the shapes lab (three hosts, two overlays from two
// creators, a container on both with aliases, a macvlan on its own subnet) made by `pulumi up`, then the
// same config made by `npm run lab -- up`; every container and network on every host, as `docker
// inspect` reports it (minus ids, dates, state and random MACs: tests/reallab/parity.ts), is identical.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isClean, labLeftovers } from "../../src/lab/netnsLab.js";
import { inspectLabObjects } from "../reallab/parity.js";
import { npmRun, timed, useLabStack, verificationOf } from "./harness.js";
import { shapesLab } from "./shapes.js";

const config = { ...shapesLab("ep1", "198.18.64.0/24"), kv: { kind: "etcd" as const } };

describe("parity under the real engine: pulumi up and npm run lab -- up make the same Docker objects", () => {
  const lab = useLabStack("enginetest-parity", config);
  const dir = mkdtempSync(join(tmpdir(), "dnlab-parity-"));
  // The harness's own afterAll destroys the stack and removes whatever of the lab is left (npm run lab's too).
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("every container and network of the two labs is the same, field by field", async () => {
    const out = await timed(lab, "up", () => lab.up());
    expect(verificationOf(out).summary.failed).toBe(0);
    const byPulumi = await inspectLabObjects(lab.plan);
    await timed(lab, "destroy", () => lab.stack.destroy({ onOutput: (o) => process.stdout.write(o) }));
    expect(isClean(labLeftovers(lab.plan))).toBe(true);

    const file = join(dir, "lab.json");
    writeFileSync(file, JSON.stringify({ ...config, hostKind: "netns" }));
    const up = await timed(lab, "npm run lab up", () => npmRun(process.env, "lab", "up", "--config", file));
    expect(up.code, up.out).toBe(0);
    const byLab = await inspectLabObjects(lab.plan);
    const down = await timed(lab, "npm run lab down", () => npmRun(process.env, "lab", "down", "--config", file));
    expect(down.code, down.out).toBe(0);

    expect(Object.keys(byLab.containers).sort()).toEqual(Object.keys(byPulumi.containers).sort());
    expect(Object.keys(byLab.networks).sort()).toEqual(Object.keys(byPulumi.networks).sort());
    for (const key of Object.keys(byPulumi.containers)) expect(byLab.containers[key], `container ${key}`).toEqual(byPulumi.containers[key]);
    for (const key of Object.keys(byPulumi.networks)) expect(byLab.networks[key], `network ${key}`).toEqual(byPulumi.networks[key]);
  });
});

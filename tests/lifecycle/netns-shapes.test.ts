// Shapes beyond the reference scenario, under the real engine: three hosts, two overlays created on
// different hosts, a container on both overlays (aliases on each), and a macvlan on a subnet of its own.
import { describe, expect, it } from "vitest";
import { checkCount, type LabConfigInput } from "../../src/model/index.js";
import { savedVerification, timed, useLabStack, verificationOf } from "./harness.js";
import { shapesLab } from "./shapes.js";

const shapes: LabConfigInput = shapesLab("eh1", "198.18.64.0/24");

describe("netns shapes: three hosts, two overlays, a container on both, macvlan on its own subnet", () => {
  const lab = useLabStack("enginetest-netns-shapes", shapes);

  it("comes up and verifies clean; a second preview shows no changes", async () => {
    const out = await timed(lab, "up", () => lab.up());
    const v = verificationOf(out);
    expect(v.summary.failed).toBe(0);
    // Every planned check ran (the plan's own count), the aliases' among them.
    expect(v.summary.passed + v.summary.expectedFailures).toBe(checkCount(lab.plan.checks));
    // The outputs count them per network and check type; the saved report has each one.
    expect(v.counts["ov_a"]!["dns-alias"]).toEqual({ passed: 1, expectedFailures: 0, failed: 0 });
    const ids = savedVerification().results.filter((c) => c.id.startsWith("dns-alias:"));
    expect(ids.map((c) => c.id).sort()).toEqual([
      "dns-alias:a1->both=ab2@ov_a",
      "dns-alias:b3->both=ab2@ov_b",
      "dns-alias:m1b->mvx=m1@mv_own",
    ]);
    expect(ids.every((c) => c.ok)).toBe(true);
    const containers = out["containers"] as Record<string, { host: string; ips: Record<string, string> }>;
    expect(containers["ab2"]!.ips).toEqual({ ov_a: "198.18.100.3", ov_b: "198.18.101.2" });
    expect(containers["m3"]!.ips["mv_own"]).toMatch(/^198\.18\.64\./);
    const networks = out["networks"] as Record<string, { driver: string; subnet: string }>;
    expect(networks["ov_b"]).toMatchObject({ driver: "overlay", subnet: "198.18.101.0/24" });
    await timed(lab, "no-change preview", () => lab.stack.preview({ expectNoChanges: true }));
  });
});

// Other dind configurations, for real: three Docker-in-Docker hosts, two overlays created on different
// hosts (both through Consul), a container on both with an alias, and a macvlan on a subnet of its own.
import { describe, expect, it } from "vitest";
import { checkCount, type LabConfigInput } from "../../src/model/index.js";
import { LOCAL_IMAGES, useOuterEngine } from "./dind.js";
import { savedVerification, timed, useLabStack, verificationOf } from "./harness.js";
import { shapesLab } from "./shapes.js";

// The netns suite's shapes; the macvlan not on 198.18.64.0/20, the outer engine's own address pool
// (scripts/images/outer-env.sh).
const shapes: LabConfigInput = { ...shapesLab("dh1", "198.18.50.0/24"), hostKind: "dind", images: LOCAL_IMAGES };

describe("dind shapes: three hosts, two overlays from two creators, a container on both, macvlan on its own subnet", () => {
  const outer = useOuterEngine();
  const lab = useLabStack("enginetest-dind-shapes", shapes, () => ({ DOCKER_HOST: outer.dockerHost() }), outer.stackOptions());

  it("comes up and verifies clean; Consul holds three daemons and both overlays; a second preview shows no changes", async () => {
    const out = await timed(lab, "up", () => lab.up());
    const v = verificationOf(out);
    expect(v.summary.failed).toBe(0);
    expect(v.summary.passed + v.summary.expectedFailures).toBe(checkCount(lab.plan.checks));
    expect(
      savedVerification()
        .results.filter((c) => c.id.startsWith("dns-alias:"))
        .every((c) => c.ok),
    ).toBe(true);
    const kv = out["kvRegistrations"] as { nodes: string[]; networks: { name?: string; vni?: number[] }[] };
    expect(kv.nodes).toEqual(["198.18.0.11:2376", "198.18.0.12:2376", "198.18.0.13:2376"]);
    expect(kv.networks.map((n) => n.name)).toEqual(["ov_a", "ov_b"]);
    const containers = out["containers"] as Record<string, { ips: Record<string, string> }>;
    expect(containers["ab2"]!.ips).toEqual({ ov_a: "198.18.100.3", ov_b: "198.18.101.2" });
    await timed(lab, "no-change preview", () => lab.stack.preview({ expectNoChanges: true }));
  });
});

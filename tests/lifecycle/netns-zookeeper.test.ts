// The third classic-overlay store under the real engine: a netns lab with Debian's ZooKeeper 3.8 in the
// KV namespace and the project's dockerd (its ZooKeeper listing fix; Debian's dockerd panics at the first
// container on a zk:// overlay), from the environment as scripts/test.sh exports it. The reference
// scenario comes up, verifies clean with the overlay's VNI read from ZooKeeper, previews no change, and
// the harness's destroy leaves nothing.
import { describe, expect, it } from "vitest";
import type { LabConfigInput } from "../../src/model/index.js";
import { savedVerification, testTool as tool, timed, useLabStack, verificationOf } from "./harness.js";

describe("netns kv with ZooKeeper: up, the VNI from ZooKeeper, no-change preview, destroy", () => {
  const env = { DNLAB_DOCKERD: tool("DNLAB_DOCKERD", "scripts/build-dockerd-consul.sh") };
  const config: LabConfigInput = { name: "ez1", hostKind: "netns", kv: { kind: "zookeeper" } };
  const lab = useLabStack("enginetest-netns-zookeeper", config, env);

  it("comes up against ZooKeeper (zk://) and verifies clean; the VXLAN checks read the VNI from ZooKeeper", async () => {
    const out = await timed(lab, "up", () => lab.up());
    expect(lab.printed).toContain("lab ez1: 2 netns hosts, overlay mode kv (zookeeper at 198.18.0.2:2181)");
    const v = verificationOf(out);
    expect(v.summary.failed).toBe(0);
    expect(v.counts["ov_net1"]!["vxlan"]).toEqual({ passed: 2, expectedFailures: 0, failed: 0 });
    const vx = savedVerification().results.filter((c) => c.id.startsWith("vxlan:"));
    expect(vx).toHaveLength(2);
    for (const c of vx) expect(c.detail).toMatch(/\(VNI \d+\)/);
    await timed(lab, "no-change preview", () => lab.stack.preview({ expectNoChanges: true }));
  });
});

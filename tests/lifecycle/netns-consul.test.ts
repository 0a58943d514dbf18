// The article's KV store under the real engine: a netns lab with Consul (built from source) and the
// consul-capable dockerd, both from the environment as scripts/test.sh exports them. The verification
// reads the overlay's VNI from Consul's record of the network.
import { describe, expect, it } from "vitest";
import type { LabConfigInput } from "../../src/model/index.js";
import { savedVerification, testTool as tool, timed, useLabStack, verificationOf } from "./harness.js";

describe("netns kv with Consul: up, the VNI from Consul, no-change preview, destroy", () => {
  const env = {
    DNLAB_CONSUL: tool("DNLAB_CONSUL", "scripts/build-consul.sh"),
    DNLAB_DOCKERD: tool("DNLAB_DOCKERD", "scripts/build-dockerd-consul.sh"),
  };
  const config: LabConfigInput = { name: "ec1", kv: { kind: "consul" } };
  const lab = useLabStack("enginetest-netns-consul", config, env);

  it("comes up against Consul and verifies clean; the VXLAN checks read the VNI from Consul's record", async () => {
    const out = await timed(lab, "up", () => lab.up());
    const v = verificationOf(out);
    expect(v.summary.failed).toBe(0);
    expect(v.counts["ov_net1"]!["vxlan"]).toEqual({ passed: 2, expectedFailures: 0, failed: 0 });
    const vx = savedVerification().results.filter((c) => c.id.startsWith("vxlan:"));
    expect(vx).toHaveLength(2);
    for (const c of vx) expect(c.detail).toMatch(/\(VNI \d+\)/);
    expect(out["consulUi"]).toBe("http://198.18.0.2:8500/ui/");
    await timed(lab, "no-change preview", () => lab.stack.preview({ expectNoChanges: true }));
  });
});

// A failure in the middle of `pulumi up`, under the real engine: a container that cannot be created
// (a container of the user's holds its name on the host). The up fails with Docker's reason and leaves
// the rest of the lab as it was; once the user's container is gone, the next up converges, and
// destroy still cleans everything (the harness asserts that nothing of the lab is left).
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isClean, labLeftovers } from "../../src/lab/netnsLab.js";
import { dockerOk, hostOf } from "../../src/lab/workloads.js";
import type { LabConfigInput } from "../../src/model/index.js";
import { failed, timed, useLabStack } from "./harness.js";

const base: LabConfigInput = { name: "ef1" };
const withTest4: LabConfigInput = {
  ...base,
  workloads: [
    { name: "test1", host: "host1", networks: ["ov_net1"] },
    { name: "test2", host: "host2", networks: ["ov_net1"] },
    { name: "test3", host: "host1", networks: ["mv_net1"] },
    { name: "test4", host: "host2", networks: ["ov_net1"] },
  ],
};

describe("netns: a failure in the middle of up, then recovery", () => {
  const lab = useLabStack("enginetest-netns-failure", base);

  it("up of the base lab", async () => {
    await timed(lab, "up", () => lab.up());
  });

  it("a new container whose name is taken on its host fails the up with Docker's reason", async () => {
    const host2 = hostOf(lab.plan, "host2");
    await dockerOk(host2, ["run", "-d", "--name", "test4", "busybox:latest", "sleep", "3600"]);
    lab.configure(withTest4);
    await expect(timed(lab, "failed up", () => lab.up())).rejects.toThrow(/test4.*(Conflict|already in use)/s);
    // What existed is untouched: the other containers still run.
    for (const name of ["test1", "test2"]) {
      const h = hostOf(lab.plan, name === "test1" ? "host1" : "host2");
      expect((await dockerOk(h, ["inspect", "-f", "{{.State.Running}}", name])).trim()).toBe("true");
    }
    await dockerOk(host2, ["rm", "-f", "test4"]);
  });

  it("the next up converges and verifies clean; then no changes are left", async () => {
    const out = await timed(lab, "recovering up", () => lab.up());
    expect(failed(out)).toBe(0);
    await lab.stack.preview({ expectNoChanges: true });
  });
});

describe("netns: what the machine lacks is refused before anything is created", () => {
  // A macvlan on an 802.1q sub-interface; this project's machines have no 802.1q in their kernel.
  const vlan: LabConfigInput = {
    name: "ev1",
    networks: [
      { name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" },
      { name: "mv_v100", driver: "macvlan", subnet: "198.18.60.0/24", parent: "eth0", vlan: 100 },
    ],
    workloads: [{ name: "test1", host: "host1", networks: ["ov_net1"] }],
  };
  const lab = useLabStack("enginetest-netns-vlan", vlan);

  it("up names the key and the kernel option, and nothing of the lab exists", async () => {
    if (kernelHas8021q()) return void console.log("[engine] this kernel has 802.1q: the refusal cannot happen here");
    await expect(lab.up()).rejects.toThrow(/lab:networks\[1\]\.vlan = 100: this kernel has no 802\.1q support/);
    expect(isClean(labLeftovers(lab.plan))).toBe(true);
  });
});

function kernelHas8021q(): boolean {
  return existsSync("/proc/net/vlan");
}

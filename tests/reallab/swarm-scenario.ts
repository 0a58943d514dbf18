// The 3-host swarm lab the lab-driver suites bring up, on Debian's 20.10 (lab-swarm.test.ts) and on
// Docker 26 (docker26-swarm.test.ts): the same scenario, and the same checks that up made it as planned.
import { expect } from "vitest";
import { dockerOk, hostOf } from "../../src/lab/workloads.js";
import type { LabConfigInput, LabPlan } from "../../src/model/index.js";

/**
 * Three swarm-mode netns hosts (host1..3 at 198.18.0.11-13, running `dockerVersion` when given), the
 * overlay ov_net1 and the macvlan mv_net1; test1..3 on the overlay, one per host, test4 on the macvlan.
 */
export function threeHostSwarm(name: string, dockerVersion?: string): LabConfigInput {
  return {
    name,
    hostKind: "netns",
    overlayMode: "swarm",
    hosts: [1, 2, 3].map((i) => ({
      name: `host${i}`,
      address: `198.18.0.${10 + i}`,
      ...(dockerVersion === undefined ? {} : { dockerVersion }),
    })),
    networks: [
      { name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" },
      { name: "mv_net1", driver: "macvlan", subnet: "198.18.0.0/24" },
    ],
    workloads: [
      ...[1, 2, 3].map((i) => ({ name: `test${i}`, host: `host${i}`, networks: ["ov_net1"] })),
      { name: "test4", host: "host2", networks: ["mv_net1"] },
    ],
  };
}

/** The swarm: host1 manages, the others are workers of it. */
export async function expectSwarmRoles(plan: LabPlan): Promise<void> {
  const state = async (h: string): Promise<string> =>
    (await dockerOk(hostOf(plan, h), ["info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"])).trim();
  expect(await state("host1")).toBe("active true");
  expect(await state("host2")).toBe("active false");
  expect(await state("host3")).toBe("active false");
}

/** The overlay is swarm-scoped and attachable, with the plan's ip-range. */
export async function expectSwarmOverlay(plan: LabPlan): Promise<void> {
  const ov = await dockerOk(hostOf(plan, "host1"), [
    "network",
    "inspect",
    "-f",
    "{{.Scope}} {{.Attachable}} {{range .IPAM.Config}}{{.Subnet}} {{.IPRange}}{{end}}",
    "ov_net1",
  ]);
  expect(ov.trim()).toBe("swarm true 198.18.100.0/24 198.18.100.128/25");
}

/** Every container runs, at its planned address. */
export async function expectWorkloadsAsPlanned(plan: LabPlan): Promise<void> {
  for (const w of plan.workloads) {
    const ips = await dockerOk(hostOf(plan, w.host), [
      "inspect",
      "-f",
      "{{.State.Running}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
      w.name,
    ]);
    expect(ips.trim(), w.name).toBe(`true ${w.attachments[0]!.ipv4}`);
  }
}

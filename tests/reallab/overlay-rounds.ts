// One round of the overlay replacement that broke Docker 20.10 daemons (issue 24), with plain docker
// commands and no retries, so that nothing masks a daemon's failure: every container of the overlay
// removed (the hosts in parallel, as the engine's replacement does), the network removed, created
// again from the round's plan (its MTU changes), and the containers created again (hosts in parallel).
import { containerArgvs, networkCreateArgv } from "../../src/docker/cli.js";
import { docker, dockerOk, hostOf, removeContainer } from "../../src/lab/workloads.js";
import { type LabPlan, networkSpec, workloadSpec } from "../../src/model/index.js";

/** ov_net1 with the given MTU and test1/test2 on it: the reference scenario's overlay part. */
export function overlayConfig(name: string, kind: "etcd" | "consul", mtu?: number) {
  return {
    name,
    kv: { kind },
    networks: [{ name: "ov_net1", driver: "overlay" as const, subnet: "198.18.100.0/24", ...(mtu !== undefined ? { mtu } : {}) }],
    workloads: [
      { name: "test1", host: "host1", networks: ["ov_net1"] },
      { name: "test2", host: "host2", networks: ["ov_net1"] },
    ],
  };
}

/** Replace the plan's overlay and its containers; throws with the daemon's own words on the first failure. */
export async function replaceOverlay(plan: LabPlan): Promise<void> {
  const net = plan.networks.find((n) => n.driver === "overlay");
  if (net?.driver !== "overlay") throw new Error(`lab ${plan.name} has no overlay`);
  const on = plan.workloads.filter((w) => w.attachments.some((a) => a.network === net.name));
  await Promise.all(on.map((w) => removeContainer(hostOf(plan, w.host), w.name)));
  const creator = hostOf(plan, net.createdOn);
  const rm = await docker(creator, ["network", "rm", net.name]);
  if (rm.code !== 0 && !/No such network|not found/.test(rm.stderr))
    throw new Error(`network rm ${net.name} on ${creator.name}: ${rm.stderr.trim()}`);
  await dockerOk(creator, networkCreateArgv(networkSpec(net, creator.name)));
  await Promise.all(
    plan.hosts.map(async (h) => {
      for (const w of on.filter((x) => x.host === h.name)) for (const argv of containerArgvs(workloadSpec(w))) await dockerOk(h, argv);
    }),
  );
}

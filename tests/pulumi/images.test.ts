// lab:images under Pulumi mocks: a lab behind a registry mirror (or on images loaded for an air gap)
// asks for exactly the named images, on the engine each one runs on, and keeps every one on destroy.
import { describe, expect, it } from "vitest";
import { runLab, type LabRun } from "./harness.js";

const IMG = "docker:index/remoteImage:RemoteImage";
const C = "docker:index/container:Container";
const MIRROR = {
  dindKv: "mirror.local:5000/dind:20.10.24",
  dindSwarm: "mirror.local:5000/dind:26.1.5",
  kv: "mirror.local:5000/consul:1.16.3",
  workload: "mirror.local:5000/busybox:1.36.1",
};

/** Every RemoteImage: its name, and the provider it is pulled through ("" = the engine the stack runs on). */
function images(run: LabRun): { name: string; on: string }[] {
  return run
    .byType(IMG)
    .map((r) => ({ name: String(r.inputs["name"]), on: r.provider ? r.provider.replace(/^.*::([^:]+)::.*$/, "$1") : "" }))
    .sort((a, b) => `${a.on} ${a.name}`.localeCompare(`${b.on} ${b.name}`));
}

describe("lab:images on a dind kv lab", async () => {
  const run = await runLab({
    images: MIRROR,
    workloads: [
      ...[1, 2, 3].map((i) => ({ name: `test${i}`, host: i === 2 ? "host2" : "host1", networks: [i === 3 ? "mv_net1" : "ov_net1"] })),
      { name: "tools", host: "host2", networks: ["ov_net1"], image: "mirror.local:5000/netshoot:0.13" },
    ],
  });

  it("asks for the mirror's images only: dind and Consul on the user's engine, the workloads' on each host", () => {
    expect(images(run)).toEqual([
      { name: MIRROR.kv, on: "" },
      { name: MIRROR.dindKv, on: "" },
      { name: MIRROR.workload, on: "lab-host1-provider" },
      { name: MIRROR.workload, on: "lab-host2-provider" },
      { name: "mirror.local:5000/netshoot:0.13", on: "lab-host2-provider" },
    ]);
  });

  it("runs the hosts, the KV server and the workloads from them", () => {
    expect(run.one(C, "lab-host1").inputs["image"]).toBe("sha256:lab-dind-image");
    expect(run.one(C, "lab-kv").inputs["image"]).toBe("sha256:lab-kv-image");
    expect(run.one(C, "lab-test2").inputs["image"]).toBe("sha256:lab-host2-mirror-local-5000-busybox-1-36-1");
    expect(run.one(C, "lab-tools").inputs["image"]).toBe("sha256:lab-host2-mirror-local-5000-netshoot-0-13");
  });

  it("keeps every image on destroy (it may have been there before the lab, and no registry may serve it again)", () => {
    for (const r of run.byType(IMG)) expect(r.inputs["keepLocally"], r.name).toBe(true);
  });
});

describe("lab:images on a dind swarm lab", async () => {
  const run = await runLab({ overlayMode: "swarm", images: MIRROR });

  it("runs dindSwarm, no KV image, and records the Docker version its tag names", () => {
    expect(images(run).filter((i) => i.on === "")).toEqual([{ name: MIRROR.dindSwarm, on: "" }]);
    expect(run.plan.hosts.map((h) => h.dockerVersion)).toEqual(["26.1", "26.1"]);
  });
});

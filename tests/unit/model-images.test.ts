// lab:images: the images the lab runs, the official ones unless a user behind a mirror or an air gap
// names others; every image key validated like the rest, the problem naming the key and the fix.
import { describe, expect, it } from "vitest";
import { buildPlan, IMAGES, type LabConfigInput } from "../../src/model/index.js";
import { dockerVersionOfImage, isImageRef } from "../../src/model/images.js";
import { configProblems } from "./config-problems.js";

/** Exactly one problem line for `key`, containing every fragment and a fix. */
function expectProblem(config: LabConfigInput, key: string, ...fragments: string[]): void {
  const lines = configProblems(config).filter((l) => l.startsWith(`- ${key} = `));
  expect(lines, `no single problem for ${key} in:\n${configProblems(config).join("\n")}`).toHaveLength(1);
  for (const f of fragments) expect(lines[0]).toContain(f);
  expect(lines[0]).toContain("Fix: ");
}

const MIRROR = {
  dindKv: "registry.example.com:5000/mirror/docker:20.10.24-dind",
  dindSwarm: "registry.example.com:5000/mirror/docker:26.1.5-dind",
  kv: "registry.example.com:5000/mirror/consul:1.16.3",
  workload: "registry.example.com:5000/mirror/busybox:1.36.1",
};

describe("lab:images defaults", () => {
  it("are the official images of the kind and mode the lab runs", () => {
    expect(buildPlan({}).images).toEqual({ dind: IMAGES.dindKv, kv: IMAGES.consul, workload: IMAGES.busybox });
    expect(buildPlan({ overlayMode: "swarm" }).images).toEqual({ dind: IMAGES.dindSwarm, workload: IMAGES.busybox });
    expect(buildPlan({ kv: { kind: "etcd" } }).images.kv).toBe(IMAGES.etcd);
    // netns: no dind hosts, the KV store is a process: only the (locally built) busybox.
    expect(buildPlan({ hostKind: "netns" }).images).toEqual({ workload: IMAGES.busybox });
    // An external KV store is not the lab's to run.
    expect(buildPlan({ kv: { kind: "consul", external: true, address: "198.18.0.2" } }).images.kv).toBeUndefined();
  });

  it("dind hosts run the Docker their image's tag names", () => {
    expect(buildPlan({}).hosts.map((h) => h.dockerVersion)).toEqual(["20.10", "20.10"]);
    expect(buildPlan({ overlayMode: "swarm" }).hosts[0]!.dockerVersion).toBe("27.5");
  });
});

describe("lab:images set (a registry mirror, an air gap)", () => {
  it("every part of a dind kv lab runs the named image", () => {
    const plan = buildPlan({ images: MIRROR });
    expect(plan.images).toEqual({ dind: MIRROR.dindKv, kv: MIRROR.kv, workload: MIRROR.workload });
    expect(plan.kv?.image).toBe(MIRROR.kv);
    expect(plan.workloads.map((w) => w.image)).toEqual([MIRROR.workload, MIRROR.workload, MIRROR.workload]);
  });

  it("swarm mode runs dindSwarm, and the hosts' Docker version is the one its tag names", () => {
    const plan = buildPlan({ overlayMode: "swarm", images: MIRROR });
    expect(plan.images.dind).toBe(MIRROR.dindSwarm);
    expect(plan.hosts.map((h) => h.dockerVersion)).toEqual(["26.1", "26.1"]);
    // A tag without a version leaves the mode's default; an explicit dockerVersion wins.
    expect(buildPlan({ overlayMode: "swarm", images: { dindSwarm: "dnlab/dind:latest" } }).hosts[0]!.dockerVersion).toBe("27.5");
    expect(
      buildPlan({
        overlayMode: "swarm",
        images: MIRROR,
        hosts: [{ name: "host1", address: "198.18.0.11", dockerVersion: "26.1.5" }],
        workloads: [],
      }).hosts[0]!.dockerVersion,
    ).toBe("26.1.5");
  });

  it("a workload's own image and kv.image still win; kv.image equal to images.kv is fine", () => {
    const plan = buildPlan({
      images: { workload: MIRROR.workload, kv: MIRROR.kv },
      kv: { kind: "consul", image: MIRROR.kv },
      workloads: [
        { name: "test1", host: "host1", networks: ["ov_net1"], image: "mirror.local/tools/netshoot:0.13" },
        { name: "test2", host: "host2", networks: ["ov_net1"] },
      ],
    });
    expect(plan.workloads.map((w) => w.image)).toEqual(["mirror.local/tools/netshoot:0.13", MIRROR.workload]);
    expect(plan.kv?.image).toBe(MIRROR.kv);
  });

  it("ssh labs take kv and workload (the KV container on the first host, the busybox containers)", () => {
    const ssh: LabConfigInput = {
      hostKind: "ssh",
      images: { kv: MIRROR.kv, workload: MIRROR.workload },
      hosts: [
        { name: "host1", address: "198.18.0.11", ssh: { user: "root", privateKeySecret: "k" } },
        { name: "host2", address: "198.18.0.12", ssh: { user: "root", privateKeySecret: "k" } },
      ],
    };
    expect(buildPlan(ssh).images).toEqual({ kv: MIRROR.kv, workload: MIRROR.workload });
  });

  it("netns labs take a busybox workload tag (built locally)", () => {
    expect(buildPlan({ hostKind: "netns", images: { workload: "busybox:1.35" } }).workloads[0]!.image).toBe("busybox:1.35");
  });
});

describe("lab:images validation", () => {
  it.each([
    ["dindKv", "Docker:20.10-dind"],
    ["dindSwarm", "docker:27 dind"],
    ["kv", ""],
    ["workload", "busybox::1"],
  ] as const)("images.%s = %j is not an image reference", (key, value) => {
    expectProblem(
      { images: { [key]: value } },
      `lab:images.${key}`,
      JSON.stringify(value),
      "not an image reference",
      "[registry[:port]/]repository[:tag]",
    );
  });

  it("refuses a non-string image", () => {
    expectProblem({ images: { workload: 7 as unknown as string } }, "lab:images.workload", "7", "not an image reference");
  });

  it("kv mode refuses a dind image whose tag says Docker 23 or newer (no --cluster-store)", () => {
    expectProblem(
      { images: { dindKv: "docker:24.0.7-dind" } },
      "lab:images.dindKv",
      "Docker 24.0",
      "--cluster-store",
      "Docker 20.10 dind image",
    );
    // Only once: the hosts take the image's version and are not blamed for it.
    expect(configProblems({ images: { dindKv: "docker:24.0.7-dind" } })).toHaveLength(1);
    // The swarm image is not the kv lab's concern, nor a tag without a version.
    expect(() => buildPlan({ images: { dindSwarm: "docker:27.5.1-dind", dindKv: "mirror.local/dind:custom" } })).not.toThrow();
  });

  it("images this kind or mode does not run are checked, then unused (one stack file switches kinds)", () => {
    const plan = buildPlan({ hostKind: "netns", images: { dindKv: MIRROR.dindKv, dindSwarm: MIRROR.dindSwarm, kv: MIRROR.kv } });
    expect(plan.images).toEqual({ workload: IMAGES.busybox });
    expectProblem({ hostKind: "netns", images: { dindSwarm: "Docker:26" } }, "lab:images.dindSwarm", "not an image reference");
  });

  it("netns labs refuse a workload image that is not busybox (no registry, built from busybox-static)", () => {
    expectProblem(
      { hostKind: "netns", images: { workload: "nginx:1.27" } },
      "lab:images.workload",
      '"nginx:1.27"',
      "no registry",
      "busybox:<tag>",
    );
  });

  it("kv.image and images.kv naming different images is refused: one place says it", () => {
    expectProblem(
      { images: { kv: MIRROR.kv }, kv: { kind: "consul", image: "hashicorp/consul:1.15.0" } },
      "lab:kv.image",
      MIRROR.kv,
      "lab:images.kv",
    );
  });

  it("validates kv.image and workloads[].image as references too", () => {
    expectProblem({ kv: { kind: "consul", image: "Consul" } }, "lab:kv.image", "not an image reference");
    expectProblem(
      { workloads: [{ name: "test1", host: "host1", networks: ["ov_net1"], image: "busy box" }] },
      "lab:workloads[0].image",
      "not an image reference",
    );
  });
});

describe("image references", () => {
  it.each([
    "busybox",
    "busybox:1.36.1",
    "docker:20.10.24-dind",
    "hashicorp/consul:1.16.3",
    "quay.io/coreos/etcd:v3.4.34",
    "localhost:5000/dind:26.1.5",
    "registry.example.com:5000/a/b/c:tag_1.x",
    `busybox@sha256:${"a".repeat(64)}`,
    `mirror.local/busybox:1.36.1@sha256:${"b".repeat(64)}`,
  ])("accepts %s", (ref) => expect(isImageRef(ref)).toBe(true));

  it.each([
    "",
    "Busybox",
    "busybox:",
    ":tag",
    "busy box",
    "busybox::1",
    "a//b",
    "-a/b",
    "busybox@sha256:abc",
    `busybox:${"t".repeat(129)}`,
  ])("refuses %j", (ref) => expect(isImageRef(ref)).toBe(false));

  it.each([
    ["docker:20.10.24-dind", "20.10"],
    ["docker:27.5.1-dind", "27.5"],
    ["mirror.local:5000/dind:26.1.5", "26.1"],
    ["dnlab/dind:v26.1", "26.1"],
    ["docker:dind", undefined],
    ["docker:latest", undefined],
    ["localhost:5000/docker", undefined],
    [`docker@sha256:${"c".repeat(64)}`, undefined],
  ])("the Docker version of %s is %s", (image, version) => expect(dockerVersionOfImage(image)).toBe(version));
});

import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  checkDind,
  dindFeatures,
  dindPreflight,
  dindProbeScript,
  type DindProbeReport,
  type DindProbeResult,
  missingCapabilities,
  parseDindProbe,
} from "../../src/lab/dindPreflight.js";
import { probeLinkArgv } from "../../src/lab/kernel.js";
import { buildPlan } from "../../src/model/index.js";

const plan = buildPlan({ name: "pf" });
const ENGINE = "unix:///run/dnlab-outer/docker.sock";
const OK: DindProbeReport = {
  cgroup: { version: 1, devices: true },
  iptables: { ok: true },
  features: { vxlan: { ok: true }, macvlan: { ok: true } },
};
const started = (r: Partial<DindProbeReport>): DindProbeResult => ({ started: true, report: { ...OK, ...r } });
const check = (result: DindProbeResult, localCapBnd?: string) =>
  checkDind(plan, { engine: ENGINE, image: "docker:20.10.24-dind", result, ...(localCapBnd ? { localCapBnd } : {}) });

describe("missingCapabilities", () => {
  it("names the capabilities a bounding set lacks (this machine's: CAP_SYS_RESOURCE)", () => {
    expect(missingCapabilities("000001fffeffffff", 40)).toEqual(["CAP_SYS_RESOURCE"]);
    expect(missingCapabilities("000001ffffffffff", 40)).toEqual([]);
    // Only up to the kernel's last capability.
    expect(missingCapabilities("000000ffffffffff", 39)).toEqual([]);
    expect(missingCapabilities("000000ffffffffff", 40)).toEqual(["CAP_CHECKPOINT_RESTORE"]);
  });
});

describe("the probe container's script", () => {
  it("creates the links of the features the plan needs, and only those", () => {
    expect(dindFeatures(plan)).toEqual(["vxlan", "macvlan"]);
    const script = dindProbeScript(dindFeatures(plan));
    expect(script).toContain(`ip '${probeLinkArgv("vxlan").join("' '")}'`);
    expect(script).toContain(`ip '${probeLinkArgv("macvlan").join("' '")}'`);
    expect(script).not.toContain("type' 'vlan");
    const vlan = buildPlan({
      name: "pv",
      networks: [{ name: "mv", driver: "macvlan", subnet: "198.18.10.0/24", ipRangePool: "198.18.10.128/25", vlan: 10 }],
      workloads: [],
    });
    expect(dindFeatures(vlan)).toEqual(["macvlan", "8021q"]);
    expect(dindProbeScript(dindFeatures(vlan))).toContain("'vlan'");
  });

  it("is valid sh", () => {
    execFileSync("sh", ["-n", "-c", dindProbeScript(["vxlan", "macvlan", "8021q"])]);
  });

  it("reports are parsed into answers; anything else is no report", () => {
    const out = [
      "cgroup 1 devices",
      "iptables fail iptables v1.8.9 (nf_tables): Could not fetch rule set",
      "feature vxlan ok",
      "feature macvlan fail RTNETLINK answers: Operation not supported",
    ].join("\n");
    expect(parseDindProbe(out)).toEqual({
      cgroup: { version: 1, devices: true },
      iptables: { ok: false, detail: "iptables v1.8.9 (nf_tables): Could not fetch rule set" },
      features: { vxlan: { ok: true }, macvlan: { ok: false, detail: "RTNETLINK answers: Operation not supported" } },
    });
    expect(parseDindProbe("cgroup 2 readonly\niptables ok\nfeature vxlan unknown no ip command in the image")).toEqual({
      cgroup: { version: 2, writable: false },
      iptables: { ok: true },
      features: {},
      unknown: "no ip command in the image",
    });
    expect(parseDindProbe("hello")).toBeUndefined();
    expect(parseDindProbe("cgroup 2 writable\niptables ok\ndockerd Docker version 20.10.24, build 297e128")?.dockerd).toBe(
      "Docker version 20.10.24, build 297e128",
    );
  });
});

describe("checkDind", () => {
  it("passes an engine that has everything", async () => {
    expect(await check(started({}))).toEqual({ problems: [], notes: [] });
  });

  it("a zookeeper lab needs the image's dockerd with the libkv listing fix (Docker's own panics at the first container)", async () => {
    const zk = buildPlan({ name: "pz", kv: { kind: "zookeeper" } });
    const input = (dockerd: string) => ({ engine: ENGINE, image: "docker:20.10.24-dind", result: started({ dockerd }) });
    const { problems } = await checkDind(zk, input("Docker version 20.10.24, build 297e128"));
    expect(problems).toEqual([
      'lab:kv.kind = "zookeeper": the dind image docker:20.10.24-dind: its dockerd (Docker version 20.10.24, build 297e128) has ' +
        "Docker's own libkv ZooKeeper store, which lists keys wrongly: the daemon panics (nil endpoint count) at the first container " +
        "on an overlay. Fix: lab:images.dindKv: dnlab-local/dind:20.10.24 (scripts/images/build.sh; its dockerd carries the fix), " +
        "or set kv.kind to etcd or consul",
    ]);
    expect((await checkDind(zk, input("Docker version 20.10.24+dfsg1+consul+nsfix+zklist, build 5d6db84"))).problems).toEqual([]);
    // Consul and etcd labs do not care.
    expect((await checkDind(plan, input("Docker version 20.10.24, build 297e128"))).problems).toEqual([]);
  });

  it("a lab whose containers do not fit the engine machine's neighbour table is refused with the sysctl; the default lab fits", async () => {
    const big = buildPlan({
      name: "pf",
      workloads: Array.from({ length: 40 }, (_, i) => ({ name: `c${i}`, host: `host${(i % 2) + 1}`, networks: ["ov_net1"] })),
    });
    const input = {
      engine: ENGINE,
      image: "docker:20.10.24-dind",
      result: started({}),
      localNeighbours: { gcThresh3: 1024, entries: 100 },
    };
    const r = await checkDind(big, input);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(
      /^lab:workloads: the kernel's neighbour \(ARP\) table of the Docker engine's machine \(unix:\/\/\/run\/dnlab-outer\/docker.sock\) holds at most 1024 entries/,
    );
    expect(r.problems[0]).toContain("Fix: as root on that machine, sysctl -w net.ipv4.neigh.default.gc_thresh3=");
    expect((await checkDind(plan, input)).problems).toEqual([]);
  });

  it("a privileged container refused for capabilities: says which one this machine lacks and how to get an engine that works", async () => {
    const { problems } = await check(
      {
        started: false,
        detail:
          "docker: Error response from daemon: failed to create shim: OCI runtime create failed: runc create failed: unable to start container process: unable to apply caps: operation not permitted: unknown.",
      },
      "000001fffeffffff",
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("privileged containers cannot start");
    expect(problems[0]).toContain(ENGINE);
    expect(problems[0]).toContain("lacks CAP_SYS_RESOURCE");
    expect(problems[0]).toContain("scripts/images/outer-up.sh");
  });

  it("a remote engine's caps failure is explained without this machine's bounding set", async () => {
    const { problems } = await check({ started: false, detail: "unable to apply caps: operation not permitted" });
    expect(problems[0]).toContain("capability bounding set is restricted");
    expect(problems[0]).not.toContain("CAP_SYS_RESOURCE");
  });

  it("an image the engine cannot get names the lab:images key", async () => {
    const { problems } = await check({
      started: false,
      detail:
        "Unable to find image 'docker:20.10.24-dind' locally\ndocker: Error response from daemon: Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host.",
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^lab:images\.dindKv = "docker:20\.10\.24-dind": .*cannot pull it/);
  });

  it("no devices cgroup, a read-only cgroup v2, no iptables, no vxlan: one line each", async () => {
    const v1 = await check(
      started({
        cgroup: { version: 1, devices: false },
        iptables: { ok: false, detail: "can't initialize iptables table `nat'" },
        features: { vxlan: { ok: false, detail: "Unknown device type" }, macvlan: { ok: true } },
      }),
    );
    expect(v1.problems).toHaveLength(3);
    expect(v1.problems[0]).toContain("Devices cgroup isn't mounted");
    expect(v1.problems[1]).toContain("iptables -t nat -S: can't initialize iptables table `nat'");
    expect(v1.problems[2]).toMatch(/^lab:networks\[0\]\.driver = "overlay" \(ov_net1\): this kernel has no VXLAN support \(CONFIG_VXLAN\)/);
    const v2 = await check(started({ cgroup: { version: 2, writable: false } }));
    expect(v2.problems).toHaveLength(1);
    expect(v2.problems[0]).toContain("read-only");
  });

  it("an image that cannot probe the kernel leaves a note, not a refusal", async () => {
    const r = await check(started({ features: {}, unknown: "no ip command in the image" }));
    expect(r.problems).toEqual([]);
    expect(r.notes[0]).toContain("vxlan, macvlan");
    expect(r.notes[0]).toContain("no ip command in the image");
  });
});

describe("dindPreflight", () => {
  it("throws one error listing every problem, before anything is created", async () => {
    const probe = async (): Promise<DindProbeResult> =>
      started({ cgroup: { version: 1, devices: false }, iptables: { ok: false, detail: "x" } });
    await expect(dindPreflight(plan, ENGINE, { probe })).rejects.toThrow(
      /^dind lab pf cannot be created on the Docker engine at unix:\/\/\/run\/dnlab-outer\/docker\.sock; nothing was created:\n {2}- .*Devices cgroup.*\n {2}- .*iptables/,
    );
  });

  it("probes with the plan's dind image and features; netns labs are not probed", async () => {
    const calls: unknown[][] = [];
    const probe = async (...a: unknown[]): Promise<DindProbeResult> => {
      calls.push(a.slice(0, 3));
      return started({});
    };
    expect(await dindPreflight(plan, ENGINE, { probe })).toEqual([]);
    expect(calls).toEqual([[ENGINE, plan.images.dind, ["vxlan", "macvlan"]]]);
    expect(await dindPreflight(buildPlan({ name: "nn", hostKind: "netns" }), ENGINE, { probe })).toEqual([]);
    expect(calls).toHaveLength(1);
  });
});

// A config change touches only the resources it should: compare the registered inputs of two runs.
import { describe, expect, it } from "vitest";
import { runLab, type LabRun } from "./harness.js";

function inputsByResource(run: LabRun): Map<string, string> {
  return new Map(run.resources.map((r) => [`${r.type} ${r.name}`, JSON.stringify(r.inputs)]));
}

function diff(a: LabRun, b: LabRun): { added: string[]; removed: string[]; changed: string[] } {
  const x = inputsByResource(a);
  const y = inputsByResource(b);
  return {
    added: [...y.keys()].filter((k) => !x.has(k)).sort(),
    removed: [...x.keys()].filter((k) => !y.has(k)).sort(),
    changed: [...x.keys()].filter((k) => y.has(k) && x.get(k) !== y.get(k)).sort(),
  };
}

describe("config changes", async () => {
  const base = await runLab({});

  it("changing the overlay subnet changes ov_net1, the containers on it and the verification only", async () => {
    const next = await runLab({
      networks: [
        { name: "ov_net1", driver: "overlay", subnet: "198.18.101.0/24" },
        { name: "mv_net1", driver: "macvlan", subnet: "198.18.0.0/24" },
      ],
    });
    const d = diff(base, next);
    expect(d.added).toEqual([]);
    expect(d.removed).toEqual([]);
    expect(d.changed).toEqual(
      [
        "docker:index/network:Network lab-ov_net1",
        "docker:index/container:Container lab-test1",
        "docker:index/container:Container lab-test2",
        "command:local:Command lab-verify",
      ].sort(),
    );
  });

  it("adding a host adds that host, its macvlan network and re-partitions the macvlan ranges", async () => {
    const next = await runLab({
      hosts: [
        { name: "host1", address: "198.18.0.11" },
        { name: "host2", address: "198.18.0.12" },
        { name: "host3", address: "198.18.0.13" },
      ],
    });
    const d = diff(base, next);
    expect(d.removed).toEqual([]);
    expect(d.added).toEqual(
      [
        "lab:host:DockerHost lab-host3",
        // Its own server certificate; the CA and the other hosts' certificates stay as they are.
        "command:local:Command lab-tls-host3",
        "docker:index/volume:Volume lab-host3-data",
        "docker:index/container:Container lab-host3",
        "pulumi:providers:docker lab-host3-provider",
        "docker:index/network:Network lab-mv_net1-host3",
      ].sort(),
    );
    // Three hosts split the macvlan pool in four: every host's range shrinks from /26 to /27, so
    // mv_net1 changes on host1 and host2 (test3 follows through its network-id label when the
    // engine replaces the network), and the verification gets the new plan.
    expect(d.changed).toEqual(
      [
        "docker:index/network:Network lab-mv_net1-host1",
        "docker:index/network:Network lab-mv_net1-host2",
        "command:local:Command lab-verify",
      ].sort(),
    );
    expect(next.one("docker:index/network:Network", "lab-mv_net1-host3").inputs["ipamConfigs"]).toEqual([
      { subnet: "198.18.0.0/24", gateway: "198.18.0.1", ipRange: "198.18.0.192/27" },
    ]);
  });

  it("changing the KV kind changes the KV server and every daemon's flags, nothing else structural", async () => {
    const next = await runLab({ kv: { kind: "etcd" } });
    const d = diff(base, next);
    expect(d.changed).toEqual(
      expect.arrayContaining([
        "docker:index/container:Container lab-host1",
        "docker:index/container:Container lab-host2",
        "docker:index/container:Container lab-kv",
      ]),
    );
    expect(d.changed).not.toContain("docker:index/network:Network lab-ov_net1");
    expect(d.changed).not.toContain("docker:index/container:Container lab-test1");
    // Consul's read-back only exists for Consul.
    expect(d.removed).toContain("pulumi:providers:consul lab-kv-registrations-provider");
    expect(next.byType("lab:kv:EtcdServer")).toHaveLength(1);
  });
});

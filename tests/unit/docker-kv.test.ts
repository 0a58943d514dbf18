// summarizeDockerKv / dockerKvEntriesFromConsul on what Docker 20.10 really wrote into Consul in a
// netns lab (fixtures/docker-kv-consul.json, captured from GET /v1/kv/docker/?recurse).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dockerKvEntriesFromConsul, type DockerKvEntry, summarizeDockerKv } from "../../src/model/index.js";

interface Fixture {
  running: unknown;
  containersRemoved: unknown;
}
const fixture = JSON.parse(readFileSync(new URL("./fixtures/docker-kv-consul.json", import.meta.url), "utf8")) as Fixture;
const NET = "b8af054a125a95a55e173357ae00f220738a85ad19e1dc80b51d432ef54c3ebf";

describe("summarizeDockerKv on a real Consul capture", () => {
  const running = summarizeDockerKv(dockerKvEntriesFromConsul(fixture.running));

  it("finds both daemons by their --cluster-advertise address", () => {
    expect(running.nodes).toEqual(["198.18.0.11:2376", "198.18.0.12:2376"]);
  });

  it("finds ov_net1 with its id, driver, subnet, VNI and endpoint count", () => {
    expect(running.networks).toEqual([
      { id: NET, name: "ov_net1", type: "overlay", subnets: ["198.18.100.0/24"], vni: [256], endpointCount: 2 },
    ]);
  });

  it("finds test1 on host1 and test2 on host2 with their overlay addresses", () => {
    expect(running.endpoints.map((e) => [e.name, e.address, e.host, e.network])).toEqual([
      ["test1", "198.18.100.2/24", "198.18.0.11", NET],
      ["test2", "198.18.100.3/24", "198.18.0.12", NET],
    ]);
  });

  it("after docker rm: the network stays with no endpoints, the nodes stay registered", () => {
    const after = summarizeDockerKv(dockerKvEntriesFromConsul(fixture.containersRemoved));
    expect(after.nodes).toEqual(running.nodes);
    expect(after.endpoints).toEqual([]);
    expect(after.networks.map((n) => [n.name, n.endpointCount])).toEqual([["ov_net1", 0]]);
  });
});

describe("summarizeDockerKv key handling", () => {
  const net = (name: string): string => JSON.stringify({ name, networkType: "overlay", scope: "global" });

  it("accepts etcd-style keys (no trailing slash, leading slash) like Consul's", () => {
    const entries: DockerKvEntry[] = [
      { key: "/docker/nodes/198.18.0.11:2376", value: "198.18.0.11:2376" },
      { key: "/docker/network/v1.0/network/abc", value: net("ov_a") },
      { key: "/docker/network/v1.0/overlay/network/abc", value: '{"subnets":[{"SubnetIP":"198.18.101.0/24","Vni":257}]}' },
    ];
    expect(summarizeDockerKv(entries)).toEqual({
      nodes: ["198.18.0.11:2376"],
      networks: [{ id: "abc", name: "ov_a", type: "overlay", subnets: ["198.18.101.0/24"], vni: [257] }],
      endpoints: [],
    });
  });

  it("ignores folders, bitmaps and keys outside Docker's layout; sorts networks by name", () => {
    const entries: DockerKvEntry[] = [
      { key: "docker/nodes", value: "" },
      { key: "docker/network/v1.0/network/", value: "" },
      { key: "docker/network/v1.0/idm/vxlan-id/", value: '{"id":"vxlan-id","sequence":"AAAA"}' },
      { key: "docker/network/v1.0/network/zz/", value: net("b_net") },
      { key: "docker/network/v1.0/network/aa/", value: net("a_net") },
      { key: "other/nodes/1.2.3.4:1", value: "x" },
    ];
    const s = summarizeDockerKv(entries);
    expect(s.nodes).toEqual([]);
    expect(s.networks.map((n) => n.name)).toEqual(["a_net", "b_net"]);
  });

  it("keeps a network whose value is not JSON, without a name", () => {
    expect(summarizeDockerKv([{ key: "docker/network/v1.0/network/xyz/", value: "not json" }]).networks).toEqual([{ id: "xyz" }]);
  });
});

describe("dockerKvEntriesFromConsul", () => {
  it("decodes base64 values and turns null values (folders) into empty strings", () => {
    expect(
      dockerKvEntriesFromConsul([
        { Key: "docker/nodes/198.18.0.12:2376", Value: Buffer.from("198.18.0.12:2376").toString("base64"), Flags: 0 },
        { Key: "docker/network/v1.0/network/", Value: null },
      ]),
    ).toEqual([
      { key: "docker/nodes/198.18.0.12:2376", value: "198.18.0.12:2376" },
      { key: "docker/network/v1.0/network/", value: "" },
    ]);
  });

  it("rejects answers that are not Consul's KV list", () => {
    expect(() => dockerKvEntriesFromConsul({ error: "not found" })).toThrow(/expected a JSON array/);
    expect(() => dockerKvEntriesFromConsul([{ key: "lowercase" }])).toThrow(/item 0 has no string Key/);
    expect(() => dockerKvEntriesFromConsul([{ Key: "k", Value: 5 }])).toThrow(/non-string Value/);
  });
});

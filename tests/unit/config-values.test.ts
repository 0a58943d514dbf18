// A stack's lab configuration as `pulumi config --json` prints it (npm run reset reads it that way).
import { describe, expect, it } from "vitest";
import { buildPlan } from "../../src/model/index.js";
import { labConfigFromPulumiJson } from "../../src/stack/configValues.js";

describe("labConfigFromPulumiJson", () => {
  it("takes structured keys from objectValue and scalars from value, and only lab: keys the program reads", () => {
    const json = {
      "lab:name": { value: "rs1", secret: false },
      "lab:hostKind": { value: "netns", secret: false },
      "lab:hosts": {
        value: '[{"name":"h1","address":"198.18.0.21"}]',
        objectValue: [{ name: "h1", address: "198.18.0.21" }],
        secret: false,
      },
      "lab:kv": { value: '{"kind":"etcd"}', secret: false },
      "lab:workloads": { value: "[]", objectValue: [], secret: false },
      "lab:sshPrivateKey": { value: "[secret]", secret: true },
      "other:thing": { value: "x", secret: false },
    };
    const cfg = labConfigFromPulumiJson(json);
    expect(cfg).toEqual({
      name: "rs1",
      hostKind: "netns",
      hosts: [{ name: "h1", address: "198.18.0.21" }],
      kv: { kind: "etcd" },
      workloads: [],
    });
    expect(buildPlan(cfg).hosts.map((h) => h.netns?.namespace)).toEqual(["rs1-h1"]);
  });

  it("refuses what is not pulumi config --json output", () => {
    expect(() => labConfigFromPulumiJson([])).toThrow(/expected an object of keys/);
  });
});

// The stack's config as the program reads it: the lab's keys, and any other lab: key so that a typo is
// refused by name instead of silently ignored.
import type * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { buildPlan, LabConfigError } from "../../src/model/index.js";
import { readLabConfig } from "../../src/stack/readConfig.js";

function read(all: Record<string, string>) {
  const config = { get: (k: string) => all[`lab:${k}`] } as unknown as pulumi.Config;
  return readLabConfig(config, all);
}

describe("readLabConfig", () => {
  it("parses structured keys and keeps scalars", () => {
    expect(read({ "lab:hostKind": "netns", "lab:kv": '{"kind":"etcd"}', "other:x": "1" })).toEqual({
      hostKind: "netns",
      kv: { kind: "etcd" },
    });
  });

  it("passes an unknown lab: key on without its value, so buildPlan refuses it with the nearest key", () => {
    const input = read({ "lab:hostz": "[]", "lab:sshKey": "-----BEGIN-----" });
    expect(input).toMatchObject({ hostz: "(set in the stack's config)", sshKey: "(set in the stack's config)" });
    try {
      buildPlan(input);
      expect.fail("an unknown key was accepted");
    } catch (e) {
      expect(e).toBeInstanceOf(LabConfigError);
      expect((e as Error).message).toContain("lab:hostz");
      expect((e as Error).message).toContain("did you mean lab:hosts?");
      expect((e as Error).message).not.toContain("BEGIN");
    }
  });

  it("accepts the secrets the hosts name as their ssh key", () => {
    const hosts = JSON.stringify([{ name: "h1", address: "198.18.0.11", ssh: { user: "root", privateKeySecret: "sshKey" } }]);
    const input = read({ "lab:hostKind": "ssh", "lab:hosts": hosts, "lab:sshKey": "-----BEGIN-----", "lab:workloads": "[]" });
    expect(input).not.toHaveProperty("sshKey");
  });
});

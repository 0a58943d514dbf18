// Pulumi.yaml's config schema agrees with the lab model: every key the program reads is declared in the
// project's own namespace with a default (the engine requires a declared key without one), and the
// defaults the engine injects build exactly the plan the model builds from nothing.
// tests/engine/config.test.ts runs the real engine over the same files.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { CONFIG_KEYS, DEFAULTS, buildPlan, type LabConfigInput } from "../../src/model/index.js";

interface Declared {
  type?: string;
  items?: { type: string };
  default?: unknown;
  secret?: boolean;
}
const project = parse(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8")) as {
  name: string;
  config: Record<string, Declared>;
};

/** What the engine hands the program when a stack sets nothing: every declared default. */
function engineDefaults(): LabConfigInput {
  return Object.fromEntries(Object.entries(project.config).map(([k, d]) => [k.replace(/^lab:/, ""), d.default])) as LabConfigInput;
}

describe("Pulumi.yaml", () => {
  it("is the project `lab`, so `lab:` keys are the project's own (the engine types no other namespace)", () => {
    expect(project.name).toBe("lab");
    for (const key of Object.keys(project.config)) expect(key.startsWith("lab:"), key).toBe(true);
  });

  it("declares exactly the keys the program reads, each typed and with a default", () => {
    expect(
      Object.keys(project.config)
        .map((k) => k.slice(4))
        .sort(),
    ).toEqual([...CONFIG_KEYS].sort());
    for (const [key, d] of Object.entries(project.config)) {
      expect(d.type, key).toMatch(/^(string|object|array)$/);
      expect(d.default, `${key} has no default: the engine would require it in every stack`).toBeDefined();
      if (d.type === "array") expect(d.items, key).toEqual({ type: "object" });
    }
  });

  it("has no ssh key: stacks without ssh hosts must not be asked for one", () => {
    expect(Object.values(project.config).some((d) => d.secret)).toBe(false);
  });

  it("lists the model's default hosts, networks and workloads", () => {
    const d = engineDefaults();
    expect(d.hosts).toEqual(DEFAULTS.hosts);
    expect(d.networks).toEqual(DEFAULTS.networks);
    expect(d.workloads).toEqual(DEFAULTS.workloads);
  });

  it.each([
    ["dind", "kv"],
    ["netns", "kv"],
    ["dind", "swarm"],
    ["netns", "swarm"],
  ])("its defaults build the model's own plan (%s, %s)", (hostKind, overlayMode) => {
    expect(buildPlan({ ...engineDefaults(), hostKind, overlayMode })).toEqual(buildPlan({ hostKind, overlayMode }));
  });
});

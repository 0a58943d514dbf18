// README tells the truth: its picture is the generator's, its test command is what CI runs.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildPlan, topologyMermaid } from "../../src/model/index.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("shows the dev stack's topology as the generator draws it", () => {
    const m = /<!-- topology:begin[^>]*-->\n```mermaid\n([\s\S]*?)```\n<!-- topology:end -->/.exec(readme);
    expect(m, "README has no generated topology block").not.toBeNull();
    expect(m![1]).toBe(`${topologyMermaid(buildPlan({})).trimEnd()}\n`);
  });

  it("gives the test command that .ci/run calls", () => {
    const ci = readFileSync(new URL("../../.ci/run", import.meta.url), "utf8");
    expect(readme).toContain("sudo bash scripts/test.sh");
    expect(ci).toMatch(/^exec bash scripts\/test\.sh$/m);
  });

  it("documents every config key the program reads", async () => {
    const { CONFIG_KEYS } = await import("../../src/model/index.js");
    for (const key of CONFIG_KEYS) expect(readme).toContain(`\`lab:${key}`);
  });
});

// README and docs/ tell the truth: the picture is the generator's, the test command is what CI runs, every
// config key is documented, and the benchmark table README quotes is bench/results.md's own.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONFIG_KEYS } from "../../src/model/index.js";

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const readme = read("README.md");

describe("README", () => {
  it("is a front page a newcomer reads in five minutes: at most 250 lines", () => {
    expect(readme.split("\n").length).toBeLessThanOrEqual(251);
  });

  it("shows the generated topology picture (docs/topology.svg, kept true by tests/unit/topology.test.ts)", () => {
    expect(readme).toContain("](docs/topology.svg)");
  });

  it("gives the test command that .ci/run calls", () => {
    const ci = read(".ci/run");
    expect(readme).toContain("sudo bash scripts/test.sh");
    expect(ci).toMatch(/^exec bash scripts\/test\.sh$/m);
  });

  it("names every config key the program reads, and docs/configuration.md documents each", () => {
    const reference = read("docs/configuration.md");
    for (const key of CONFIG_KEYS) {
      expect(readme, `README's configuration summary lacks lab:${key}`).toContain(`\`lab:${key}`);
      expect(reference, `docs/configuration.md lacks lab:${key}`).toContain(`\`lab:${key}`);
    }
  });

  it("quotes bench/results.md's targets table as it is there", () => {
    const m = /<!-- bench-headline:begin[^>]*-->\n([\s\S]*?)\n<!-- bench-headline:end -->/.exec(readme);
    expect(m, "README has no bench-headline block").not.toBeNull();
    const results = read("bench/results.md");
    const targets = results.slice(results.indexOf("## Targets"));
    const table = firstTable(targets);
    expect(table.split("\n").length, "bench/results.md's targets table").toBeGreaterThanOrEqual(3);
    expect(m![1]).toBe(table);
  });
});

/** The first Markdown table of a text: its consecutive lines starting with "|". */
function firstTable(text: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("|"));
  const end = lines.findIndex((l, i) => i > start && !l.startsWith("|"));
  return lines.slice(start, end === -1 ? undefined : end).join("\n");
}

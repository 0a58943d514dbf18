// docs/architecture.md's picture is the code's: its layers and the imports between them as
// `npm run architecture` draws them, and no import runs from a lower layer to a higher one.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { architectureMermaid, areaEdges, areaOf, layeringViolations, withArchitecture } from "../../src/cli/architecture.js";
import { REPO_ROOT } from "../../src/lab/run.js";

describe("the architecture picture", () => {
  const edges = areaEdges();

  it("docs/architecture.md shows the code's layers and imports (regenerate: npm run architecture)", () => {
    const committed = readFileSync(join(REPO_ROOT, "docs/architecture.md"), "utf8");
    expect(withArchitecture(committed, architectureMermaid(edges))).toBe(committed);
  });

  it("no import runs from a lower layer to a higher one: the model imports nothing above it, src/ never imports components/", () => {
    expect(layeringViolations(edges)).toEqual([]);
    expect(edges.filter((e) => e.from === "src/model")).toEqual([]);
    expect(edges.filter((e) => e.from.startsWith("src/") && e.to === "components")).toEqual([]);
  });

  it("finds an import against the layering, and places every path in its area", () => {
    expect(layeringViolations([{ from: "src/model", to: "components", imports: 1 }])).toHaveLength(1);
    expect(layeringViolations([{ from: "components", to: "src/model", imports: 3 }])).toEqual([]);
    expect(["index.ts", "src/verify/checks.ts", "components/workload.ts", "bench/run.ts", "tests/unit/x.ts"].map(areaOf)).toEqual([
      "index.ts",
      "src/verify",
      "components",
      "bench",
      undefined,
    ]);
  });
});

// docs/trace.md's trace and docs/trace.svg are what the renderers make of the real trace saved in docs/trace.json,
// and that trace is a complete one: every overlay hop saw the probes, with the overlay's VNI on the wire.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatTrace, traceMermaid } from "../../src/trace/render.js";
import { traceSvg } from "../../src/trace/svg.js";
import type { TraceResult } from "../../src/trace/types.js";

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const saved = JSON.parse(read("docs/trace.json")) as TraceResult;

describe("the documented trace", () => {
  it("is a real test2 -> test1 trace that crossed all ten overlay hops both ways", () => {
    expect([saved.plan.from.name, saved.plan.to.name, saved.plan.kind]).toEqual(["test2", "test1", "overlay"]);
    expect(saved.hops).toHaveLength(10);
    expect(
      saved.hops.every((h) => h.status === "seen" && h.requests === saved.probe.transmitted && h.replies === saved.probe.transmitted),
    ).toBe(true);
    expect(saved.vni).toEqual({ wire: 256, device: 256, matches: true });
  });

  it("docs/trace.md shows its hop list and Mermaid diagram as the renderers draw them", () => {
    const m = /<!-- trace:begin[^>]*-->\n```text\n([\s\S]*?)```\n\n```mermaid\n([\s\S]*?)```\n<!-- trace:end -->/.exec(
      read("docs/trace.md"),
    );
    expect(m, "docs/trace.md has no trace block").not.toBeNull();
    expect(m![1]).toBe(formatTrace(saved));
    expect(m![2]).toBe(traceMermaid(saved));
  });

  it("docs/trace.svg is its picture (npm run trace -- --replay docs/trace.json --svg docs/trace.svg)", () => {
    expect(read("docs/trace.svg")).toBe(traceSvg(saved));
  });
});

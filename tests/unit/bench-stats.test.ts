// The bench's statistics and markdown table code (bench/stats.ts).
import { describe, expect, it } from "vitest";
import {
  fmtRatio,
  fmtSummarySeconds,
  growthExponents,
  growthVerdict,
  linearFit,
  markdownTable,
  mdCell,
  median,
  ratio,
  summarize,
} from "../../bench/stats.js";

describe("median / summarize", () => {
  it("takes the middle value of an odd count, whatever the order", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([9])).toBe(9);
  });
  it("averages the two middle values of an even count", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it("does not reorder the caller's array", () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
  it("refuses an empty list", () => {
    expect(() => median([])).toThrow(/no samples/);
    expect(() => summarize([])).toThrow(/no samples/);
  });
  it("summarizes with min and max", () => {
    expect(summarize([7, 2, 5, 11])).toEqual({ n: 4, median: 6, min: 2, max: 11 });
  });
  it("ratio of medians; undefined when dividing by zero", () => {
    expect(ratio(summarize([3, 3, 9]), summarize([2, 2, 1]))).toBe(1.5);
    expect(ratio(summarize([1]), summarize([0]))).toBeUndefined();
  });
});

describe("linearFit / growth", () => {
  it("recovers an exact line", () => {
    const f = linearFit([1, 2, 3, 4], [5, 7, 9, 11]);
    expect(f.slope).toBeCloseTo(2, 10);
    expect(f.intercept).toBeCloseTo(3, 10);
    expect(f.r2).toBeCloseTo(1, 10);
  });
  it("r2 drops for points that are not on a line", () => {
    const f = linearFit([1, 2, 3, 4], [1, 4, 9, 16]);
    expect(f.r2).toBeLessThan(1);
    expect(f.r2).toBeGreaterThan(0.9);
  });
  it("needs two distinct x values", () => {
    expect(() => linearFit([1], [1])).toThrow(/two or more/);
    expect(() => linearFit([2, 2], [1, 3])).toThrow(/distinct/);
  });
  it("log-log exponents: 1 for linear, 2 for quadratic growth", () => {
    const xs = [2, 10, 50, 100];
    for (const k of growthExponents(
      xs,
      xs.map((x) => 3 * x),
    ))
      expect(k).toBeCloseTo(1, 10);
    for (const k of growthExponents(
      xs,
      xs.map((x) => x * x),
    ))
      expect(k).toBeCloseTo(2, 10);
    expect(
      growthVerdict(
        growthExponents(
          xs,
          xs.map((x) => 3 * x),
        ),
      ),
    ).toBe("linear");
    expect(
      growthVerdict(
        growthExponents(
          xs,
          xs.map((x) => x * x),
        ),
      ),
    ).toBe("superlinear");
  });
  it("unusable steps are NaN, and a series of only those is unknown", () => {
    const k = growthExponents([1, 2], [0, 5]);
    expect(Number.isNaN(k[0])).toBe(true);
    expect(growthVerdict(k)).toBe("unknown");
  });
});

describe("formatting", () => {
  it("seconds with min-max, or a single value", () => {
    expect(fmtSummarySeconds(summarize([1500, 1000, 2500]))).toBe("1.50 s (1.00–2.50)");
    expect(fmtSummarySeconds(summarize([1234]))).toBe("1.23 s");
  });
  it("ratios", () => {
    expect(fmtRatio(1.234)).toBe("1.23x");
    expect(fmtRatio(undefined)).toBe("n/a");
    expect(fmtRatio(Number.POSITIVE_INFINITY)).toBe("n/a");
  });
  it("markdown table with right-aligned columns and escaped cells", () => {
    const t = markdownTable(
      ["a", "b"],
      [
        ["x|y", "1"],
        ["two\nlines", "22"],
      ],
      ["l", "r"],
    );
    expect(t.split("\n")).toEqual(["| a | b |", "|---|---:|", "| x\\|y | 1 |", "| two lines | 22 |"]);
  });
  it("refuses a row with the wrong number of cells", () => {
    expect(() => markdownTable(["a", "b"], [["only one"]])).toThrow(/1 cells, header has 2/);
  });
  it("escapes backslashes before pipes", () => {
    expect(mdCell("a\\|b")).toBe("a\\\\\\|b");
  });
});

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { main, parseCli } from "../../src/cli/verify.js";
import { buildPlan, checkCount } from "../../src/model/index.js";
import type { CheckResult } from "../../src/verify/checks.js";
import { buildReport, formatTable, statusOf, summarize, summaryLine } from "../../src/verify/report.js";

function result(id: string, expect: "pass" | "fail", outcome: "pass" | "fail", error = false, durationMs = 10): CheckResult {
  return {
    id,
    kind: "ping",
    from: "test1",
    host: "host1",
    target: "test2",
    expect,
    outcome,
    ok: !error && outcome === expect,
    expected: expect === "fail",
    error,
    reason: "why",
    detail: `${id} detail`,
    durationMs,
  };
}

describe("summary and table", () => {
  const results = [
    result("a", "pass", "pass", false, 120),
    result("b-long-check-id", "pass", "pass"),
    result("c", "fail", "fail"),
    result("d", "pass", "fail"),
    result("e", "fail", "pass"),
    result("f", "fail", "fail", true, 2500),
  ];
  it("counts passes, expected failures, and every kind of not-ok", () => {
    expect(summarize(results)).toEqual({ total: 6, passed: 2, expectedFailures: 1, failed: 3, unexpectedPasses: 1, errors: 1, blocked: 0 });
    expect(summaryLine(summarize(results.slice(0, 3)))).toBe("verify: 2 passed, 1 expected failure, 0 failed");
    expect(summaryLine(summarize(results))).toBe("verify: 2 passed, 1 expected failure, 3 failed (1 unexpectedly passed, 1 could not run)");
    expect(summaryLine(summarize([]))).toBe("verify: 0 passed, 0 expected failures, 0 failed");
  });
  it("status words: PASS, XFAIL, FAIL, XPASS!, ERROR", () => {
    expect(results.map(statusOf)).toEqual(["PASS", "PASS", "XFAIL", "FAIL", "XPASS!", "ERROR"]);
  });
  it("aligned columns, the expectation shown on expected failures, wall time and slowest probe", () => {
    const r = buildReport("lab", new Date(0), 2612.4, results);
    expect(r.ok).toBe(false);
    expect(r.slowest).toEqual({ id: "f", durationMs: 2500 });
    const lines = formatTable(r).split("\n");
    expect(lines[0]).toMatch(/^STATUS\s+CHECK\s+KIND\s+FROM\s+TARGET\s+TIME\s+DETAIL$/);
    const col = lines[0]!.indexOf("KIND");
    for (const l of lines.slice(1, 7)) expect(l.slice(col, col + 4)).toBe("ping");
    expect(lines[3]).toContain("[expected: why]");
    expect(lines[5]).toContain("[expected to fail: why]");
    expect(lines.at(-2)).toBe(
      "verify: 2 passed, 1 expected failure, 3 failed (1 unexpectedly passed, 1 could not run) (2.61s wall; slowest f 2.50s)",
    );
    expect(JSON.parse(JSON.stringify(r)).results).toHaveLength(6);
  });
});

class Sink extends Writable {
  text = "";
  override _write(c: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += c.toString();
    cb();
  }
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new Sink();
  const err = new Sink();
  const code = await main(argv, out, err);
  return { code, out: out.text, err: err.text };
}

describe("verify CLI usage", () => {
  const dir = mkdtempSync(join(tmpdir(), "verify-cli-"));
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it("default: the dind dev lab's plan; --config builds a plan; --endpoint overrides one host", () => {
    const d = parseCli([]);
    if (d === "help") throw new Error("help");
    expect(d.plan.hostKind).toBe("dind");
    expect(d.plan.hosts.map((h) => h.endpoint)).toEqual(["tcp://127.0.0.1:23751", "tcp://127.0.0.1:23752"]);
    const c = parseCli([
      "--config",
      file("lab.json", JSON.stringify({ hostKind: "netns", name: "vfc" })),
      "--endpoint",
      "host2=tcp://127.0.0.1:9999",
      "--timeout",
      "2.5",
      "--json",
    ]);
    if (c === "help") throw new Error("help");
    expect(c.plan.hosts[0]!.endpoint).toBe("unix:///run/dnlab/vfc/host1.sock");
    expect(c.options.endpoints).toEqual({ host2: "tcp://127.0.0.1:9999" });
    expect(c.options.checkTimeoutMs).toBe(2500);
    expect(c.json).toBe(true);
  });

  it("--plan takes a built plan as is", () => {
    const p = buildPlan({ hostKind: "netns", name: "vfp" });
    const c = parseCli(["--plan", file("plan.json", JSON.stringify(p))]);
    if (c === "help") throw new Error("help");
    expect(c.plan).toEqual(p);
  });

  it("--plan - reads the plan from stdin, and derives its checks when they are left out", () => {
    const p = buildPlan({ hostKind: "netns", name: "vfe" });
    const { checks: _omitted, ...rest } = p;
    const c = parseCli(["--plan", "-", "--json"], { readStdin: () => JSON.stringify(rest) });
    if (c === "help") throw new Error("help");
    expect(c.plan).toEqual(p);
  });

  it("--json on a failing lab: JSON on stdout, the readable table on stderr (what `pulumi up` shows), exit 1", async () => {
    const gone = join(dir, "no-daemon.sock");
    const r = await cli([
      "--config",
      file("lab-gone.json", JSON.stringify({ hostKind: "netns", name: "vfg" })),
      "--json",
      "--quiet",
      "--endpoint",
      `host1=unix://${gone}`,
      "--endpoint",
      `host2=unix://${gone}`,
      "--timeout",
      "2",
    ]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as { ok: boolean; summary: { failed: number } };
    expect(report.ok).toBe(false);
    expect(report.summary.failed).toBeGreaterThan(0);
    expect(r.err).toMatch(/ERROR/);
    expect(r.err).toMatch(/verify: 0 passed, 0 expected failures, \d+ failed/);
  });

  const bad: [string, string[], RegExp][] = [
    ["unknown flag", ["--bogus"], /Unknown option '--bogus'/],
    ["both sources", ["--config", "a.json", "--plan", "b.json"], /--config and --plan are alternatives/],
    ["unreadable file", ["--config", "/nonexistent/lab.json"], /--config \/nonexistent\/lab.json: cannot read the file \(ENOENT\)/],
    ["unknown host in --endpoint", ["--endpoint", "host9=unix:///x.sock"], /no host named "host9" in the plan; use one of host1, host2/],
    ["malformed --endpoint", ["--endpoint", "host1"], /write it as HOST=URL/],
    ["bad scheme", ["--endpoint", "host1=ftp://x"], /unsupported scheme ftp:/],
    ["bad timeout", ["--timeout", "soon"], /--timeout "soon": must be a positive number/],
    ["bad concurrency", ["--concurrency", "1.5"], /--concurrency "1.5": must be a positive whole number/],
  ];
  for (const [what, argv, re] of bad) {
    it(`exit 2 with one clear error: ${what}`, async () => {
      const r = await cli(argv);
      expect(r.code).toBe(2);
      expect(r.out).toBe("");
      expect(r.err).toMatch(re);
      expect(r.err.startsWith("verify: error: ")).toBe(true);
      expect(r.err.trim().split("\n")).toHaveLength(1);
    });
  }

  it("exit 2: an invalid config lists its problems (field, value, fix) and probes nothing", async () => {
    const r = await cli([
      "--config",
      file("bad.json", JSON.stringify({ hostKind: "netns", hosts: [{ name: "h1", address: "10.0.0.1" }] })),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('lab:hosts[0].address = "10.0.0.1": outside the lab range 198.18.0.0/15');
  });

  it("exit 2: --plan with something that is not a plan; not JSON", async () => {
    expect((await cli(["--plan", file("np.json", JSON.stringify({ name: "x" }))])).err).toMatch(
      /not a LabPlan \(missing hosts, networks, workloads, verification\)/,
    );
    expect((await cli(["--config", file("nj.json", "{nope")])).err).toMatch(/not valid JSON/);
  });

  it("exit 2: an expectation naming a missing workload, a fault of an unknown kind; nothing probed", async () => {
    const r = await cli([
      "--config",
      file(
        "bad-expect.json",
        JSON.stringify({ hostKind: "netns", expect: [{ from: "test9", to: "test1" }], faults: [{ host: "host2", kind: "flood" }] }),
      ),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('lab:expect[0].from = "test9": no such workload. Fix: use one of test1, test2, test3.');
    expect(r.err).toContain('lab:faults[0].kind = "flood": unknown fault kind');
    expect(r.out).toBe("");
    expect((await cli(["--fail-on", "sometimes"])).err).toMatch(/--fail-on "sometimes": use unexpected or never/);
  });

  it("--fail-on never (lab:verification.failUpOn: never): a failing lab is reported, and the exit is 0", async () => {
    const gone = join(dir, "no-daemon-2.sock");
    const lab = file("lab-never.json", JSON.stringify({ hostKind: "netns", name: "vfv" }));
    const argv = ["--config", lab, "--json-summary", "--quiet", "--endpoint", `host1=unix://${gone}`, "--endpoint", `host2=unix://${gone}`];
    const never = await cli([...argv, "--fail-on", "never"]);
    expect(never.code).toBe(0);
    expect(never.err).toMatch(/ERROR/);
    expect(never.err).toContain("--fail-on never (lab:verification.failUpOn: never): exit 0");
    expect((await cli([...argv, "--fail-on", "unexpected"])).code).toBe(1);
  });

  it("--help exits 0", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("usage: npm run verify");
  });

  it("exit 1 when the hosts cannot be reached: every check reports the endpoint", async () => {
    const p = buildPlan({ hostKind: "netns", name: "vfn", netns: { root: join(dir, "absent") } });
    const r = await cli(["--plan", file("p2.json", JSON.stringify(p)), "--json", "--timeout", "5"]);
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.out) as { ok: boolean; summary: { failed: number; errors: number }; results: { detail: string }[] };
    expect(rep.ok).toBe(false);
    expect(rep.summary.failed).toBe(checkCount(p.checks));
    expect(rep.summary.errors).toBe(checkCount(p.checks));
    expect(rep.results[0]!.detail).toMatch(/Docker endpoint unix:\/\/.*host1\.sock is unreachable: .*ENOENT/);
  });
});

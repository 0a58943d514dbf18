// Every CLI of the project on the one skeleton (src/cli/cli.ts), run as the user runs it (node --import
// tsx, as the npm scripts do): --help exits 0 and lists every option and subcommand; a bad flag exits 2
// with one line naming it; a bad config exits 2 naming the key.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/lab/run.js";

const CLIS = {
  lab: "src/cli/lab.ts",
  verify: "src/cli/verify.ts",
  inspect: "src/cli/inspect.ts",
  trace: "src/cli/trace.ts",
  topology: "src/cli/topology.ts",
  view: "src/cli/view.ts",
  bench: "bench/run.ts",
} as const;

function cli(name: keyof typeof CLIS, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", CLIS[name], ...args], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the CLIs", () => {
  const dir = mkdtempSync(join(tmpdir(), "cli-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(Object.keys(CLIS) as (keyof typeof CLIS)[])("%s --help: exit 0, the usage with its exit codes", (name) => {
    const r = cli(name, ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run /);
    expect(r.stdout).toMatch(/-h, --help/);
    expect(r.stdout).toMatch(/\nexit: 0 /);
    expect(r.stderr).toBe("");
  });

  it.each(Object.keys(CLIS) as (keyof typeof CLIS)[])("%s --bogus: exit 2, one line naming the flag", (name) => {
    const r = cli(name, ["--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${name}: error: Unknown option '--bogus'.*; see --help\n$`));
    expect(r.stdout).toBe("");
  });

  it("lab --help lists every subcommand, leftovers included; a missing or unknown one is exit 2", () => {
    const help = cli("lab", ["--help"]).stdout;
    for (const c of ["up", "apply", "down", "status", "leftovers"]) expect(help).toMatch(new RegExp(`\\n  ${c} `));
    for (const argv of [[], ["start"], ["up", "down"]]) {
      const r = cli("lab", argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^lab: error: give one command of up, down, status, apply, leftovers/);
    }
  });

  it("a bad config is exit 2 naming the key, before anything runs (verify, inspect, topology, view, lab)", () => {
    const bad = join(dir, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify({ hostKind: "netns", kv: { kind: "etcd" }, networks: [{ name: "ov", driver: "overlay", subnet: "10.0.0.0/24" }] }),
    );
    for (const name of ["verify", "inspect", "topology", "view", "lab"] as const) {
      const r = cli(name, name === "lab" ? ["status", "--config", bad] : ["--config", bad]);
      expect(r.code, name).toBe(2);
      expect(r.stderr, name).toMatch(/lab:networks\[0\]\.subnet = "10\.0\.0\.0\/24": outside the lab range/);
    }
  });

  it("npm run view runs the view alone: npm's pre<name> hook would run the preview script first (.npmrc ignore-scripts)", () => {
    const r = spawnSync("npm", ["run", "-s", "view", "--", "--help"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run view /);
    expect(r.stderr).not.toMatch(/Pulumi|preview/);
  });

  it.each(["verify", "inspect"] as const)(
    "%s on a dind lab without its client certificate: exit 2, a line saying where it comes from, nothing contacted",
    (name) => {
      const cfg = join(dir, "nocert.json");
      writeFileSync(cfg, JSON.stringify({ name: "nocert1", hostKind: "dind" }));
      const r = cli(name, ["--config", cfg]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n").at(-1)).toMatch(
        new RegExp(`^${name}: error: no TLS client material at \\.lab/tls/nocert1/ca\\.pem \\(ENOENT\\).*npm run up`),
      );
    },
  );

  it("lab leftovers for a dind stack names what may be left and the commands that remove it (exit 0)", () => {
    const cfg = join(dir, "pulumi-config.json");
    writeFileSync(cfg, JSON.stringify({ "lab:name": { value: "lo1" } }));
    const out = execFileSync(process.execPath, ["--import", "tsx", CLIS.lab, "leftovers", "--pulumi-config", cfg], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    });
    expect(out).toContain("dind lab lo1: what may be left on your Docker engine");
    expect(out).toContain("docker rm -f lo1-host1 lo1-host2 lo1-kv");
    expect(out).toContain("rm -rf -- .lab/tls/lo1");
  });
});

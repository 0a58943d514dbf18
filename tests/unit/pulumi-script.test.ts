// npm run up/preview/destroy (scripts/pulumi.sh): prerequisites are checked first, with install
// instructions instead of a stack trace; then the CLI runs with a local backend and no passphrase prompt.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const repo = new URL("../..", import.meta.url).pathname;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A PATH with stand-ins for pulumi/docker (or none), plus node and the basic tools. */
function fakePath(tools: Record<string, string>): { path: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), "dnlab-pulumi-sh-"));
  dirs.push(dir);
  const log = join(dir, "calls.log");
  for (const [name, body] of Object.entries(tools)) {
    const p = join(dir, name);
    writeFileSync(
      p,
      `#!/bin/sh\necho "${name} $* | backend=$PULUMI_BACKEND_URL passphrase=[$PULUMI_CONFIG_PASSPHRASE]" >> ${log}\n${body}\n`,
    );
    chmodSync(p, 0o755);
  }
  return { path: [dir, dirname(process.execPath), "/usr/bin", "/bin"].join(":"), log };
}

function run(action: string, path: string) {
  const env: NodeJS.ProcessEnv = { PATH: path, HOME: tmpdir() };
  return spawnSync("bash", ["scripts/pulumi.sh", action], { cwd: repo, env, encoding: "utf8" });
}

describe("scripts/pulumi.sh", () => {
  it("names every missing prerequisite with how to install it, and runs nothing", () => {
    const f = fakePath({ docker: "exit 1" });
    const r = run("up", f.path);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("the Pulumi CLI is not installed");
    expect(r.stderr).toContain("https://get.pulumi.com");
    expect(r.stderr).toContain("Docker is installed but its daemon does not answer");
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it("runs pulumi up on a local state backend without a passphrase prompt once everything is there", () => {
    const f = fakePath({ docker: "exit 0", pulumi: "exit 0" });
    const r = run("up", f.path);
    expect(r.status, r.stderr).toBe(0);
    const calls = readFileSync(f.log, "utf8").trim().split("\n");
    expect(calls.some((c) => c.startsWith("docker info"))).toBe(true);
    expect(calls).toContain(`pulumi stack select --create dev | backend=file://${repo.replace(/\/$/, "")}/.lab/state passphrase=[]`);
    expect(calls.at(-1)).toBe(`pulumi up --yes --skip-preview | backend=file://${repo.replace(/\/$/, "")}/.lab/state passphrase=[]`);
    // The state (secrets encrypted with an empty passphrase) and the dind lab's client key live there: its owner's only.
    expect(statSync(join(repo, ".lab")).mode & 0o777).toBe(0o700);
  });

  it("preview shows the diff; an unknown action is a usage error", () => {
    const f = fakePath({ docker: "exit 0", pulumi: "exit 0" });
    expect(run("preview", f.path).status).toBe(0);
    expect(readFileSync(f.log, "utf8").trim().split("\n").at(-1)).toMatch(/^pulumi preview --diff \|/);
    const bad = run("explode", f.path);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("usage: scripts/pulumi.sh up|preview|destroy|outputs");
  });
});

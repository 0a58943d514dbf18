// The ways back to a clean machine that README's "When things go wrong" documents, under the real
// engine: a host lost behind the stack's back (destroy then fails on it), and an up killed half-way.
// `npm run reset` must leave nothing of the lab, forget the stack's state and keep its config file, and
// `npm run up` must then start again from that file.
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { downNetnsLab, isClean, labLeftovers } from "../../src/lab/netnsLab.js";
import { REPO_ROOT, run, sleep } from "../../src/lab/run.js";
import { buildPlan, type LabConfigInput, netnsCommands } from "../../src/model/index.js";
import { engineAndPlugins, npmRun, stackFileText } from "./harness.js";

const exec = promisify(execFile);

function suite(stack: string, config: LabConfigInput) {
  const engine = engineAndPlugins(["command", "docker"]);
  const plan = buildPlan(config);
  const file = join(REPO_ROOT, `Pulumi.${stack}.yaml`);
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, ...engine.home().env, LAB_STACK: stack });
  const npm = (script: string, ...args: string[]): Promise<{ code: number; out: string }> => npmRun(env(), script, ...args);

  /** The stack's resources as the engine's state has them (0 when the stack is gone). */
  const resourceCount = async (): Promise<number> => {
    try {
      const r = await exec("pulumi", ["stack", "export", "--stack", stack], { cwd: REPO_ROOT, env: env() });
      return ((JSON.parse(r.stdout) as { deployment: { resources?: unknown[] } }).deployment.resources ?? []).length;
    } catch {
      return 0;
    }
  };
  writeFileSync(file, stackFileText(config));
  afterAll(async () => {
    // Whatever happened, nothing of the lab stays on the machine.
    await exec("pulumi", ["stack", "rm", "--yes", "--force", "--stack", stack], { cwd: REPO_ROOT, env: env() }).catch(() => undefined);
    if (!isClean(labLeftovers(plan))) await downNetnsLab(plan);
    if (existsSync(file)) rmSync(file);
  }, 300_000);
  return { plan, file, npm, resourceCount, env };
}

describe("recovery: a host lost behind the stack's back", () => {
  const s = suite("enginetest-lost-host", { name: "el1", hostKind: "netns" });

  it("up, then host2 vanishes (its daemon stopped and namespace deleted by hand)", async () => {
    expect((await s.npm("up")).code).toBe(0);
    const host2 = netnsCommands(s.plan).hosts.find((h) => h.host === "host2")!;
    const gone = await run(host2.delete);
    expect(gone.code, gone.stderr).toBe(0);
  });

  it("destroy fails on the lost host's resources and says so", async () => {
    const r = await s.npm("destroy");
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/el1-(test2|mv_net1-host2)/);
  });

  it("npm run reset leaves nothing of the lab, forgets the state, keeps the config; npm run up starts again", async () => {
    const r = await s.npm("reset");
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("reset: stack enginetest-lost-host forgotten (Pulumi.enginetest-lost-host.yaml kept)");
    expect(isClean(labLeftovers(s.plan))).toBe(true);
    expect(await s.resourceCount()).toBe(0);
    expect(readFileSync(s.file, "utf8")).toContain("lab:name: el1");
    const again = await s.npm("up");
    expect(again.code, again.out).toBe(0);
    expect((await s.npm("reset")).code).toBe(0);
    expect(isClean(labLeftovers(s.plan))).toBe(true);
  });
});

describe("recovery: an up killed half-way", () => {
  const s = suite("enginetest-killed-up", { name: "ek2", hostKind: "netns" });

  it("npm run up is killed once the hosts exist; npm run reset leaves nothing and the next up converges", async () => {
    // The real pulumi process (not npm), so the kill hits the engine mid-deployment.
    await exec("pulumi", ["stack", "init", "enginetest-killed-up", "--non-interactive"], { cwd: REPO_ROOT, env: s.env() });
    const child = spawn("pulumi", ["up", "--yes", "--skip-preview", "--stack", "enginetest-killed-up", "--non-interactive"], {
      cwd: REPO_ROOT,
      env: { ...s.env(), NODE_OPTIONS: "--import tsx" },
      stdio: "ignore",
    });
    const pidfile = s.plan.hosts[1]!.netns!.pidFile;
    for (let i = 0; i < 600 && !existsSync(pidfile); i++) await sleep(100);
    expect(existsSync(pidfile), "host2's dockerd never started").toBe(true);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(isClean(labLeftovers(s.plan))).toBe(false);

    const reset = await s.npm("reset");
    expect(reset.code, reset.out).toBe(0);
    expect(isClean(labLeftovers(s.plan))).toBe(true);
    const up = await s.npm("up");
    expect(up.code, up.out).toBe(0);
    expect(up.out).toMatch(/verify: 19 passed, 1 expected failure, 0 failed/);
    expect((await s.npm("destroy")).code).toBe(0);
    expect(isClean(labLeftovers(s.plan))).toBe(true);
  });
});

// The commands README gives, exactly as written: npm run up / preview / outputs / destroy on a netns
// stack (LAB_STACK picks it), driving the real engine through scripts/pulumi.sh.
import { execFile } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isClean, labLeftovers } from "../../src/lab/netnsLab.js";
import { REPO_ROOT } from "../../src/lab/run.js";
import { buildPlan, type LabConfigInput } from "../../src/model/index.js";
import { engineAndPlugins, npmRun, stackFileText } from "./harness.js";

const exec = promisify(execFile);
const STACK = "enginetest-npm";
const config: LabConfigInput = { name: "eq1", hostKind: "netns" };
const plan = buildPlan(config);
const file = join(REPO_ROOT, `Pulumi.${STACK}.yaml`);

describe("npm run up / preview / outputs / destroy, as README writes them", () => {
  const engine = engineAndPlugins(["command", "docker"]);
  const timings: Record<string, number> = {};
  const npm = async (script: string, ...args: string[]): Promise<{ code: number; out: string }> => {
    const t0 = Date.now();
    try {
      return await npmRun({ ...process.env, ...engine.home().env, LAB_STACK: STACK }, script, ...args);
    } finally {
      timings[args.length > 0 ? `${script} ${args.join(" ")}` : script] = Date.now() - t0;
    }
  };

  beforeAll(() => writeFileSync(file, stackFileText(config)));
  afterAll(async () => {
    // Whatever happened above, the stack goes (destroy is idempotent) and nothing may be left.
    await npm("destroy");
    await exec("pulumi", ["stack", "rm", "--yes", "--stack", STACK, "--non-interactive"], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...engine.home().env },
    }).catch(() => undefined);
    if (existsSync(file)) rmSync(file);
    console.log(`[engine] npm scripts timings (ms): ${JSON.stringify(timings)}`);
    expect(isClean(labLeftovers(plan))).toBe(true);
  }, 600_000);

  it("npm run up brings the lab up and prints the verification summary", async () => {
    const r = await npm("up");
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("lab eq1: 2 netns hosts, overlay mode kv (etcd at 198.18.0.2:2379)");
    expect(r.out).toMatch(/verify: 19 passed, 1 expected failure, 0 failed/);
  });

  it("npm run preview -- --expect-no-changes passes on the running lab", async () => {
    const r = await npm("preview", "--expect-no-changes");
    expect(r.code, r.out).toBe(0);
  });

  it("npm run outputs prints the stack outputs as JSON", async () => {
    const r = await npm("outputs");
    expect(r.code, r.out).toBe(0);
    const json = JSON.parse(r.out.slice(r.out.indexOf("{"))) as {
      verification: { summary: { failed: number } };
      hosts: Record<string, { endpoint: string }>;
    };
    expect(json.verification.summary.failed).toBe(0);
    expect(json.hosts["host1"]!.endpoint).toBe("unix:///run/dnlab/eq1/host1.sock");
  });

  it("npm run destroy removes everything", async () => {
    const r = await npm("destroy");
    expect(r.code, r.out).toBe(0);
    expect(isClean(labLeftovers(plan))).toBe(true);
  });
});

// The shipped exercises (exercises/*/), each for real on netns hosts: brought up as shipped, its
// expectations fail and `npm run verify` exits 1 naming them; with the fix its README documents (the
// fix:begin block, applied exactly), brought up again, `npm run verify` exits 0. Nothing is left.
import { readFileSync, rmSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { parse } from "yaml";
import { labConfigFromStackFile } from "../../src/cli/cli.js";
import { downLab, upLab } from "../../src/lab/lab.js";
import { isClean, labLeftovers } from "../../src/lab/netnsLab.js";
import { REPO_ROOT, run } from "../../src/lab/run.js";
import { buildPlan, type LabConfigInput } from "../../src/model/index.js";
import { describeRealLab } from "./gate.js";
import { assertNoLeftovers } from "./harness.js";

const EXERCISES = {
  "mtu-black-hole": { failing: ["test1 sends test2 a full-size packet", "test2 sends test1 a full-size packet"] },
  "vxlan-dropped": { failing: ["test2 reaches test1 by name", "test1 reaches test2 by name"] },
  "dns-no-shared-network": { failing: ["web finds db by name", "web reaches db by name"] },
} as const;

/** The exercise's stack file, as `npm run up` would deploy it, on netns hosts. */
function shipped(name: string): LabConfigInput {
  return { ...labConfigFromStackFile(name, join(REPO_ROOT, "exercises", name)), hostKind: "netns" };
}

/** The fix the exercise's README documents: the yaml between its fix markers, its lab: keys replacing the stack's. */
function documentedFix(name: string): LabConfigInput {
  const readme = readFileSync(join(REPO_ROOT, "exercises", name, "README.md"), "utf8");
  const m = /<!-- fix:begin[^>]*-->\n```yaml\n([\s\S]*?)```\n<!-- fix:end -->/.exec(readme);
  if (!m) throw new Error(`exercises/${name}/README.md has no fix block`);
  const doc = parse(m[1]!.replace(/^ {2}/gm, "")) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k.replace(/^lab:/, ""), v])) as LabConfigInput;
}

describeRealLab("the exercises, broken as shipped and solved by their documented fix", () => {
  const tmp = mkdtempSync(join(tmpdir(), "exercises-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  async function verifyCli(config: LabConfigInput): Promise<{ code: number | null; out: string }> {
    const file = join(tmp, `${config.name}.json`);
    writeFileSync(file, JSON.stringify(config));
    const r = await run(["node", "--import", "tsx", "src/cli/verify.ts", "--config", file, "--quiet", "--settle", "10"], {
      timeoutMs: 180_000,
    });
    return { code: r.code, out: r.stdout + r.stderr };
  }

  for (const [name, { failing }] of Object.entries(EXERCISES)) {
    it(`${name}: verify exits 1 naming the failing expectations; after the fix it exits 0`, async () => {
      const broken = shipped(name);
      const plan = buildPlan(broken);
      if (!isClean(labLeftovers(plan))) await downLab(plan);
      const t0 = Date.now();
      try {
        await upLab(plan);
        const before = await verifyCli(broken);
        expect(before.code, before.out).toBe(1);
        for (const f of failing)
          expect(before.out).toMatch(new RegExp(`(FAIL|ERROR) +${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} +lab:expect`));
        // The model's own checks are as the plan (faults included) says: only the user's expectations fail.
        expect(before.out).toContain(`lab:expect: ${plan.expectations.length - failing.length} of ${plan.expectations.length} as written`);
        expect(before.out).not.toMatch(/^(FAIL|ERROR|XPASS!|RAN!) +(?!.*lab:expect)/m);
        await downLab(plan);
        const fixed: LabConfigInput = { ...broken, ...documentedFix(name) };
        await upLab(buildPlan(fixed));
        const after = await verifyCli(fixed);
        expect(after.code, after.out).toBe(0);
        expect(after.out).toContain(`lab:expect: ${plan.expectations.length} of ${plan.expectations.length} as written`);
        await downLab(buildPlan(fixed));
      } finally {
        await downLab(plan).catch(() => undefined);
      }
      assertNoLeftovers(plan);
      console.log(`[real-lab] exercise ${name}: broken, fixed and verified in ${Date.now() - t0} ms`);
    }, 300_000);
  }
});

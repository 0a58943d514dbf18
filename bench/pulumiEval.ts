// One program evaluation under Pulumi mocks, in its own process so that its peak memory (maxRSS) is
// its own: the approach of tests/pulumi/harness.ts (setMocks, then the NetworkLab component, as
// index.ts builds it), with the time measured up to the last resource registration.
//
// usage: tsx bench/pulumiEval.ts '<EvalCase as JSON>'   -> prints one JSON line (EvalSample) on stdout
import * as pulumi from "@pulumi/pulumi";
import { NetworkLab } from "../components/networkLab.js";
import { buildPlan, checkCount } from "../src/model/index.js";
import { labOutputs } from "../src/stack/outputs.js";
import { labSteps } from "../src/stack/steps.js";
import { type EvalCase, evalConfig } from "./configs.js";

export interface EvalSample {
  id: string;
  ok: boolean;
  error?: string;
  /** buildPlan: validation, addresses, checks. */
  planMs: number;
  /** From the start (buildPlan included) to the last resource registration. */
  evalMs: number;
  resources: number;
  checks: number;
  /** Size of the plan as JSON (its checks included): what the model hands around at this size. */
  planJsonMB: number;
  /** RSS after loading the modules, before the program ran. */
  baseRssMB: number;
  /** Peak RSS of this process (process.resourceUsage().maxRSS). */
  maxRssMB: number;
}

const MB = 1024 * 1024;

export async function evaluate(c: EvalCase): Promise<EvalSample> {
  if (c.sourceMaps === false) process.setSourceMapsEnabled(false);
  const baseRssMB = process.memoryUsage().rss / MB;
  let registered = 0;
  let lastAt = performance.now();
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        registered++;
        lastAt = performance.now();
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "docker:index/remoteImage:RemoteImage") state["imageId"] = `sha256:${args.name}`;
        if (args.type === "command:local:Command") {
          // The verifier's report, kept tiny: the mock's own cost must not be measured as the program's.
          state["stdout"] = JSON.stringify({ summary: { passed: 0, expectedFailures: 0, failed: 0 }, results: [] });
          state["stderr"] = "";
        }
        return { id: `${args.name}-id`, state };
      },
      call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        if (args.token === "docker:index/getNetwork:getNetwork") return { id: `${String(args.inputs["name"])}-id`, name: args.inputs["name"] };
        if (args.token === "consul:index/getKeyPrefix:getKeyPrefix") return { id: "kv", pathPrefix: "docker/", datacenter: "dc1", subkeys: {} };
        return {};
      },
    },
    "lab",
    `bench-${c.id}`,
    false,
  );
  const t0 = performance.now();
  const plan = buildPlan(evalConfig(c));
  const planMs = performance.now() - t0;
  const lab = new NetworkLab(plan.name, { plan, steps: labSteps(plan, {}) });
  labOutputs(plan, lab);
  // Registrations resolve asynchronously: wait until nothing new arrives for a while.
  const quietMs = 500 + checkCount(plan.checks) / 1000;
  let seen = -1;
  let stableSince = performance.now();
  while (performance.now() - stableSince < quietMs) {
    await new Promise((r) => setTimeout(r, 20));
    if (registered !== seen) {
      seen = registered;
      stableSince = performance.now();
    }
  }
  let planJson = 0;
  try {
    planJson = JSON.stringify(plan).length;
  } catch {
    planJson = Number.NaN; // longer than a JS string can be
  }
  return {
    id: c.id,
    ok: true,
    planMs,
    evalMs: lastAt - t0,
    resources: registered,
    checks: checkCount(plan.checks),
    planJsonMB: planJson / MB,
    baseRssMB,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  };
}

async function main(): Promise<void> {
  const c = JSON.parse(process.argv[2] ?? "null") as EvalCase | null;
  if (!c || typeof c.id !== "string") {
    process.stderr.write("usage: tsx bench/pulumiEval.ts '{\"id\":\"2-hosts\",\"hosts\":2,\"containers\":2,\"verification\":true}'\n");
    process.exit(2);
  }
  const sample = await evaluate(c);
  process.stdout.write(JSON.stringify(sample) + "\n");
  // Pulumi's runtime keeps handles open; the measurement is done.
  process.exit(0);
}

if (process.argv[1]?.endsWith("pulumiEval.ts")) {
  main().catch((e: unknown) => {
    process.stderr.write(`pulumiEval: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}

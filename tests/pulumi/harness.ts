// Runs the lab program under Pulumi mocks and records every registered resource and invoke.
import * as pulumi from "@pulumi/pulumi";
import { NetworkLab } from "../../components/networkLab.js";
import { type LabConfigInput, type LabPlan, buildPlan, expandChecks } from "../../src/model/index.js";
import { briefOf, buildReport, type CheckResult, checkResult } from "../../src/verify/index.js";
import { labSteps } from "../../src/stack/steps.js";

export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** "urn::id" of the explicit provider, if any. */
  provider?: string;
  id: string;
  /** Names of the resources this one depends on, as the engine receives them. */
  dependsOn: string[];
  parent?: string;
  /** Names of the resources whose replacement replaces this one (the replaceWith option). */
  replaceWith: string[];
  deleteBeforeReplace: boolean;
  /** The additionalSecretOutputs option. */
  secretOutputs: string[];
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getReplaceWithList(): string[];
  getDeletebeforereplace(): boolean;
  getAdditionalsecretoutputsList(): string[];
}

export interface LabRun {
  plan: LabPlan;
  lab: NetworkLab;
  resources: Registered[];
  invokes: { token: string; args: Record<string, unknown> }[];
  byType(type: string): Registered[];
  one(type: string, name: string): Registered;
}

let runCounter = 0;

/** The verifier's results for a plan: every check as expected, but those in failIds. */
export function fakeResults(plan: LabPlan, failIds: string[] = []): CheckResult[] {
  return expandChecks(plan.checks).map((c) => {
    const bad = failIds.includes(c.id);
    const outcome = bad ? (c.expect === "pass" ? "fail" : "pass") : c.expect === "pass" ? "pass" : "fail";
    // The verifier's own result builder: a check expected not to run is one that could not (an error).
    return checkResult(
      c,
      {
        outcome,
        detail: bad ? "100% packet loss" : "as expected",
        // A measured series reports what it measured.
        ...(c.measure ? { data: { sent: c.measure.count, received: c.measure.count - 5, lossPct: 25 } } : {}),
      },
      !bad && c.expect === "no-run",
      12,
    );
  });
}

/** What the mocked verifier prints (--json-summary): every planned check passed or failed as expected. */
export function fakeVerifierStdout(plan: LabPlan, failIds: string[] = []): string {
  return JSON.stringify(briefOf(buildReport(plan.name, new Date(0), 1500, fakeResults(plan, failIds))));
}

export async function runLab(config: LabConfigInput, extra: { sshKeys?: Record<string, string> } = {}): Promise<LabRun> {
  const plan = buildPlan(config);
  const resources: Registered[] = [];
  const invokes: LabRun["invokes"] = [];
  const requests = new Map<string, RegisterRequest>();
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        const id = `${args.name}-id`;
        const meta = requests.get(`${args.type}::${args.name}`);
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs as Record<string, unknown>,
          ...(args.provider ? { provider: args.provider } : {}),
          id,
          dependsOn: (meta?.getDependenciesList() ?? []).map(nameOfUrn).sort(),
          ...(meta?.getParent() ? { parent: nameOfUrn(meta.getParent()) } : {}),
          replaceWith: (meta?.getReplaceWithList() ?? []).map(nameOfUrn).sort(),
          deleteBeforeReplace: meta?.getDeletebeforereplace() ?? false,
          secretOutputs: meta?.getAdditionalsecretoutputsList() ?? [],
        });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "docker:index/remoteImage:RemoteImage") state["imageId"] = `sha256:${args.name}`;
        if (args.type === "command:local:Command") {
          const create = String(args.inputs["create"] ?? "");
          const echo = /^echo (\S+)$/.exec(create);
          state["stdout"] = create.includes("src/cli/tls.ts ca")
            ? JSON.stringify({ caCert: "CA-CERT", caKey: "CA-KEY", clientCert: "CLIENT-CERT", clientKey: "CLIENT-KEY" })
            : create.includes("src/cli/tls.ts server")
              ? JSON.stringify({ cert: `SERVER-CERT ${create}`, key: "SERVER-KEY" })
              : create.includes("verify")
                ? fakeVerifierStdout(plan)
                : create.includes("swarm") && create.includes("init")
                  ? "swarm initialized\nSWMTKN-1-secret-token"
                  : echo
                    ? `${echo[1]}\n`
                    : "";
          state["stderr"] = "";
        }
        if (args.type === "command:remote:Command") state["stdout"] = "";
        return { id, state };
      },
      call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        invokes.push({ token: args.token, args: args.inputs as Record<string, unknown> });
        if (args.token === "docker:index/getNetwork:getNetwork")
          return { id: `${String(args.inputs["name"])}-id`, name: args.inputs["name"] };
        if (args.token === "consul:index/getKeyPrefix:getKeyPrefix") {
          return {
            id: "kv",
            pathPrefix: "docker/",
            datacenter: "dc1",
            subkeys: {
              "nodes/198.18.0.11:2376": "",
              "nodes/198.18.0.12:2376": "",
              "network/v1.0/network/ov_net1-id/": JSON.stringify({ name: "ov_net1", networkType: "overlay", id: "ov_net1-id" }),
            },
          };
        }
        return {};
      },
    },
    "lab",
    `test${++runCounter}`,
    false,
  );
  // The mock monitor drops dependencies and parents; capture them from the requests it receives.
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: RegisterRequest, cb: unknown) => unknown };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    requests.set(`${req.getType()}::${req.getName()}`, req);
    return register(req, cb);
  };
  const sshKeys = Object.fromEntries(Object.entries(extra.sshKeys ?? {}).map(([k, v]) => [k, pulumi.secret(v)]));
  const lab = new NetworkLab(plan.name, { plan, steps: labSteps(plan), sshKeys });
  await settle(resources);
  return {
    plan,
    lab,
    resources,
    invokes,
    byType: (type) => resources.filter((r) => r.type === type),
    one: (type, name) => {
      const found = resources.filter((r) => r.type === type && r.name === name);
      if (found.length !== 1)
        throw new Error(
          `expected one ${type} named ${name}, found ${found.length}: ${resources.map((r) => `${r.type}/${r.name}`).join(", ")}`,
        );
      return found[0]!;
    },
  };
}

/** Waits until no resource has been registered for a while (mocks resolve asynchronously). */
async function settle(resources: Registered[]): Promise<void> {
  let last = -1;
  let stableSince = Date.now();
  while (Date.now() - stableSince < 150) {
    await new Promise((r) => setTimeout(r, 10));
    if (resources.length !== last) {
      last = resources.length;
      stableSince = Date.now();
    }
  }
}

function nameOfUrn(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

export function promiseOf<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) =>
    o.apply((v) => {
      resolve(v);
      return v;
    }),
  );
}

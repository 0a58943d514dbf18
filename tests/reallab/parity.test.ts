// One lab, one description: the lab `npm run lab -- up` builds on real daemons and the arguments the
// Pulumi program gives the docker provider (under the mocks; CI has no provider plugins) come from the
// same specs, field by field. The lab is the shapes lab of the engine suites: three hosts, two overlays
// created on two hosts (one with an MTU), a container on both (aliases), a macvlan on its own subnet.
// `npm run test:engine` (tests/lifecycle/parity.test.ts) compares a `pulumi up` lab with this one.
import { expect, it } from "vitest";
import { dockerOk, hostOf } from "../../src/lab/workloads.js";
import { networkHosts } from "../../src/model/index.js";
import { shapesLab } from "../lifecycle/shapes.js";
import { type Registered, runLab } from "../pulumi/harness.js";
import { describeRealLab } from "./gate.js";
import { useNetnsLab } from "./harness.js";
import { containerFactsFromArgs, containerFactsFromInspect, networkFactsFromArgs, networkFactsFromInspect, planSpecs } from "./parity.js";

const config = { ...shapesLab("par1", "198.18.64.0/24"), kv: { kind: "etcd" as const } };

/** The host a registered resource lives on: its explicit provider is `<lab>-<host>-provider`. */
function hostOfResource(r: Registered, lab: string): string {
  const m = new RegExp(`::${lab}-([a-z0-9-]+)-provider::`).exec(r.provider ?? "");
  if (!m) throw new Error(`${r.type} ${r.name} has no host provider (${r.provider ?? "none"})`);
  return m[1]!;
}

describeRealLab("parity: npm run lab and the Pulumi components make their Docker objects from the same specs", () => {
  const lab = useNetnsLab(config, { workloads: true });
  const plan = lab.plan;
  const specs = planSpecs(plan);

  it("every container: the spec, the component's arguments and the container the lab driver made agree field by field", async () => {
    const run = await runLab({ ...config, hostKind: "netns" });
    const registered = run.byType("docker:index/container:Container");
    expect(registered.map((r) => `${hostOfResource(r, plan.name)}/${String(r.inputs["name"])}`).sort()).toEqual(
      Object.keys(specs.containers).sort(),
    );
    for (const r of registered) {
      const key = `${hostOfResource(r, plan.name)}/${String(r.inputs["name"])}`;
      const want = specs.containers[key]!;
      expect(containerFactsFromArgs(r.inputs), `${key} (component)`).toEqual(want);
      const host = hostOf(plan, key.split("/")[0]!);
      const [inspect] = JSON.parse(await dockerOk(host, ["container", "inspect", want.name])) as Record<string, unknown>[];
      const image = String((inspect!["Config"] as { Image: string }).Image);
      const [img] = JSON.parse(await dockerOk(host, ["image", "inspect", image])) as { Config: { Env: string[] | null } }[];
      expect(containerFactsFromInspect(inspect!, img!.Config.Env ?? []), `${key} (npm run lab)`).toEqual(want);
    }
  });

  it("every network on every host: the spec, the component's arguments and the network the lab driver made agree", async () => {
    const run = await runLab({ ...config, hostKind: "netns" });
    const registered = run.byType("docker:index/network:Network");
    expect(registered.map((r) => `${hostOfResource(r, plan.name)}/${String(r.inputs["name"])}`).sort()).toEqual(
      Object.keys(specs.networks).sort(),
    );
    for (const r of registered) {
      const key = `${hostOfResource(r, plan.name)}/${String(r.inputs["name"])}`;
      const want = specs.networks[key]!;
      expect(networkFactsFromArgs(r.inputs), `${key} (component)`).toEqual(want);
      const [inspect] = JSON.parse(await dockerOk(hostOf(plan, key.split("/")[0]!), ["network", "inspect", want.name])) as Record<
        string,
        unknown
      >[];
      expect(networkFactsFromInspect(inspect!), `${key} (npm run lab)`).toEqual(want);
    }
    // Each network object exists where its spec says, and only there (overlays spread through the KV store).
    expect(plan.networks.map((n) => [n.name, networkHosts(n)])).toEqual([
      ["ov_a", ["host1"]],
      ["ov_b", ["host2"]],
      ["mv_own", ["host1", "host2", "host3"]],
    ]);
  });
});

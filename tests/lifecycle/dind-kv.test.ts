// The README's quick start, run for real: the default dind lab (kv mode, Consul, two Docker-in-Docker
// hosts, ov_net1, mv_net1, test1..test3) on an outer engine of the tests' own, with the images built
// locally (no registry here serves docker:*-dind, hashicorp/consul or busybox: lab:images names them,
// as a user behind a mirror or an air gap does). Then the lab tools against it, as README shows them,
// a preview that must change nothing, and a destroy that leaves the engine as it was.
import { describe, expect, it } from "vitest";
import { checkCount, type DockerKvSummary, type LabConfigInput } from "../../src/model/index.js";
import { LOCAL_IMAGES, useOuterEngine } from "./dind.js";
import { assertDindLocked } from "./dindSecurity.js";
import { savedVerification, timed, useLabStack, verificationOf } from "./harness.js";

describe("dind kv with Consul: up, Consul's records, npm run verify / inspect, no-change preview, destroy", () => {
  const outer = useOuterEngine();
  // The default lab (name `lab`, so README's `npm run verify` / `npm run inspect` without --config are
  // its commands), but for the images.
  const config: LabConfigInput = { hostKind: "dind", images: LOCAL_IMAGES };
  const lab = useLabStack("enginetest-dind-kv", config, () => ({ DOCKER_HOST: outer.dockerHost() }), outer.stackOptions());

  it("comes up and verifies clean: ov_net1 spans both hosts through Consul, mv_net1, test1..test3", async () => {
    // The CLI runs in the outer engine's namespace, which the Automation API's event stream does not
    // reach (see LabStackOptions.runUnder): the plan is read from what the preview prints.
    const fresh = await timed(lab, "fresh preview", () => lab.stack.preview());
    expect(fresh.stdout).toMatch(/\+ 38 to create/);
    const out = await timed(lab, "up", () => lab.up());
    const v = verificationOf(out);
    expect(v.summary.failed).toBe(0);
    // Every planned check ran; the one expected failure is a host pinging its own macvlan child.
    expect(v.summary.passed + v.summary.expectedFailures).toBe(checkCount(lab.plan.checks));
    expect(v.summary.expectedFailures).toBe(1);
    const vx = savedVerification().results.filter((c) => c.id.startsWith("vxlan:"));
    expect(vx).toHaveLength(2);
    for (const c of vx) expect(c.detail).toMatch(/\(VNI \d+\)/);
    expect(out["consulUi"]).toBe("http://127.0.0.1:8500/ui/");
    const hosts = out["hosts"] as Record<string, { endpoint: string; kind: string }>;
    expect(hosts["host1"]).toMatchObject({ endpoint: "tcp://127.0.0.1:23751", kind: "dind" });
    expect(hosts["host2"]).toMatchObject({ endpoint: "tcp://127.0.0.1:23752", kind: "dind" });
    const networks = out["networks"] as Record<string, { seenOn?: Record<string, string>; ids?: Record<string, string> }>;
    // The overlay is created on host1 and read back on host2 with the same id: it came through the KV store.
    expect(networks["ov_net1"]!.seenOn!["host2"]).toBe(networks["ov_net1"]!.seenOn!["host1"]);
    expect(Object.keys(networks["mv_net1"]!.ids!).sort()).toEqual(["host1", "host2"]);
  });

  it("no way in: each host's API answers the lab's client certificate only (the docker CLI line works), no local user or workload; the keys are in no output and no file but the client's own", async () => {
    const out = Object.fromEntries(Object.entries(await lab.stack.outputs()).map(([k, v]) => [k, v.value]));
    await timed(lab, "security checks", async () => assertDindLocked(lab, out, outer.dockerHost()));
  });

  it("@pulumi/consul reads back from the real Consul: both daemons and ov_net1 with its VNI", async () => {
    const out = await lab.stack.outputs();
    const kv = out["kvRegistrations"]!.value as DockerKvSummary;
    expect(kv.nodes).toEqual(["198.18.0.11:2376", "198.18.0.12:2376"]);
    const ov = kv.networks.find((n) => n.name === "ov_net1");
    expect(ov).toMatchObject({ type: "overlay", subnets: ["198.18.100.0/24"] });
    // The first VXLAN network of a fresh store gets VNI 256 (libnetwork's first id).
    expect(ov!.vni).toEqual([256]);
    expect(kv.endpoints.filter((e) => e.network === ov!.id).map((e) => [e.name, e.address, e.host])).toEqual([
      ["test1", "198.18.100.2/24", "198.18.0.11"],
      ["test2", "198.18.100.3/24", "198.18.0.12"],
    ]);
  });

  it("npm run verify and npm run inspect, as README writes them, work against the running lab", async () => {
    const verify = await timed(lab, "npm run verify", () => outer.npmRun("verify"));
    expect(verify.out).toContain("tcp://127.0.0.1:23751");
    expect(verify.out).toMatch(/verify: \d+ passed, 1 expected failure, 0 failed/);
    expect(verify.code).toBe(0);
    const inspect = await timed(lab, "npm run inspect", () => outer.npmRun("inspect"));
    expect(inspect.code, inspect.out).toBe(0);
    expect(inspect.out).toMatch(
      /host1\s+dind\s+198\.18\.0\.11\s+tcp:\/\/127\.0\.0\.1:23751\s+yes\s+20\.10\.24\+dfsg1\+consul\+nsfix\+zklist\s+cluster-store consul:\/\/198\.18\.0\.2:8500/,
    );
    expect(inspect.out).toContain("cluster-store consul://198.18.0.2:8500");
    expect(inspect.out).toMatch(/ov_net1\s+overlay\s+global\s+198\.18\.100\.0\/24\s+256/);
    expect(inspect.out).toMatch(/test3\s+host1\s+running/);
  });

  it("a second preview shows no changes", async () => {
    await timed(lab, "no-change preview", () => lab.stack.preview({ expectNoChanges: true }));
  });
});

// lab:faults and lab:expect under the real engine on dind hosts (Docker-in-Docker on the tests' outer
// engine): the faults run inside the host containers (`docker exec -i ... sh -s`, the dind image's own
// iptables and ip), the hosts' APIs and the KV store spared from the loss. Up with faults verified clean;
// `npm run inspect` lists them per host; a fault changed in place (the preview updates that fault and the
// verification only); the faults removed and that up's verification clean; no-change previews; destroy
// leaving the engine as it was (the harness).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { checkCount, type LabConfigInput, type LabPlan } from "../../src/model/index.js";
import { LOCAL_IMAGES, useOuterEngine } from "./dind.js";
import { type StackVerification, timed, useLabStack, verificationOf } from "./harness.js";

const base: LabConfigInput = {
  name: "df1",
  hostKind: "dind",
  images: LOCAL_IMAGES,
  expect: [
    { name: "test2 reaches test1 by name", from: "test2", to: "test1", network: "ov_net1" },
    { name: "test1 reaches the external target", from: "test1", to: "external" },
  ],
};
const withFaults = (loss: string): LabConfigInput => ({
  ...base,
  faults: [
    { host: "host2", kind: "loss", loss },
    { name: "small-underlay", host: "host1", kind: "mtu", mtu: 1400 },
  ],
});

function clean(v: StackVerification, plan: LabPlan): void {
  expect(v.summary.failed, JSON.stringify(v.failures, null, 2)).toBe(0);
  expect(v.summary.passed + v.summary.expectedFailures).toBe(checkCount(plan.checks));
  for (const e of v.expectations) expect(e.ok, `${e.name}: ${e.detail}`).toBe(true);
}

describe("dind: faults inside the host containers, through the engine", () => {
  const outer = useOuterEngine();
  const lab = useLabStack("enginetest-dind-faults", withFaults("30%"), () => ({ DOCKER_HOST: outer.dockerHost() }), outer.stackOptions());
  const tmp = mkdtempSync(join(tmpdir(), "dind-faults-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  /** A command in a host container (on the outer engine). */
  const inHost = (host: string, script: string): string =>
    execFileSync("/usr/bin/docker", ["-H", outer.dockerHost(), "exec", `df1-${host}`, "sh", "-c", script], { encoding: "utf8" });

  it("up with faults: verified clean, the loss measured through host2; inspect lists the faults per host", async () => {
    const out = await timed(lab, "up", () => lab.up());
    const v = verificationOf(out);
    clean(v, lab.plan);
    const loss = v.measurements.filter((m) => m.id.startsWith("loss:"));
    expect(loss).toHaveLength(2);
    for (const m of loss) expect(m.lossPct, m.id).toBeGreaterThan(0);
    console.log(`[engine] dind loss 30% on host2, measured: ${loss.map((m) => `${m.id} ${m.lossPct}%`).join(", ")}`);
    // Inside the host containers: host2's chains (the API's TLS port and Consul's spared), host1's MTU.
    const rules = inHost("host2", "iptables -S");
    expect(rules).toMatch(/-A DNLAB-[0-9a-f]{8}-I -p tcp -m tcp --dport 2376 -j RETURN/);
    expect(rules).toMatch(/-A DNLAB-[0-9a-f]{8}-I -p tcp -m tcp --dport 8500 -j RETURN/);
    expect(inHost("host1", "ip -o link show dev eth0")).toContain(" mtu 1400 ");
    const config = join(tmp, "lab.json");
    writeFileSync(config, JSON.stringify(withFaults("30%")));
    const inspect = await timed(lab, "npm run inspect", () => outer.npmRun("inspect", "--config", config, "--no-vni"));
    expect(inspect.code, inspect.out).toBe(0);
    expect(inspect.out).toMatch(/host2 +loss-host2 +loss +30% +active/);
    expect(inspect.out).toMatch(/host1 +small-underlay +mtu +MTU 1400 +active/);
  });

  it("a second preview shows no changes", async () => {
    await timed(lab, "no-change preview", () => lab.stack.preview({ expectNoChanges: true }));
  });

  it("a fault changed in place: the preview updates that fault and the verification only; up converges clean", async () => {
    lab.configure(withFaults("20%"));
    // The CLI runs in the outer engine's namespace, out of the event stream's reach: read what the preview prints.
    const p = await lab.stack.preview();
    expect(p.stdout).toMatch(/~ 2 to update/);
    expect(p.stdout).not.toMatch(/to (create|delete|replace)/);
    expect(p.stdout).toMatch(/~ +command:local:Command +df1-fault-loss-host2 +update/);
    expect(p.stdout).toMatch(/~ +command:local:Command +df1-verify +update/);
    const out = await timed(lab, "fault changed", () => lab.up());
    clean(verificationOf(out), lab.plan);
    expect(inHost("host2", "iptables -S")).toContain("--probability 0.2");
  });

  it("faults removed: that up's verification is clean with every check passing; the hosts' chains and MTU as before", async () => {
    lab.configure(base);
    const p = await lab.stack.preview();
    expect(p.stdout).toMatch(/- 4 to delete/);
    expect(p.stdout).toMatch(/~ 1 to update/);
    expect(p.stdout).not.toMatch(/to (create|replace)/);
    const out = await timed(lab, "faults removed", () => lab.up());
    const v = verificationOf(out);
    clean(v, lab.plan);
    expect(v.summary.expectedFailures).toBe(1);
    expect(v.measurements).toEqual([]);
    expect(inHost("host2", "iptables -S")).not.toContain("DNLAB-");
    expect(inHost("host1", "ip -o link show dev eth0")).toContain(" mtu 1500 ");
    expect(inHost("host2", "ls -A /run/dnlab-faults 2>/dev/null || true").trim()).toBe("");
    await timed(lab, "no-change preview after", () => lab.stack.preview({ expectNoChanges: true }));
  });
});

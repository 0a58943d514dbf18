// npm run inspect against a real netns lab (etcd kv mode, the reference scenario) brought up with the
// lab driver: what it reports must match the daemons and the plan, the last verification saved by
// `npm run verify -- --save` shows up, and a stopped container or a dead endpoint makes it unhealthy.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, expect, it } from "vitest";
import { main as inspectMain } from "../../src/cli/inspect.js";
import { main as verifyMain } from "../../src/cli/verify.js";
import type { InspectReport } from "../../src/inspect/index.js";
import { dockerOk, hostOf } from "../../src/lab/workloads.js";
import type { LabConfigInput } from "../../src/model/index.js";
import { describeRealLab } from "./gate.js";
import { useNetnsLab } from "./harness.js";

class Sink extends Writable {
  text = "";
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function inspect(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new Sink();
  const err = new Sink();
  const code = await inspectMain(args, out, err);
  return { code, out: out.text, err: err.text };
}

describeRealLab("npm run inspect on a real netns lab (etcd kv mode)", () => {
  const config: LabConfigInput = { name: "in1", hostKind: "netns", kv: { kind: "etcd" } };
  const lab = useNetnsLab(config, { workloads: true });
  const plan = lab.plan;
  const dir = mkdtempSync(join(os.tmpdir(), "inspect-real-"));
  const cfg = join(dir, "lab.json");
  const saved = join(dir, "last-verify.json");
  writeFileSync(cfg, JSON.stringify(config));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reports hosts, networks (ids, ranges, VNI) and containers as the daemons see them", async () => {
    const r = await inspect(["--config", cfg, "--json", "--verify-file", saved]);
    expect(r.err).toBe("");
    const j = JSON.parse(r.out) as InspectReport;
    expect(j.healthy).toBe(true);
    expect(r.code).toBe(0);
    for (const h of j.hosts) {
      expect(h).toMatchObject({
        reachable: true,
        hostname: h.name,
        clusterStore: "etcd://198.18.0.2:2379",
        clusterAdvertise: `${hostOf(plan, h.name).address}:2376`,
      });
      expect(h.dockerVersion).toMatch(/^20\.10\./);
      expect(h.mode).toBe(`cluster-store etcd://198.18.0.2:2379 (advertise ${hostOf(plan, h.name).address}:2376)`);
    }
    const ov = j.networks.find((n) => n.name === "ov_net1")!;
    expect(ov).toMatchObject({ driver: "overlay", scope: "global", subnet: "198.18.100.0/24", vniSource: "etcd record" });
    // Classic overlay: VNIs start at 256 (lab-recipe.md saw vni 256 for the first network).
    expect(ov.vni).toBeGreaterThanOrEqual(256);
    expect(ov.hosts.every((h) => h.present && h.id === ov.hosts[0]!.id)).toBe(true);
    const mv = j.networks.find((n) => n.name === "mv_net1")!;
    const planned = plan.networks.find((n) => n.name === "mv_net1");
    expect(mv).toMatchObject({ driver: "macvlan", scope: "local" });
    expect(mv.hosts.map((h) => h.ipRange)).toEqual(planned?.driver === "macvlan" ? planned.ranges.map((x) => x.ipRange) : []);
    expect(mv.hosts[0]!.id).not.toBe(mv.hosts[1]!.id);
    expect(j.containers.map((c) => [c.name, c.host, c.state, c.ips, c.problems])).toEqual(
      plan.workloads.map((w) => [w.name, w.host, "running", { [w.attachments[0]!.network]: w.attachments[0]!.ipv4 }, []]),
    );
    expect(j.lastVerification).toMatchObject({ found: false, file: saved });
  });

  it("shows the verification saved by npm run verify -- --save", async () => {
    const vOut = new Sink();
    const vErr = new Sink();
    const code = await verifyMain(["--config", cfg, "--json-summary", "--quiet", "--save", saved], vOut, vErr);
    // --json-summary --quiet (the stack's way): stderr has only the one summary line that pulumi up shows,
    // stdout the summary without per-check results; the saved file has every check.
    expect(vErr.text).toMatch(/^verify: 19 passed, 1 expected failure, 0 failed \(\d+\.\d+s wall\)\n$/);
    expect(code).toBe(0);
    const brief = JSON.parse(vOut.text) as Record<string, unknown>;
    expect(brief["results"]).toBeUndefined();
    expect(brief).toMatchObject({
      ok: true,
      failures: [],
      counts: { ov_net1: { "ping-name": { passed: 2, expectedFailures: 0, failed: 0 } } },
    });
    expect((JSON.parse(readFileSync(saved, "utf8")) as { results: unknown[] }).results).toHaveLength(20);
    const r = await inspect(["--config", cfg, "--verify-file", saved]);
    expect(r.out).toMatch(new RegExp(`LAST VERIFICATION \\(${saved.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\)\\n  OK: lab in1 at `));
    expect(r.out).toMatch(/verify: \d+ passed, 1 expected failure, 0 failed/);
    expect(r.out).toMatch(/ov_net1 +overlay +global +198\.18\.100\.0\/24 +\d+ +host1 +[0-9a-f]{12}/);
    console.log(`[real-lab] inspect:\n${r.out}`);
  }, 180_000);

  it("a stopped container and an unreachable endpoint make the lab unhealthy (exit 1)", async () => {
    const h1 = hostOf(plan, "host1");
    await dockerOk(h1, ["stop", "-t", "1", "test1"]);
    try {
      const r = await inspect([
        "--config",
        cfg,
        "--no-vni",
        "--verify-file",
        saved,
        "--endpoint",
        `host2=unix://${plan.netns!.root}/no-such.sock`,
        "--timeout",
        "2",
      ]);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/NOT healthy/);
      expect(r.out).toMatch(/test1 +host1 +exited \(\d+\)/);
      expect(r.out).toMatch(/host2 +netns +198\.18\.0\.12 +unix:\/\/\S+no-such\.sock +no \(/);
      expect(r.out).toMatch(/test2 +host2 +unknown \(host unreachable\)/);
    } finally {
      await dockerOk(h1, ["start", "test1"]);
    }
  }, 60_000);
});

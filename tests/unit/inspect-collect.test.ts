// npm run inspect against fake hosts: what it reports, the tables, the JSON and the CLI.
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { main, parseInspectCli, UsageError } from "../../src/cli/inspect.js";
import { alignedTable, formatInspect, inspectLab, readLastVerification } from "../../src/inspect/index.js";
import { kvRecordUrl } from "../../src/model/index.js";
import { buildPlan, type LabPlan } from "../../src/model/index.js";
import { fakesFor, type InspectFake, runningContainer } from "./inspect-fake.js";

const tmp = mkdtempSync(join(os.tmpdir(), "inspect-test-"));
const NO_FILE = join(tmp, "none.json");

function netnsPlan(): LabPlan {
  // The reference scenario on netns hosts with etcd: ov_net1 (test1, test2) and mv_net1 (test3).
  return buildPlan({ name: "in1", hostKind: "netns", kv: { kind: "etcd" } });
}

function factory(fakes: Map<string, InspectFake>) {
  return (_endpoint: string, host: string) => fakes.get(host)!;
}

const kvRecord = JSON.stringify({
  action: "get",
  node: { value: JSON.stringify({ subnets: [{ SubnetIP: "198.18.100.0/24", Vni: 256 }] }) },
});

describe("inspectLab", () => {
  it("a lab as planned: hosts in cluster-store mode, networks per host with ranges and the VNI, containers with their IPs", async () => {
    const plan = netnsPlan();
    const fakes = fakesFor(plan);
    for (const f of fakes.values()) f.execAnswer = () => ({ exitCode: 0, stdout: kvRecord, stderr: "" });
    const r = await inspectLab(plan, { engineFactory: factory(fakes), verifyFile: NO_FILE, now: () => new Date("2026-01-01T00:00:00Z") });

    expect(r.healthy).toBe(true);
    expect(r.hosts.map((h) => [h.name, h.reachable, h.mode])).toEqual([
      ["host1", true, "cluster-store etcd://198.18.0.2:2379 (advertise eth0:2376)"],
      ["host2", true, "cluster-store etcd://198.18.0.2:2379 (advertise eth0:2376)"],
    ]);
    const ov = r.networks.find((n) => n.name === "ov_net1")!;
    expect(ov).toMatchObject({ driver: "overlay", scope: "global", subnet: "198.18.100.0/24", vni: 256, vniSource: "etcd record" });
    expect(ov.hosts.map((h) => h.id)).toEqual(["a1b2c3d4e5f6", "a1b2c3d4e5f6"]);
    const mv = r.networks.find((n) => n.name === "mv_net1")!;
    expect(mv.vni).toBeUndefined();
    expect(mv.hosts.map((h) => h.ipRange)).toEqual(["198.18.0.128/26", "198.18.0.192/26"]);
    expect(r.containers.map((c) => [c.name, c.host, c.state, c.ips])).toEqual(
      plan.workloads.map((w) => [w.name, w.host, "running", { [w.attachments[0]!.network]: w.attachments[0]!.ipv4 }]),
    );
    // The VNI came from the KV record through one running overlay container, fetched with busybox wget.
    const execs = [...fakes.values()].flatMap((f) => f.execs);
    expect(execs).toHaveLength(1);
    expect(execs[0]!.cmd).toEqual([
      "timeout",
      "3",
      "wget",
      "-q",
      "-O",
      "-",
      `http://198.18.0.2:2379/v2/keys/docker/network/v1.0/overlay/network/${"a1b2c3d4e5f6".padEnd(64, "7")}`,
    ]);
    expect([...fakes.values()].every((f) => f.closed)).toBe(true);
  });

  it("an unreachable host: not healthy, its containers unknown, its networks of unknown presence", async () => {
    const plan = netnsPlan();
    const fakes = fakesFor(plan);
    fakes.get("host2")!.unreachable = "connect ENOENT /run/dnlab/in1/host2.sock";
    const r = await inspectLab(plan, { engineFactory: factory(fakes), verifyFile: NO_FILE, readVni: false });
    expect(r.healthy).toBe(false);
    expect(r.hosts[1]).toMatchObject({ name: "host2", reachable: false, error: "connect ENOENT /run/dnlab/in1/host2.sock" });
    expect(r.containers.find((c) => c.name === "test2")).toMatchObject({ state: "unknown (host unreachable)", running: false });
    expect(r.networks.find((n) => n.name === "ov_net1")!.hosts[1]).toEqual({ host: "host2", present: undefined });
    expect(formatInspect(r)).toMatch(/host2 +netns +198\.18\.0\.12 +unix:\/\/\/run\/dnlab\/in1\/host2\.sock +no \(connect ENOENT/);
  });

  it("a stopped, a missing and a misaddressed container are problems", async () => {
    const plan = netnsPlan();
    const fakes = fakesFor(plan);
    fakes.get("host1")!.containers.set("test1", runningContainer("test1", { ov_net1: "198.18.100.9" }));
    fakes.get("host2")!.containers.set("test2", runningContainer("test2", { ov_net1: "198.18.100.3" }, "exited", 137));
    fakes.get("host1")!.containers.delete("test3");
    const r = await inspectLab(plan, { engineFactory: factory(fakes), verifyFile: NO_FILE, readVni: false });
    expect(r.healthy).toBe(false);
    const by = (n: string) => r.containers.find((c) => c.name === n)!;
    expect(by("test1").problems).toEqual(["ov_net1: 198.18.100.9, planned 198.18.100.2"]);
    expect(by("test2")).toMatchObject({ state: "exited (137)", running: false });
    expect(by("test3")).toMatchObject({ state: "missing", problems: ["not created"] });
  });

  it("a network missing on a host is shown absent; a macvlan must exist on every host", async () => {
    const plan = netnsPlan();
    const fakes = fakesFor(plan);
    const h2 = fakes.get("host2")!;
    h2.networks.splice(
      h2.networks.findIndex((n) => n.Name === "mv_net1"),
      1,
    );
    const r = await inspectLab(plan, { engineFactory: factory(fakes), verifyFile: NO_FILE, readVni: false });
    expect(r.networks.find((n) => n.name === "mv_net1")!.hosts[1]).toEqual({ host: "host2", present: false });
    expect(r.healthy).toBe(false);
    expect(formatInspect(r)).toMatch(/\n +host2 +absent/);
  });

  it("swarm mode: the daemon mode and the VNI from the network's options (no exec)", async () => {
    const plan = buildPlan({
      name: "in2",
      hostKind: "netns",
      overlayMode: "swarm",
      networks: [{ name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" }],
      workloads: [{ name: "t1", host: "host1", networks: ["ov_net1"] }],
    });
    const fakes = fakesFor(plan);
    fakes.get("host1")!.info_ = { Swarm: { LocalNodeState: "active", ControlAvailable: true } };
    fakes.get("host2")!.info_ = { Swarm: { LocalNodeState: "active", ControlAvailable: false } };
    for (const f of fakes.values()) f.networks[0]!.Options = { "com.docker.network.driver.overlay.vxlanid_list": "4097" };
    const r = await inspectLab(plan, { engineFactory: factory(fakes), verifyFile: NO_FILE });
    expect(r.hosts.map((h) => h.mode)).toEqual(["swarm active (manager)", "swarm active"]);
    expect(r.networks[0]).toMatchObject({ vni: 4097, vniSource: "network options" });
    expect([...fakes.values()].flatMap((f) => f.execs)).toEqual([]);
    expect(r.kv).toBeUndefined();
  });

  it("the VNI stays unknown when the KV record cannot be read", async () => {
    const plan = netnsPlan();
    const fakes = fakesFor(plan);
    const r = await inspectLab(plan, { engineFactory: factory(fakes), verifyFile: NO_FILE });
    expect(r.networks.find((n) => n.name === "ov_net1")!.vni).toBeUndefined();
    expect(formatInspect(r)).toMatch(/ov_net1 +overlay +global +198\.18\.100\.0\/24 +- +host1/);
  });
});

describe("last verification", () => {
  const report = (lab: string, failed: boolean) =>
    JSON.stringify({
      lab,
      startedAt: "2026-01-01T00:00:00.000Z",
      wallMs: 3210,
      ok: !failed,
      summary: { total: 2, passed: failed ? 0 : 1, expectedFailures: 1, failed: failed ? 1 : 0, unexpectedPasses: 0, errors: 0 },
      results: [
        { id: "ping-name:test1->test2@ov_net1", ok: !failed, detail: failed ? "100% packet loss" : "3/3 replies" },
        { id: "host-ping:host1->test3@mv_net1", ok: true, detail: "no reply" },
      ],
    });

  it("reads a saved report, lists what failed, and flags a report of another lab", () => {
    const f = join(tmp, "v1.json");
    writeFileSync(f, report("other", true));
    const v = readLastVerification(f, "in1");
    expect(v).toMatchObject({
      found: true,
      ok: false,
      lab: "other",
      otherLab: true,
      failed: [{ id: "ping-name:test1->test2@ov_net1", detail: "100% packet loss" }],
    });
  });

  it("is shown under the tables; absent or broken files say what to do", async () => {
    const plan = netnsPlan();
    const ok = join(tmp, "ok.json");
    writeFileSync(ok, report("in1", false));
    const text = formatInspect(await inspectLab(plan, { engineFactory: factory(fakesFor(plan)), verifyFile: ok, readVni: false }));
    expect(text).toContain(
      `LAST VERIFICATION (${ok})\n  OK: lab in1 at 2026-01-01T00:00:00.000Z in 3.21s\n  verify: 1 passed, 1 expected failure, 0 failed`,
    );
    const none = formatInspect(await inspectLab(plan, { engineFactory: factory(fakesFor(plan)), verifyFile: NO_FILE, readVni: false }));
    expect(none).toContain(`none saved; run: npm run verify -- --save ${NO_FILE}`);
    const bad = join(tmp, "bad.json");
    writeFileSync(bad, "{}");
    expect(readLastVerification(bad, "in1").error).toMatch(/not a verification report/);
  });
});

describe("tables and helpers", () => {
  it("aligns columns and leaves the last one unpadded", () => {
    expect(
      alignedTable(
        ["A", "LONGER"],
        [
          ["xxxx", "1"],
          ["y", "22"],
        ],
      ),
    ).toBe("A     LONGER\nxxxx  1\ny     22");
  });
  it("KV record URLs for etcd and consul", () => {
    expect(kvRecordUrl({ kind: "consul", address: "198.18.0.2", port: 8500 }, "abc")).toBe(
      "http://198.18.0.2:8500/v1/kv/docker/network/v1.0/overlay/network/abc/?raw",
    );
    expect(kvRecordUrl({ kind: "zookeeper", address: "198.18.0.2", port: 2181 }, "abc")).toBeUndefined();
  });
});

class Sink extends Writable {
  text = "";
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe("inspect CLI", () => {
  const cfg = join(tmp, "lab.json");
  writeFileSync(cfg, JSON.stringify({ name: "in1", hostKind: "netns", kv: { kind: "etcd" } }));

  it("usage errors name the flag and the fix, before anything is contacted", () => {
    expect(() => parseInspectCli(["--endpoint", "nohost"])).toThrow(/write it as HOST=URL/);
    expect(() => parseInspectCli(["--config", cfg, "--endpoint", "host9=unix:///x.sock"])).toThrow(/no host named "host9"/);
    expect(() => parseInspectCli(["--config", cfg, "--endpoint", "host1=ftp://x"])).toThrow(/unsupported scheme/);
    expect(() => parseInspectCli(["--config", cfg, "--plan", cfg])).toThrow(UsageError);
    expect(() => parseInspectCli(["--timeout", "0"])).toThrow(/positive number/);
    writeFileSync(join(tmp, "badcfg.json"), JSON.stringify({ hostKind: "vm" }));
    expect(() => parseInspectCli(["--config", join(tmp, "badcfg.json")])).toThrow(/hostKind/);
  });

  it("--json prints the report; exit 0 when as planned, 1 when not, 2 on bad usage", async () => {
    const plan = buildPlan({ name: "in1", hostKind: "netns", kv: { kind: "etcd" } });
    const fakes = fakesFor(plan);
    const out = new Sink();
    const err = new Sink();
    const code = await main(["--config", cfg, "--json", "--no-vni", "--verify-file", NO_FILE], out, err, { engineFactory: factory(fakes) });
    expect(code).toBe(0);
    const j = JSON.parse(out.text) as { lab: string; healthy: boolean; containers: { name: string }[] };
    expect(j).toMatchObject({ lab: "in1", healthy: true });
    expect(j.containers.map((c) => c.name)).toEqual(["test1", "test2", "test3"]);

    fakes.get("host1")!.containers.delete("test1");
    const out2 = new Sink();
    expect(await main(["--config", cfg, "--no-vni", "--verify-file", NO_FILE], out2, err, { engineFactory: factory(fakes) })).toBe(1);
    expect(out2.text).toMatch(/NOT healthy/);
    expect(out2.text).toMatch(/test1 +host1 +missing/);

    const err3 = new Sink();
    expect(await main(["--bogus"], new Sink(), err3)).toBe(2);
    expect(err3.text).toMatch(/^inspect: error: .*--bogus/);
  });

  it("endpoint overrides reach the engine factory", async () => {
    const plan = buildPlan({ name: "in1", hostKind: "netns", kv: { kind: "etcd" } });
    const fakes = fakesFor(plan);
    const seen: string[] = [];
    await main(
      ["--config", cfg, "--no-vni", "--verify-file", NO_FILE, "--endpoint", "host2=tcp://127.0.0.1:2399"],
      new Sink(),
      new Sink(),
      {
        engineFactory: (e, h) => {
          seen.push(`${h}=${e}`);
          return fakes.get(h)!;
        },
      },
    );
    expect(seen).toEqual(["host1=unix:///run/dnlab/in1/host1.sock", "host2=tcp://127.0.0.1:2399"]);
  });
});

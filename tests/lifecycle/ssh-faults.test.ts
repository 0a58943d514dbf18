// lab:faults on ssh hosts under the real engine (the machines of tests/lifecycle/sshMachines.ts, kv mode
// with an external etcd): fault.sh runs on each machine over ssh, the script on stdin. An mtu fault
// added (its effect verified clean: small DF probes pass, full-size ones fail as planned), changed in
// place (the preview updates that fault and the verification only), removed with that up's
// verification clean and the machine's iptables, qdiscs, link and MTU byte for byte as before; a
// drop-vxlan fault added, then destroy putting back what was there; no-change previews between.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { VerificationOutputs } from "../../components/verification.js";
import { run } from "../../src/lab/run.js";
import { buildPlan, checkCount, type LabConfigInput, netnsCommands } from "../../src/model/index.js";
import { mustRun } from "../reallab/sshd.js";
import { netnsDiagnostics } from "./harness.js";
import { type SshMachines, useSshMachines } from "./sshMachines.js";

const LAB = "ef4";
const kvStep = netnsCommands(buildPlan({ name: LAB, hostKind: "netns", kv: { kind: "etcd" } })).kv!;

/** A machine's network state as a fault may change it (iptables without counters, qdiscs, the link, its addresses, routes). */
async function machineState(m: SshMachines, i: number): Promise<string> {
  const ns = m.plan.hosts[i]!.netns!.namespace;
  const r = await run([
    "nsenter",
    `--net=/run/netns/${ns}`,
    "sh",
    "-c",
    "iptables-save | grep -v '^#'; tc qdisc show dev eth0; ip -o link show dev eth0; ip -o addr show dev eth0; ip route",
  ]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.replace(/\[\d+:\d+\]/g, "[-]");
}
const faultDir = (m: SshMachines, i: number): string => `${m.plan.hosts[i]!.netns!.stateDir}/remote-state/faults`;

describe("ssh hosts: faults applied and removed over ssh, through the engine", () => {
  let labConfig: LabConfigInput = {};
  const base = (m: SshMachines): LabConfigInput => ({
    name: LAB,
    hostKind: "ssh",
    overlayMode: "kv",
    kv: { kind: "etcd", external: true, address: "198.18.0.2" },
    hosts: m.hostsConfig(),
    expect: [{ name: "test2 reaches test1 by name", from: "test2", to: "test1", network: "ov_net1" }],
  });
  // An MTU fault on host1's underlay: a DF ping whose VXLAN packet fits it passes, a full-size one does not.
  const withMtu = (m: SshMachines, mtu: number): LabConfigInput => ({
    ...base(m),
    faults: [{ name: "small-underlay", host: "host1", kind: "mtu", mtu }],
    expect: [
      ...base(m).expect!,
      { name: "fits the smaller underlay", from: "test2", to: "test1", network: "ov_net1", probe: "mtu", size: mtu - 78 },
      { name: "full size does not", from: "test2", to: "test1", network: "ov_net1", probe: "mtu", size: 1422, expect: "fail" },
    ],
  });
  const m = useSshMachines({
    machinesLab: LAB,
    stackName: "enginetest-ssh-faults",
    plugins: ["command", "docker"],
    config: (mm) => (labConfig = base(mm)),
    prepare: async () => void (await mustRun(kvStep.create)),
    cleanup: async () => mustRun(kvStep.delete),
  });
  const configure = (c: LabConfigInput): void => {
    labConfig = c;
    m.configure(c);
  };
  const up = async (): Promise<{ v: VerificationOutputs; out: Record<string, unknown> }> => {
    const r = await m
      .stack()
      .up({ onOutput: (o) => process.stdout.write(o) })
      .catch((e: unknown) => {
        console.log(netnsDiagnostics(m.plan));
        throw e;
      });
    const out = Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.value]));
    return { v: out["verification"] as VerificationOutputs, out };
  };
  const clean = (v: VerificationOutputs): void => {
    expect(v.summary.failed, JSON.stringify(v.failures, null, 2)).toBe(0);
    expect(v.summary.passed + v.summary.expectedFailures).toBe(checkCount(buildPlan(labConfig).checks));
    for (const e of v.expectations) expect(e.ok, `${e.name}: ${e.detail}`).toBe(true);
  };
  const times: Record<string, number> = {};
  const timed = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      times[key] = Date.now() - t0;
      console.log(`[engine] ssh-faults ${key}: ${times[key]} ms`);
    }
  };
  const before: string[] = [];
  let bare: string[] = [];

  it("up without faults: clean; each machine's network state recorded", async () => {
    bare = await Promise.all(
      [0, 1].map((i) =>
        run([
          "nsenter",
          `--net=/run/netns/${m.plan.hosts[i]!.netns!.namespace}`,
          "sh",
          "-c",
          "tc qdisc show dev eth0; ip -o link show dev eth0",
        ]).then((r) => r.stdout),
      ),
    );
    const { v } = await timed("up", up);
    clean(v);
    expect(v.summary.expectedFailures).toBe(1);
    for (const i of [0, 1]) before.push(await machineState(m, i));
  });

  it("an mtu fault added: its own resource, run over ssh; verified clean with its effect; a no-change preview", async () => {
    configure(withMtu(m, 1400));
    const p = await m.stack().preview();
    expect(p.stdout).toMatch(/\+ 2 to create/);
    expect(p.stdout).toMatch(/~ 1 to update/);
    expect(p.stdout).not.toMatch(/to (delete|replace)/);
    expect(p.stdout).toMatch(/\+[^\n]*lab:fault:Fault +ef4-fault-small-underlay +create/);
    expect(p.stdout).toMatch(/\+[^\n]*command:remote:Command +ef4-fault-small-underlay +create/);
    const { v, out } = await timed("up with mtu fault", up);
    clean(v);
    // The full-size DF probes across host1 are expected failures now, and the user's two size probes hold.
    expect(v.summary.expectedFailures).toBeGreaterThan(1);
    expect(v.expectations.map((e) => [e.name, e.status])).toEqual([
      ["test2 reaches test1 by name", "PASS"],
      ["fits the smaller underlay", "PASS"],
      ["full size does not", "XFAIL"],
    ]);
    expect((out["faults"] as { name: string }[]).map((f) => f.name)).toEqual(["small-underlay"]);
    expect(await machineState(m, 0)).toContain(" mtu 1400 ");
    expect(existsSync(faultDir(m, 0))).toBe(true);
    await timed("no-change preview", () => m.stack().preview({ expectNoChanges: true }));
  });

  it("the fault changed in place: the preview updates that fault and the verification only; up converges clean", async () => {
    configure(withMtu(m, 1300));
    const p = await m.stack().preview();
    expect(p.stdout).toMatch(/~ 2 to update/);
    expect(p.stdout).not.toMatch(/to (create|delete|replace)/);
    expect(p.stdout).toMatch(/~[^\n]*command:remote:Command +ef4-fault-small-underlay +update/);
    expect(p.stdout).toMatch(/~[^\n]*command:local:Command +ef4-verify +update/);
    const { v } = await timed("fault changed", up);
    clean(v);
    expect(await machineState(m, 0)).toContain(" mtu 1300 ");
  });

  it("the fault removed: that up's verification is clean with every check passing; both machines byte for byte as before", async () => {
    configure(base(m));
    const p = await m.stack().preview();
    expect(p.stdout).toMatch(/- 2 to delete/);
    expect(p.stdout).toMatch(/~ 1 to update/);
    expect(p.stdout).not.toMatch(/to (create|replace)/);
    const { v } = await timed("fault removed", up);
    clean(v);
    expect(v.summary.expectedFailures).toBe(1);
    expect(v.measurements).toEqual([]);
    for (const i of [0, 1]) expect((await machineState(m, i)).split("\n"), m.plan.hosts[i]!.name).toEqual(before[i]!.split("\n"));
    expect(existsSync(faultDir(m, 0))).toBe(false);
    await timed("no-change preview after", () => m.stack().preview({ expectNoChanges: true }));
  });

  it("a drop-vxlan fault on host2, verified clean (its pings fail as planned); destroy removes it with the lab", async () => {
    configure({
      ...base(m),
      faults: [{ host: "host2", kind: "drop-vxlan" }],
      expect: [{ name: "test2 cannot reach test1", from: "test2", to: "test1", network: "ov_net1", expect: "fail" }],
    });
    const { v } = await timed("up with drop-vxlan", up);
    clean(v);
    expect(v.expectations.map((e) => [e.name, e.status])).toEqual([["test2 cannot reach test1", "XFAIL"]]);
    expect(await machineState(m, 1)).toMatch(/-A DNLAB-[0-9a-f]{8}-I -p udp -m udp --dport 4789 -j DROP/);
    await timed("destroy", () => m.stack().destroy({ onOutput: (o) => process.stdout.write(o) }));
    for (const i of [0, 1]) {
      const now = await machineState(m, i);
      expect(now, m.plan.hosts[i]!.name).not.toContain("DNLAB-");
      // The underlay's qdiscs and link (its MTU, its state) as on the bare machine.
      const r = await run([
        "nsenter",
        `--net=/run/netns/${m.plan.hosts[i]!.netns!.namespace}`,
        "sh",
        "-c",
        "tc qdisc show dev eth0; ip -o link show dev eth0",
      ]);
      expect(r.stdout, m.plan.hosts[i]!.name).toBe(bare[i]);
      expect(existsSync(faultDir(m, i))).toBe(false);
    }
    console.log(`[engine] ssh-faults timings (ms): ${JSON.stringify(times)}`);
  });
});

// ssh hosts under the real engine (tests/lifecycle/sshMachines.ts), kv mode with an etcd the lab uses as
// an external KV store. The stack configures the daemons over ssh (docker-daemon.sh, pointed at each
// machine's own files through hosts[].ssh.docker), builds the classic overlay, verifies it, and destroy
// restores every daemon byte for byte.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { docker } from "../../src/lab/workloads.js";
import { buildPlan, netnsCommands } from "../../src/model/index.js";
import { REPO_ROOT } from "../../src/lab/run.js";
import { mustRun } from "../reallab/sshd.js";
import { filesContaining, needleOf } from "../security/secrets.js";
import { failed, netnsDiagnostics } from "./harness.js";
import { useSshMachines } from "./sshMachines.js";

const ORIGINAL_JSON = '{ "labels" : ["site=h1"],\n\t"log-level":"info" }\n';
// The external store: the etcd a netns kv lab of the same name would run.
const kvStep = netnsCommands(buildPlan({ name: "ek3", hostKind: "netns", kv: { kind: "etcd" } })).kv!;

describe("ssh hosts (kv mode, external etcd): up over ssh, verify, no-change preview, destroy restores", () => {
  const before: string[] = [];
  const m = useSshMachines({
    machinesLab: "ek3",
    stackName: "enginetest-ssh-kv",
    plugins: ["command", "docker"],
    config: (mm) => ({
      name: "ek3",
      hostKind: "ssh",
      overlayMode: "kv",
      kv: { kind: "etcd", external: true, address: "198.18.0.2" },
      hosts: mm.hostsConfig(),
    }),
    prepare: async (mm) => {
      await mustRun(kvStep.create);
      for (const [i] of mm.plan.hosts.entries()) before.push(mm.argvOf(i));
      // host1 has a daemon.json of its own (keys the lab does not own, odd formatting); host2 has none.
      writeFileSync(mm.daemonJson(0), ORIGINAL_JSON, { mode: 0o640 });
    },
    cleanup: async () => mustRun(kvStep.delete),
  });

  it("up configures the daemons over ssh and verifies clean on the first try", async () => {
    let printed = "";
    const r = await m
      .stack()
      .up({ onOutput: (o) => (printed += o) })
      .catch((e: unknown) => {
        console.log(netnsDiagnostics(m.plan));
        throw e;
      });
    const out = Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.value]));
    expect(failed(out), printed.slice(-4000)).toBe(0);
    // The daemons really run with the KV store now.
    for (const [i] of m.plan.hosts.entries()) expect(m.argvOf(i)).not.toBe(before[i]);
    // The lab's keys merged in, the site's kept.
    expect(JSON.parse(readFileSync(m.daemonJson(0), "utf8"))).toMatchObject({
      labels: ["site=h1"],
      "log-level": "info",
      "cluster-store": "etcd://198.18.0.2:2379",
    });
    // sshd's AcceptEnv warning about PULUMI_COMMAND_STDOUT is gone.
    expect(printed).not.toContain("PULUMI_COMMAND_STDOUT");
    // The ssh key (a secret of the stack) in nothing up printed, in no output, in no file of the lab's or
    // the engine's (the state keeps it encrypted).
    const needle = needleOf(readFileSync(m.clientKeyFile, "utf8"));
    expect(needle.length).toBeGreaterThan(40);
    expect(printed.includes(needle)).toBe(false);
    expect(JSON.stringify(r.outputs).includes(needle)).toBe(false);
    expect(filesContaining([join(REPO_ROOT, ".lab"), ...m.engineDirs()], needle)).toEqual([]);
  });

  it("a second preview shows no changes", async () => {
    await m.stack().preview({ expectNoChanges: true });
  });

  it("destroy restores each machine: daemon.json byte for byte (or absent again), original command line, no lab state, no docker_gwbridge, the machine's images kept", async () => {
    let printed = "";
    await m.stack().destroy({ onOutput: (o) => (printed += o) });
    expect(printed).not.toContain("PULUMI_COMMAND_STDOUT");
    expect(readFileSync(m.daemonJson(0), "utf8")).toBe(ORIGINAL_JSON);
    expect(existsSync(m.daemonJson(1))).toBe(false);
    for (const [i, h] of m.plan.hosts.entries()) {
      expect(m.argvOf(i)).toBe(before[i]);
      expect((await docker(h, ["network", "inspect", "docker_gwbridge"])).code, h.name).not.toBe(0);
      // The lab's state on the machine is gone.
      expect(existsSync(`${h.netns!.stateDir}/remote-state`)).toBe(false);
      // The workload image was on the machine before the lab (built with it here): destroy keeps it.
      expect((await docker(h, ["image", "inspect", "busybox:1.36.1"])).code, h.name).toBe(0);
    }
  });
});

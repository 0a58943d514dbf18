// ssh hosts under the real engine: two "machines" played by netns hosts with their own dockerd and an
// sshd in their namespace (its sessions get DOCKER_HOST, as a machine whose Docker listens elsewhere
// would set it), an etcd the lab uses as an external KV store. The stack configures the daemons over
// ssh (docker-daemon.sh, pointed at each machine's own files through hosts[].ssh.docker), builds the
// classic overlay, verifies it, and destroy restores every daemon byte for byte.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downNetnsLab, isClean, labLeftovers, upNetnsLab } from "../../src/lab/netnsLab.js";
import { REPO_ROOT } from "../../src/lab/run.js";
import { docker } from "../../src/lab/workloads.js";
import { buildPlan, type LabConfigInput, netnsCommands } from "../../src/model/index.js";
import { ensureRunSshd, mustRun, sshdDir, startSshd, stopSshd } from "../reallab/sshd.js";
import { engineAndPlugins, failed, netnsDiagnostics, stackFileText } from "./harness.js";

const STACK = "enginetest-ssh-kv";
// The machines: swarm-mode netns hosts, i.e. daemons with no cluster store, as a fresh machine has.
const machines = buildPlan({ name: "ek3", hostKind: "netns", overlayMode: "swarm", networks: [], workloads: [] });
const kvStep = netnsCommands(buildPlan({ name: "ek3", hostKind: "netns", kv: { kind: "etcd" } })).kv!;
const sw = machines.netns!.switchNamespace;
const ORIGINAL_JSON = '{ "labels" : ["site=h1"],\n\t"log-level":"info" }\n';

describe("ssh hosts (kv mode, external etcd): up over ssh, verify, no-change preview, destroy restores", () => {
  const engine = engineAndPlugins(["command", "docker"]);
  const clientKey = `${sshdDir(machines.hosts[0]!)}-client_key`;
  const daemonJson = (i: number): string => `${machines.hosts[i]!.netns!.stateDir}/daemon.json`;
  const argvOf = (i: number): string => readFileSync(`/proc/${readFileSync(machines.hosts[i]!.netns!.pidFile, "utf8").trim()}/cmdline`, "utf8");
  const config = (): LabConfigInput => ({
    name: "ek3",
    hostKind: "ssh",
    overlayMode: "kv",
    kv: { kind: "etcd", external: true, address: "198.18.0.2" },
    hosts: machines.hosts.map((h, i) => ({
      name: h.name,
      address: h.address,
      ssh: {
        user: "root",
        privateKeySecret: "sshKey",
        identityFile: clientKey,
        // The machines share one filesystem here: each keeps its lab state apart.
        stateDir: `${h.netns!.stateDir}/remote-state`,
        docker: {
          daemonJson: daemonJson(i),
          pidFile: h.netns!.pidFile,
          socket: `unix://${h.netns!.socket}`,
          logFile: `${h.netns!.stateDir}/dockerd.log`,
          execRoot: h.netns!.execRoot,
        },
      },
    })),
  });
  const file = join(REPO_ROOT, `Pulumi.${STACK}.yaml`);
  let stack: Stack | undefined;
  let cleanRunSshd = (): void => {};
  let wrapper = "";
  const before: string[] = [];
  // The machines' host keys are new each run: keep root's known_hosts free of them.
  const forgetHostKeys = (): void => {
    if (!existsSync(join(homedir(), ".ssh", "known_hosts"))) return;
    for (const h of machines.hosts) execFileSync("ssh-keygen", ["-R", h.address], { stdio: "ignore" });
  };

  beforeAll(async () => {
    if (!isClean(labLeftovers(machines))) await downNetnsLab(machines);
    await upNetnsLab(machines);
    await mustRun(kvStep.create);
    cleanRunSshd = ensureRunSshd();
    for (const h of machines.hosts) await startSshd(h, clientKey, [`SetEnv DOCKER_HOST=unix://${h.netns!.socket}`]);
    forgetHostKeys();
    for (const [i] of machines.hosts.entries()) before.push(argvOf(i));
    // host1 has a daemon.json of its own (keys the lab does not own, odd formatting); host2 has none.
    writeFileSync(daemonJson(0), ORIGINAL_JSON, { mode: 0o640 });
    // The engine runs inside the lab switch's namespace: the machines' addresses are reachable there only.
    wrapper = mkdtempSync(join(tmpdir(), "dnlab-pulumi-in-sw-"));
    execFileSync("mkdir", ["-p", join(wrapper, "bin")]);
    const real = join(engine.home().env["PATH"]!.split(":")[0]!, "pulumi");
    writeFileSync(join(wrapper, "bin", "pulumi"), `#!/bin/sh\nexec nsenter --net=/run/netns/${sw} ${real} "$@"\n`, { mode: 0o755 });
    writeFileSync(file, stackFileText(config()));
    stack = await LocalWorkspace.createOrSelectStack({ stackName: STACK, workDir: REPO_ROOT }, { envVars: engine.home().env, pulumiCommand: await PulumiCommand.get({ root: wrapper }) });
    await stack.setConfig("lab:sshKey", { value: readFileSync(clientKey, "utf8"), secret: true });
  }, 300_000);

  afterAll(async () => {
    try {
      if (stack) {
        await stack.destroy({ onOutput: (o) => process.stdout.write(o) }).catch(() => undefined);
        await stack.workspace.removeStack(STACK).catch(() => undefined);
      }
    } finally {
      if (existsSync(file)) rmSync(file);
      for (const h of machines.hosts) await stopSshd(h);
      cleanRunSshd();
      await mustRun(kvStep.delete);
      await downNetnsLab(machines);
      forgetHostKeys();
      if (wrapper) rmSync(wrapper, { recursive: true, force: true });
    }
    expect(isClean(labLeftovers(machines))).toBe(true);
  }, 600_000);

  it("up configures the daemons over ssh and verifies clean on the first try", async () => {
    let printed = "";
    const r = await stack!.up({ onOutput: (o) => (printed += o) }).catch((e: unknown) => {
      console.log(netnsDiagnostics(machines));
      throw e;
    });
    const out = Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.value]));
    expect(failed(out), printed.slice(-4000)).toBe(0);
    // The daemons really run with the KV store now.
    for (const [i] of machines.hosts.entries()) expect(argvOf(i)).not.toBe(before[i]);
    // The lab's keys merged in, the site's kept.
    expect(JSON.parse(readFileSync(daemonJson(0), "utf8"))).toMatchObject({ labels: ["site=h1"], "log-level": "info", "cluster-store": "etcd://198.18.0.2:2379" });
    // sshd's AcceptEnv warning about PULUMI_COMMAND_STDOUT is gone.
    expect(printed).not.toContain("PULUMI_COMMAND_STDOUT");
  });

  it("a second preview shows no changes", async () => {
    await stack!.preview({ expectNoChanges: true });
  });

  it("destroy restores each machine: daemon.json byte for byte (or absent again), original command line, no lab state, no docker_gwbridge, the machine's images kept", async () => {
    let printed = "";
    await stack!.destroy({ onOutput: (o) => (printed += o) });
    expect(printed).not.toContain("PULUMI_COMMAND_STDOUT");
    expect(readFileSync(daemonJson(0), "utf8")).toBe(ORIGINAL_JSON);
    expect(existsSync(daemonJson(1))).toBe(false);
    for (const [i, h] of machines.hosts.entries()) {
      expect(argvOf(i)).toBe(before[i]);
      expect((await docker(h, ["network", "inspect", "docker_gwbridge"])).code, h.name).not.toBe(0);
      // The lab's state on the machine is gone.
      expect(existsSync(`${h.netns!.stateDir}/remote-state`)).toBe(false);
      // The workload image was on the machine before the lab (built with it here): destroy keeps it.
      expect((await docker(h, ["image", "inspect", "busybox:1.36.1"])).code, h.name).toBe(0);
    }
  });
});

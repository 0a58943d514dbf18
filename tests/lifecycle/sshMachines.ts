// ssh hosts under the real engine: "machines" played by netns hosts with their own dockerd and an sshd in
// their namespace (its sessions get DOCKER_HOST, as a machine whose Docker listens elsewhere would set
// it). The engine runs inside the lab switch's namespace, where the machines' addresses are reachable.
// The machines' daemons start as a fresh machine's do: swarm-mode netns hosts, no cluster store.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, expect } from "vitest";
import { parse, stringify } from "yaml";
import { downNetnsLab, isClean, labLeftovers, upNetnsLab } from "../../src/lab/netnsLab.js";
import { REPO_ROOT } from "../../src/lab/run.js";
import { buildPlan, type HostInput, type LabConfigInput, type LabPlan } from "../../src/model/index.js";
import { ensureRunSshd, sshdDir, startSshd, stopSshd } from "../reallab/sshd.js";
import { engineAndPlugins, stackFileText } from "./harness.js";

export interface SshMachines {
  /** The netns lab that plays the machines (its hosts are the machines). */
  readonly plan: LabPlan;
  /** hosts[] of a stack that reaches every machine over ssh, pointed at its own daemon's files. */
  hostsConfig(): HostInput[];
  daemonJson(i: number): string;
  /** The machine's running dockerd command line (NUL-separated, as /proc has it). */
  argvOf(i: number): string;
  stack(): Stack;
  /** The private key the machines accept (the stack's secret lab:sshKey). */
  clientKeyFile: string;
  /** Where the engine keeps the stack's state and its home: the key must not be there in the clear. */
  engineDirs(): string[];
  /** The stack's config file, rewritten (e.g. between rounds); the secret lab:sshKey is kept. */
  configure(config: LabConfigInput): void;
}

export interface SshMachinesOptions {
  /** Name of the netns lab that plays the machines (unique per suite). */
  machinesLab: string;
  stackName: string;
  plugins: readonly string[];
  /** The machines' dockerd binary (default Debian's, which has no Consul store). */
  dockerdBinary?: string;
  config: (m: SshMachines) => LabConfigInput;
  /** After the machines and their sshd exist, before the stack: what the machines hold before the lab. */
  prepare?: (m: SshMachines) => Promise<void>;
  /** After the stack is gone, before the machines go. */
  cleanup?: (m: SshMachines) => Promise<void>;
}

export function useSshMachines(o: SshMachinesOptions): SshMachines {
  const plan = buildPlan({ name: o.machinesLab, hostKind: "netns", overlayMode: "swarm", networks: [], workloads: [] });
  const sw = plan.netns!.switchNamespace;
  const engine = engineAndPlugins(o.plugins);
  const clientKey = `${sshdDir(plan.hosts[0]!)}-client_key`;
  const file = join(REPO_ROOT, `Pulumi.${o.stackName}.yaml`);
  let stack: Stack | undefined;
  let cleanRunSshd = (): void => {};
  let wrapper = "";
  // The machines' host keys are new each run: keep root's known_hosts free of them.
  const forgetHostKeys = (): void => {
    if (!existsSync(join(homedir(), ".ssh", "known_hosts"))) return;
    for (const h of plan.hosts) execFileSync("ssh-keygen", ["-R", h.address], { stdio: "ignore" });
  };
  const m: SshMachines = {
    plan,
    hostsConfig: () =>
      plan.hosts.map((h, i) => ({
        name: h.name,
        address: h.address,
        ssh: {
          user: "root",
          privateKeySecret: "sshKey",
          identityFile: clientKey,
          // The machines share one filesystem here: each keeps its lab state apart.
          stateDir: `${h.netns!.stateDir}/remote-state`,
          docker: {
            daemonJson: m.daemonJson(i),
            pidFile: h.netns!.pidFile,
            socket: `unix://${h.netns!.socket}`,
            logFile: `${h.netns!.stateDir}/dockerd.log`,
            execRoot: h.netns!.execRoot,
          },
        },
      })),
    daemonJson: (i) => `${plan.hosts[i]!.netns!.stateDir}/daemon.json`,
    argvOf: (i) => readFileSync(`/proc/${readFileSync(plan.hosts[i]!.netns!.pidFile, "utf8").trim()}/cmdline`, "utf8"),
    stack: () => {
      if (!stack) throw new Error("stack not ready");
      return stack;
    },
    // The stack's secret (lab:sshKey, encrypted into this file) and the salt it was encrypted with stay through a rewrite.
    configure: (config) => {
      const old = existsSync(file) ? (parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> }) : {};
      const secret = old.config?.["lab:sshKey"];
      const next = parse(stackFileText(config)) as { config: Record<string, unknown> };
      writeFileSync(file, stringify({ ...old, config: { ...next.config, ...(secret === undefined ? {} : { "lab:sshKey": secret }) } }));
    },
    clientKeyFile: clientKey,
    engineDirs: () => [engine.home().stateDir, engine.home().env["PULUMI_HOME"]!],
  };

  beforeAll(async () => {
    if (!isClean(labLeftovers(plan))) await downNetnsLab(plan);
    await upNetnsLab(plan, o.dockerdBinary ? { dockerdBinary: o.dockerdBinary } : {});
    cleanRunSshd = ensureRunSshd();
    for (const h of plan.hosts) await startSshd(h, clientKey, [`SetEnv DOCKER_HOST=unix://${h.netns!.socket}`]);
    forgetHostKeys();
    await o.prepare?.(m);
    wrapper = mkdtempSync(join(tmpdir(), "dnlab-pulumi-in-sw-"));
    execFileSync("mkdir", ["-p", join(wrapper, "bin")]);
    const real = join(engine.home().env["PATH"]!.split(":")[0]!, "pulumi");
    writeFileSync(join(wrapper, "bin", "pulumi"), `#!/bin/sh\nexec nsenter --net=/run/netns/${sw} ${real} "$@"\n`, { mode: 0o755 });
    m.configure(o.config(m));
    stack = await LocalWorkspace.createOrSelectStack(
      { stackName: o.stackName, workDir: REPO_ROOT },
      { envVars: engine.home().env, pulumiCommand: await PulumiCommand.get({ root: wrapper }) },
    );
    await stack.setConfig("lab:sshKey", { value: readFileSync(clientKey, "utf8"), secret: true });
  }, 300_000);

  afterAll(async () => {
    try {
      if (stack) {
        await stack.destroy({ onOutput: (out) => process.stdout.write(out) }).catch(() => undefined);
        await stack.workspace.removeStack(o.stackName).catch(() => undefined);
      }
      await o.cleanup?.(m);
    } finally {
      if (existsSync(file)) rmSync(file);
      for (const h of plan.hosts) await stopSshd(h);
      cleanRunSshd();
      await downNetnsLab(plan, o.dockerdBinary ? { dockerdBinary: o.dockerdBinary } : {});
      forgetHostKeys();
      if (wrapper) rmSync(wrapper, { recursive: true, force: true });
    }
    expect(isClean(labLeftovers(plan))).toBe(true);
  }, 600_000);

  return m;
}

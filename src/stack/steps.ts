// The host-side steps of a plan (ShellStep), as the command lines the components run. Every argv comes
// from a pure model function; this module only turns them into shell strings for @pulumi/command.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  daemonCalls,
  FAULT_SCRIPT,
  type FaultCommandOptions,
  faultCalls,
  localFaultShell,
  remoteFaultShell,
  type LabPlan,
  LAST_VERIFY_FILE,
  localShell,
  needsSudo,
  netnsCommands,
  type NetnsStep,
  remoteShell,
  type ScriptCall,
  shellJoin,
  swarmCalls,
  SWARM_TOKEN_PLACEHOLDER,
  tlsCommands,
} from "../model/index.js";
import { netnsToolOptions } from "../lab/tools.js";

export interface ShellStep {
  /** Stable id, used in resource names. */
  id: string;
  create: string;
  delete: string;
  /** Extra environment for the command (e.g. DOCKER_HOST). Secrets are passed separately. */
  environment?: Record<string, string>;
  /** Where it runs: on the user's machine (local.Command) or on the host over ssh (remote.Command). */
  where?: "local" | "remote";
  /** The host the step belongs to. */
  host?: string;
  /** stdout holds a secret (the swarm join token): never echo it into `pulumi up`'s output. */
  secretStdout?: boolean;
}

export interface NetnsSteps {
  neighbours: ShellStep;
  switch: ShellStep;
  kv?: ShellStep;
  /** Per host: its bring-up (namespace, veth, dockerd) and its locally built images. */
  hosts: Record<string, { up: ShellStep; image: ShellStep }>;
}

export interface SwarmSteps {
  /** Runs on the manager; prints the worker join token as the last line of stdout. */
  init: ShellStep;
  /** Per worker; the token reaches it as $SWARM_JOIN_TOKEN (local) or in place of `tokenPlaceholder` (remote). */
  join: Record<string, ShellStep>;
  tokenPlaceholder: string;
}

/** dind labs: the CA (and the client's files), and each host's server certificate. Their stdout holds keys. */
export interface TlsSteps {
  ca: ShellStep;
  servers: Record<string, ShellStep>;
  /** DOCKER_CERT_PATH: the client's files, as an absolute path (what the outputs print, what the steps' docker CLI reads). */
  certPath: string;
}

/** The steps of a lab: what every kind has, and what its host kind has (a union: nothing optional per kind). */
export type LabSteps = {
  swarm?: SwarmSteps;
  /** lab:faults by name: apply on create and update, remove on delete (scripts/faults/fault.sh). */
  faults: Record<string, ShellStep>;
  /** The verifier as a command: prints JSON results, exits non-zero with a readable report on failure. */
  verify?: ShellStep;
} /** dind: the TLS material of the hosts' APIs. */ & (
  | { kind: "dind"; tls: TlsSteps }
  | { kind: "netns"; netns: NetnsSteps }
  /** ssh hosts: reversible daemon configuration per host. */
  | { kind: "ssh"; sshDaemon: Record<string, ShellStep> }
);

function shell(step: NetnsStep): ShellStep {
  return { id: step.id, create: shellJoin(step.create), delete: shellJoin(step.delete) };
}

export function netnsShellSteps(plan: LabPlan, env: NodeJS.ProcessEnv = process.env): NetnsSteps {
  const c = netnsCommands(plan, netnsToolOptions(env));
  const hosts: NetnsSteps["hosts"] = {};
  for (const up of c.hosts) {
    const image = c.images.find((s) => s.host === up.host);
    if (up.host === undefined || !image) throw new Error(`netns step ${up.id} has no host or no image step`);
    hosts[up.host] = { up: shell(up), image: shell(image) };
  }
  return { neighbours: shell(c.neighbours), switch: shell(c.switch), ...(c.kv ? { kv: shell(c.kv) } : {}), hosts };
}

/**
 * The verifier as a command: the plan comes on stdin (set by the Verification component; an
 * environment variable would hit the kernel's 128 KiB limit on large labs),
 * the JSON report goes to stdout (the stack's outputs) and to .lab/ (npm run inspect), and a failure
 * prints the readable table on stderr and exits 1, which fails `pulumi up`.
 * --recover: a kv-mode daemon found with a thread stuck in a deleted overlay namespace (Docker 20.10's
 * defect) is restarted and the lab verified again, in this very step (src/lab/recover.ts: it runs
 * exactly when the lab changed; a step of its own would run on every up and never show "no changes").
 * A dind lab's restart goes through the engine of the host containers (dindEngine).
 */
export function verifyStep(plan: LabPlan, opts: LabStepOptions = {}): ShellStep {
  const key = plan.hosts.find((h) => h.ssh?.identityFile)?.ssh?.identityFile;
  // node --import tsx: one process (npx and the tsx CLI each add a node start, about 1 s in all).
  const argv = [
    "node",
    "--import",
    "tsx",
    "src/cli/verify.ts",
    "--plan",
    "-",
    "--json-summary",
    "--quiet",
    "--save",
    LAST_VERIFY_FILE,
    // lab:verification.failUpOn: whether an unexpected result fails the command, and so `pulumi up`.
    "--fail-on",
    plan.verification.failUpOn,
    // A fault removed from the config is only deleted after every other step of an up, so after this
    // one: the verifier removes the faults the plan no longer has before it probes.
    "--converge-faults",
    ...(opts.dindEngine ? ["--dind-engine", opts.dindEngine] : []),
    ...(key ? ["--ssh-key", key] : []),
    ...(plan.overlayMode === "kv" ? ["--recover"] : []),
  ];
  return { id: "verify", create: shellJoin(argv), delete: "true" };
}

/** A script call as a step: remote ones carry the script on stdin, local ones run from the repo root. */
function callStep(plan: LabPlan, id: string, create: ScriptCall, del: ScriptCall): ShellStep {
  const host = plan.hosts.find((h) => h.name === create.host);
  if (create.where === "remote") {
    const sudo = host ? needsSudo(host) : false;
    return {
      id,
      host: create.host,
      where: "remote",
      create: remoteShell(create, scriptText(create.script), { sudo }),
      delete: remoteShell(del, scriptText(del.script), { sudo }),
    };
  }
  return { id, host: create.host, where: "local", create: localShell(create), delete: localShell(del), environment: { ...create.env } };
}

const scripts = new Map<string, string>();
function scriptText(path: string): string {
  let text = scripts.get(path);
  if (text === undefined) {
    text = readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
    scripts.set(path, text);
  }
  return text;
}

export function sshDaemonSteps(plan: LabPlan): Record<string, ShellStep> {
  return Object.fromEntries(daemonCalls(plan).map((c) => [c.host, callStep(plan, `daemon:${c.host}`, c.apply, c.restore)]));
}

/** The client's files of a dind lab as an absolute path: the stack runs from the project directory. */
export function clientCertPath(plan: LabPlan, cwd: string = process.cwd()): string | undefined {
  return plan.tls ? resolve(cwd, plan.tls.clientDir) : undefined;
}

export function tlsSteps(plan: LabPlan, cwd: string = process.cwd()): TlsSteps | undefined {
  const c = tlsCommands(plan);
  const certPath = clientCertPath(plan, cwd);
  if (!c || !certPath) return undefined;
  return {
    ca: { id: "tls-ca", create: shellJoin(c.ca.create), delete: shellJoin(c.ca.delete), secretStdout: true },
    servers: Object.fromEntries(
      Object.entries(c.servers).map(([host, argv]) => [
        host,
        { id: `tls:${host}`, host, create: shellJoin(argv), delete: "true", secretStdout: true },
      ]),
    ),
    certPath,
  };
}

export function swarmSteps(plan: LabPlan, cwd: string = process.cwd()): SwarmSteps {
  const certPath = clientCertPath(plan, cwd);
  const calls = swarmCalls(plan, {
    ...(plan.hostKind === "netns" ? { dockerCli: "/usr/bin/docker" } : {}),
    ...(certPath ? { dindCertPath: certPath } : {}),
  });
  const leave = (host: string): ScriptCall => {
    const c = calls.leave.find((l) => l.host === host);
    if (!c) throw new Error(`no swarm leave call for ${host}`);
    return c;
  };
  return {
    // init prints the worker token on stdout: kept out of the logs.
    init: { ...callStep(plan, "swarm-init", calls.init, leave(calls.manager)), secretStdout: true },
    join: Object.fromEntries(calls.join.map((j) => [j.host, callStep(plan, `swarm-join:${j.host}`, j, leave(j.host))])),
    tokenPlaceholder: SWARM_TOKEN_PLACEHOLDER,
  };
}

/** How the stack reaches what its steps act on, where the plan cannot know it. */
export interface LabStepOptions {
  /** dind: the engine the host containers run on (docker:host, else DOCKER_HOST). */
  dindEngine?: string;
}

/** Each fault of the plan as a step: fault.sh apply on its host, fault.sh remove on delete. */
export function faultSteps(plan: LabPlan, env: NodeJS.ProcessEnv = process.env, opts: LabStepOptions = {}): Record<string, ShellStep> {
  const options: FaultCommandOptions = {
    ...netnsToolOptions(env),
    // The dind hosts' engine, as the docker provider and the preflight reach it (with the Debian client, like the preflight).
    ...(opts.dindEngine ? { dindEngine: opts.dindEngine } : {}),
  };
  return Object.fromEntries(
    plan.faults.map((f) => {
      const calls = faultCalls(plan, f, options);
      const id = `fault:${f.name}`;
      if (calls.apply.where === "remote") {
        const host = plan.hosts.find((h) => h.name === f.host)!;
        const text = scriptText(FAULT_SCRIPT);
        const sudo = needsSudo(host);
        const step: ShellStep = {
          id,
          host: f.host,
          where: "remote",
          create: remoteFaultShell(calls.apply, text, sudo),
          delete: remoteFaultShell(calls.remove, text, sudo),
        };
        return [f.name, step];
      }
      return [f.name, { id, host: f.host, where: "local", create: localFaultShell(calls.apply), delete: localFaultShell(calls.remove) }];
    }),
  );
}

export function labSteps(plan: LabPlan, env: NodeJS.ProcessEnv = process.env, opts: LabStepOptions = {}): LabSteps {
  const common = {
    ...(plan.overlayMode === "swarm" ? { swarm: swarmSteps(plan) } : {}),
    ...(plan.verification.enabled ? { verify: verifyStep(plan, opts) } : {}),
    faults: faultSteps(plan, env, opts),
  };
  switch (plan.hostKind) {
    case "netns":
      return { ...common, kind: "netns", netns: netnsShellSteps(plan, env) };
    case "ssh":
      return { ...common, kind: "ssh", sshDaemon: sshDaemonSteps(plan) };
    case "dind": {
      const tls = tlsSteps(plan);
      if (!tls) throw new Error(`dind lab ${plan.name} has no TLS plan`);
      return { ...common, kind: "dind", tls };
    }
  }
}

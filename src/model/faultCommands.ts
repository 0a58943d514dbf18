// Faults as command lines: for every fault of the plan, how scripts/faults/fault.sh applies it on its
// host and removes it again, and for every host how its recorded faults are listed or pruned. One
// script for every host kind, run where the host's network stack is:
//  - netns: on this machine (the script enters the host's namespace itself, --netns);
//  - dind: inside the host's container on the engine, the script on stdin (`docker exec -i ... sh -s`),
//    since the dind image need not have it (nor bash);
//  - ssh: on the machine over ssh, the script on stdin like docker-daemon.sh (remoteShell).
// Pure: the Pulumi component (components/fault.ts), `npm run lab` and the verifier run exactly these.
import { describeFault } from "./faults.js";
import { netnsCommands, type NetnsCommandOptions, shellJoin } from "./netnsCommands.js";
import { REMOTE_SCRIPTS, remoteDaemonPaths, remoteShell, type ScriptCall } from "./remoteCommands.js";
import { DIND_TLS_API_PORT } from "./defaults.js";
import type { FaultPlan, HostPlan, LabPlan } from "./types.js";

export const FAULT_SCRIPT = REMOTE_SCRIPTS.fault;
/** Where a dind host keeps its fault records, inside its container. */
export const DIND_FAULT_DIR = "/run/dnlab-faults";

/** One run of fault.sh for a host. */
export interface FaultCall {
  host: string;
  /** local: this machine runs `runner` + `args`; remote: the script is fed over ssh to the host. */
  where: "local" | "remote";
  /** What runs the script (netns: sh scripts/faults/fault.sh; dind: docker exec -i <container> sh -s --); empty for remote. */
  runner: string[];
  /** The script's subcommand and options. */
  args: string[];
  /** local: the script's text goes on the runner's stdin (dind). */
  stdin: boolean;
}

export interface FaultCalls {
  fault: FaultPlan;
  apply: FaultCall;
  remove: FaultCall;
}

export interface FaultCommandOptions extends NetnsCommandOptions {
  /** dind: the engine the host containers run on (docker:host / DOCKER_HOST); default: the docker CLI's own. */
  dindEngine?: string;
  /** The docker CLI for dind hosts (default /usr/bin/docker, the Debian client). */
  dockerCli?: string;
}

/** Where a host's fault records live (on this machine for netns hosts, on the host itself otherwise). */
export function faultStateDir(plan: LabPlan, host: HostPlan): string {
  switch (host.kind) {
    case "netns":
      // Beside the lab's other runtime state, one directory per host (removed with its last fault).
      return `${requireRoot(plan)}/faults-${host.name}`;
    case "dind":
      return DIND_FAULT_DIR;
    case "ssh":
      return `${remoteDaemonPaths(plan, host).stateDir}/faults`;
  }
}

function requireRoot(plan: LabPlan): string {
  if (!plan.netns) throw new Error(`lab ${plan.name} is not a netns lab`);
  return plan.netns.root;
}

function hostOf(plan: LabPlan, name: string): HostPlan {
  const h = plan.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`fault host ${name} is not a host of lab ${plan.name}`);
  return h;
}

/** How fault.sh runs for a host: its runner, and the options every subcommand takes there. */
function hostCall(plan: LabPlan, host: HostPlan, args: string[], opts: FaultCommandOptions): FaultCall {
  const base = ["--state-dir", faultStateDir(plan, host)];
  switch (host.kind) {
    case "netns":
      return { host: host.name, where: "local", runner: ["sh", FAULT_SCRIPT], args: [...args, ...base], stdin: false };
    case "dind": {
      const docker = [opts.dockerCli ?? "/usr/bin/docker", ...(opts.dindEngine ? ["-H", opts.dindEngine] : [])];
      return {
        host: host.name,
        where: "local",
        runner: [...docker, "exec", "-i", `${plan.name}-${host.name}`, "sh", "-s", "--"],
        args: [...args, ...base],
        stdin: true,
      };
    }
    case "ssh":
      return { host: host.name, where: "remote", runner: [], args: [...args, ...base], stdin: false };
  }
}

/** The settings of one fault as fault.sh options. */
function faultArgs(plan: LabPlan, f: FaultPlan, host: HostPlan, opts: FaultCommandOptions): string[] {
  const args = ["--id", f.id, "--name", f.name, "--kind", f.kind, "--iface", f.device];
  if (host.kind === "netns") args.push("--netns", host.netns!.namespace);
  switch (f.kind) {
    case "loss":
      args.push("--loss", String(f.lossPct));
      // The lab's own ways into the host are never dropped: the dind host's API, the ssh host's sshd, and
      // the daemon's KV store (a daemon whose store connection loses packets stalls its API for seconds).
      if (host.kind === "dind") args.push("--spare-tcp-port", String(plan.tls?.apiPort ?? DIND_TLS_API_PORT));
      if (host.kind === "ssh") args.push("--spare-tcp-port", String(host.ssh?.port ?? 22));
      if (plan.kv && plan.overlayMode === "kv") args.push("--spare-tcp-port", String(plan.kv.port));
      break;
    case "delay":
      args.push("--delay-ms", String(f.delayMs));
      if (f.jitterMs) args.push("--jitter-ms", String(f.jitterMs));
      break;
    case "mtu":
      args.push("--mtu", String(f.mtu));
      // The daemon's connection to its KV store predates the smaller MTU: the store goes on sending the
      // segment size agreed before, which the host now drops, and the daemon's API stalls on it (a dind
      // host's GET /networks did for 15 s). Reset, it is made again under the new MTU.
      if (plan.kv && plan.overlayMode === "kv") args.push("--reset-tcp-port", String(plan.kv.port));
      break;
    case "stop-daemon":
      args.push(...stopDaemonArgs(plan, host, opts));
      break;
    default:
      break;
  }
  return args;
}

/**
 * How the daemon is stopped and started again: a netns host's dockerd by its pidfile, started again by
 * its own bring-up step (host-up.sh, which starts it in the namespace with its hostname and flags); an
 * ssh host's through systemd, or by its pidfile and recorded command line.
 */
function stopDaemonArgs(plan: LabPlan, host: HostPlan, opts: FaultCommandOptions): string[] {
  if (host.kind === "netns") {
    const up = netnsCommands(plan, opts).hosts.find((s) => s.host === host.name);
    if (!up) throw new Error(`netns host ${host.name} has no bring-up step`);
    return ["--init", "pidfile", "--pidfile", host.netns!.pidFile, "--restart", shellJoin(up.create)];
  }
  const p = remoteDaemonPaths(plan, host);
  return ["--init", "auto", "--unit", p.unit, "--pidfile", p.pidFile, "--log-file", p.logFile, "--docker-host", p.dockerHost];
}

/** fault.sh apply and remove for one fault. */
export function faultCalls(plan: LabPlan, f: FaultPlan, opts: FaultCommandOptions = {}): FaultCalls {
  const host = hostOf(plan, f.host);
  return {
    fault: f,
    apply: hostCall(plan, host, ["apply", ...faultArgs(plan, f, host, opts)], opts),
    remove: hostCall(plan, host, ["remove", "--id", f.id], opts),
  };
}

/** fault.sh status (list what is recorded and whether it is in effect) for one host. */
export function faultStatusCall(plan: LabPlan, host: string, opts: FaultCommandOptions = {}): FaultCall {
  return hostCall(plan, hostOf(plan, host), ["status"], opts);
}

/** fault.sh prune for one host: every recorded fault the plan no longer has is removed. */
export function faultPruneCall(plan: LabPlan, host: string, opts: FaultCommandOptions = {}): FaultCall {
  const keep = plan.faults.filter((f) => f.host === host).flatMap((f) => ["--keep", f.id]);
  return hostCall(plan, hostOf(plan, host), ["prune", ...keep], opts);
}

/** The hosts whose kind records faults (all of them); prune runs on each. */
export function faultHosts(plan: LabPlan): string[] {
  return plan.hosts.map((h) => h.name);
}

/** A local call as the shell line a local.Command runs from the repository root. */
export function localFaultShell(call: FaultCall): string {
  if (call.where !== "local") throw new Error(`the fault call for ${call.host} runs over ssh`);
  return `${shellJoin([...call.runner, ...call.args])}${call.stdin ? ` < ${FAULT_SCRIPT}` : ""}`;
}

/** A remote call as the command string remote.Command (or `ssh host CMD`) runs: the script on stdin, as root. */
export function remoteFaultShell(call: FaultCall, scriptText: string, sudo: boolean): string {
  const sc: ScriptCall = { host: call.host, where: "remote", script: FAULT_SCRIPT, args: call.args, env: {} };
  return remoteShell(sc, scriptText, { sudo, shell: "sh" });
}

/** What a fault does, for the log line of its resource. */
export function faultSummary(plan: LabPlan, f: FaultPlan): string {
  return describeFault(f, plan);
}

// Command lines for real machines and for swarm mode, as the Pulumi components pass them to
// @pulumi/command: the reversible daemon configuration of ssh hosts (scripts/remote/docker-daemon.sh)
// and swarm init/join/network/leave (scripts/swarm/*.sh). Pure: every value comes from the plan; the
// components only read the script files and run what is computed here.
//
// Over ssh (remote.Command) the script travels inside the command as a quoted here-document, so no
// copy step is needed and the remote host needs only bash: `sudo -n env K=V bash -s -- ARGS <<'EOF'`.
// Locally (netns and dind hosts, whose Docker endpoint this machine reaches) a script runs as
// `bash scripts/swarm/x.sh ARGS` from the repository root.
import { CLUSTER_ADVERTISE_PORT, OVERLAY_GOSSIP_PORT } from "./defaults.js";
import { shellJoin } from "./netnsCommands.js";
import type { HostPlan, LabPlan } from "./types.js";

export const REMOTE_SCRIPTS = {
  daemon: "scripts/remote/docker-daemon.sh",
  swarmInit: "scripts/swarm/init.sh",
  swarmJoin: "scripts/swarm/join.sh",
  swarmLeave: "scripts/swarm/leave.sh",
  /** Faults of lab:faults (POSIX sh: it also runs inside dind hosts, which have no bash). */
  fault: "scripts/faults/fault.sh",
} as const;
export type RemoteScript = (typeof REMOTE_SCRIPTS)[keyof typeof REMOTE_SCRIPTS];

/** The environment variable join.sh reads the worker token from (never an argument: no `ps`, no logs). */
export const SWARM_TOKEN_ENV = "SWARM_JOIN_TOKEN";
/** Stands for the join token in computed commands; the component fills it from init's secret stdout. */
export const SWARM_TOKEN_PLACEHOLDER = "__DNLAB_SWARM_JOIN_TOKEN__";
/** Swarm's cluster-management port on the manager. */
export const SWARM_MANAGER_PORT = 2377;
/** Ends the here-document that carries a script over ssh. */
export const SCRIPT_HEREDOC_END = "__DNLAB_SCRIPT_END__";

/** Where the daemon configuration of one ssh host lives, and how its daemon is reached and restarted. */
export interface RemoteDaemonPaths {
  /** Backups of the original files and the records of what the lab owns. */
  stateDir: string;
  /** The daemon.json dockerd reads. */
  daemonJsonFile: string;
  /** The systemd drop-in written by the `flags` method. */
  dropinFile: string;
  unit: string;
  /** No systemd: the running dockerd's pidfile, and the log of a dockerd the script starts. */
  pidFile: string;
  logFile: string;
  /** The daemon's endpoint on the host itself. */
  dockerHost: string;
}

export function defaultRemoteDaemonPaths(plan: LabPlan): RemoteDaemonPaths {
  return {
    stateDir: `/var/lib/dnlab-remote/${plan.name}`,
    daemonJsonFile: "/etc/docker/daemon.json",
    dropinFile: "/etc/systemd/system/docker.service.d/dnlab.conf",
    unit: "docker.service",
    pidFile: "/var/run/docker.pid",
    logFile: `/var/log/dnlab-${plan.name}-dockerd.log`,
    dockerHost: "unix:///var/run/docker.sock",
  };
}

export type DaemonMethod = "auto" | "daemon-json" | "flags";
export type InitKind = "auto" | "systemd" | "pidfile";

export interface RemoteCommandOptions {
  /** Per-host overrides of the default paths (the test lab points them into its own directories). */
  paths?: (host: HostPlan) => Partial<RemoteDaemonPaths>;
  method?: DaemonMethod;
  init?: InitKind;
  /** Every wait of the scripts (daemon answering, KV registration), in seconds. */
  timeoutSeconds?: number;
  /** The docker CLI the scripts call (DNLAB_DOCKER); default: `docker` on the host's PATH. */
  dockerCli?: string;
  /** dind hosts: where the client's TLS files are (DOCKER_CERT_PATH, absolute): the CLI then speaks TLS to them. */
  dindCertPath?: string;
}

/** One run of a script: what runs where, with which arguments and environment. */
export interface ScriptCall {
  host: string;
  /** remote: on the host over ssh (script fed inline); local: on this machine, against host's endpoint. */
  where: "remote" | "local";
  script: RemoteScript;
  args: string[];
  env: Record<string, string>;
}

export interface HostDaemonCalls {
  host: string;
  apply: ScriptCall;
  restore: ScriptCall;
  status: ScriptCall;
  /** Restarts the daemon as it runs now (the verifier found it stuck: recoverDaemons). */
  restart: ScriptCall;
}

export interface SwarmCalls {
  manager: string;
  /** stdout: the worker join token only. */
  init: ScriptCall;
  /** One per worker; env SWARM_JOIN_TOKEN holds SWARM_TOKEN_PLACEHOLDER. */
  join: ScriptCall[];
  /** Destroy order: workers first, the manager last. */
  leave: ScriptCall[];
}

function cliEnv(opts: RemoteCommandOptions): Record<string, string> {
  return opts.dockerCli ? { DNLAB_DOCKER: opts.dockerCli } : {};
}

/** The docker CLI's TLS settings for a dind host (its endpoint is the script's argument). */
function dindTlsEnv(certPath: string): Record<string, string> {
  return { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certPath };
}

function sshHosts(plan: LabPlan): HostPlan[] {
  return plan.hosts.filter((h) => h.kind === "ssh");
}

export function remoteDaemonPaths(plan: LabPlan, host: HostPlan, opts: RemoteCommandOptions = {}): RemoteDaemonPaths {
  const d = host.ssh?.docker;
  const configured: Partial<RemoteDaemonPaths> = {
    ...(d?.daemonJson ? { daemonJsonFile: d.daemonJson } : {}),
    ...(d?.pidFile ? { pidFile: d.pidFile } : {}),
    ...(d?.socket ? { dockerHost: d.socket } : {}),
    ...(d?.logFile ? { logFile: d.logFile } : {}),
    ...(host.ssh?.stateDir ? { stateDir: host.ssh.stateDir } : {}),
  };
  return { ...defaultRemoteDaemonPaths(plan), ...configured, ...(opts.paths ? opts.paths(host) : {}) };
}

/** docker-daemon.sh apply/restore/status for every ssh host of the plan. */
export function daemonCalls(plan: LabPlan, opts: RemoteCommandOptions = {}): HostDaemonCalls[] {
  return sshHosts(plan).map((h) => hostDaemonCalls(plan, h, opts));
}

/** docker-daemon.sh for one host; also usable for a non-ssh host the caller reaches over ssh (tests). */
export function hostDaemonCalls(plan: LabPlan, host: HostPlan, opts: RemoteCommandOptions = {}): HostDaemonCalls {
  const p = remoteDaemonPaths(plan, host, opts);
  const common = [
    "--state-dir",
    p.stateDir,
    "--daemon-json-file",
    p.daemonJsonFile,
    "--dropin-file",
    p.dropinFile,
    "--unit",
    p.unit,
    "--pidfile",
    p.pidFile,
    "--log-file",
    p.logFile,
    "--docker-host",
    p.dockerHost,
    "--init",
    opts.init ?? "auto",
    ...(opts.timeoutSeconds === undefined ? [] : ["--timeout", String(opts.timeoutSeconds)]),
  ];
  const kv =
    plan.overlayMode === "kv" && plan.kv
      ? [
          "--kv-url",
          plan.kv.url,
          "--kv-node",
          `${host.address}:${CLUSTER_ADVERTISE_PORT}`,
          "--gossip",
          `${host.address}:${OVERLAY_GOSSIP_PORT}`,
        ]
      : [];
  const call = (args: string[]): ScriptCall => ({
    host: host.name,
    where: "remote",
    script: REMOTE_SCRIPTS.daemon,
    args,
    env: cliEnv(opts),
  });
  return {
    host: host.name,
    apply: call([
      "apply",
      "--mode",
      plan.overlayMode,
      ...common,
      "--method",
      opts.method ?? "auto",
      "--daemon-json",
      JSON.stringify(host.daemon.daemonJson),
      ...kv,
      "--",
      ...host.daemon.args,
    ]),
    restore: call(["restore", ...common]),
    status: call(["status", ...common]),
    restart: call(["restart", "--mode", plan.overlayMode, ...common, ...kv]),
  };
}

/** swarm init/join/network/leave. ssh hosts run them on the host; netns/dind hosts locally against their endpoint. */
export function swarmCalls(plan: LabPlan, opts: RemoteCommandOptions = {}): SwarmCalls {
  if (plan.overlayMode !== "swarm" || !plan.swarm) {
    throw new Error(
      `lab:overlayMode = ${JSON.stringify(plan.overlayMode)}: swarm commands exist only in swarm mode. Fix: set lab:overlayMode to swarm.`,
    );
  }
  const swarm = plan.swarm;
  const manager = plan.hosts.find((h) => h.name === swarm.manager);
  if (!manager) throw new Error(`swarm manager ${swarm.manager} is not a host of the plan`);
  const endpoint = (h: HostPlan): string => (h.kind === "ssh" ? remoteDaemonPaths(plan, h, opts).dockerHost : h.endpoint);
  const call = (h: HostPlan, script: RemoteScript, args: string[], env: Record<string, string> = {}): ScriptCall => ({
    host: h.name,
    where: h.kind === "ssh" ? "remote" : "local",
    script,
    args,
    env: { ...cliEnv(opts), ...(h.kind === "dind" && opts.dindCertPath ? dindTlsEnv(opts.dindCertPath) : {}), ...env },
  });
  const workers = plan.hosts.filter((h) => h.name !== manager.name);
  return {
    manager: manager.name,
    init: call(manager, REMOTE_SCRIPTS.swarmInit, [
      endpoint(manager),
      manager.address,
      swarm.defaultAddrPool,
      String(swarm.defaultAddrPoolMaskLength),
    ]),
    join: workers.map((w) =>
      call(w, REMOTE_SCRIPTS.swarmJoin, [endpoint(w), `${manager.address}:${SWARM_MANAGER_PORT}`, w.address], {
        [SWARM_TOKEN_ENV]: SWARM_TOKEN_PLACEHOLDER,
      }),
    ),
    leave: [...workers, manager].map((h) => call(h, REMOTE_SCRIPTS.swarmLeave, [endpoint(h)])),
  };
}

/**
 * The command string for remote.Command (or `ssh host CMD`): the script's text as a quoted
 * here-document on bash's stdin, run as root (sudo -n for other users: no password prompt can be answered).
 */
export function remoteShell(call: ScriptCall, scriptText: string, opts: { sudo: boolean; shell?: "bash" | "sh" }): string {
  if (scriptText.split("\n").includes(SCRIPT_HEREDOC_END)) {
    throw new Error(`${call.script} contains the line ${SCRIPT_HEREDOC_END}, which ends the here-document that carries it`);
  }
  const env = Object.entries(call.env).map(([k, v]) => `${k}=${v}`);
  const argv = [
    ...(opts.sudo ? ["sudo", "-n"] : []),
    ...(env.length > 0 ? ["env", ...env] : []),
    opts.shell ?? "bash",
    "-s",
    "--",
    ...call.args,
  ];
  const body = scriptText.endsWith("\n") ? scriptText : `${scriptText}\n`;
  return `${shellJoin(argv)} <<'${SCRIPT_HEREDOC_END}'\n${body}${SCRIPT_HEREDOC_END}\n`;
}

/** The command string for local.Command, run from the repository root; env goes to its `environment`. */
export function localShell(call: ScriptCall): string {
  return shellJoin(["bash", call.script, ...call.args]);
}

/** Does the user need sudo on the host (anyone but root)? */
export function needsSudo(host: HostPlan): boolean {
  return host.ssh !== undefined && host.ssh.user !== "root";
}

/** Put the (secret) join token into a computed command or environment value in place of the placeholder. */
export function fillSwarmToken(text: string, token: string): string {
  if (!/^SWMTKN-[A-Za-z0-9-]+$/.test(token)) throw new Error("not a swarm join token (expected SWMTKN-...)");
  return text.split(SWARM_TOKEN_PLACEHOLDER).join(token);
}

// npm run lab: a netns lab on this machine without Pulumi, from the same plan and the same scripts and
// specs as the stack, in every overlay mode (USAGE below says what each command does).
import { describeLeftovers, isClean, labLeftovers, type Leftovers } from "../lab/netnsLab.js";
import { applyFaults } from "../lab/faults.js";
import { downLab, labStatus, upLab } from "../lab/lab.js";
import { upSwarm } from "../lab/swarm.js";
import { netnsToolOptions } from "../lab/tools.js";
import { applyNetworksAndWorkloads } from "../lab/workloads.js";
import { daemonCalls, type LabPlan, shellJoin } from "../model/index.js";
import { type Cli, type CliStreams, parseFlags, planFromArgs, runAsMain, UsageError } from "./cli.js";

const COMMANDS = ["up", "down", "status", "apply", "leftovers"] as const;
type Command = (typeof COMMANDS)[number];

const USAGE = `usage: npm run lab -- <command> [--config lab.json | --pulumi-config cfg.json] [options]

commands (netns labs on this machine, as root, without Pulumi):
  up         preflight (machine, kernel), switch, KV store, hosts, images; in swarm mode the swarm;
             then networks, containers and lab:faults. A failure rolls the lab back (or says what is up
             and how to remove it, when the lab was running before)
  apply      only the swarm (if any), networks, containers and faults, on hosts that are up (a fault
             the config no longer has is removed: the host is as it was before it)
  down       faults (removed), containers, swarm leave (workers first), the hosts; then checks that
             nothing is left
  status     what of the lab exists right now
  leftovers  what a dind or ssh lab's stack may have left on your engine or machines, and the
             commands that remove it (npm run reset prints it)

options:
  --config FILE          lab config (JSON, the lab:* settings); hostKind defaults to netns
  --pulumi-config FILE   a stack's \`pulumi config --json\` (npm run reset); its own defaults apply
  --consul-bin PATH      Consul for the KV namespace (default: $DNLAB_CONSUL)
  --dockerd-bin PATH     the hosts' dockerd (default: $DNLAB_DOCKERD, else Debian's)
  --hosts-only           up: only the hosts (switch, KV, dockerds, images)
  -h, --help             this text

exit: 0 done, 1 failed (the output says what is left and how to remove it), 2 bad usage`;

export interface LabArgs {
  command: Command;
  plan: LabPlan;
  /** The --config file, for the one command that removes a lab a failed up left. */
  config?: string;
  consulBin?: string;
  dockerdBin?: string;
  hostsOnly: boolean;
}

export function parseLabCli(argv: string[]): LabArgs | "help" {
  const a = parseFlags(
    argv,
    {
      config: { type: "string" },
      "pulumi-config": { type: "string" },
      "consul-bin": { type: "string" },
      "dockerd-bin": { type: "string" },
      "hosts-only": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    true,
  );
  const v = a.values;
  if (v.help) return "help";
  const [command, ...extra] = a.positionals;
  if (command === undefined || !(COMMANDS as readonly string[]).includes(command) || extra.length > 0) {
    throw new UsageError(`give one command of ${COMMANDS.join(", ")} (got ${JSON.stringify(a.positionals.join(" "))}); see --help`);
  }
  return {
    command: command as Command,
    plan: planFromArgs(v, undefined, { hostKind: "netns" }),
    ...(v.config !== undefined ? { config: v.config } : {}),
    ...(v["consul-bin"] !== undefined ? { consulBin: v["consul-bin"] } : {}),
    ...(v["dockerd-bin"] !== undefined ? { dockerdBin: v["dockerd-bin"] } : {}),
    hostsOnly: v["hosts-only"] ?? false,
  };
}

/**
 * What a lab of another kind than netns may leave when its stack could not be destroyed, and how to
 * remove it (npm run reset prints this; these are the user's engine and machines, so nothing is
 * removed without them).
 */
function leftoverHints(plan: LabPlan): string[] {
  if (plan.hostKind === "netns") return [`netns lab ${plan.name}: npm run lab -- down removes it`];
  if (plan.hostKind === "dind") {
    const containers = [
      ...plan.hosts.map((h) => `${plan.name}-${h.name}`),
      ...(plan.kv?.provision === "local-container" ? [`${plan.name}-kv`] : []),
    ];
    const volumes = [
      ...plan.hosts.map((h) => `${plan.name}-${h.name}-data`),
      ...(plan.kv?.provision === "local-container" ? [`${plan.name}-kv-data`] : []),
    ];
    return [
      `dind lab ${plan.name}: what may be left on your Docker engine, and how to remove it:`,
      `  ${shellJoin(["docker", "rm", "-f", ...containers])}`,
      `  ${shellJoin(["docker", "network", "rm", `${plan.name}-underlay`])}`,
      `  ${shellJoin(["docker", "volume", "rm", ...volumes])}`,
      // The client's certificate files, which the stack's destroy removes.
      ...(plan.tls ? [`  ${shellJoin(["rm", "-rf", "--", plan.tls.clientDir])}`] : []),
    ];
  }
  return [
    `ssh lab ${plan.name}: a host keeps the lab's daemon settings until they are restored. Once it is reachable`,
    "again, npm run up (re-applies) then npm run destroy (restores byte for byte); or on each host, with this repo's",
    "scripts/remote/docker-daemon.sh copied there:",
    ...daemonCalls(plan).map((c) => `  ${c.host}: ${shellJoin(["sudo", "bash", "docker-daemon.sh", ...c.restore.args])}`),
  ];
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

async function status(plan: LabPlan, { out }: CliStreams): Promise<void> {
  for (const l of await labStatus(plan)) out.write(`${l}\n`);
  const left = labLeftovers(plan);
  out.write(isClean(left) ? "  nothing of this lab exists on the machine\n" : `  on the machine: ${summarizeLeftovers(left)}\n`);
}

/** Counts, with the names that say what they are (namespaces, dirs); describeLeftovers has every line. */
function summarizeLeftovers(l: Leftovers): string {
  const parts = [
    `${l.processes.length} processes`,
    `${l.namespaces.length} namespaces${l.namespaces.length ? ` (${l.namespaces.join(", ")})` : ""}`,
    `${l.mounts.length} mounts`,
    `${l.dirs.length} dirs${l.dirs.length ? ` (${l.dirs.join(", ")})` : ""}`,
  ];
  return parts.join(", ");
}

/** The one command that removes this lab (what a failed up prints). */
function downCommand(args: LabArgs): string {
  return shellJoin(["npm", "run", "lab", "--", "down", ...(args.config !== undefined ? ["--config", args.config] : [])]);
}

/** After a failed up: say exactly what of the lab is on the machine, and how to remove it. */
async function explainFailedUp(args: LabArgs, e: unknown, { err }: CliStreams): Promise<number> {
  const { plan } = args;
  err.write(`lab: error: ${(e as Error).message}\n`);
  const left = labLeftovers(plan);
  if (isClean(left)) {
    err.write(`nothing of lab ${plan.name} is on this machine.\n`);
    return 1;
  }
  err.write(`\nwhat of lab ${plan.name} is up now:\n`);
  for (const l of await labStatus(plan)) err.write(`${l}\n`);
  err.write(`  on the machine: ${summarizeLeftovers(left)}\n`);
  err.write(`\nremove it with: ${downCommand(args)}\n`);
  return 1;
}

async function runLab(args: LabArgs, io: CliStreams): Promise<number> {
  const { plan } = args;
  const log = (line: string): void => {
    io.out.write(`${line}\n`);
  };
  const tools = netnsToolOptions();
  const opts = {
    log,
    ...tools,
    ...(args.consulBin !== undefined ? { consulBinary: args.consulBin } : {}),
    ...(args.dockerdBin !== undefined ? { dockerdBinary: args.dockerdBin } : {}),
  };
  switch (args.command) {
    case "up": {
      try {
        const up = await upLab(plan, { ...opts, hostsOnly: args.hostsOnly });
        const parts = [
          `hosts ${seconds(up.hostsMs)}`,
          ...(plan.overlayMode === "swarm" && !args.hostsOnly ? [`swarm ${seconds(up.swarmMs)}`] : []),
          ...(args.hostsOnly ? [] : [`networks ${seconds(up.networksMs)}`, `containers ${seconds(up.containersMs)}`]),
          ...(plan.faults.length && !args.hostsOnly ? [`faults ${seconds(up.faultsMs)}`] : []),
        ];
        log(`lab ${plan.name}: up in ${seconds(up.ms)} (${parts.join(", ")})`);
        return 0;
      } catch (e) {
        return explainFailedUp(args, e, io);
      }
    }
    case "apply":
      if (plan.overlayMode === "swarm") await upSwarm(plan, { log });
      await applyNetworksAndWorkloads(plan, { log });
      // The faults as the config has them now: those it no longer has are removed, the others applied.
      for (const line of await applyFaults(plan, opts)) log(`[lab] ${line}`);
      return 0;
    case "down": {
      const down = await downLab(plan, opts);
      const left = labLeftovers(plan);
      const swarmPart = plan.overlayMode === "swarm" ? `, swarm leave ${seconds(down.swarmMs)}` : "";
      log(
        `lab ${plan.name}: torn down in ${seconds(down.ms)} (containers ${seconds(down.containersMs)}${swarmPart}, hosts ${seconds(down.ms - down.containersMs - down.swarmMs)})`,
      );
      if (!isClean(left)) {
        io.err.write(`but these are left:\n${describeLeftovers(left)}\n`);
        return 1;
      }
      return 0;
    }
    case "status":
      await status(plan, io);
      return 0;
    case "leftovers":
      for (const l of leftoverHints(plan)) log(l);
      return 0;
  }
}

export const labCli: Cli<LabArgs> = { name: "lab", usage: USAGE, parse: parseLabCli, run: runLab };

runAsMain(labCli, import.meta.url);

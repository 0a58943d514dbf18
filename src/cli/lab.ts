// npm run lab -- up|down|status|apply [--config file.json] [--consul-bin PATH] [--dockerd-bin PATH] [--hosts-only]
//
// Drives a netns lab on this machine without Pulumi: the same scripts and the same plan, in every
// overlay mode.
//   up      preflight (machine and kernel), switch, KV, hosts, busybox images; swarm mode: the swarm
//           (scripts/swarm/ init + join, as the stack runs them); then networks and containers.
//           A failure after the hosts are up rolls the lab back (src/lab/lab.ts).
//   apply   only the swarm (if any), networks and containers, on hosts that are up
//   down    containers, swarm leave (workers, then the manager), tear everything down, and check
//           that nothing is left
//   status  what of the lab exists right now
// The config is a LabConfigInput JSON; without --config the default plan (hostKind netns) is used.
import { existsSync, readFileSync } from "node:fs";
import { describeLeftovers, isClean, labLeftovers, type Leftovers } from "../lab/netnsLab.js";
import { downLab, labStatus, upLab } from "../lab/lab.js";
import { upSwarm } from "../lab/swarm.js";
import { applyNetworksAndWorkloads } from "../lab/workloads.js";
import { buildPlan, daemonCalls, type LabConfigInput, LabConfigError, type LabPlan, shellJoin } from "../model/index.js";
import { labConfigFromPulumiJson } from "../stack/configValues.js";

const USAGE =
  "usage: npm run lab -- up|down|status|apply [--config file.json | --pulumi-config file.json] [--consul-bin PATH] [--dockerd-bin PATH] [--hosts-only]";

interface Args {
  command: string;
  config?: string;
  /** The output of `pulumi config --json` for a stack (npm run reset). */
  pulumiConfig?: string;
  consulBin?: string;
  dockerdBin?: string;
  hostsOnly: boolean;
}

function parseArgs(argv: string[]): Args {
  const out: Args = { command: "", hostsOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value. ${USAGE}`);
      return v;
    };
    if (a === "--config") out.config = value();
    else if (a === "--pulumi-config") out.pulumiConfig = value();
    else if (a === "--consul-bin") out.consulBin = value();
    else if (a === "--dockerd-bin") out.dockerdBin = value();
    else if (a === "--hosts-only") out.hostsOnly = true;
    else if (!a.startsWith("-") && out.command === "") out.command = a;
    else throw new Error(`unknown argument ${JSON.stringify(a)}. ${USAGE}`);
  }
  if (!["up", "down", "status", "apply", "leftovers"].includes(out.command))
    throw new Error(`unknown command ${JSON.stringify(out.command)}. ${USAGE}`);
  return out;
}

function readJsonFile(file: string, flag: string): unknown {
  if (!existsSync(file)) throw new Error(`${flag} ${file}: no such file`);
  try {
    return JSON.parse(readFileSync(file, "utf8")) as unknown;
  } catch (e) {
    throw new Error(`${flag} ${file}: not valid JSON (${(e as Error).message})`);
  }
}

function loadPlan(args: Args): LabPlan {
  if (args.config !== undefined && args.pulumiConfig !== undefined) throw new Error(`give --config or --pulumi-config, not both. ${USAGE}`);
  // A stack's config is a Pulumi stack's (whose default kind is dind); a lab file defaults to netns.
  if (args.pulumiConfig !== undefined) return buildPlan(labConfigFromPulumiJson(readJsonFile(args.pulumiConfig, "--pulumi-config")));
  const input = args.config !== undefined ? (readJsonFile(args.config, "--config") as LabConfigInput) : {};
  return buildPlan({ ...input, hostKind: input.hostKind ?? "netns" });
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
    ];
  }
  return [
    `ssh lab ${plan.name}: a host keeps the lab's daemon settings until they are restored. Once it is reachable`,
    "again, npm run up (re-applies) then npm run destroy (restores byte for byte); or on each host, with this repo's",
    "scripts/remote/docker-daemon.sh copied there:",
    ...daemonCalls(plan).map((c) => `  ${c.host}: ${shellJoin(["sudo", "bash", "docker-daemon.sh", ...c.restore.args])}`),
  ];
}

const log = (line: string): void => console.log(line);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

async function status(plan: LabPlan): Promise<void> {
  for (const l of await labStatus(plan)) console.log(l);
  const left = labLeftovers(plan);
  console.log(isClean(left) ? "  nothing of this lab exists on the machine" : `  on the machine: ${summarizeLeftovers(left)}`);
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
function downCommand(args: Args): string {
  return shellJoin(["npm", "run", "lab", "--", "down", ...(args.config !== undefined ? ["--config", args.config] : [])]);
}

/** After a failed up: say exactly what of the lab is on the machine, and how to remove it. */
async function explainFailedUp(plan: LabPlan, args: Args, e: unknown): Promise<number> {
  console.error(e instanceof LabConfigError ? e.message : `error: ${(e as Error).message}`);
  const left = labLeftovers(plan);
  if (isClean(left)) {
    console.error(`nothing of lab ${plan.name} is on this machine.`);
    return 1;
  }
  console.error(`\nwhat of lab ${plan.name} is up now:`);
  for (const l of await labStatus(plan)) console.error(l);
  console.error(`  on the machine: ${summarizeLeftovers(left)}`);
  console.error(`\nremove it with: ${downCommand(args)}`);
  return 1;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const plan = loadPlan(args);
  const consulBinary = args.consulBin ?? process.env["DNLAB_CONSUL"];
  // A dockerd other than Debian's (npm run dockerd:build: one with the consul cluster store).
  const dockerdBinary = args.dockerdBin ?? process.env["DNLAB_DOCKERD"];
  // Hosts with dockerVersion "26": Debian trixie's dockerd (npm run docker26:fetch prints it).
  const docker26Binary = process.env["DNLAB_DOCKERD_26"];
  const opts = {
    log,
    ...(consulBinary ? { consulBinary } : {}),
    ...(dockerdBinary ? { dockerdBinary } : {}),
    ...(docker26Binary ? { docker26Binary } : {}),
  };
  switch (args.command) {
    case "up": {
      try {
        const up = await upLab(plan, { ...opts, hostsOnly: args.hostsOnly });
        const parts = [
          `hosts ${seconds(up.hostsMs)}`,
          ...(plan.overlayMode === "swarm" && !args.hostsOnly ? [`swarm ${seconds(up.swarmMs)}`] : []),
          ...(args.hostsOnly ? [] : [`networks ${seconds(up.networksMs)}`, `containers ${seconds(up.containersMs)}`]),
        ];
        console.log(`lab ${plan.name}: up in ${seconds(up.ms)} (${parts.join(", ")})`);
        return 0;
      } catch (e) {
        return explainFailedUp(plan, args, e);
      }
    }
    case "apply":
      if (plan.overlayMode === "swarm") await upSwarm(plan, { log });
      await applyNetworksAndWorkloads(plan, { log });
      return 0;
    case "down": {
      const down = await downLab(plan, opts);
      const left = labLeftovers(plan);
      const swarmPart = plan.overlayMode === "swarm" ? `, swarm leave ${seconds(down.swarmMs)}` : "";
      console.log(
        `lab ${plan.name}: torn down in ${seconds(down.ms)} (containers ${seconds(down.containersMs)}${swarmPart}, hosts ${seconds(down.ms - down.containersMs - down.swarmMs)})`,
      );
      if (!isClean(left)) {
        console.error(`but these are left:\n${describeLeftovers(left)}`);
        return 1;
      }
      return 0;
    }
    case "status":
      await status(plan);
      return 0;
    case "leftovers":
      for (const l of leftoverHints(plan)) console.log(l);
      return 0;
  }
  return 2;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof LabConfigError ? e.message : `error: ${(e as Error).message}`);
    process.exit(1);
  },
);

// npm run lab -- up|down|status|apply [--config file.json] [--consul-bin PATH] [--dockerd-bin PATH] [--hosts-only]
//
// Drives a netns lab on this machine without Pulumi: the same scripts and the same plan.
//   up      switch, KV, hosts, busybox images; then (kv mode) the scenario's networks and containers
//   apply   only the networks and containers (e.g. after scripts/swarm/ made the swarm)
//   down    tear everything down and check that nothing is left
//   status  what of the lab exists right now
// The config is a LabConfigInput JSON; without --config the default plan (hostKind netns) is used.
import { existsSync, readFileSync } from "node:fs";
import { buildPlan, type LabConfigInput, LabConfigError, type LabPlan } from "../model/index.js";
import { describeLeftovers, downNetnsLab, isClean, labLeftovers, upNetnsLab } from "../lab/netnsLab.js";
import { run } from "../lab/run.js";
import { applyNetworksAndWorkloads, docker } from "../lab/workloads.js";

const USAGE = "usage: npm run lab -- up|down|status|apply [--config file.json] [--consul-bin PATH] [--dockerd-bin PATH] [--hosts-only]";

interface Args {
  command: string;
  config?: string;
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
    else if (a === "--consul-bin") out.consulBin = value();
    else if (a === "--dockerd-bin") out.dockerdBin = value();
    else if (a === "--hosts-only") out.hostsOnly = true;
    else if (!a.startsWith("-") && out.command === "") out.command = a;
    else throw new Error(`unknown argument ${JSON.stringify(a)}. ${USAGE}`);
  }
  if (!["up", "down", "status", "apply"].includes(out.command)) throw new Error(`unknown command ${JSON.stringify(out.command)}. ${USAGE}`);
  return out;
}

function loadPlan(file: string | undefined): LabPlan {
  let input: LabConfigInput = {};
  if (file !== undefined) {
    if (!existsSync(file)) throw new Error(`--config ${file}: no such file`);
    try {
      input = JSON.parse(readFileSync(file, "utf8")) as LabConfigInput;
    } catch (e) {
      throw new Error(`--config ${file}: not valid JSON (${(e as Error).message})`);
    }
  }
  return buildPlan({ ...input, hostKind: input.hostKind ?? "netns" });
}

const log = (line: string): void => console.log(line);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

async function status(plan: LabPlan): Promise<void> {
  const ns = new Set((await run(["ip", "netns", "list"])).stdout.split("\n").map((l) => l.split(" ")[0]));
  const mark = (b: boolean): string => (b ? "up  " : "down");
  console.log(`lab ${plan.name} (${plan.overlayMode} overlay)`);
  console.log(`  ${mark(ns.has(plan.netns!.switchNamespace))} switch ${plan.netns!.switchNamespace} ${plan.underlay.gateway}/${plan.underlay.prefixLength}`);
  if (plan.kv?.provision === "netns") console.log(`  ${mark(ns.has(plan.netns!.kvNamespace))} kv     ${plan.netns!.kvNamespace} ${plan.kv.kind} ${plan.kv.address}:${plan.kv.port}`);
  for (const h of plan.hosts) {
    const info = await docker(h, ["info", "--format", "{{.Name}} {{.ContainersRunning}}"], 10_000);
    const [name, running] = info.stdout.trim().split(" ");
    const detail = info.code === 0 ? `dockerd ok (hostname ${name}, ${running} running containers)` : "dockerd not answering";
    console.log(`  ${mark(info.code === 0)} host   ${h.netns!.namespace} ${h.address} ${h.endpoint}: ${detail}`);
  }
  const left = labLeftovers(plan);
  console.log(
    isClean(left)
      ? "  nothing of this lab exists on the machine"
      : `  on the machine: ${left.processes.length} processes, ${left.namespaces.length} namespaces, ${left.mounts.length} mounts, ${left.dirs.length} dirs`,
  );
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const plan = loadPlan(args.config);
  const consulBinary = args.consulBin ?? process.env["DNLAB_CONSUL"];
  // A dockerd other than Debian's (npm run dockerd:build: one with the consul cluster store).
  const dockerdBinary = args.dockerdBin ?? process.env["DNLAB_DOCKERD"];
  const opts = { log, ...(consulBinary ? { consulBinary } : {}), ...(dockerdBinary ? { dockerdBinary } : {}) };
  switch (args.command) {
    case "up": {
      const up = await upNetnsLab(plan, opts);
      console.log(`lab ${plan.name}: hosts up in ${seconds(up.ms)}`);
      if (args.hostsOnly) return 0;
      if (plan.overlayMode === "swarm") {
        console.log("swarm mode: make the swarm (scripts/swarm/), then run `npm run lab -- apply` for networks and containers");
        return 0;
      }
      const t0 = Date.now();
      await applyNetworksAndWorkloads(plan, { log });
      console.log(`lab ${plan.name}: networks and containers applied in ${seconds(Date.now() - t0)}`);
      return 0;
    }
    case "apply":
      await applyNetworksAndWorkloads(plan, { log });
      return 0;
    case "down": {
      const down = await downNetnsLab(plan, opts);
      const left = labLeftovers(plan);
      console.log(`lab ${plan.name}: torn down in ${seconds(down.ms)}`);
      if (!isClean(left)) {
        console.error(`but these are left:\n${describeLeftovers(left)}`);
        return 1;
      }
      return 0;
    }
    case "status":
      await status(plan);
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

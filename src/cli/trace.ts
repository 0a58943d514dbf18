// npm run trace -- <from> <to|external> [--network N] [--json] [--svg FILE] [--mermaid] [--config lab.json | --plan plan.json | --pulumi-config cfg.json]
// npm run trace -- --replay trace.json [--mermaid] [--svg FILE]   (render a saved --json trace again)
// Sends a few pings from one container to another (or to the lab's external target) and captures them
// with tcpdump at every hop on the way; prints the path hop by hop, or Mermaid, or JSON, and writes an SVG.
// Exit codes: 0 delivered and answered, 1 not (the output says where it stopped and why), 2 bad usage.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { LabPlan } from "../model/index.js";
import { runTrace, type TraceOptions } from "../trace/capture.js";
import { EXTERNAL, planTrace, TraceInputError, type TraceRequest } from "../trace/plan.js";
import { formatTrace, traceMermaid } from "../trace/render.js";
import { traceSvg } from "../trace/svg.js";
import type { TraceResult } from "../trace/types.js";
import {
  type Cli,
  type CliIo,
  endpointsFromArgs,
  LAB_OPTIONS,
  parseFlags,
  planFromArgs,
  positiveNumber,
  processIo,
  readJson,
  runAsMain,
  runCli,
  UsageError,
} from "./cli.js";

const USAGE = `usage: npm run trace -- <from> <to> [options]
       npm run trace -- --replay FILE [--mermaid | --json] [--svg FILE]

  <from>               the container the probes start from (a workload of the plan)
  <to>                 another container, or "${EXTERNAL}" (the plan's verification.externalTarget,
                       reached through docker_gwbridge)
  --network N          the network to trace on (default: the first one both are on)
  --json               print the trace as JSON
  --mermaid            print the Mermaid sequence diagram instead of the hop list
  --svg FILE           also write the sequence diagram as SVG
  --count N            probes to send (default 3)
  --size BYTES         ICMP payload that marks the probes (default: random in 1100..1399)
  --config FILE        lab config (JSON, the lab:* settings); default: the built-in dind dev lab
  --plan FILE          an already built LabPlan (JSON)
  --pulumi-config FILE the output of \`pulumi config --json\` of the stack
  --endpoint H=URL     Docker endpoint for host H; repeatable
  --ssh-key FILE       private key for ssh:// endpoints
  --replay FILE        render a trace saved with --json again (no lab is contacted)
  -h, --help           this text

Captures need root, tcpdump and nsenter on this machine, and netns hosts; on dind and ssh hosts the
trace still probes and says which hops it could not see and why.
exit: 0 delivered and answered, 1 not, 2 bad usage`;

/** --replay: a saved trace, rendered again. */
export interface ReplayArgs {
  replay: TraceResult;
  json: boolean;
  mermaid: boolean;
  svg?: string;
}

export interface TraceCliArgs {
  plan: LabPlan;
  request: TraceRequest;
  json: boolean;
  mermaid: boolean;
  svg?: string;
  options: TraceOptions;
}

export function parseTraceCli(
  argv: string[],
  io: CliIo = processIo,
  random: () => number = Math.random,
): TraceCliArgs | ReplayArgs | "help" {
  const a = parseFlags(
    argv,
    {
      ...LAB_OPTIONS,
      network: { type: "string" },
      json: { type: "boolean" },
      mermaid: { type: "boolean" },
      svg: { type: "string" },
      count: { type: "string" },
      size: { type: "string" },
      replay: { type: "string" },
    },
    true,
  );
  const v = a.values;
  if (v.help) return "help";
  if (v.json && v.mermaid) throw new UsageError("--json and --mermaid are alternatives; pass only one of them");
  if (v.replay !== undefined) {
    if (a.positionals.length > 0) throw new UsageError("--replay renders a saved trace: give no <from> <to> with it");
    const r = readJson(v.replay, "--replay", io) as Partial<TraceResult> | null;
    if (r === null || typeof r !== "object" || !r.plan || !Array.isArray(r.hops) || !r.probe) {
      throw new UsageError(
        `--replay ${v.replay}: not a trace (no plan/hops/probe); save one with npm run trace -- <from> <to> --json > FILE`,
      );
    }
    return { replay: r as TraceResult, json: v.json ?? false, mermaid: v.mermaid ?? false, ...(v.svg !== undefined ? { svg: v.svg } : {}) };
  }
  if (a.positionals.length !== 2)
    throw new UsageError(`give <from> and <to> (got ${a.positionals.length} argument(s)), e.g. npm run trace -- test2 test1`);
  const plan = planFromArgs(v, io);
  const endpoints = endpointsFromArgs(plan, v.endpoint);
  const count = positiveNumber("--count", v.count, true);
  const size = positiveNumber("--size", v.size, true);
  const request: TraceRequest = {
    from: a.positionals[0]!,
    to: a.positionals[1]!,
    ...(v.network !== undefined ? { network: v.network } : {}),
    // A size no other traffic of the lab has marks the probes on every hop (the BPF filter matches it).
    payloadBytes: size ?? 1100 + Math.floor(random() * 300),
    ...(count !== undefined ? { count } : {}),
  };
  try {
    planTrace(plan, request); // bad names, networks and sizes are usage errors, before anything runs
  } catch (e) {
    if (e instanceof TraceInputError) throw new UsageError(e.message);
    throw e;
  }
  return {
    plan,
    request,
    json: v.json ?? false,
    mermaid: v.mermaid ?? false,
    ...(v.svg !== undefined ? { svg: v.svg } : {}),
    options: { endpoints, ...(v["ssh-key"] !== undefined ? { ssh: { identityFile: v["ssh-key"] } } : {}) },
  };
}

export function writeOutputs(
  r: TraceResult,
  args: Pick<TraceCliArgs, "json" | "mermaid" | "svg">,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): void {
  out.write(
    args.json ? `${JSON.stringify({ ...r, mermaid: traceMermaid(r) }, null, 2)}\n` : args.mermaid ? traceMermaid(r) : formatTrace(r),
  );
  if (args.svg !== undefined) {
    mkdirSync(dirname(args.svg), { recursive: true });
    writeFileSync(args.svg, traceSvg(r));
    err.write(`trace: wrote ${args.svg}\n`);
  }
}

export const traceCli: Cli<TraceCliArgs | ReplayArgs> = {
  name: "trace",
  usage: USAGE,
  parse: (argv) => parseTraceCli(argv),
  run: async (args, { out, err }) => {
    const r = "replay" in args ? args.replay : await runTrace(args.plan, args.request, args.options);
    writeOutputs(r, args, out, err);
    return r.delivered && r.answered && !r.cause ? 0 : 1;
  },
};

/** The CLI with fakes for its engines (tests). */
export function main(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  extra: Pick<TraceOptions, "engineFactory"> = {},
): Promise<number> {
  const parse = (a: string[]): TraceCliArgs | ReplayArgs | "help" => {
    const args = parseTraceCli(a);
    return args === "help" || "replay" in args ? args : { ...args, options: { ...args.options, ...extra } };
  };
  return runCli({ ...traceCli, parse }, argv, { out, err });
}

runAsMain(traceCli, import.meta.url);

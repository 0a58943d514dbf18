// npm run verify -- [--config lab.json | --plan plan.json] [--endpoint host1=unix:///...] [--json] [--timeout S]
// Exit codes: 0 every check as expected, 1 any unexpected result, 2 bad usage (nothing was probed).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { pruneFaults } from "../lab/faults.js";
import { netnsToolOptions } from "../lab/tools.js";
import { checkCount, type LabPlan } from "../model/index.js";
import { restartStuckDaemons, stuckDaemons } from "../lab/recover.js";
import { briefOf, formatTable, statusOf, summaryLine, type VerifyOptions, type VerifyReport, verifyLab } from "../verify/index.js";
import {
  type Cli,
  type CliIo,
  type CliStreams,
  endpointsFromArgs,
  LAB_OPTIONS,
  parseFlags,
  planFromArgs,
  positiveNumber,
  processIo,
  runAsMain,
  runCli,
  UsageError,
} from "./cli.js";

export { UsageError } from "./cli.js";

const USAGE = `usage: npm run verify -- [--config lab.json | --plan plan.json] [options]

  --config FILE        lab config (JSON, the lab:* settings); default: the built-in dind dev lab
  --plan FILE          an already built LabPlan (JSON); "-" reads it from stdin (how the stack runs it)
  --pulumi-config FILE a stack's \`pulumi config --json\` (its lab:* settings)
  --endpoint H=URL     Docker endpoint for host H (unix:///..., tcp://host:port, ssh://user@host:port); repeatable
  --json               print the report as JSON instead of a table
  --json-summary       print only the summary, the counts per network and check type and the failures
                       as JSON (how the stack runs it; --save keeps the full report)
  --timeout S          per-check timeout in seconds (default: the plan's, at most 30)
  --concurrency N      containers probed at once: one exec each runs all of its probes (default 256)
  --settle S           retry failing checks for up to S seconds while the lab converges
                       (default: the plan's verification.settleSeconds, 20; 0 reports the first round)
  --ssh-key FILE       private key for ssh:// endpoints (ssh -i)
  --helper-image IMG   image of the host-level helper container (default: the workloads' image)
  --quiet              no per-check progress on stderr (with --json or --json-summary, stderr still gets
                       the summary line, and the failed checks' rows when any failed: what pulumi up shows)
  --save FILE          also write the JSON report to FILE (npm run inspect reads .lab/last-verify.json)
  --recover            restart a dockerd found with a thread stuck in a deleted overlay namespace (the
                       daemon-netns check; Docker 20.10 defect), then verify again (how the stack runs it)
  --fail-on WHEN       unexpected (default): exit 1 when anything is not as expected; never: report it and
                       exit 0 (the stack passes lab:verification.failUpOn)
  --converge-faults    first remove the faults recorded on the hosts that the plan no longer has (lab:faults:
                       how the stack verifies right after a fault was taken out of its config)
  --dind-engine URL    dind labs with --recover or --converge-faults: the engine the host containers run on
                       (default DOCKER_HOST)
  -h, --help           this text

Without --config, --plan or --pulumi-config, LAB_STACK=<stack> reads the lab from Pulumi.<stack>.yaml.
The report lists the model's checks, then your own expectations (lab:expect) by name.
exit: 0 everything as expected (the model's checks and lab:expect), 1 anything not (each one listed),
      2 bad usage or configuration (nothing was probed)`;

export interface CliArgs {
  plan: LabPlan;
  json: boolean;
  /** --json-summary: the report without its per-check results. */
  jsonSummary: boolean;
  quiet: boolean;
  /** Where to write the JSON report as well (--save). */
  save?: string;
  /** Restart stuck daemons and verify again (--recover). */
  recover: boolean;
  /** --fail-on: whether an unexpected result makes the exit code 1. */
  failOn: "unexpected" | "never";
  /** --converge-faults: remove the faults the plan no longer has first. */
  convergeFaults: boolean;
  /** dind labs: the engine of the host containers (recovery and faults run in them). */
  dindEngine?: string;
  options: VerifyOptions;
}

export function parseCli(argv: string[], io: CliIo = processIo): CliArgs | "help" {
  const a = parseFlags(argv, {
    ...LAB_OPTIONS,
    json: { type: "boolean" },
    "json-summary": { type: "boolean" },
    timeout: { type: "string" },
    concurrency: { type: "string" },
    settle: { type: "string" },
    "helper-image": { type: "string" },
    quiet: { type: "boolean" },
    save: { type: "string" },
    recover: { type: "boolean" },
    "fail-on": { type: "string" },
    "converge-faults": { type: "boolean" },
    "dind-engine": { type: "string" },
  });
  const v = a.values;
  if (v.help) return "help";
  const plan = planFromArgs(v, io);
  const endpoints = endpointsFromArgs(plan, v.endpoint);
  const timeout = positiveNumber("--timeout", v.timeout, false);
  const concurrency = positiveNumber("--concurrency", v.concurrency, true);
  // 0 is a valid window (no retries): checked apart from the positive-number flags.
  const settle = v.settle === "0" ? 0 : positiveNumber("--settle", v.settle, false);
  const options: VerifyOptions = {
    endpoints,
    ...(timeout !== undefined ? { checkTimeoutMs: timeout * 1000 } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(settle !== undefined ? { settleMs: settle * 1000 } : {}),
    ...(v["ssh-key"] !== undefined ? { ssh: { identityFile: v["ssh-key"] } } : {}),
    ...(v["helper-image"] !== undefined ? { helperImage: v["helper-image"] } : {}),
  };
  if (v.json && v["json-summary"]) throw new UsageError("--json and --json-summary are alternatives; pass only one of them");
  if (v["dind-engine"] !== undefined && !v.recover && !v["converge-faults"])
    throw new UsageError("--dind-engine only goes with --recover or --converge-faults");
  const dindEngine = v["dind-engine"] ?? process.env["DOCKER_HOST"];
  const failOn = v["fail-on"] ?? "unexpected";
  if (failOn !== "unexpected" && failOn !== "never") throw new UsageError(`--fail-on ${JSON.stringify(failOn)}: use unexpected or never`);
  return {
    plan,
    json: v.json ?? false,
    jsonSummary: v["json-summary"] ?? false,
    quiet: v.quiet ?? false,
    ...(v.save !== undefined ? { save: v.save } : {}),
    recover: v.recover ?? false,
    failOn,
    convergeFaults: v["converge-faults"] ?? false,
    ...(dindEngine !== undefined ? { dindEngine } : {}),
    options,
  };
}

export async function verify(args: CliArgs, { out, err }: CliStreams): Promise<number> {
  const { plan, json, jsonSummary, quiet, options } = args;
  const machine = json || jsonSummary;
  if (!quiet && !machine)
    err.write(
      `verify: ${checkCount(plan.checks)} checks on lab ${plan.name} (${plan.hosts.map((h) => `${h.name}=${options.endpoints?.[h.name] ?? h.endpoint}`).join(", ")})\n`,
    );
  if (args.convergeFaults) {
    await pruneFaults(plan, {
      ...(args.dindEngine !== undefined ? { dindEngine: args.dindEngine } : {}),
      ...(options.ssh?.identityFile !== undefined ? { identityFile: options.ssh.identityFile } : {}),
      ...netnsToolOptions(),
      ...(!quiet ? { log: (l: string) => err.write(`${l}\n`) } : {}),
    });
  }
  const run = (): Promise<VerifyReport> =>
    verifyLab(plan, {
      ...options,
      ...(!quiet && !machine
        ? { onResult: (r) => err.write(`  ${statusOf(r).padEnd(6)} ${r.id} (${(r.durationMs / 1000).toFixed(2)}s)\n`) }
        : {}),
    });
  let report = await run();
  // A daemon stuck by Docker 20.10's thread-namespace defect does not get better by waiting: restart it
  // and verify again (src/lab/recover.ts says why this is the place). The restart and its reason go to
  // stderr, which is what `pulumi up` shows.
  if (args.recover && stuckDaemons(report.results).size > 0) {
    const recovered = await restartStuckDaemons(plan, report.results, {
      ...(args.dindEngine ? { dindEngine: args.dindEngine } : {}),
      ...(options.ssh?.identityFile ? { sshIdentityFile: options.ssh.identityFile } : {}),
      log: (l) => err.write(`verify: ${l}\n`),
    });
    err.write(`verify: verifying again after restarting dockerd on ${recovered.map((x) => x.host).join(", ")}\n`);
    report = { ...(await run()), recovered };
  }
  // The saved report first: whoever reads stdout (the stack) may look for the file as soon as it ends.
  if (args.save !== undefined) {
    mkdirSync(dirname(args.save), { recursive: true });
    writeFileSync(args.save, `${JSON.stringify(report, null, 2)}\n`);
  }
  out.write(
    jsonSummary ? `${JSON.stringify(briefOf(report), null, 2)}\n` : json ? `${JSON.stringify(report, null, 2)}\n` : formatTable(report),
  );
  // With --json or --json-summary (the stack's way), stderr is what `pulumi up` prints: the rows of the
  // checks that failed and the summary line, or only the summary line when all went as expected.
  if (machine && !report.ok) err.write(formatTable(report, { onlyFailures: true }));
  else if (machine) err.write(`${summaryLine(report.summary)} (${(report.wallMs / 1000).toFixed(2)}s wall)\n`);
  if (!report.ok && args.failOn === "never") {
    err.write("verify: not everything is as expected (above); --fail-on never (lab:verification.failUpOn: never): exit 0\n");
    return 0;
  }
  return report.ok ? 0 : 1;
}

export const verifyCli: Cli<CliArgs> = { name: "verify", usage: USAGE, parse: (argv) => parseCli(argv), run: verify };

export function main(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  return runCli(verifyCli, argv, { out, err });
}

runAsMain(verifyCli, import.meta.url);

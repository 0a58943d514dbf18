// npm run inspect -- [--config lab.json | --plan plan.json] [--endpoint host1=unix:///...] [--json]
// A running lab at a glance: hosts, networks, containers and the last saved verification.
// Exit codes: 0 the lab is as planned, 1 it is not (host unreachable, container missing/stopped/wrong IP,
// network absent), 2 bad usage (nothing was contacted).
import { TlsMaterialError } from "../docker/tls.js";
import { pathToFileURL } from "node:url";
import { formatInspect, type InspectOptions, inspectLab, LAST_VERIFY_FILE } from "../inspect/index.js";
import type { LabPlan } from "../model/index.js";
import { endpointsFromArgs, parseFlags, planFromArgs, positiveNumber, UsageError } from "./labArgs.js";

export { UsageError } from "./labArgs.js";

const USAGE = `usage: npm run inspect -- [--config lab.json | --plan plan.json] [options]

  --config FILE        lab config (JSON, the lab:* settings); default: the built-in dind dev lab
  --plan FILE          an already built LabPlan (JSON)
  --endpoint H=URL     Docker endpoint for host H (unix:///..., tcp://host:port, ssh://user@host:port); repeatable
  --json               print the report as JSON instead of tables
  --verify-file FILE   the saved verification report (default ${LAST_VERIFY_FILE}; write it with
                       npm run verify -- --save ${LAST_VERIFY_FILE})
  --timeout S          per-call timeout in seconds (default 5)
  --no-vni             do not read the classic overlay's VNI from the KV store (it takes one exec per overlay)
  --ssh-key FILE       private key for ssh:// endpoints (ssh -i)
  -h, --help           this text

exit: 0 the lab is as planned, 1 it is not, 2 bad usage`;

export interface InspectCliArgs {
  plan: LabPlan;
  json: boolean;
  options: InspectOptions;
}

export function parseInspectCli(argv: string[]): InspectCliArgs | "help" {
  const a = parseFlags({
    args: argv,
    allowPositionals: false,
    strict: true,
    options: {
      config: { type: "string" },
      plan: { type: "string" },
      endpoint: { type: "string", multiple: true },
      json: { type: "boolean" },
      "verify-file": { type: "string" },
      timeout: { type: "string" },
      "no-vni": { type: "boolean" },
      "ssh-key": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const v = a.values;
  if (v.help) return "help";
  const plan = planFromArgs(v);
  const endpoints = endpointsFromArgs(plan, v.endpoint);
  const timeout = positiveNumber("--timeout", v.timeout, false);
  const timeoutMs = timeout === undefined ? undefined : timeout * 1000;
  return {
    plan,
    json: v.json ?? false,
    options: {
      endpoints,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(v["no-vni"] ? { readVni: false } : {}),
      ...(v["verify-file"] !== undefined ? { verifyFile: v["verify-file"] } : {}),
      ...(v["ssh-key"] !== undefined ? { ssh: { identityFile: v["ssh-key"] } } : {}),
    },
  };
}

export async function main(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  extra: Pick<InspectOptions, "engineFactory" | "now"> = {},
): Promise<number> {
  let args: InspectCliArgs | "help";
  try {
    args = parseInspectCli(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`inspect: error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (args === "help") {
    out.write(`${USAGE}\n`);
    return 0;
  }
  const report = await inspectLab(args.plan, { ...args.options, ...extra });
  out.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspect(report));
  return report.healthy ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      // No client certificate for a dind lab's hosts: nothing was contacted, and the message says where it comes from.
      if (e instanceof TlsMaterialError) {
        process.stderr.write(`inspect: error: ${e.message}\n`);
        process.exitCode = 2;
        return;
      }
      process.stderr.write(`inspect: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

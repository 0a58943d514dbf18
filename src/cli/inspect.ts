// npm run inspect -- [--config lab.json | --plan plan.json] [--endpoint host1=unix:///...] [--json]
// A running lab at a glance: hosts, networks, containers and the last saved verification.
// Exit codes: 0 the lab is as planned, 1 it is not (host unreachable, container missing/stopped/wrong IP,
// network absent), 2 bad usage (nothing was contacted).
import { formatInspect, type InspectOptions, inspectLab, LAST_VERIFY_FILE } from "../inspect/index.js";
import type { LabPlan } from "../model/index.js";
import { type Cli, endpointsFromArgs, LAB_OPTIONS, parseFlags, planFromArgs, positiveNumber, runAsMain, runCli } from "./cli.js";

export { UsageError } from "./cli.js";

const USAGE = `usage: npm run inspect -- [--config lab.json | --plan plan.json] [options]

  --config FILE        lab config (JSON, the lab:* settings); default: the built-in dind dev lab
  --plan FILE          an already built LabPlan (JSON)
  --pulumi-config FILE a stack's \`pulumi config --json\` (its lab:* settings)
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
  const a = parseFlags(argv, {
    ...LAB_OPTIONS,
    json: { type: "boolean" },
    "verify-file": { type: "string" },
    timeout: { type: "string" },
    "no-vni": { type: "boolean" },
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

export const inspectCli: Cli<InspectCliArgs> = {
  name: "inspect",
  usage: USAGE,
  parse: parseInspectCli,
  run: async (args, { out }) => {
    const report = await inspectLab(args.plan, args.options);
    out.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspect(report));
    return report.healthy ? 0 : 1;
  },
};

/** The CLI with fakes for its engines and clock (tests). */
export function main(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  extra: Pick<InspectOptions, "engineFactory" | "now"> = {},
): Promise<number> {
  const withExtra: Cli<InspectCliArgs> = { ...inspectCli, parse: (a) => withOptions(parseInspectCli(a), extra) };
  return runCli(withExtra, argv, { out, err });
}

function withOptions(args: InspectCliArgs | "help", extra: Pick<InspectOptions, "engineFactory" | "now">): InspectCliArgs | "help" {
  return args === "help" ? args : { ...args, options: { ...args.options, ...extra } };
}

runAsMain(inspectCli, import.meta.url);

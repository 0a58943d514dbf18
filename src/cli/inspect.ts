// npm run inspect -- [--config lab.json | --plan plan.json] [--endpoint host1=unix:///...] [--json]
// A running lab at a glance: hosts, networks, containers and the last saved verification.
// Exit codes: 0 the lab is as planned, 1 it is not (host unreachable, container missing/stopped/wrong IP,
// network absent), 2 bad usage (nothing was contacted).
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { formatInspect, type InspectOptions, inspectLab, LAST_VERIFY_FILE } from "../inspect/index.js";
import { buildPlan, type LabPlan, LabConfigError } from "../model/index.js";
import { resolveEndpoints } from "../verify/index.js";

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

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface InspectCliArgs {
  plan: LabPlan;
  json: boolean;
  options: InspectOptions;
}

function readJson(path: string, flag: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`${flag} ${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${flag} ${path}: not valid JSON (${(e as Error).message}); write the file as JSON`);
  }
}

function asPlan(raw: unknown, path: string): LabPlan {
  const p = raw as Partial<LabPlan> | null;
  if (p === null || typeof p !== "object" || typeof p.name !== "string" || !Array.isArray(p.hosts) || !Array.isArray(p.networks) || !Array.isArray(p.workloads)) {
    throw new UsageError(`--plan ${path}: not a LabPlan (needs name, hosts, networks, workloads); pass a plan built by buildPlan, or use --config for a lab config`);
  }
  return p as LabPlan;
}

export function parseInspectCli(argv: string[]): InspectCliArgs | "help" {
  let a;
  try {
    a = parseArgs({
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
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split("\n")[0]}; see --help`);
  }
  const v = a.values;
  if (v.help) return "help";
  if (v.config !== undefined && v.plan !== undefined) throw new UsageError("--config and --plan are alternatives; pass only one of them");
  let plan: LabPlan;
  try {
    plan = v.plan !== undefined ? asPlan(readJson(v.plan, "--plan"), v.plan) : buildPlan(v.config !== undefined ? readJson(v.config, "--config") : {});
  } catch (e) {
    if (e instanceof LabConfigError) throw new UsageError(e.message);
    throw e;
  }
  const endpoints: Record<string, string> = {};
  for (const e of v.endpoint ?? []) {
    const eq = e.indexOf("=");
    if (eq <= 0 || eq === e.length - 1) throw new UsageError(`--endpoint ${JSON.stringify(e)}: write it as HOST=URL, e.g. --endpoint host1=unix:///run/dnlab/lab/host1.sock`);
    endpoints[e.slice(0, eq)] = e.slice(eq + 1);
  }
  try {
    resolveEndpoints(plan, endpoints);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let timeoutMs: number | undefined;
  if (v.timeout !== undefined) {
    const n = Number(v.timeout);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--timeout ${JSON.stringify(v.timeout)}: must be a positive number of seconds, e.g. --timeout 5`);
    timeoutMs = n * 1000;
  }
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
    out.write(USAGE + "\n");
    return 0;
  }
  const report = await inspectLab(args.plan, { ...args.options, ...extra });
  out.write(args.json ? JSON.stringify(report, null, 2) + "\n" : formatInspect(report));
  return report.healthy ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`inspect: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

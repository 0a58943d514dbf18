// npm run view -- [--config lab.json | --plan plan.json | --pulumi-config cfg.json] [--port 8080] [--listen ADDR]
// (or LAB_STACK=name: that stack's lab: settings, from Pulumi.<name>.yaml, as verify, inspect and trace read them)
// Serves a live page of the running lab: its topology coloured by the last verification, each element's
// checks, "verify now", and a trace between two containers. 127.0.0.1 only unless --listen says otherwise,
// and then every request needs the token printed at start.
// Exit codes: 0 stopped (Ctrl-C, SIGTERM), 1 could not serve (the port is taken), 2 bad usage.
import { type LabPlan, LAST_VERIFY_FILE } from "../model/index.js";
import { type AccessOptions, type LabAccess, type LabSource, labAccess, ViewLab } from "../view/lab.js";
import { isLoopback, newToken, startViewServer } from "../view/server.js";
import {
  type Cli,
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

const USAGE = `usage: npm run view -- [--config lab.json | --plan plan.json | --pulumi-config cfg.json] [options]
       LAB_STACK=<stack> npm run view -- [options]

  --config FILE        lab config (JSON, the lab:* settings); default: the built-in dind dev lab
  --plan FILE          an already built LabPlan (JSON)
  --pulumi-config FILE the output of \`pulumi config --json\` of the stack
                       (with none of the three and LAB_STACK set: that stack's lab: settings, read from
                       Pulumi.<stack>.yaml, as npm run up deploys them and verify, inspect and trace read them)
  --port N             the port to serve on (default 8080; 0 picks a free one)
  --listen ADDR        the address to serve on (default 127.0.0.1). Any other than a loopback address
                       needs the token printed at start: every request without it gets 401
  --endpoint H=URL     Docker endpoint for host H (unix:///..., tcp://host:port, ssh://user@host:port); repeatable
  --ssh-key FILE       private key for ssh:// endpoints (ssh -i)
  --verify-file FILE   the saved verification the colours start from, and where "verify now" saves its
                       report (default ${LAST_VERIFY_FILE}, where the stack saves its own)
  --settle S           "verify now" retries failing checks for up to S seconds (default 0: the lab as it is now)
  --timeout S          per-check timeout in seconds (default: the plan's, at most 30)
  -h, --help           this text

The page's only actions are the verification and a trace between two containers of the plan.
exit: 0 stopped by Ctrl-C or SIGTERM, 1 could not serve (e.g. the port is in use), 2 bad usage`;

export interface ViewCliArgs {
  plan: LabPlan;
  source: LabSource;
  listen: string;
  port: number;
  verifyFile: string;
  access: AccessOptions;
}

export interface ParseDeps {
  /** The environment (LAB_STACK); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export function parseViewCli(argv: string[], deps: ParseDeps = {}): ViewCliArgs | "help" {
  const v = parseFlags(argv, {
    ...LAB_OPTIONS,
    port: { type: "string" },
    listen: { type: "string" },
    "verify-file": { type: "string" },
    settle: { type: "string" },
    timeout: { type: "string" },
  }).values;
  if (v.help) return "help";
  const env = deps.env ?? process.env;
  const stack = env["LAB_STACK"];
  // The same reader as verify, inspect and trace: a flag naming the lab, else LAB_STACK's stack file.
  const plan = planFromArgs(v, { ...processIo, env });
  const source: LabSource =
    v.config !== undefined
      ? { kind: "config", file: v.config }
      : v.plan !== undefined
        ? { kind: "plan", file: v.plan }
        : v["pulumi-config"] !== undefined
          ? { kind: "pulumi-config", file: v["pulumi-config"] }
          : stack
            ? { kind: "stack", stack }
            : { kind: "default" };
  const endpoints = endpointsFromArgs(plan, v.endpoint);
  const port = v.port === "0" ? 0 : positiveNumber("--port", v.port, true);
  if (port !== undefined && port > 65535) throw new UsageError(`--port ${v.port}: must be at most 65535, e.g. --port 8080`);
  const listen = v.listen ?? "127.0.0.1";
  if (listen === "" || /[\s/]/.test(listen))
    throw new UsageError(`--listen ${JSON.stringify(listen)}: give an address, e.g. --listen 127.0.0.1 or --listen 0.0.0.0`);
  const settle = v.settle === "0" ? 0 : positiveNumber("--settle", v.settle, false);
  const timeout = positiveNumber("--timeout", v.timeout, false);
  return {
    plan,
    source,
    listen,
    port: port ?? 8080,
    verifyFile: v["verify-file"] ?? LAST_VERIFY_FILE,
    access: {
      endpoints,
      ...(v["ssh-key"] !== undefined ? { ssh: { identityFile: v["ssh-key"] } } : {}),
      ...(settle !== undefined ? { settleMs: settle * 1000 } : {}),
      ...(timeout !== undefined ? { checkTimeoutMs: timeout * 1000 } : {}),
    },
  };
}

export interface ServeDeps {
  /** The lab's calls (tests pass fakes). */
  access?: LabAccess;
  /** Resolves when the command should stop (default: SIGINT or SIGTERM). */
  until?: Promise<unknown>;
  /** Called once the server listens (tests learn its URL). */
  onListening?: (url: string) => void;
}

function untilSignal(): Promise<string> {
  return new Promise((res) => {
    const stop = (sig: string): void => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      res(sig);
    };
    const onInt = (): void => stop("SIGINT");
    const onTerm = (): void => stop("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
}

export async function serve(args: ViewCliArgs, { out, err }: CliStreams, deps: ServeDeps = {}): Promise<number> {
  const { plan } = args;
  const lab = new ViewLab(plan, deps.access ?? labAccess(args.access), { source: args.source, verifyFile: args.verifyFile });
  // Read once before serving: the first page then loads without waiting for the lab.
  await lab.refresh();
  const token = isLoopback(args.listen) ? undefined : newToken();
  let server: Awaited<ReturnType<typeof startViewServer>>;
  try {
    server = await startViewServer(lab, { listen: args.listen, port: args.port, ...(token ? { token } : {}) });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    err.write(
      `view: error: cannot serve on ${args.listen}:${args.port}: ${code === "EADDRINUSE" ? "the port is in use; pick another with --port N" : (e as Error).message}\n`,
    );
    return 1;
  }
  const s = lab.state();
  err.write(
    `view: lab ${plan.name} (${s.lab.summary}, ${s.lab.checks} checks): ${s.running ? `${s.hosts.filter((h) => h.reachable).length} of ${s.hosts.length} hosts answer` : "not running"}\n`,
  );
  if (token) err.write(`view: listening on ${args.listen}: every request needs the token (open the URL below once; it sets a cookie)\n`);
  out.write(`${server.openUrl}\n`);
  err.write("view: Ctrl-C stops it\n");
  deps.onListening?.(server.openUrl);
  const why = await (deps.until ?? untilSignal());
  await server.close();
  err.write(`view: stopped${typeof why === "string" ? ` (${why})` : ""}\n`);
  return 0;
}

export const viewCli: Cli<ViewCliArgs> = { name: "view", usage: USAGE, parse: (argv) => parseViewCli(argv), run: (a, io) => serve(a, io) };

/** The CLI with fakes for the lab and the stop signal (tests). */
export function main(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  deps: ServeDeps & ParseDeps = {},
): Promise<number> {
  return runCli({ ...viewCli, parse: (a) => parseViewCli(a, deps), run: (a, io) => serve(a, io, deps) }, argv, { out, err });
}

runAsMain(viewCli, import.meta.url);

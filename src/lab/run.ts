// Running the lab's commands (scripts, the docker CLI) as child processes, from the repository root.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ScriptCall } from "../model/index.js";

/** The repository root: scripts are addressed relative to it (scripts/netns/host-up.sh). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  cwd?: string;
  timeoutMs?: number;
  /** Called for every complete output line (stdout and stderr), e.g. to stream progress. */
  onLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** Run argv without a shell; never rejects (the caller decides what a non-zero exit means). */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    if (cmd === undefined) {
      resolve({ code: 127, stdout: "", stderr: "empty command", ms: 0 });
      return;
    }
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? REPO_ROOT,
      env: opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const partial = { out: "", err: "" };
    const feed = (which: "out" | "err", chunk: string): void => {
      if (!opts.onLine) return;
      const text = partial[which] + chunk;
      const lines = text.split("\n");
      partial[which] = lines.pop() ?? "";
      for (const l of lines) opts.onLine(l);
    };
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
      feed("out", c);
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
      feed("err", c);
    });
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill("SIGTERM");
          }, opts.timeoutMs);
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(e), ms: Date.now() - started });
    });
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      if (opts.onLine) {
        if (partial.out) opts.onLine(partial.out);
        if (partial.err) opts.onLine(partial.err);
      }
      const note = timedOut ? `\n(timed out after ${opts.timeoutMs} ms)` : "";
      resolve({ code: timedOut ? null : code, stdout, stderr: stderr + note, ms: Date.now() - started });
    });
  });
}

/** The last lines of a command's output, for error messages. */
export function tail(r: RunResult, lines = 20): string {
  const all = (r.stdout + (r.stderr ? `\n${r.stderr}` : "")).trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Run a script call of src/model/remoteCommands.ts on this machine (`where: "local"`): exactly what the
 * stack's local.Command runs (`bash scripts/swarm/x.sh ARGS` from the repository root, call.env added),
 * with `env` on top (e.g. the join token). Never rejects, like run().
 */
export function runScriptCall(call: ScriptCall, opts: RunOptions = {}, env: Record<string, string> = {}): Promise<RunResult> {
  if (call.where !== "local") {
    return Promise.resolve({
      code: 127,
      stdout: "",
      stderr: `${call.script} runs on ${call.host} over ssh; this driver runs only local calls`,
      ms: 0,
    });
  }
  return run(["bash", call.script, ...call.args], { ...opts, env: { ...(opts.env ?? process.env), ...call.env, ...env } });
}

// A command as a user runs it, timed from spawn to exit: `npm run verify`, `npm run up`, the baseline
// scripts. It records when the last byte reached stdout (the report) and when the process exited, so
// the bench can say how long a process lingers after its report. Each runs in its own process group:
// `npm run` starts sh, tsx and node, and a timeout or Ctrl-C must stop all of them, not npm alone.
import { spawn, type ChildProcess } from "node:child_process";
import { REPO_ROOT } from "../src/lab/run.js";

export interface TimedRun {
  /** Exit code; null when killed (timeout or signal). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Spawn to exit. */
  wallMs: number;
  /** Spawn to the last stdout chunk (undefined: nothing on stdout). */
  lastStdoutMs?: number;
  /** Killed after timeoutMs. */
  timedOut: boolean;
}

export interface TimedOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Every stderr line as it comes (progress for the bench's log). */
  onStderrLine?: (line: string) => void;
}

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    /* already gone */
  }
}

/** Stop every command still running (Ctrl-C, cleanup): their process groups get SIGTERM. */
export function stopAllRuns(): void {
  for (const c of running) killGroup(c, "SIGTERM");
}

export function runTimed(argv: readonly string[], o: TimedOptions): Promise<TimedRun> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, env: o.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    running.add(child);
    let stdout = "";
    let stderr = "";
    let partial = "";
    let lastStdoutMs: number | undefined;
    let timedOut = false;
    child.stdout!.setEncoding("utf8").on("data", (c: string) => {
      lastStdoutMs = performance.now() - t0;
      stdout += c;
    });
    child.stderr!.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
      if (!o.onStderrLine) return;
      const lines = (partial + c).split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) o.onStderrLine(l);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, "SIGTERM");
      // A process that ignores SIGTERM is not waited for forever.
      setTimeout(() => killGroup(child, "SIGKILL"), 10_000).unref();
    }, o.timeoutMs);
    // "exit" is the moment the user's shell gets its prompt back; the pipes may close a little later.
    let exitMs: number | undefined;
    let exitCode: number | null = null;
    child.on("exit", (code) => {
      exitMs = performance.now() - t0;
      exitCode = code;
    });
    child.on("error", (e) => {
      stderr += String(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({
        code: timedOut ? null : (exitCode ?? code),
        stdout,
        stderr,
        wallMs: exitMs ?? performance.now() - t0,
        ...(lastStdoutMs !== undefined ? { lastStdoutMs } : {}),
        timedOut,
      });
    });
  });
}

/** The last lines of what a run printed, for error messages. */
export function runTail(r: TimedRun, lines = 5): string {
  return (r.stderr + "\n" + r.stdout).trim().split("\n").slice(-lines).join(" / ").slice(0, 600);
}

// A command as a user runs it, timed from spawn to exit: `npm run verify`, `npm run up`, the baseline
// scripts. It records when the last byte reached stdout (the report) and when the process exited, so
// the bench can say how long a process lingers after its report. Each runs in its own process group:
// `npm run` starts sh, tsx and node, and a timeout or Ctrl-C must stop all of them, not npm alone.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
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
  /**
   * CPU time the whole machine spent from spawn to exit (every process: the command, the daemons and
   * containers it drives; /proc/stat's user, nice, system, irq and softirq). Linux only.
   */
  machineCpuMs?: number;
}

/** The machine's busy CPU time so far, ms (/proc/stat's first line); undefined off Linux. */
export function machineCpuMs(stat = "/proc/stat"): number | undefined {
  try {
    const f = readFileSync(stat, "utf8").split("\n")[0]!.trim().split(/\s+/);
    if (f[0] !== "cpu") return undefined;
    // user nice system idle iowait irq softirq steal: busy = user + nice + system + irq + softirq + steal.
    const [user, nice, system, , , irq, softirq, steal = 0] = f.slice(1).map(Number);
    const ticks = user! + nice! + system! + irq! + softirq! + steal;
    return Number.isFinite(ticks) ? ticks * 10 : undefined; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
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
  const cpu0 = machineCpuMs();
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: REPO_ROOT,
      env: o.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
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
    let cpuMs: number | undefined;
    child.on("exit", (code) => {
      exitMs = performance.now() - t0;
      const cpu1 = machineCpuMs();
      if (cpu0 !== undefined && cpu1 !== undefined) cpuMs = cpu1 - cpu0;
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
        ...(cpuMs !== undefined ? { machineCpuMs: cpuMs } : {}),
      });
    });
  });
}

/** The last lines of what a run printed, for error messages. */
export function runTail(r: TimedRun, lines = 5): string {
  return `${r.stderr}\n${r.stdout}`.trim().split("\n").slice(-lines).join(" / ").slice(0, 600);
}

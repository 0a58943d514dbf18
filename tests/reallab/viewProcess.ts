// `npm run view` as the user runs it, for the real-lab page tests: in a process group of its own (npm
// starts node under a shell), its URL read from stdout, stopped by that group's id.
import { type ChildProcess, spawn } from "node:child_process";
import { REPO_ROOT } from "../../src/lab/run.js";

export interface ViewProcess {
  child: ChildProcess;
  /** The URL it printed. */
  url: Promise<string>;
  log(): string;
}

export function startView(args: string[], env: NodeJS.ProcessEnv = process.env): ViewProcess {
  const child = spawn("npm", ["run", "-s", "view", "--", ...args], {
    cwd: REPO_ROOT,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /^(http:\/\/\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on("exit", (code) => reject(new Error(`npm run view exited (${code}) before printing its URL:\n${err}`)));
  });
  return { child, url, log: () => `${out}${err}` };
}

export function stopView(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  const gone = new Promise<void>((r) => child.once("exit", () => r()));
  process.kill(-child.pid, "SIGTERM");
  return gone;
}

// Running the faults' command lines (src/model/faultCommands.ts) from this machine, for `npm run lab`,
// the verifier (which first prunes the faults a plan no longer has) and the tests: local calls as child
// processes (the script on stdin for dind hosts), remote ones through the ssh CLI, the script on stdin.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  FAULT_SCRIPT,
  type FaultCall,
  type FaultCommandOptions,
  faultCalls,
  faultPruneCall,
  faultStatusCall,
  type HostPlan,
  type LabPlan,
  needsSudo,
  remoteFaultShell,
} from "../model/index.js";
import { REPO_ROOT, type RunResult, run, tail } from "./run.js";

export interface FaultRunOptions extends FaultCommandOptions {
  /** ssh hosts: the private key file (ssh -i), else ssh-agent. */
  identityFile?: string;
  timeoutMs?: number;
  log?: (line: string) => void;
}

const scriptText = (): string => readFileSync(join(REPO_ROOT, FAULT_SCRIPT), "utf8");

/** The ssh command that runs a remote call on its host (the script on stdin, as root). */
export function sshArgv(host: HostPlan, call: FaultCall, identityFile?: string): string[] {
  if (!host.ssh) throw new Error(`host ${host.name} is not an ssh host`);
  return [
    "ssh",
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=accept-new",
    ...(identityFile ? ["-i", identityFile] : []),
    "-p",
    String(host.ssh.port),
    `${host.ssh.user}@${host.address}`,
    remoteFaultShell(call, scriptText(), needsSudo(host)),
  ];
}

/** Runs one fault call; never rejects (the caller decides what a non-zero exit means). */
export async function runFaultCall(plan: LabPlan, call: FaultCall, opts: FaultRunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const onLine = opts.log ? (l: string) => opts.log!(`[fault ${call.host}] ${l}`) : undefined;
  if (call.where === "remote") {
    const host = plan.hosts.find((h) => h.name === call.host)!;
    return run(sshArgv(host, call, opts.identityFile), { timeoutMs, ...(onLine ? { onLine } : {}) });
  }
  // dind: `docker exec -i <host> sh -s -- ARGS` reads the script on stdin; run() gives children no stdin,
  // so the shell redirects it from the file, as the stack's local.Command does.
  const argv = call.stdin
    ? ["sh", "-c", `exec "$@" < ${FAULT_SCRIPT}`, "sh", ...call.runner, ...call.args]
    : [...call.runner, ...call.args];
  return run(argv, { timeoutMs, ...(onLine ? { onLine } : {}) });
}

async function mustRun(plan: LabPlan, what: string, call: FaultCall, opts: FaultRunOptions): Promise<string> {
  const r = await runFaultCall(plan, call, opts);
  if (r.code !== 0) throw new Error(`${what} on ${call.host} failed (exit ${r.code ?? "timeout"}):\n${tail(r)}`);
  return r.stdout;
}

/** Removes every recorded fault the plan does not have (on every host, in parallel). */
export async function pruneFaults(plan: LabPlan, opts: FaultRunOptions = {}): Promise<void> {
  const settled = await Promise.allSettled(
    plan.hosts.map((h) => mustRun(plan, "removing the faults the plan no longer has", faultPruneCall(plan, h.name, opts), opts)),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
}

/** The plan's faults, each applied (again) as it says; faults it no longer has are removed first. */
export async function applyFaults(plan: LabPlan, opts: FaultRunOptions = {}): Promise<string[]> {
  await pruneFaults(plan, opts);
  const settled = await Promise.allSettled(
    plan.faults.map((f) => mustRun(plan, `fault ${f.name} (lab:faults[${f.index}])`, faultCalls(plan, f, opts).apply, opts)),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<string>).value.trim());
}

/** Removes every fault recorded on the lab's hosts (what a teardown does first). */
export async function removeAllFaults(plan: LabPlan, opts: FaultRunOptions = {}): Promise<void> {
  await pruneFaults({ ...plan, faults: [] }, opts);
}

/** One recorded fault on a host, as `fault.sh status` lists it. */
export interface RecordedFault {
  host: string;
  id: string;
  name: string;
  kind: string;
  method: string;
  since: string;
  active: boolean;
}

export function parseFaultStatus(host: string, stdout: string): RecordedFault[] {
  const out: RecordedFault[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^fault (\S+) (\S+) (\S+) method=(\S+) since=(\S+) (active|INACTIVE)$/.exec(line.trim());
    if (m) out.push({ host, id: m[1]!, name: m[2]!, kind: m[3]!, method: m[4]!, since: m[5]!, active: m[6] === "active" });
  }
  return out;
}

/** What each host has recorded, or why it could not be read. */
export async function faultStatus(plan: LabPlan, host: string, opts: FaultRunOptions = {}): Promise<RecordedFault[]> {
  return parseFaultStatus(host, await mustRun(plan, "listing the faults", faultStatusCall(plan, host, opts), opts));
}

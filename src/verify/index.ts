// The verifier: a LabPlan's checks against the live Docker hosts, independent of the Pulumi engine.
import { type CheckPlan, expandChecks, type LabPlan } from "../model/index.js";
import { type CheckResult, runChecks } from "./checks.js";
import type { DockerEngine } from "../docker/api.js";
import { resolveEndpoints } from "../docker/endpoint.js";
import { HttpDockerEngine } from "../docker/engine.js";
import { labClientTls, type TlsMaterial } from "../docker/tls.js";
import type { SshOptions } from "../docker/transport.js";
import { buildReport, type VerifyReport } from "./report.js";

export * from "./checks.js";
export * from "./result.js";
export * from "./parse.js";
export * from "./report.js";

export interface VerifyOptions {
  /** Endpoint overrides per host name (otherwise plan.hosts[i].endpoint). */
  endpoints?: Readonly<Record<string, string>>;
  /** How to reach a host (default: HttpDockerEngine). Tests pass fakes. */
  engineFactory?: (endpoint: string, host: string) => DockerEngine;
  ssh?: SshOptions;
  /** tcp endpoints: the CA and client certificate (default: a dind lab's files, see labClientTls). */
  tls?: TlsMaterial;
  /** Per-check timeout (default: the plan's verification.timeoutSeconds, at most 30 s). */
  checkTimeoutMs?: number;
  /** Execs in flight at once (one per container's probes; default 256). */
  concurrency?: number;
  /** Probes running at once over all containers (default 32 per CPU core). */
  probesInFlight?: number;
  helperImage?: string;
  pingAttempts?: number;
  /** Retry window for failing checks (default: the plan's verification.settleSeconds). */
  settleMs?: number;
  /** Seconds before a daemon thread seen in a deleted namespace is looked at again (tests shorten it). */
  daemonRecheckS?: number;
  /** Only these checks (default: every check of plan.checks). */
  checks?: readonly CheckPlan[];
  onResult?: (r: CheckResult) => void;
}

export async function verifyLab(plan: LabPlan, o: VerifyOptions = {}): Promise<VerifyReport> {
  const endpoints = resolveEndpoints(plan, o.endpoints);
  const engines = new Map<string, DockerEngine>();
  const tls = o.engineFactory ? undefined : (o.tls ?? labClientTls(plan, endpoints));
  for (const [host, e] of endpoints) engines.set(host, o.engineFactory ? o.engineFactory(e, host) : new HttpDockerEngine(e, o.ssh, tls));
  const startedAt = new Date();
  const t0 = performance.now();
  try {
    const results = await runChecks(plan, o.checks ?? expandChecks(plan.checks), {
      engines,
      checkTimeoutMs: o.checkTimeoutMs ?? Math.min(plan.verification.timeoutSeconds, 30) * 1000,
      ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
      ...(o.probesInFlight !== undefined ? { probesInFlight: o.probesInFlight } : {}),
      ...(o.helperImage !== undefined ? { helperImage: o.helperImage } : {}),
      ...(o.pingAttempts !== undefined ? { pingAttempts: o.pingAttempts } : {}),
      settleMs: o.settleMs ?? plan.verification.settleSeconds * 1000,
      ...(o.daemonRecheckS !== undefined ? { daemonRecheckS: o.daemonRecheckS } : {}),
      ...(o.onResult ? { onResult: o.onResult } : {}),
    });
    return buildReport(plan.name, startedAt, performance.now() - t0, results);
  } finally {
    for (const e of engines.values()) e.close();
  }
}

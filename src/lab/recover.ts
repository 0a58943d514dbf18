// Recovery from Docker 20.10's thread-namespace defect: a dockerd the verifier found with a thread stuck
// in a deleted overlay namespace (daemon-netns, src/verify/daemon.ts) is restarted, and the lab is then
// verified again. A restart is the only cure (the thread cannot be moved back from outside), and it
// costs little: the lab's containers have restart policy unless-stopped, so they come back with it.
//
// How a daemon restarts depends on the host kind, each through what already runs it:
//   netns  host-up.sh --restart REASON with the host's own bring-up arguments (src/model/netnsCommands.ts);
//   dind   `docker restart` of the host's container on the engine the lab's containers run on;
//   ssh    docker-daemon.sh restart on the host over ssh (systemd, or its pidfile), as applied.
// Who calls it: `npm run lab -- up` over a running lab (before its networks and containers), and the
// stack's verification step (`verify --recover`): that step runs exactly when the lab changed, which is
// when overlays are deleted and threads get stuck. A host step of its own would have to run on every
// `pulumi up` and so could never show "no changes" on an unchanged lab.
import { readFileSync } from "node:fs";
import { DOCKER_CLI } from "../docker/cli.js";
import {
  daemonChecks,
  dindHostSpec,
  hostDaemonCalls,
  type LabPlan,
  needsSudo,
  netnsCommands,
  netnsRestartArgv,
  remoteShell,
  shellJoin,
} from "../model/index.js";
import { verifyLab } from "../verify/index.js";
import type { CheckResult } from "../verify/result.js";
import { REPO_ROOT, run, tail } from "./run.js";
import { netnsToolOptions } from "./tools.js";

export interface RecoveryOptions {
  /** The binaries of a netns lab (host-up --dockerd ...): default from the environment, as the stack reads them. */
  env?: NodeJS.ProcessEnv;
  /** dind: the engine the host containers run on (the stack's docker:host, else DOCKER_HOST). */
  dindEngine?: string;
  /** ssh: the private key for the hosts (ssh -i), as the verifier uses it. */
  sshIdentityFile?: string;
  /** How long one restart may take. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** The daemons a verification found stuck: host -> the check's detail (cause and fix). */
export function stuckDaemons(results: readonly CheckResult[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of results) if (r.kind === "daemon-netns" && !r.ok && !r.error) out.set(r.host, r.detail);
  return out;
}

/** One restart, as a command line (an ssh host's script travels inside it, as a here-document). */
export interface RestartCommand {
  host: string;
  argv: string[];
}

/** How the daemon of `host` restarts, for the reason given (shown in the host's own log where it can be). */
export function daemonRestartCommand(plan: LabPlan, host: string, reason: string, o: RecoveryOptions = {}): RestartCommand {
  const h = plan.hosts.find((x) => x.name === host);
  if (!h) throw new Error(`no host ${host} in lab ${plan.name}`);
  switch (h.kind) {
    case "netns": {
      const step = netnsCommands(plan, netnsToolOptions(o.env)).hosts.find((s) => s.host === host);
      if (!step) throw new Error(`no bring-up step for netns host ${host}`);
      return { host, argv: netnsRestartArgv(step, reason) };
    }
    case "dind": {
      if (!o.dindEngine) throw new Error(`cannot restart dind host ${host}: the engine its container runs on is not known (DOCKER_HOST)`);
      return { host, argv: [DOCKER_CLI, "-H", o.dindEngine, "restart", "--time", "30", dindHostSpec(plan, h).name] };
    }
    case "ssh": {
      const ssh = h.ssh;
      if (!ssh) throw new Error(`ssh host ${host} has no ssh settings`);
      const call = hostDaemonCalls(plan, h).restart;
      const script = readFileSync(`${REPO_ROOT}${call.script}`, "utf8");
      const identity = o.sshIdentityFile ?? ssh.identityFile;
      return {
        host,
        argv: [
          "ssh",
          "-p",
          String(ssh.port),
          ...(identity ? ["-i", identity] : []),
          "-o",
          "BatchMode=yes",
          "--",
          `${ssh.user}@${h.address}`,
          remoteShell(call, script, { sudo: needsSudo(h) }),
        ],
      };
    }
  }
}

export interface Restarted {
  host: string;
  /** Why: the daemon-netns check's detail. */
  reason: string;
  ms: number;
}

/**
 * Restarts every daemon the verification found stuck, one host after the other (a KV store on the first
 * ssh host goes down with its daemon; the others then wait for it). Throws on the first restart that
 * fails, naming the host, the command and its output.
 */
export async function restartStuckDaemons(plan: LabPlan, results: readonly CheckResult[], o: RecoveryOptions = {}): Promise<Restarted[]> {
  const done: Restarted[] = [];
  for (const [host, detail] of stuckDaemons(results)) {
    o.log?.(`${detail.replace(/; restart it$/, "")}: restarting it`);
    const cmd = daemonRestartCommand(plan, host, "a thread stuck in a deleted overlay network namespace (Docker 20.10 defect)", o);
    const log = o.log;
    const r = await run(cmd.argv, {
      timeoutMs: o.timeoutMs ?? 180_000,
      ...(o.env ? { env: o.env } : {}),
      ...(log ? { onLine: (l: string) => log(`  [${host}] ${l}`) } : {}),
    });
    if (r.code !== 0) {
      const shown = plan.hosts.find((h) => h.name === host)?.kind === "ssh" ? cmd.argv.slice(0, -1).join(" ") : shellJoin(cmd.argv);
      throw new Error(`restarting dockerd on ${host} failed (exit ${r.code ?? "timeout"}): ${shown}\n${tail(r)}`);
    }
    o.log?.(`dockerd on ${host} restarted in ${(r.ms / 1000).toFixed(1)} s`);
    done.push({ host, reason: detail, ms: r.ms });
  }
  return done;
}

/**
 * `npm run lab -- up` over a running kv-mode lab: its daemons may have been left stuck by what was done
 * to it since (an overlay re-created by hand). Checks each daemon alone (no probes), restarts the stuck
 * ones and checks them again; throws if one is still stuck. A fresh lab is not checked: its daemons have
 * just started, and no overlay was deleted under them.
 */
export async function recoverStuckDaemons(plan: LabPlan, o: RecoveryOptions = {}): Promise<Restarted[]> {
  const checks = daemonChecks(plan);
  if (checks.length === 0) return [];
  const first = await verifyLab(plan, { checks, settleMs: 0 });
  if (stuckDaemons(first.results).size === 0) return [];
  const restarted = await restartStuckDaemons(plan, first.results, o);
  const again = await verifyLab(plan, { checks, settleMs: 0 });
  const still = stuckDaemons(again.results);
  if (still.size > 0) throw new Error(`still stuck after a restart: ${[...still.values()].join("; ")}`);
  o.log?.(`dockerd on ${restarted.map((r) => r.host).join(", ")}: no thread stuck after the restart`);
  return restarted;
}

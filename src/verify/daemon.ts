// The daemon-netns check: is any OS thread of a host's dockerd stuck in a deleted network namespace?
// Docker 20.10's classic overlay driver leaves one there when an overlay is deleted (moby/libnetwork#1838;
// tools/consul/dockerd/patches/ fix it in the project's dockerd), and from then on whatever the Go
// scheduler runs on that thread dials from a namespace without routes: the KV store and the gossip
// peers get "connect: network is unreachable", and the lab fails in ways that look like anything but
// the daemon. scripts/verify/daemon-netns.sh reads each thread's namespace through the daemon helper
// (the host's PID namespace); judgeDaemonThreads tells a stuck thread from one that is on its way out.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { CheckPlan, LabPlan } from "../model/index.js";
import type { LabHosts } from "./hosts.js";
import { judgeDaemonThreads, parseDaemonThreads } from "./parse.js";
import { ProbeError, type ProbeOutcome } from "./result.js";

const SCRIPT_URL = new URL("../../scripts/verify/daemon-netns.sh", import.meta.url);
let script: string | undefined;

/** The script, read once from the repo. */
export function daemonNetnsScript(): string {
  script ??= readFileSync(SCRIPT_URL, "utf8");
  return script;
}

/**
 * How long a thread found in a deleted namespace gets before it counts as stuck: a fixed daemon's
 * overlay watcher leaves within libnetwork's 3 s netlink receive timeout once its network is gone.
 */
export const DAEMON_RECHECK_S = 4;

/** The one line a stuck daemon gets: what, why, and what to do. */
export function stuckDaemonDetail(host: string, stuck: number, pid: number | undefined): string {
  const threads = stuck === 1 ? "a thread" : `${stuck} threads`;
  return (
    `dockerd on ${host}${pid !== undefined ? ` (pid ${pid})` : ""} has ${threads} stuck in a deleted overlay network namespace ` +
    `(Docker 20.10 libnetwork defect, moby/libnetwork#1838: its dials to the KV store and its gossip peers fail with ` +
    `"network is unreachable"); restart it`
  );
}

export class DaemonNetnsCheck {
  constructor(
    private readonly plan: LabPlan,
    private readonly hosts: LabHosts,
    readonly recheckS = DAEMON_RECHECK_S,
  ) {}

  async check(c: CheckPlan, signal: AbortSignal): Promise<ProbeOutcome> {
    const h = this.plan.hosts.find((x) => x.name === c.host);
    if (!h) throw new ProbeError(`no host ${c.host} in the plan`);
    const id = await this.hosts.daemonHelper(c.host);
    const r = await this.hosts
      .engine(c.host)
      .exec(
        id,
        [
          "sh",
          "-c",
          daemonNetnsScript(),
          "dnlab-daemon-netns",
          `/dnlab-pid/${basename(h.daemon.pidFile)}`,
          "/netns",
          String(this.recheckS),
        ],
        { signal },
      );
    const d = parseDaemonThreads(r.stdout);
    if (d.error !== undefined || r.exitCode !== 0 || d.first.size === 0) {
      throw new ProbeError(
        `cannot read the threads of dockerd on ${c.host} (pidfile ${h.daemon.pidFile}): ${d.error ?? ((r.stderr || r.stdout).trim().slice(-300) || `exit ${r.exitCode}`)}`,
      );
    }
    const v = judgeDaemonThreads(d);
    // A pidfile that names another daemon (an endpoint override, a pidfile of another machine's daemon
    // on a shared filesystem): its threads live elsewhere. Not this daemon's defect: say so.
    if (v.inOwn * 2 < v.threads) {
      throw new ProbeError(
        `dockerd pid ${d.pid ?? "?"} (pidfile ${h.daemon.pidFile}) is not the daemon behind ${c.host}'s endpoint: ${v.threads - v.inOwn} of its ${v.threads} threads are in another network namespace`,
      );
    }
    const data = { pid: d.pid, threads: v.threads, inSandboxes: v.inSandboxes, leaving: v.leaving, stuck: v.stuck };
    if (v.stuck.length > 0) return { outcome: "fail", detail: stuckDaemonDetail(c.host, v.stuck.length, d.pid), data };
    const leaving = v.leaving ? `, ${v.leaving} leaving a deleted one` : "";
    return {
      outcome: "pass",
      detail: `dockerd pid ${d.pid ?? "?"}: ${v.threads} threads, ${v.inSandboxes} in live sandboxes${leaving}, none stuck in a deleted namespace`,
      data,
    };
  }
}

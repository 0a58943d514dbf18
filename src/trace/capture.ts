// Runs a trace on the live lab: finds every hop's namespace and device, starts one tcpdump per hop
// (all at once, before the probes), pings from the source container, stops the captures by their PIDs
// and hands the text to analyzeTrace. Only netns hosts are captured (see hostCaptureAccess).
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { basename } from "node:path";
import { run } from "../lab/run.js";
import type { HostPlan, LabPlan } from "../model/index.js";
import { type ContainerInfo, type DockerEngine, namedContainer } from "../docker/api.js";
import { resolveEndpoints } from "../docker/endpoint.js";
import { HttpDockerEngine } from "../docker/engine.js";
import { labClientTls, type TlsMaterial } from "../docker/tls.js";
import type { SshOptions } from "../docker/transport.js";
import { parseDefaultRoute, parseIpAddr, parseIpLink, parsePing, pickOverlaySandbox } from "../verify/parse.js";
import { analyzeTrace, type ContainerFact, type HopCapture, type TraceFacts } from "./analyze.js";
import { captureFilter, planTrace, type TraceRequest } from "./plan.js";
import { parseTcpdumpStatus } from "./tcpdump.js";
import type { PlannedHop, ProbeOutcome, TracePlan, TraceResult } from "./types.js";

export type TraceEngine = Pick<DockerEngine, "inspectContainer" | "inspectNetwork" | "exec" | "close">;

export interface TraceOptions {
  endpoints?: Readonly<Record<string, string>>;
  engineFactory?: (endpoint: string, host: string) => TraceEngine;
  ssh?: SshOptions;
  /** tcp endpoints: the CA and client certificate (default: a dind lab's files, see labClientTls). */
  tls?: TlsMaterial;
  /** tcpdump binary (default: tcpdump on PATH). */
  tcpdump?: string;
  /** How long to wait for every capture to listen before probing (default 5 s). */
  listenTimeoutMs?: number;
}

/** Where a netns lab's named namespaces are (ip netns). */
const NETNS_DIR = "/run/netns";

interface Resolved {
  file: string;
  namespace: string;
  device: string;
  deviceVni?: number;
}

function fact(name: string, info: ContainerInfo | undefined | Error, network: string | undefined): ContainerFact {
  if (info instanceof Error) return { name, state: `unknown (${info.message})`, running: false };
  if (!info) return { name, state: "missing", running: false };
  const s = info.State;
  const state = s.Status === "exited" && s.ExitCode !== undefined ? `exited (${s.ExitCode})` : s.Status;
  return {
    name,
    state,
    running: s.Running,
    ...(network !== undefined ? { attached: network in (info.NetworkSettings.Networks ?? {}) } : {}),
  };
}

async function nsRun(file: string, argv: string[]): Promise<string> {
  const r = await run(["nsenter", `--net=${file}`, ...argv], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`${argv.join(" ")} in ${file}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

class Resolver {
  private readonly networkIds = new Map<string, Promise<string | undefined>>();
  constructor(
    private readonly lab: LabPlan,
    private readonly tp: TracePlan,
    private readonly engines: ReadonlyMap<string, TraceEngine>,
    private readonly infos: ReadonlyMap<string, ContainerInfo | undefined | Error>,
  ) {}

  private host(name: string): HostPlan {
    return this.lab.hosts.find((h) => h.name === name)!;
  }

  /** An overlay's id is the same on every host: the endpoints' own record of it needs no (KV) lookup. */
  private async networkId(host: string): Promise<string> {
    for (const info of this.infos.values()) {
      const id = info instanceof Error ? undefined : info?.NetworkSettings.Networks?.[this.tp.network]?.NetworkID;
      if (id) return id;
    }
    let p = this.networkIds.get(host);
    if (!p) {
      p = this.engines
        .get(host)!
        .inspectNetwork(this.tp.network)
        .then(
          (n) => n?.Id,
          (e: Error) => Promise.reject(new Error(`${host}'s daemon cannot look up ${this.tp.network}: ${e.message}`)),
        );
      this.networkIds.set(host, p);
    }
    const id = await p;
    if (!id) throw new Error(`network ${this.tp.network} is not known to ${host}'s daemon`);
    return id;
  }

  async resolve(hop: PlannedHop): Promise<Resolved> {
    const ns = hop.ns;
    switch (ns.kind) {
      case "container": {
        const info = this.infos.get(ns.container);
        const f = fact(ns.container, info, undefined);
        if (!f.running || info instanceof Error || !info) throw new Error(`${ns.container} is ${f.state}: it has no sandbox to capture in`);
        const key = info.NetworkSettings.SandboxKey;
        if (!key) throw new Error(`${ns.container} has no sandbox (SandboxKey is empty)`);
        let device: string | undefined;
        if (this.tp.kind === "external") {
          device = parseDefaultRoute(await nsRun(key, ["ip", "route"]))?.dev;
          if (!device) throw new Error(`${ns.container} has no default route (no docker_gwbridge interface)`);
        } else {
          const ip = info.NetworkSettings.Networks?.[this.tp.network]?.IPAddress;
          if (!ip) throw new Error(`${ns.container} is not attached to ${this.tp.network}: no interface of it to capture on`);
          device = parseIpAddr(await nsRun(key, ["ip", "-o", "-4", "addr"])).find((a) => a.ip === ip)?.name;
          if (!device) throw new Error(`no interface in ${ns.container}'s sandbox carries ${ip}`);
        }
        return { file: key, namespace: `container ${ns.container} (sandbox ${basename(key)})`, device };
      }
      case "overlay": {
        const h = this.host(ns.host);
        const id = await this.networkId(ns.host);
        const dir = `${h.daemon.execRoot}/netns`;
        let entries: string[];
        try {
          entries = readdirSync(dir);
        } catch (e) {
          throw new Error(`cannot list ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        const sandbox = pickOverlaySandbox(entries, id);
        if (!sandbox)
          throw new Error(`no overlay namespace for ${this.tp.network} in ${dir} (no container of ${this.tp.network} on ${ns.host})`);
        const file = `${dir}/${sandbox}`;
        const namespace = `${sandbox} (overlay ${this.tp.network})`;
        // Docker leaves the file of a removed overlay namespace behind: entering it fails.
        const links = await nsRun(file, ["ip", "-o", "link"]).catch(() => {
          throw new Error(
            `the overlay namespace ${sandbox} of ${this.tp.network} on ${ns.host} is gone (a stale file in ${dir}: no container of ${this.tp.network} on ${ns.host} any more)`,
          );
        });
        if (hop.role !== "vxlan") return { file, namespace, device: hop.device };
        const device = [...parseIpLink(links).keys()].find((n) => /^vxlan\d+$|^vx-/.test(n));
        if (!device) throw new Error(`no VXLAN device in ${namespace}`);
        const vni = /\bvxlan id (\d+)/.exec(await nsRun(file, ["ip", "-d", "link", "show", "dev", device]))?.[1];
        return { file, namespace, device, ...(vni !== undefined ? { deviceVni: Number(vni) } : {}) };
      }
      case "host": {
        const n = this.host(ns.host).netns?.namespace;
        if (!n) throw new Error(`${ns.host} has no namespace on this machine`);
        return { file: `${NETNS_DIR}/${n}`, namespace: n, device: hop.device };
      }
      case "switch":
      case "kv": {
        const n = ns.kind === "switch" ? this.lab.netns?.switchNamespace : this.lab.netns?.kvNamespace;
        if (!n) throw new Error("not a netns lab: no switch namespace");
        return { file: `${NETNS_DIR}/${n}`, namespace: n, device: hop.device };
      }
    }
  }
}

interface RunningCapture {
  id: string;
  resolved: Resolved;
  child: ChildProcess;
  stdout: string;
  stderr: string;
  closed: Promise<void>;
}

function startCapture(id: string, r: Resolved, filter: string, tcpdump: string): RunningCapture {
  // -l: line-buffered, so what was seen is written before the SIGTERM; -e MACs; -n no lookups; -v TTL, ids, lengths.
  const child = spawn("nsenter", [`--net=${r.file}`, tcpdump, "-e", "-n", "-v", "-l", "-i", r.device, filter], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const c: RunningCapture = { id, resolved: r, child, stdout: "", stderr: "", closed: Promise.resolve() };
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (c.stdout += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (c.stderr += d));
  c.closed = new Promise((resolve) => {
    child.on("close", () => resolve());
    child.on("error", (e) => {
      c.stderr += `tcpdump: ${e.message}\n`;
      resolve();
    });
  });
  return c;
}

async function untilListening(caps: readonly RunningCapture[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const exited = new Set<string>();
  for (const c of caps) void c.closed.then(() => exited.add(c.id));
  while (Date.now() < deadline) {
    if (caps.every((c) => exited.has(c.id) || parseTcpdumpStatus(c.stderr).listening)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopCapture(c: RunningCapture): Promise<void> {
  // nsenter execs tcpdump: the PID we started is tcpdump's.
  if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGTERM");
  const killed = await Promise.race([c.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3_000))]);
  if (!killed) {
    c.child.kill("SIGKILL");
    await c.closed;
  }
}

export async function runTrace(lab: LabPlan, req: TraceRequest, o: TraceOptions = {}): Promise<TraceResult> {
  const tp = planTrace(lab, req);
  const endpoints = resolveEndpoints(lab, o.endpoints);
  const hosts = [...new Set([tp.from.host, tp.to.host].filter((h): h is string => h !== undefined))];
  const engines = new Map<string, TraceEngine>();
  const tls = o.engineFactory ? undefined : (o.tls ?? labClientTls(lab, endpoints));
  for (const h of hosts)
    engines.set(h, o.engineFactory ? o.engineFactory(endpoints.get(h)!, h) : new HttpDockerEngine(endpoints.get(h)!, o.ssh, tls));
  const startedAt = new Date().toISOString();
  try {
    const infos = new Map<string, ContainerInfo | undefined | Error>();
    const ends = [
      { name: tp.from.name, host: tp.from.host! },
      ...(tp.kind === "external" ? [] : [{ name: tp.to.name, host: tp.to.host! }]),
    ];
    await Promise.all(
      ends.map(async (e) =>
        infos.set(
          e.name,
          await engines
            .get(e.host)!
            .inspectContainer(e.name, { timeoutMs: 10_000 })
            .then((c) => namedContainer(c, e.name))
            .catch((x: Error) => x),
        ),
      ),
    );
    const facts: TraceFacts = {
      from: fact(tp.from.name, infos.get(tp.from.name), tp.network),
      ...(tp.kind === "external" ? {} : { to: fact(tp.to.name, infos.get(tp.to.name), tp.network) }),
    };

    const resolver = new Resolver(lab, tp, engines, infos);
    const captures: HopCapture[] = [];
    const running: RunningCapture[] = [];
    await Promise.all(
      tp.hops.map(async (hop) => {
        if (!hop.access.ok || hop.derived) return;
        try {
          const r = await resolver.resolve(hop);
          running.push(startCapture(hop.id, r, captureFilter(hop, tp.payloadBytes), o.tcpdump ?? "tcpdump"));
        } catch (e) {
          captures.push({ id: hop.id, namespace: "", device: hop.device, unavailable: (e as Error).message });
        }
      }),
    );
    let probe: ProbeOutcome;
    try {
      await untilListening(running, o.listenTimeoutMs ?? 5_000);
      probe = await sendProbes(engines.get(tp.from.host!)!, tp, facts.from);
      // The last reply's frames reach the far hops a moment after ping prints it.
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await Promise.all(running.map(stopCapture));
    }
    for (const c of running) {
      captures.push({
        id: c.id,
        namespace: c.resolved.namespace,
        device: c.resolved.device,
        stdout: c.stdout,
        stderr: c.stderr,
        ...(c.resolved.deviceVni !== undefined ? { deviceVni: c.resolved.deviceVni } : {}),
      });
    }
    return analyzeTrace(tp, captures, probe, facts, startedAt);
  } finally {
    for (const e of engines.values()) e.close();
  }
}

/** busybox ping from the source container: -s marks the probe (its IP length), -W bounds each wait. */
export function probeCommand(tp: TracePlan): string[] {
  return ["ping", "-c", String(tp.count), "-s", String(tp.payloadBytes), "-W", "1", tp.to.ip];
}

async function sendProbes(engine: TraceEngine, tp: TracePlan, from: ContainerFact): Promise<ProbeOutcome> {
  const command = probeCommand(tp);
  if (!from.running) return { command, exitCode: -1, transmitted: 0, received: 0, output: `${from.name} is ${from.state}: not probed` };
  try {
    const r = await engine.exec(tp.from.name, command, { timeoutMs: (tp.count + 5) * 1000 });
    const p = parsePing(r.stdout + r.stderr);
    return { command, exitCode: r.exitCode, transmitted: p.transmitted ?? 0, received: p.replies, output: (r.stdout + r.stderr).trim() };
  } catch (e) {
    return { command, exitCode: -1, transmitted: 0, received: 0, output: (e as Error).message };
  }
}

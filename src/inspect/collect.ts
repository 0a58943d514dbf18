// What a running lab looks like, read from its Docker hosts with the verifier's engine client: hosts
// (reachable, version, daemon mode), networks (per host id, ip-range, VNI), containers (state, IPs per
// network, against the plan), and the last saved verification report.
import { readFileSync } from "node:fs";
import { faultStatus, type RecordedFault } from "../lab/faults.js";
import {
  describeFault,
  faultSetting,
  type HostPlan,
  kvRecordRead,
  type LabPlan,
  LAST_VERIFY_FILE,
  type NetworkPlan,
  type WorkloadPlan,
} from "../model/index.js";

export { LAST_VERIFY_FILE } from "../model/index.js";
import {
  type CallOptions,
  type ContainerInfo,
  type DockerEngine,
  type EngineInfo,
  type NetworkInfo,
  namedContainer,
} from "../docker/api.js";
import { resolveEndpoints } from "../docker/endpoint.js";
import { HttpDockerEngine } from "../docker/engine.js";
import { labClientTls, type TlsMaterial } from "../docker/tls.js";
import type { SshOptions } from "../docker/transport.js";
import { vniFromKvRecord, vniFromOptions } from "../verify/parse.js";
import type { VerifyReport } from "../verify/report.js";

/** Where `npm run verify -- --save` is pointed by default, and where inspect looks. */

/** The engine calls inspect makes: the verifier's client (HttpDockerEngine) provides them all. */
export type InspectEngine = Pick<DockerEngine, "endpoint" | "version" | "inspectContainer" | "listNetworks" | "exec" | "close"> & {
  info(o?: CallOptions): Promise<EngineInfo>;
};

export interface InspectHost {
  name: string;
  kind: string;
  address: string;
  endpoint: string;
  reachable: boolean;
  error?: string;
  /** The daemon's own hostname (classic overlay gossip needs it unique). */
  hostname?: string;
  dockerVersion?: string;
  apiVersion?: string;
  /** "cluster-store etcd://... (advertise eth0:2376)", "swarm active (manager)", or "standalone". */
  mode?: string;
  clusterStore?: string;
  clusterAdvertise?: string;
  swarm?: string;
  containersRunning?: number;
}

export interface InspectNetworkOnHost {
  host: string;
  /** The network exists on this host (unknown when the host is unreachable). */
  present: boolean | undefined;
  id?: string;
  scope?: string;
  subnet?: string;
  ipRange?: string;
}

export interface InspectNetwork {
  name: string;
  driver: string;
  /** As the daemons report it (global: shared through the KV store or swarm; local: per host). */
  scope?: string;
  subnet: string;
  plannedSubnet: string;
  vni?: number;
  vniSource?: string;
  hosts: InspectNetworkOnHost[];
}

export interface InspectContainer {
  name: string;
  host: string;
  /** running, exited (137), ..., missing, or unknown (host unreachable). */
  state: string;
  running: boolean;
  /** Network -> IPv4 as the daemon reports it. */
  ips: Record<string, string>;
  /** Differences from the plan (wrong IP, missing attachment). */
  problems: string[];
}

export interface LastVerification {
  file: string;
  found: boolean;
  error?: string;
  lab?: string;
  startedAt?: string;
  wallMs?: number;
  ok?: boolean;
  summary?: VerifyReport["summary"];
  /** Checks that did not come out as expected. */
  failed?: { id: string; detail: string }[];
  /** The saved report is of another lab than the one inspected. */
  otherLab?: boolean;
}

/** A fault of lab:faults on its host, or one recorded there that the plan no longer has. */
export interface InspectFault {
  host: string;
  name: string;
  kind: string;
  /** 30%, 50ms ± 5ms, MTU 1400, or - */
  setting: string;
  /** active: recorded and in effect; inactive: recorded, no longer in effect; not applied; stale: recorded, not in the plan; unknown (why). */
  state: "active" | "inactive" | "not applied" | "stale" | "unknown";
  /** Why the state is unknown (the host's records could not be read). */
  why?: string;
  /** What it does, in words (planned faults). */
  effect?: string;
  /** When it was applied, as its record says. */
  since?: string;
}

export interface InspectReport {
  lab: string;
  hostKind: string;
  overlayMode: string;
  kv?: { kind: string; url: string };
  inspectedAt: string;
  /** Every host reachable, every container running with its planned IPs, every network on its hosts. */
  healthy: boolean;
  hosts: InspectHost[];
  networks: InspectNetwork[];
  containers: InspectContainer[];
  /** lab:faults per host, as their records on the hosts say. */
  faults: InspectFault[];
  lastVerification: LastVerification;
}

export interface InspectOptions {
  endpoints?: Readonly<Record<string, string>>;
  engineFactory?: (endpoint: string, host: string) => InspectEngine;
  ssh?: SshOptions;
  /** tcp endpoints: the CA and client certificate (default: a dind lab's files, see labClientTls). */
  tls?: TlsMaterial;
  /** Per engine call (default 5 s). */
  timeoutMs?: number;
  /** Read the classic overlay's VNI from the KV store through a running container (default true). */
  readVni?: boolean;
  /** The saved verification report (default LAST_VERIFY_FILE). */
  verifyFile?: string;
  now?: () => Date;
  /** How a host's fault records are read (default: fault.sh status on the host, src/lab/faults.ts). */
  faultStatus?: (host: string) => Promise<RecordedFault[]>;
  /** dind: the engine the host containers run on, where their fault records are (default: DOCKER_HOST). */
  dindEngine?: string;
}

function describeMode(info: EngineInfo): string {
  const state = info.Swarm?.LocalNodeState;
  if (state && state !== "inactive") return `swarm ${state}${info.Swarm?.ControlAvailable ? " (manager)" : ""}`;
  if (info.ClusterStore) return `cluster-store ${info.ClusterStore}${info.ClusterAdvertise ? ` (advertise ${info.ClusterAdvertise})` : ""}`;
  return "standalone";
}

function shortId(id: string | undefined): string | undefined {
  return id === undefined ? undefined : id.slice(0, 12);
}

interface IpamConfig {
  Subnet?: string;
  IPRange?: string;
}

function ipam(net: NetworkInfo | undefined): IpamConfig | undefined {
  return (net?.IPAM?.Config ?? undefined)?.[0] as IpamConfig | undefined;
}

export function readLastVerification(file: string, lab: string): LastVerification {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? { file, found: false } : { file, found: false, error: `cannot read: ${code ?? (e as Error).message}` };
  }
  let r: Partial<VerifyReport>;
  try {
    r = JSON.parse(text) as Partial<VerifyReport>;
  } catch (e) {
    return { file, found: true, error: `not JSON: ${(e as Error).message}` };
  }
  if (typeof r !== "object" || r === null || !r.summary || !Array.isArray(r.results)) {
    return { file, found: true, error: "not a verification report (no summary/results); write it with npm run verify -- --save FILE" };
  }
  return {
    file,
    found: true,
    ...(r.lab !== undefined ? { lab: r.lab } : {}),
    ...(r.startedAt !== undefined ? { startedAt: r.startedAt } : {}),
    ...(r.wallMs !== undefined ? { wallMs: r.wallMs } : {}),
    ...(r.ok !== undefined ? { ok: r.ok } : {}),
    summary: r.summary,
    failed: r.results.filter((x) => !x.ok).map((x) => ({ id: x.id, detail: x.detail })),
    otherLab: r.lab !== undefined && r.lab !== lab,
  };
}

export async function inspectLab(plan: LabPlan, o: InspectOptions = {}): Promise<InspectReport> {
  const endpoints = resolveEndpoints(plan, o.endpoints);
  const call: CallOptions = { timeoutMs: o.timeoutMs ?? 5_000 };
  const engines = new Map<string, InspectEngine>();
  const tls = o.engineFactory ? undefined : (o.tls ?? labClientTls(plan, endpoints));
  for (const [host, e] of endpoints) engines.set(host, o.engineFactory ? o.engineFactory(e, host) : new HttpDockerEngine(e, o.ssh, tls));
  try {
    const hosts = await Promise.all(plan.hosts.map((h) => inspectHost(h, engines.get(h.name)!, call)));
    const reachable = new Set(hosts.filter((h) => h.reachable).map((h) => h.name));
    const lists = await networkLists(reachable, engines, call);
    const infos = await containerInfos(plan, reachable, engines, call);
    const ctx: NetworkContext = { plan, lists, engines, infos, call, readVni: o.readVni ?? true };
    const networks = await Promise.all(plan.networks.map((n) => networkReport(n, ctx)));
    const containers = plan.workloads.map((w) => containerReport(w, reachable, infos));
    const faults = await faultReport(plan, o);
    // A host whose daemon a fault stopped is as planned while unreachable.
    const stopped = new Set(faults.filter((f) => f.kind === "stop-daemon" && f.state === "active").map((f) => f.host));
    const healthy =
      faults.every((f) => f.state === "active") &&
      hosts.every((h) => h.reachable || stopped.has(h.name)) &&
      containers.every((c) => (c.running && c.problems.length === 0) || stopped.has(c.host)) &&
      networks.every((n) => (n.driver === "overlay" ? n.hosts.some((h) => h.present) : n.hosts.every((h) => h.present)));
    return {
      lab: plan.name,
      hostKind: plan.hostKind,
      overlayMode: plan.overlayMode,
      ...(plan.kv ? { kv: { kind: plan.kv.kind, url: plan.kv.url } } : {}),
      inspectedAt: (o.now ?? (() => new Date()))().toISOString(),
      healthy,
      hosts,
      networks,
      containers,
      faults,
      lastVerification: readLastVerification(o.verifyFile ?? LAST_VERIFY_FILE, plan.name),
    };
  } finally {
    for (const e of engines.values()) e.close();
  }
}

/** The plan's faults on every host, against what each host has recorded; records the plan does not have are stale. */
async function faultReport(plan: LabPlan, o: InspectOptions): Promise<InspectFault[]> {
  const read =
    o.faultStatus ??
    ((host: string) =>
      faultStatus(plan, host, {
        ...(o.dindEngine !== undefined ? { dindEngine: o.dindEngine } : {}),
        ...(o.ssh?.identityFile !== undefined ? { identityFile: o.ssh.identityFile } : {}),
        timeoutMs: 30_000,
      }));
  const out: InspectFault[] = [];
  // Every host, with or without a planned fault: a record left of a fault taken out of the config makes
  // a lab not as planned too.
  const all = plan.hosts.map((h) => h.name);
  const records = new Map<string, RecordedFault[] | Error>();
  await Promise.all(
    all.map(async (h) => {
      try {
        records.set(h, await read(h));
      } catch (e) {
        records.set(h, e as Error);
      }
    }),
  );
  for (const f of plan.faults) {
    const r = records.get(f.host);
    const base = { host: f.host, name: f.name, kind: f.kind, setting: faultSetting(f), effect: describeFault(f, plan) };
    if (r instanceof Error) out.push({ ...base, state: "unknown", why: r.message.split("\n")[0]! });
    else {
      const rec = r?.find((x) => x.id === f.id);
      out.push(rec ? { ...base, state: rec.active ? "active" : "inactive", since: rec.since } : { ...base, state: "not applied" });
    }
  }
  for (const h of all) {
    const r = records.get(h);
    if (!Array.isArray(r)) continue;
    for (const rec of r) {
      if (plan.faults.some((f) => f.id === rec.id)) continue;
      out.push({ host: h, name: rec.name, kind: rec.kind, setting: "-", state: "stale", since: rec.since });
    }
  }
  return out;
}

/** A host: its daemon's version and /info (mode, cluster store, swarm), or why it does not answer. */
async function inspectHost(h: HostPlan, engine: InspectEngine, call: CallOptions): Promise<InspectHost> {
  const base = { name: h.name, kind: h.kind, address: h.address, endpoint: engine.endpoint };
  try {
    const [v, info] = await Promise.all([engine.version(call), engine.info(call)]);
    const swarm = info.Swarm?.LocalNodeState;
    return {
      ...base,
      reachable: true,
      dockerVersion: v.Version,
      apiVersion: v.ApiVersion,
      mode: describeMode(info),
      ...(info.Name ? { hostname: info.Name } : {}),
      ...(info.ClusterStore ? { clusterStore: info.ClusterStore } : {}),
      ...(info.ClusterAdvertise ? { clusterAdvertise: info.ClusterAdvertise } : {}),
      ...(swarm ? { swarm } : {}),
      ...(info.ContainersRunning !== undefined ? { containersRunning: info.ContainersRunning } : {}),
    };
  } catch (e) {
    return { ...base, reachable: false, error: (e as Error).message };
  }
}

/** Every reachable host's networks (a host whose list fails is left out: its networks show as unknown). */
async function networkLists(
  reachable: ReadonlySet<string>,
  engines: ReadonlyMap<string, InspectEngine>,
  call: CallOptions,
): Promise<Map<string, NetworkInfo[]>> {
  const lists = new Map<string, NetworkInfo[]>();
  await Promise.all(
    [...reachable].map(async (host) => {
      try {
        lists.set(host, await engines.get(host)!.listNetworks(call));
      } catch {
        /* reported as unknown presence */
      }
    }),
  );
  return lists;
}

type ContainerInfos = Map<string, ContainerInfo | undefined | Error>;

/** The plan's containers on their reachable hosts, by exact name (undefined: missing; an Error: not asked). */
async function containerInfos(
  plan: LabPlan,
  reachable: ReadonlySet<string>,
  engines: ReadonlyMap<string, InspectEngine>,
  call: CallOptions,
): Promise<ContainerInfos> {
  const infos: ContainerInfos = new Map();
  await Promise.all(
    plan.workloads.map(async (w) => {
      if (!reachable.has(w.host)) return;
      try {
        infos.set(w.name, namedContainer(await engines.get(w.host)!.inspectContainer(w.name, call), w.name));
      } catch (e) {
        infos.set(w.name, e as Error);
      }
    }),
  );
  return infos;
}

interface NetworkContext {
  plan: LabPlan;
  lists: ReadonlyMap<string, NetworkInfo[]>;
  engines: ReadonlyMap<string, InspectEngine>;
  infos: ContainerInfos;
  call: CallOptions;
  readVni: boolean;
}

/** A network on every host (an overlay is created once and seen by every host; a macvlan exists on each with its own range), and its VNI. */
async function networkReport(n: NetworkPlan, ctx: NetworkContext): Promise<InspectNetwork> {
  const { plan } = ctx;
  const onHosts = plan.hosts.map((h): InspectNetworkOnHost => {
    const list = ctx.lists.get(h.name);
    if (!list) return { host: h.name, present: undefined };
    const found = list.find((x) => x.Name === n.name);
    if (!found) return { host: h.name, present: false };
    const cfg = ipam(found);
    return {
      host: h.name,
      present: true,
      ...(found.Id ? { id: shortId(found.Id)! } : {}),
      ...(found.Scope ? { scope: found.Scope } : {}),
      ...(cfg?.Subnet ? { subnet: cfg.Subnet } : {}),
      ...(cfg?.IPRange ? { ipRange: cfg.IPRange } : {}),
    };
  });
  const seen = onHosts.find((x) => x.present);
  const full = seen ? ctx.lists.get(seen.host)?.find((x) => x.Name === n.name) : undefined;
  const out: InspectNetwork = {
    name: n.name,
    driver: full?.Driver ?? n.driver,
    ...(seen?.scope ? { scope: seen.scope } : {}),
    subnet: seen?.subnet ?? n.subnet,
    plannedSubnet: n.subnet,
    hosts: onHosts,
  };
  if (n.driver === "overlay" && full) {
    const fromOptions = vniFromOptions(full.Options);
    if (fromOptions !== undefined) {
      out.vni = fromOptions;
      out.vniSource = "network options";
    } else if (ctx.readVni && plan.kv && plan.overlayMode === "kv") {
      const v = await vniThroughContainer(plan, n.name, full.Id, ctx.engines, ctx.infos, ctx.call);
      if (v !== undefined) {
        out.vni = v;
        out.vniSource = `${plan.kv.kind} record`;
      }
    }
  }
  return out;
}

/** A container: its state, its addresses, and how they differ from the plan. */
function containerReport(w: WorkloadPlan, reachable: ReadonlySet<string>, infos: ContainerInfos): InspectContainer {
  const base = { name: w.name, host: w.host };
  if (!reachable.has(w.host)) return { ...base, state: "unknown (host unreachable)", running: false, ips: {}, problems: [] };
  const c = infos.get(w.name);
  if (c instanceof Error) return { ...base, state: `unknown (${c.message})`, running: false, ips: {}, problems: [] };
  if (c === undefined) return { ...base, state: "missing", running: false, ips: {}, problems: ["not created"] };
  const ips: Record<string, string> = {};
  for (const [net, ep] of Object.entries(c.NetworkSettings.Networks ?? {})) if (ep.IPAddress) ips[net] = ep.IPAddress;
  const problems: string[] = [];
  for (const a of w.attachments) {
    if (!(a.network in (c.NetworkSettings.Networks ?? {}))) problems.push(`not on ${a.network}`);
    else if (c.State.Running && ips[a.network] !== a.ipv4) problems.push(`${a.network}: ${ips[a.network] ?? "no IP"}, planned ${a.ipv4}`);
  }
  const s = c.State;
  const state = s.Status === "exited" && s.ExitCode !== undefined ? `exited (${s.ExitCode})` : s.Status;
  return { ...base, state, running: s.Running, ips, problems };
}

/**
 * Classic overlay: the VNI sits in the network's KV record. A running container on the network
 * reaches the KV store (through docker_gwbridge), so it fetches the record with busybox (wget, or nc
 * for ZooKeeper: kvRecordRead).
 */
async function vniThroughContainer(
  plan: LabPlan,
  network: string,
  networkId: string,
  engines: ReadonlyMap<string, InspectEngine>,
  infos: ContainerInfos,
  call: CallOptions,
): Promise<number | undefined> {
  const read = plan.kv ? kvRecordRead(plan.kv, networkId, 3) : undefined;
  if (!read) return undefined;
  const w = plan.workloads.find((x) => {
    const c = infos.get(x.name);
    return c !== undefined && !(c instanceof Error) && c.State.Running && x.attachments.some((a) => a.network === network);
  });
  if (!w) return undefined;
  try {
    const r = await engines.get(w.host)!.exec(w.name, read.argv, call);
    const record = r.exitCode === 0 ? read.record(r.stdout) : undefined;
    return record === undefined ? undefined : vniFromKvRecord(record);
  } catch {
    return undefined;
  }
}

// Parsers for the text the probes print (busybox first, iproute2/iputils tolerated). Pure functions.
import { maskOf, parseIp } from "../model/index.js";

export interface PingResult {
  /** The address the name resolved to ("PING test1 (198.18.100.2)"). */
  resolved?: string;
  /** The address the first reply came from. */
  replyFrom?: string;
  replies: number;
  transmitted?: number;
  /** The first reply's round trip. */
  rttMs?: number;
  /** Every reply's round trip, in order. */
  rtts: number[];
  /** "bad address 'x'" and friends: the name did not resolve. */
  resolveError?: string;
}

/**
 * busybox: `PING test1 (198.18.100.2): 56 data bytes` / `64 bytes from 198.18.100.2: seq=0 ttl=64 time=1.3 ms`
 * iputils: `PING test1 (198.18.100.2) 56(84) bytes of data.` / `64 bytes from test1.ov_net1 (198.18.100.2): icmp_seq=1 ...`
 */
export function parsePing(text: string): PingResult {
  const r: PingResult = { replies: 0, rtts: [] };
  const head = /^PING\s+\S+\s+\(([\d.]+)\)/m.exec(text);
  if (head) r.resolved = head[1];
  for (const line of text.split("\n")) {
    const m = /(\d+) bytes from (?:(\S+) \(([\d.]+)\)|([\d.]+)):/.exec(line);
    if (!m) continue;
    r.replies++;
    const t = /time[=<]([\d.]+) ?ms/.exec(line);
    if (t) r.rtts.push(Number(t[1]));
    if (r.replyFrom === undefined) {
      r.replyFrom = m[3] ?? m[4];
      if (t) r.rttMs = Number(t[1]);
    }
  }
  const stats = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(text);
  if (stats) {
    r.transmitted = Number(stats[1]);
    r.replies = Math.max(r.replies, Number(stats[2]));
  }
  const bad = /(bad address '[^']*'|unknown host \S+|Name or service not known|Temporary failure in name resolution)/i.exec(text);
  if (bad) r.resolveError = bad[1];
  return r;
}

export interface NslookupResult {
  server?: string;
  /** The answer section's addresses (never the server's own address). */
  addresses: string[];
  error?: string;
}

/**
 * busybox 1.3x:  `Server:\t\t127.0.0.11` `Address:\t127.0.0.11:53` ... `Name:\ttest1` `Address: 198.18.100.2`
 * older busybox: `Name: test1` `Address 1: 198.18.100.2 test1.ov_net1`
 */
export function parseNslookup(text: string): NslookupResult {
  const r: NslookupResult = { addresses: [] };
  let inAnswer = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const server = /^Server:\s*(\S+)/.exec(line);
    if (server) {
      r.server = server[1];
      continue;
    }
    if (/^Name:/.test(line)) {
      inAnswer = true;
      continue;
    }
    const addr = /^Address(?:\s+\d+)?:\s*([\d.]+)(?::\d+)?(?:\s|$)/.exec(line);
    if (addr && inAnswer) {
      if (!r.addresses.includes(addr[1]!)) r.addresses.push(addr[1]!);
    } else if (addr) {
      r.server = addr[1]; // the server's own address, before any answer
    }
    const err = /(\*\* server can't find [^\n]*|can't resolve '[^']*'|NXDOMAIN|connection timed out[^\n]*)/i.exec(line);
    if (err && r.error === undefined) r.error = err[1];
  }
  return r;
}

/** `ip route` -> the default route's device and gateway. */
export function parseDefaultRoute(text: string): { dev: string; via?: string } | undefined {
  for (const line of text.split("\n")) {
    const m = /^default\s+(?:via\s+(\S+)\s+)?dev\s+(\S+)/.exec(line.trim());
    if (m) return { dev: m[2]!, ...(m[1] ? { via: m[1] } : {}) };
  }
  return undefined;
}

export interface IfaceAddr {
  index: number;
  name: string;
  /** 198.18.100.2/24 */
  cidr: string;
  ip: string;
  prefix: number;
}

/** `ip -o addr` / `ip -o -4 addr` (busybox and iproute2): IPv4 addresses per interface. */
export function parseIpAddr(text: string): IfaceAddr[] {
  const out: IfaceAddr[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+):\s+([^\s@:]+)(?:@\S+)?:?\s+inet\s+([\d.]+)\/(\d+)/.exec(line.trim());
    if (m) out.push({ index: Number(m[1]), name: m[2]!, cidr: `${m[3]}/${m[4]}`, ip: m[3]!, prefix: Number(m[4]) });
  }
  return out;
}

/** `ip -o link` -> interface name -> MAC. */
export function parseIpLink(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^\d+:\s+([^\s@:]+)(?:@\S+)?:.*?link\/ether\s+([0-9a-f:]{17})/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

export interface DevCounters {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
  rxErrors: number;
  rxDropped: number;
  txErrors: number;
  txDropped: number;
}

/** /proc/net/dev -> counters per device. */
export function parseProcNetDev(text: string): Map<string, DevCounters> {
  const out = new Map<string, DevCounters>();
  for (const line of text.split("\n")) {
    const m = /^\s*([^\s:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    if (f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    out.set(m[1]!, {
      rxBytes: f[0]!,
      rxPackets: f[1]!,
      rxErrors: f[2]!,
      rxDropped: f[3]!,
      txBytes: f[8]!,
      txPackets: f[9]!,
      txErrors: f[10]!,
      txDropped: f[11]!,
    });
  }
  return out;
}

/**
 * Overlay sandbox namespace name as libnetwork names it: osl.GenerateKey("<init epoch>-" + network id),
 * i.e. the first 12 characters. The epoch starts at 1 and grows each time the sandbox is re-created on
 * that host (the last local container left the network and a new one joined): 1-1c0d2f8d31,
 * 2-1c0d2f8d31, ..., 13-1c0d2f8d3 (one id character fewer once the epoch has two digits).
 */
export function overlaySandboxName(networkId: string, epoch = 1): string {
  return `${epoch}-${networkId}`.slice(0, 12);
}

/** The current overlay sandbox among the entries of <exec-root>/netns: the highest epoch for the network. */
export function pickOverlaySandbox(entries: readonly string[], networkId: string): string | undefined {
  let best: { name: string; epoch: number } | undefined;
  for (const raw of entries) {
    const e = raw.trim();
    // Classic overlay ids are hex; swarm network ids are base 36 (tmwjjb3vny...).
    const m = /^(\d+)-[0-9a-z]+$/.exec(e);
    if (!m || overlaySandboxName(networkId, Number(m[1])) !== e) continue;
    const epoch = Number(m[1]);
    if (!best || epoch > best.epoch) best = { name: e, epoch };
  }
  return best?.name;
}

/**
 * The overlay's VXLAN device. libnetwork creates it as `vx-<VNI, 6 hex digits>-<network id prefix>` and,
 * when it moves it into the overlay's sandbox, renames it `vxlan<N>`; both are recognised.
 * The VNI comes from the first form's name.
 */
export function findVxlanDevice(
  devs: Map<string, DevCounters>,
  networkId?: string,
): { name: string; vni?: number; counters: DevCounters } | undefined {
  for (const [name, counters] of devs) {
    const m = /^vx-([0-9a-f]{6})-([0-9a-z]+)$/.exec(name);
    if (m && (networkId === undefined || networkId.startsWith(m[2]!))) return { name, vni: parseInt(m[1]!, 16), counters };
  }
  for (const [name, counters] of devs) {
    if (/^vxlan\d+$/.test(name)) return { name, counters };
  }
  return undefined;
}

/** The VNI as a network's driver options (swarm mode) list it: "4097" or "4097,4098". */
export function vniFromOptions(options: Record<string, string> | null | undefined): number | undefined {
  const v = options?.["com.docker.network.driver.overlay.vxlanid_list"];
  if (!v) return undefined;
  const n = Number(v.split(",")[0]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * The classic overlay's record in the KV store (key docker/network/v1.0/overlay/network/<id>):
 * `{"subnets":[{"SubnetIP":"198.18.100.0/24","Vni":256}]}` — returned raw by consul (?raw),
 * wrapped as {"node":{"value":"..."}} by etcd's v2 API.
 */
export function vniFromKvRecord(text: string): number | undefined {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return undefined;
  }
  const node = (j as { node?: { value?: unknown } }).node;
  if (node && typeof node.value === "string") return vniFromKvRecord(node.value);
  const subnets = (j as { subnets?: { Vni?: unknown }[] }).subnets;
  const vni = Array.isArray(subnets) ? subnets[0]?.Vni : undefined;
  return typeof vni === "number" ? vni : undefined;
}

/** Whether ip lies in the CIDR block (the block may carry host bits, e.g. a gateway's 198.19.128.1/24). */
export function ipInSubnet(ip: string, subnet: string): boolean {
  const [base, len, ...rest] = subnet.split("/");
  const addr = parseIp(ip);
  const b = base === undefined ? undefined : parseIp(base);
  if (addr === undefined || b === undefined || len === undefined || rest.length > 0 || !/^\d{1,2}$/.test(len) || Number(len) > 32)
    return false;
  const mask = maskOf(Number(len));
  return (addr & mask) >>> 0 === (b & mask) >>> 0;
}

/** What scripts/verify/daemon-netns.sh printed about a dockerd's threads. */
export interface DaemonThreads {
  pid?: number;
  /** The daemon's own network namespace (inode). */
  own?: string;
  /** Namespace files of the exec-root's netns dir: inode -> name. */
  live: Map<string, string>;
  /** Thread id -> namespace inode, first look. */
  first: Map<string, string>;
  /** The second look, taken only when the first found threads elsewhere. */
  second?: Map<string, string>;
  error?: string;
}

export function parseDaemonThreads(text: string): DaemonThreads {
  const d: DaemonThreads = { live: new Map(), first: new Map() };
  for (const line of text.split("\n")) {
    const [tag, a = "", b = ""] = line.trim().split(/\s+/);
    if (tag === "@pid" && /^\d+$/.test(a)) d.pid = Number(a);
    else if (tag === "@own" && a) d.own = a;
    else if (tag === "@live" && a && b) d.live.set(a, b);
    else if (tag === "@s1" && a && b) d.first.set(a, b);
    else if (tag === "@s2" && a && b) {
      d.second ??= new Map();
      d.second.set(a, b);
    } else if (tag === "@err") d.error = line.trim().slice("@err".length).trim();
  }
  return d;
}

export interface DaemonThreadsVerdict {
  threads: number;
  /** Threads in the daemon's own namespace (nearly all of them, for the daemon behind this endpoint). */
  inOwn: number;
  /** Threads in a namespace that is neither the daemon's nor a live sandbox's, at both looks: the defect. */
  stuck: { tid: string; netns: string }[];
  /** Threads found elsewhere at the first look only: a fixed daemon's thread on its way out. */
  leaving: number;
  /** Threads in a live sandbox's namespace (an overlay's watcher, a call into a container). */
  inSandboxes: number;
}

/**
 * A dockerd thread in a foreign namespace is the defect only when it is still there at the second look:
 * a live sandbox's namespace is legitimate (the overlay driver keeps one thread locked in each), and a
 * deleted one's is legitimate while the thread exits (libnetwork's 3 s netlink timeout).
 */
export function judgeDaemonThreads(d: DaemonThreads): DaemonThreadsVerdict {
  const foreign = (ns: string): boolean => ns !== d.own && !d.live.has(ns);
  let inSandboxes = 0;
  let inOwn = 0;
  const suspects: { tid: string; netns: string }[] = [];
  for (const [tid, ns] of d.first) {
    if (ns === d.own) inOwn++;
    else if (d.live.has(ns)) inSandboxes++;
    else if (foreign(ns)) suspects.push({ tid, netns: ns });
  }
  const stuck = suspects.filter((s) => d.second !== undefined && d.second.get(s.tid) === s.netns && foreign(s.netns));
  return { threads: d.first.size, inOwn, stuck, leaving: suspects.length - stuck.length, inSandboxes };
}

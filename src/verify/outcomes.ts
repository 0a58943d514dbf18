// What a probe's output means for its check: pure functions from what a container saw (its ping and
// nslookup runs, its routes, addresses and links) and what its daemon reports, to pass or fail with
// the detail a person reads.
import type { ContainerInfo, NetworkInfo } from "../docker/api.js";
import type { Bounds, CheckPlan, WorkloadPlan } from "../model/index.js";
import type { ProbeAttempt } from "./batch.js";
import { ipInSubnet, parseDefaultRoute, type parseIpAddr, parseNslookup, parsePing } from "./parse.js";
import type { ProbeOutcome } from "./result.js";

/** A container's network state, read in its batch (ip route, ip addr, ip link). */
export interface NetState {
  route: string;
  addrs: ReturnType<typeof parseIpAddr>;
  macs: Map<string, string>;
}

/** A ping probe's attempts: the first reply passes (from expectedIp, when ping resolved a name); none fails, saying why. */
export function pingOutcome(runs: readonly ProbeAttempt[], target: string, expectedIp?: string): ProbeOutcome {
  const attempts: { exitCode: number; replyFrom?: string; error?: string }[] = [];
  let last = parsePing("");
  for (const r of runs) {
    last = parsePing(r.output);
    attempts.push({
      exitCode: r.exitCode,
      ...(last.replyFrom ? { replyFrom: last.replyFrom } : {}),
      ...(last.resolveError ? { error: last.resolveError } : {}),
    });
    if (r.exitCode === 0 && last.replies > 0) {
      const data = { resolved: last.resolved, replyFrom: last.replyFrom, rttMs: last.rttMs, attempts: attempts.length };
      if (expectedIp !== undefined && last.replyFrom !== expectedIp) {
        return { outcome: "fail", detail: `${target} answered from ${last.replyFrom ?? "?"}, expected ${expectedIp}`, data };
      }
      const named = last.resolved && last.resolved !== target ? `${target} is ${last.resolved}, ` : "";
      return { outcome: "pass", detail: `${named}reply from ${last.replyFrom} in ${last.rttMs ?? "?"} ms`, data };
    }
  }
  const why =
    last.resolveError ??
    `no reply from ${target} (${attempts.length} attempt${attempts.length === 1 ? "" : "s"}, ${2 * attempts.length} s)`;
  return { outcome: "fail", detail: why, data: { resolved: last.resolved, attempts: attempts.length } };
}

/** nslookup of a name returned the planned address (targetNote: what is known of the target when it did not). */
export function dnsOutcome(c: CheckPlan, runs: readonly ProbeAttempt[], targetNote: string): ProbeOutcome {
  const r = runs.at(-1) ?? { exitCode: -1, output: "" };
  const ns = parseNslookup(r.output);
  const data = { server: ns.server, addresses: ns.addresses };
  // No planned address (a user's expectation between containers that share no one network): any answer resolves it.
  if (c.expectedIp === undefined ? ns.addresses.length > 0 : ns.addresses.includes(c.expectedIp)) {
    return { outcome: "pass", detail: `${c.target} -> ${ns.addresses.join(", ")} (server ${ns.server ?? "?"})`, data };
  }
  const got = ns.addresses.length ? `resolved to ${ns.addresses.join(", ")}` : (ns.error ?? `no answer (exit ${r.exitCode})`);
  return {
    outcome: "fail",
    detail: `${c.target}: ${got}, expected ${c.expectedIp ?? "an address"}${targetNote}`,
    data,
  };
}

/** The container's default route leaves through its docker_gwbridge interface. */
export function gwbridgeRoute(c: CheckPlan, st: NetState, gw: NetworkInfo | undefined): ProbeOutcome {
  const def = parseDefaultRoute(st.route);
  if (!def) return { outcome: "fail", detail: `${c.from} has no default route`, data: { routes: st.route.trim() } };
  const subnets = (gw?.IPAM?.Config ?? []).map((x) => x.Subnet).filter((s): s is string => typeof s === "string");
  const ips = st.addrs.filter((a) => a.name === def.dev);
  const data = { dev: def.dev, via: def.via, addresses: ips.map((a) => a.cidr), gwbridgeSubnets: subnets };
  if (!gw) return { outcome: "fail", detail: `no docker_gwbridge network on ${c.host}`, data };
  const hit = ips.find((a) => subnets.some((s) => ipInSubnet(a.ip, s)));
  if (hit)
    return {
      outcome: "pass",
      detail: `default via ${def.via ?? "-"} dev ${def.dev} (${hit.ip} in docker_gwbridge ${subnets.join(", ")})`,
      data,
    };
  return {
    outcome: "fail",
    detail: `default route leaves through ${def.dev} (${ips.map((a) => a.cidr).join(", ") || "no IPv4"}), not docker_gwbridge ${subnets.join(", ")}`,
    data,
  };
}

/** The CNM view of a container: its sandbox, an endpoint per planned network at the planned address, each on an interface. */
export function cnm(st: NetState, info: ContainerInfo, gw: NetworkInfo | undefined, planned: WorkloadPlan | undefined): ProbeOutcome {
  const ifaceOf = (ip: string | undefined): string | undefined => st.addrs.find((a) => a.ip === ip)?.name;
  const endpoints = Object.entries(info.NetworkSettings.Networks ?? {}).map(([network, ep]) => ({
    network,
    networkId: ep.NetworkID,
    endpointId: ep.EndpointID,
    ip: ep.IPAddress ? `${ep.IPAddress}/${ep.IPPrefixLen ?? 32}` : undefined,
    mac: ep.MacAddress,
    gateway: ep.Gateway,
    interface: ifaceOf(ep.IPAddress),
  }));
  const gwSubnets = (gw?.IPAM?.Config ?? []).map((x) => x.Subnet).filter((s): s is string => typeof s === "string");
  const known = new Set(endpoints.map((e) => e.interface));
  const interfaces = st.addrs
    .filter((a) => a.name !== "lo")
    .map((a) => ({
      name: a.name,
      ip: a.cidr,
      mac: st.macs.get(a.name),
      ...(known.has(a.name) ? {} : gwSubnets.some((s) => ipInSubnet(a.ip, s)) ? { network: "docker_gwbridge" } : {}),
    }));
  const data = {
    sandboxId: info.NetworkSettings.SandboxID,
    sandboxKey: info.NetworkSettings.SandboxKey,
    pid: info.State.Pid,
    endpoints,
    interfaces,
  };
  const problems: string[] = [];
  if (!info.NetworkSettings.SandboxKey) problems.push("no sandbox");
  for (const a of planned?.attachments ?? []) {
    const ep = endpoints.find((e) => e.network === a.network);
    if (!ep) problems.push(`no endpoint on ${a.network}`);
    else if (ep.ip?.split("/")[0] !== a.ipv4) problems.push(`${a.network} endpoint has ${ep.ip ?? "no IP"}, planned ${a.ipv4}`);
    else if (!ep.interface) problems.push(`no interface in the sandbox carries ${a.ipv4}`);
  }
  const eps = endpoints.map((e) => `${e.network}: ${e.interface ?? "?"} ${e.ip ?? "-"} ${e.mac ?? ""}`.trim());
  const extra = interfaces.filter((i) => i.network).map((i) => `${i.network}: ${i.name} ${i.ip}`);
  const sandbox = `sandbox ${(info.NetworkSettings.SandboxID ?? "").slice(0, 12)} ${info.NetworkSettings.SandboxKey ?? ""}`.trim();
  const detail = `${sandbox}; ${[...eps, ...extra].join("; ")}`;
  return problems.length ? { outcome: "fail", detail: `${problems.join("; ")} (${detail})`, data } : { outcome: "pass", detail, data };
}

/** A DF probe: through when a reply came; "does not fit" when its size exceeds the interface's MTU (as DF would). */
export function mtuOutcome(c: CheckPlan, runs: readonly ProbeAttempt[]): ProbeOutcome {
  const last = runs.at(-1) ?? { exitCode: -1, output: "" };
  const all = runs.map((r) => r.output).join("\n");
  const df = /^@@df (\S+) (\d+) (\d+)$/m.exec(all);
  if (df) {
    const size = Number(df[3]);
    return {
      outcome: "fail",
      detail: `a ${size + 28}-byte DF packet does not fit ${df[1]}'s MTU ${df[2]} in ${c.from}`,
      data: { size, packet: size + 28, dev: df[1], mtu: Number(df[2]) },
    };
  }
  const sized = /^@@size (\S+) (\S+) (\d+)$/m.exec(all);
  const size = sized ? Number(sized[3]) : typeof c.size === "number" ? c.size : undefined;
  const data: Record<string, unknown> = {
    ...(size !== undefined ? { size, packet: size + 28 } : {}),
    ...(sized ? { dev: sized[1], mtu: Number(sized[2]) || null } : {}),
  };
  const ping = parsePing(last.output);
  const bytes = size !== undefined ? `${size + 28}-byte DF packet` : "DF packet";
  if (last.exitCode === 0 && ping.replies > 0) {
    return {
      outcome: "pass",
      detail: `a ${bytes} reached ${c.target}: reply in ${ping.rttMs ?? "?"} ms`,
      data: { ...data, rttMs: ping.rttMs },
    };
  }
  const why =
    ping.resolveError ??
    (sized
      ? `no reply from ${c.target} (${runs.length} attempt${runs.length === 1 ? "" : "s"})`
      : last.output.trim().split("\n")[0] || `exit ${last.exitCode}`);
  return { outcome: "fail", detail: `a ${bytes} did not get through: ${why}`, data };
}

/** The middle of the values (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1]! + s[mid]!) / 2;
}

const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

function inBounds(v: number, b: Bounds | undefined): boolean {
  return b === undefined || ((b.min === undefined || v >= b.min) && (b.max === undefined || v <= b.max));
}

function boundsText(what: string, b: Bounds, unit: string): string {
  if (b.min !== undefined && b.max !== undefined) return `${what} ${b.min}..${b.max}${unit}`;
  return b.min !== undefined ? `${what} >= ${b.min}${unit}` : `${what} <= ${b.max}${unit}`;
}

/** A series of pings: its loss and round trips, measured, and judged against the check's bounds (if any). */
export function measureOutcome(c: CheckPlan, runs: readonly ProbeAttempt[]): ProbeOutcome {
  const count = c.measure?.count ?? 0;
  const last = runs.at(-1) ?? { exitCode: -1, output: "" };
  const ping = parsePing(last.output);
  if (ping.resolveError) return { outcome: "fail", detail: ping.resolveError, data: { sent: 0 } };
  const sent = ping.transmitted ?? count;
  const received = Math.min(ping.replies, sent);
  const lossPct = sent > 0 ? round(((sent - received) / sent) * 100, 1) : 100;
  const med = median(ping.rtts);
  const min = ping.rtts.length ? Math.min(...ping.rtts) : undefined;
  const max = ping.rtts.length ? Math.max(...ping.rtts) : undefined;
  const data: Record<string, unknown> = {
    sent,
    received,
    lossPct,
    ...(med !== undefined ? { rttMedianMs: round(med), rttMinMs: min, rttMaxMs: max, rttSpreadMs: round(max! - min!) } : {}),
  };
  const rtt = med !== undefined ? `; rtt median ${round(med)} ms (${min}..${max}, spread ${round(max! - min!)} ms)` : "; no replies";
  const measured = `${sent} sent, ${sent - received} lost (${lossPct}%)${rtt}`;
  const b = c.measure;
  const problems: string[] = [];
  if (b?.lossPct && !inBounds(lossPct, b.lossPct)) problems.push(`expected ${boundsText("loss", b.lossPct, "%")}`);
  if (b?.rttMs) {
    if (med === undefined) problems.push(`expected ${boundsText("rtt median", b.rttMs, " ms")}, but no reply came back`);
    else if (!inBounds(med, b.rttMs)) problems.push(`expected ${boundsText("rtt median", b.rttMs, " ms")}`);
  }
  if (sent === 0) problems.push(`no ping was sent (exit ${last.exitCode}): ${last.output.trim().split("\n")[0] ?? ""}`);
  return problems.length
    ? { outcome: "fail", detail: `${measured}: ${problems.join("; ")}`, data }
    : { outcome: "pass", detail: measured, data };
}

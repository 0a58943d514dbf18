// What a probe's output means for its check: pure functions from what a container saw (its ping and
// nslookup runs, its routes, addresses and links) and what its daemon reports, to pass or fail with
// the detail a person reads.
import type { ContainerInfo, NetworkInfo } from "../docker/api.js";
import type { CheckPlan, WorkloadPlan } from "../model/index.js";
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
  if (c.expectedIp !== undefined && ns.addresses.includes(c.expectedIp)) {
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

// The expectations stage: lab:expect, the user's own assertions ("test2 reaches test1 by name",
// "test3 cannot reach host1", "at least 10% loss from test1 to test2"). Every name must exist and every
// network be shared, like the rest of the config; what a probe then finds is the verifier's to say.
import { EXPECT_KEYS, type ExpectInput, RANGE_KEYS, type RangeInput } from "../config.js";
import type { Problems } from "../errors.js";
import { LOSS_PINGS, RTT_PINGS } from "../faults.js";
import { contains, LAB_RANGE, parseIp } from "../ip.js";
import {
  type Bounds,
  EXPECT_PROBES,
  type ExpectationPlan,
  type ExpectProbe,
  type ExpectTarget,
  type HostPlan,
  type NetworkPlan,
  type WorkloadPlan,
} from "../types.js";
import { K, LAB_RANGE_TEXT, list, oneOf, section } from "./fields.js";

/** `to: external`: the plan's verification.externalTarget, never a real outside address. */
export const EXTERNAL_TARGET = "external";

export interface ExpectContext {
  hosts: HostPlan[];
  networks: NetworkPlan[];
  workloads: WorkloadPlan[];
  externalTarget: string;
}

export function readExpectations(p: Problems, value: unknown, ctx: ExpectContext): ExpectationPlan[] {
  const names = new Set<string>();
  const out: ExpectationPlan[] = [];
  list<ExpectInput>(p, "expect", value, []).forEach((raw, i) => {
    const e = readExpectation(p, raw, i, ctx, names);
    if (e) out.push(e);
  });
  return out;
}

function readExpectation(p: Problems, raw: unknown, i: number, ctx: ExpectContext, names: Set<string>): ExpectationPlan | undefined {
  const key = `expect[${i}]`;
  const e = section<ExpectInput>(p, key, raw, EXPECT_KEYS);
  const probe = oneOf<ExpectProbe>(p, `${key}.probe`, e.probe, EXPECT_PROBES, "ping", "probe");
  const from = ctx.workloads.find((w) => w.name === e.from);
  if (!from) {
    p.add(
      K(`${key}.from`),
      e.from,
      e.from === undefined ? "every expectation needs the workload it probes from" : "no such workload",
      `use one of ${ctx.workloads.map((w) => w.name).join(", ") || "(no valid workloads)"}`,
    );
  }
  const to = readTarget(p, key, e.to, probe, ctx);
  const network = readNetwork(p, key, e.network, from, to, ctx);
  const expect = readExpect(p, key, e, probe);
  const size = readSize(p, key, e.size, probe);
  const lossPct = readBounds(p, `${key}.lossPct`, e.lossPct, probe, 100);
  const rttMs = readBounds(p, `${key}.rttMs`, e.rttMs, probe, 60_000);
  const name = readName(p, key, e.name, defaultName(e, probe, i, names), names);
  if (!from || !to || name === undefined) return undefined;
  return {
    index: i,
    name,
    from: from.name,
    host: from.host,
    to: resolveIp(to, from, network, ctx),
    ...(network ? { network } : {}),
    probe,
    expect,
    ...(size !== undefined ? { size } : {}),
    ...(lossPct ? { lossPct } : {}),
    ...(rttMs ? { rttMs } : {}),
  };
}

/** `test1->test2 ping`, with what tells it apart (`lossPct`, the size) and, if still taken, its position. */
function defaultName(e: ExpectInput, probe: ExpectProbe, i: number, names: Set<string>): string {
  const what = [
    e.lossPct !== undefined ? "lossPct" : "",
    e.rttMs !== undefined ? "rttMs" : "",
    typeof e.size === "number" ? String(e.size) : "",
  ];
  const name = [`${e.from}->${e.to} ${probe}`, ...what.filter(Boolean)].join(" ");
  return names.has(name) ? `${name} #${i}` : name;
}

function readName(p: Problems, key: string, value: unknown, fallback: string, names: Set<string>): string | undefined {
  let name = fallback;
  if (value !== undefined) {
    if (typeof value !== "string" || !/^\S(.{0,78}\S)?$/.test(value) || value.includes("\n")) {
      p.add(K(`${key}.name`), value, "not a usable name", "write a short line of text, e.g. test2 reaches test1 by name");
      return undefined;
    }
    name = value;
  }
  if (names.has(name)) {
    p.add(
      K(`${key}.name`),
      value ?? name,
      "two expectations with the same name (the report lists them by name)",
      "give every expectation its own name",
    );
  }
  names.add(name);
  return name;
}

function readTarget(p: Problems, key: string, value: unknown, probe: ExpectProbe, ctx: ExpectContext): ExpectTarget | undefined {
  const k = K(`${key}.to`);
  if (typeof value !== "string" || value === "") {
    p.add(k, value, "every expectation needs a target", `use a workload, a host, ${EXTERNAL_TARGET} or an address in ${LAB_RANGE_TEXT}`);
    return undefined;
  }
  let target: ExpectTarget | undefined;
  const host = ctx.hosts.find((h) => h.name === value);
  if (ctx.workloads.some((w) => w.name === value)) target = { kind: "workload", name: value };
  else if (host) target = { kind: "host", name: value, ip: host.address };
  else if (value === EXTERNAL_TARGET) target = { kind: "external", name: value, ip: ctx.externalTarget };
  else if (parseIp(value) !== undefined) {
    if (!contains(LAB_RANGE, parseIp(value)!)) {
      p.add(k, value, `outside the lab range ${LAB_RANGE_TEXT} (lab traffic never leaves it)`, `use an address in ${LAB_RANGE_TEXT}`);
      return undefined;
    }
    target = { kind: "address", name: value, ip: value };
  } else {
    p.add(
      k,
      value,
      "no such workload or host",
      `use one of ${[...ctx.workloads.map((w) => w.name), ...ctx.hosts.map((h) => h.name), EXTERNAL_TARGET].join(", ")}, or an address in ${LAB_RANGE_TEXT}`,
    );
    return undefined;
  }
  if (probe === "dns" && target.kind !== "workload") {
    p.add(k, value, "the embedded DNS resolves container names only", "use probe: ping for a host or an address, or name a workload");
    return undefined;
  }
  return target;
}

/** The network must exist and be shared by both ends (when `to` is a workload). */
function readNetwork(
  p: Problems,
  key: string,
  value: unknown,
  from: WorkloadPlan | undefined,
  to: ExpectTarget | undefined,
  ctx: ExpectContext,
): string | undefined {
  if (value === undefined) return undefined;
  const k = K(`${key}.network`);
  const net = ctx.networks.find((n) => n.name === value);
  if (!net) {
    p.add(k, value, "no such network", `use one of ${ctx.networks.map((n) => n.name).join(", ") || "(no valid networks)"}`);
    return undefined;
  }
  const on = (w: WorkloadPlan | undefined): boolean => !!w?.attachments.some((a) => a.network === net.name);
  const toW = to?.kind === "workload" ? ctx.workloads.find((w) => w.name === to.name) : undefined;
  if (from && !on(from)) {
    p.add(
      k,
      value,
      `${from.name} is not on ${net.name}`,
      `use a network ${from.name} is on (${from.attachments.map((a) => a.network).join(", ")})`,
    );
    return undefined;
  }
  if (toW && !on(toW)) {
    p.add(
      k,
      value,
      `${toW.name} is not on ${net.name}: the network must be shared`,
      `use a network both are on, or remove network${from ? ` (${from.name} is on ${from.attachments.map((a) => a.network).join(", ")})` : ""}`,
    );
    return undefined;
  }
  if (to && to.kind !== "workload") {
    p.add(k, value, `network applies to a workload target, not to ${to.kind === "host" ? "a host" : to.name}`, "remove network");
    return undefined;
  }
  return net.name;
}

function readExpect(p: Problems, key: string, e: ExpectInput, probe: ExpectProbe): "pass" | "fail" {
  const expect = oneOf(p, `${key}.expect`, e.expect, ["pass", "fail"] as const, "pass", "expectation");
  if (expect === "fail" && (e.lossPct !== undefined || e.rttMs !== undefined)) {
    p.add(
      K(`${key}.expect`),
      e.expect,
      "a measured range (lossPct, rttMs) is the expectation itself",
      "remove expect, or remove the range",
    );
  }
  if (e.expect === undefined && probe === "ping" && e.lossPct === undefined && e.rttMs === undefined) return "pass";
  return expect;
}

function readSize(p: Problems, key: string, value: unknown, probe: ExpectProbe): number | undefined {
  if (value === undefined) return undefined;
  if (probe !== "mtu") {
    p.add(K(`${key}.size`), value, `size applies to probe: mtu (a DF ping of that size), not ${probe}`, "remove size, or set probe: mtu");
    return undefined;
  }
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 65507) return value;
  p.add(
    K(`${key}.size`),
    value,
    "must be an ICMP payload in bytes, from 0 to 65507",
    "write the payload like ping -s (1422 makes a 1450-byte packet), or remove it for the interface's full size",
  );
  return undefined;
}

function readBounds(p: Problems, key: string, value: unknown, probe: ExpectProbe, top: number): Bounds | undefined {
  if (value === undefined) return undefined;
  if (probe !== "ping") {
    p.add(K(key), value, `measured ranges apply to probe: ping, not ${probe}`, "remove it, or set probe: ping");
    return undefined;
  }
  const r = section<RangeInput>(p, key, value, RANGE_KEYS);
  const out: Bounds = {};
  for (const end of ["min", "max"] as const) {
    const v = r[end];
    if (v === undefined) continue;
    if (typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= top) out[end] = v;
    else p.add(K(`${key}.${end}`), v, `must be a number from 0 to ${top}`, `set ${end} between 0 and ${top}`);
  }
  if (r.min === undefined && r.max === undefined)
    p.add(K(key), value, "a range needs min, max or both", "write it like { min: 10 } or { max: 5 }");
  if (out.min !== undefined && out.max !== undefined && out.min > out.max) {
    p.add(K(`${key}.min`), out.min, `larger than max (${out.max})`, "use a min of at most max");
  }
  return out.min === undefined && out.max === undefined ? undefined : out;
}

/** The address a workload target is probed at: on the given network, else the one network both share. */
function resolveIp(to: ExpectTarget, from: WorkloadPlan, network: string | undefined, ctx: ExpectContext): ExpectTarget {
  if (to.kind !== "workload") return to;
  const w = ctx.workloads.find((x) => x.name === to.name)!;
  const shared = w.attachments.filter((a) => from.attachments.some((b) => b.network === a.network));
  const at = network ? w.attachments.find((a) => a.network === network) : shared.length === 1 ? shared[0] : undefined;
  return at ? { ...to, ip: at.ipv4 } : to;
}

/** How many pings a measured expectation sends. */
export function measureCount(e: Pick<ExpectationPlan, "lossPct" | "rttMs">): number {
  return e.lossPct ? LOSS_PINGS : RTT_PINGS;
}

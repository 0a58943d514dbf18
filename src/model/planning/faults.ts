// The faults stage: lab:faults, what the lab breaks on purpose on which host. Each fault is checked like
// every other key (its kind, its host, its settings, whether the host's kind can apply it and undo it),
// so a fault that could not be applied, or not be removed again, never reaches a host.
import { FAULT_KEYS, type FaultInput } from "../config.js";
import type { Problems } from "../errors.js";
import { faultId } from "../faults.js";
import { FAULT_KINDS, type FaultKind, type FaultPlan, type HostPlan, type KvPlan } from "../types.js";
import { K, list, section } from "./fields.js";
import type { Lab, Underlay } from "./stage.js";

const FAULT_NAME_RE = /^[a-z][a-z0-9-]{0,31}$/;

/** The MTU of the underlay the lab builds itself (netns veths, the dind bridge): a fault's MTU must be below it. */
export const LAB_UNDERLAY_MTU = 1500;

/** The settings each kind takes (the others are refused on it, so a typo'd kind is never half-read). */
const SETTINGS: Record<FaultKind, readonly (keyof FaultInput)[]> = {
  loss: ["loss"],
  delay: ["delay", "jitter"],
  down: [],
  "drop-vxlan": [],
  mtu: ["mtu"],
  "stop-daemon": [],
};

export interface FaultContext {
  lab: Lab;
  underlay: Underlay;
  hosts: HostPlan[];
  kv: KvPlan | undefined;
}

export function readFaults(p: Problems, value: unknown, ctx: FaultContext): FaultPlan[] {
  const names = new Set<string>();
  const faults: FaultPlan[] = [];
  list<FaultInput>(p, "faults", value, []).forEach((raw, i) => {
    const f = readFault(p, raw, i, ctx, names);
    if (f) faults.push(f);
  });
  checkCombinations(p, faults);
  return faults;
}

function readFault(p: Problems, raw: unknown, i: number, ctx: FaultContext, names: Set<string>): FaultPlan | undefined {
  const key = `faults[${i}]`;
  const f = section<FaultInput>(p, key, raw, FAULT_KEYS);
  const kind = faultKind(p, key, f.kind);
  const host = ctx.hosts.find((h) => h.name === f.host);
  if (!host) {
    p.add(
      K(`${key}.host`),
      f.host,
      f.host === undefined ? "every fault needs the host it breaks" : "no such host",
      `use one of ${ctx.hosts.map((h) => h.name).join(", ") || "(no valid hosts)"}`,
    );
  }
  if (kind === undefined) return undefined;
  for (const setting of ["loss", "delay", "jitter", "mtu"] as const) {
    if (f[setting] !== undefined && !SETTINGS[kind].includes(setting)) {
      const owner = FAULT_KINDS.find((k) => SETTINGS[k][0] === setting || (setting === "jitter" && k === "delay"));
      p.add(K(`${key}.${setting}`), f[setting], `a ${kind} fault has no ${setting}`, `remove it, or set kind: ${owner ?? "loss"}`);
    }
  }
  const name = faultName(p, key, f.name, kind, host?.name ?? String(f.host), names);
  if (!host) return undefined;
  checkHostKind(p, key, kind, host, ctx);
  const settings = readSettings(p, key, f, kind, host);
  return {
    index: i,
    name,
    named: f.name !== undefined,
    id: faultId(ctx.lab.name, name),
    host: host.name,
    kind,
    device: ctx.underlay.iface,
    ...settings,
  };
}

function faultKind(p: Problems, key: string, value: unknown): FaultKind | undefined {
  if (typeof value === "string" && (FAULT_KINDS as readonly string[]).includes(value)) return value as FaultKind;
  p.add(
    K(`${key}.kind`),
    value,
    value === undefined ? "every fault needs a kind" : "unknown fault kind",
    `use one of ${FAULT_KINDS.join(", ")}`,
  );
  return undefined;
}

function faultName(p: Problems, key: string, value: unknown, kind: FaultKind, host: string, names: Set<string>): string {
  let name = `${kind}-${host}`;
  if (value !== undefined) {
    if (typeof value === "string" && FAULT_NAME_RE.test(value)) name = value;
    else {
      p.add(K(`${key}.name`), value, "invalid fault name", `rename it to match ${FAULT_NAME_RE.source}, e.g. small-underlay`);
      return name;
    }
  }
  if (names.has(name)) {
    p.add(
      K(`${key}.name`),
      value ?? name,
      value === undefined
        ? `another fault is already called ${name} (a second ${kind} fault on ${host}?)`
        : "duplicate fault name (it names the fault's resource and its record on the host)",
      value === undefined ? `remove one of them, or give each a name of its own` : "give every fault a unique name",
    );
  }
  names.add(name);
  return name;
}

/** What a host's kind cannot do, or could not undo: refused before anything exists. */
function checkHostKind(p: Problems, key: string, kind: FaultKind, host: HostPlan, ctx: FaultContext): void {
  const refuse = (problem: string, fix: string): void => p.add(K(`${key}.kind`), kind, problem, fix);
  if (kind === "down" && host.kind === "dind") {
    refuse(
      `${host.name} is a dind host: its Docker API is published through its underlay interface, so with that link down neither the lab nor the fault's own removal could reach it`,
      "use drop-vxlan or loss (100%) on a dind host, or run the lab on netns hosts",
    );
  }
  if (kind === "down" && host.kind === "ssh") {
    refuse(
      `${host.name} is an ssh host the lab reaches at its underlay address ${host.address}: with that link down the fault could never be removed`,
      "use drop-vxlan or loss on an ssh host, or cut the link by other means",
    );
  }
  if (kind === "stop-daemon" && host.kind === "dind") {
    refuse(
      `${host.name} is a dind host: its dockerd is the container's main process, so stopping it stops the host itself`,
      "use stop-daemon on netns or ssh hosts, or drop-vxlan / down to cut a host off",
    );
  }
  if (kind === "stop-daemon" && ctx.kv?.runsOn === host.name) {
    refuse(
      `${host.name} runs the KV store (lab:kv) as a container of its dockerd: stopping it would stop the store for every host`,
      "put the fault on another host",
    );
  }
}

function readSettings(p: Problems, key: string, f: FaultInput, kind: FaultKind, host: HostPlan): Partial<FaultPlan> {
  switch (kind) {
    case "loss": {
      const lossPct = percent(p, `${key}.loss`, f.loss);
      return lossPct === undefined ? {} : { lossPct };
    }
    case "delay": {
      const delayMs = duration(p, `${key}.delay`, f.delay, true, MAX_DELAY_MS);
      const jitterMs = f.jitter === undefined ? undefined : duration(p, `${key}.jitter`, f.jitter, false, MAX_DELAY_MS);
      if (delayMs !== undefined && jitterMs !== undefined && jitterMs > delayMs) {
        p.add(K(`${key}.jitter`), f.jitter, `larger than the delay (${delayMs}ms)`, "use a jitter of at most the delay");
      }
      return { ...(delayMs !== undefined ? { delayMs } : {}), ...(jitterMs !== undefined ? { jitterMs } : {}) };
    }
    case "mtu": {
      // The lab's own underlay (netns veths, the dind bridge) has MTU 1500; a real machine's may be larger.
      const max = host.kind === "ssh" ? 9000 : LAB_UNDERLAY_MTU - 1;
      const v = f.mtu;
      if (typeof v === "number" && Number.isInteger(v) && v >= 576 && v <= max) return { mtu: v };
      p.add(
        K(`${key}.mtu`),
        v,
        v === undefined ? "an mtu fault needs the MTU" : `must be an integer from 576 to ${max}`,
        host.kind === "ssh"
          ? "set mtu below the machine's own underlay MTU, e.g. 1400"
          : `set mtu below the lab underlay's ${LAB_UNDERLAY_MTU}, e.g. 1400`,
      );
      return {};
    }
    default:
      return {};
  }
}

/** "30%", "30" or 30 -> 30; a share of packets, more than 0 and at most 100. */
function percent(p: Problems, key: string, value: unknown): number | undefined {
  const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
  const m = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text);
  const n = m ? Number(m[1]) : Number.NaN;
  if (m && n > 0 && n <= 100) return n;
  p.add(
    K(key),
    value,
    value === undefined ? "a loss fault needs its share of packets" : m ? "must be more than 0% and at most 100%" : "not a percentage",
    "write it like 30% (more than 0, at most 100)",
  );
  return undefined;
}

/** The verifier waits 2 s for a reply: a longer delay would fail every check through the host. */
const MAX_DELAY_MS = 1000;

/** "50ms", "0.2s" or 50 (ms) -> ms. A delay must be positive; a jitter may be 0; both at most `max`. */
function duration(p: Problems, key: string, value: unknown, positive: boolean, max: number): number | undefined {
  let ms = Number.NaN;
  if (typeof value === "number") ms = value;
  else if (typeof value === "string") {
    const m = /^(\d+(?:\.\d+)?)\s*(ms|s)$/.exec(value.trim());
    if (m) ms = Number(m[1]) * (m[2] === "s" ? 1000 : 1);
  }
  const ok = Number.isFinite(ms) && (positive ? ms > 0 : ms >= 0) && ms <= max && Number.isInteger(ms * 1000);
  if (ok) return ms;
  p.add(
    K(key),
    value,
    value === undefined
      ? "a delay fault needs its delay"
      : Number.isFinite(ms)
        ? `must be ${positive ? "more than 0" : "from 0"} and at most ${max}ms (the verifier waits 2 s for a reply)`
        : "not a duration",
    `write it like 50ms or 0.2s${positive ? "" : " (0ms for none)"}`,
  );
  return undefined;
}

/** Faults on one host that would undo each other: one of each kind, down alone, delay and loss not both (one root qdisc). */
function checkCombinations(p: Problems, faults: FaultPlan[]): void {
  for (const f of faults) {
    const earlier = faults.filter((g) => g.host === f.host && g.index < f.index);
    const key = K(`faults[${f.index}].kind`);
    const same = earlier.find((g) => g.kind === f.kind);
    const down = earlier.find((g) => g.kind === "down" || f.kind === "down");
    const netem = earlier.find((g) => (g.kind === "delay" && f.kind === "loss") || (g.kind === "loss" && f.kind === "delay"));
    if (same) {
      p.add(key, f.kind, `${f.host} already has a ${f.kind} fault (lab:faults[${same.index}])`, "keep one fault of each kind per host");
    } else if (down) {
      p.add(
        key,
        f.kind,
        `${f.host} also has ${down.kind === "down" ? `its link down (lab:faults[${down.index}])` : `lab:faults[${down.index}] ${down.kind}`}: with the link down the other fault has no effect, and undoing both would race`,
        "keep a down fault alone on its host",
      );
    } else if (netem) {
      p.add(
        key,
        f.kind,
        `${f.host} also has lab:faults[${netem.index}] ${netem.kind}: both would need netem as the interface's one root qdisc`,
        "put loss and delay on different hosts",
      );
    }
  }
}

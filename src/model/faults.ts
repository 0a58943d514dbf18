// What a fault of lab:faults is and what it does, in words and in its effect on the checks: the one
// place that knows that a host dropping VXLAN fails the overlay's pings through it but not its DNS,
// that a stopped daemon's checks cannot run, and so on. The checks (checks.ts), the trace and inspect
// all read it from here.
import type { Expectation, FaultKind, FaultPlan, LabPlan } from "./types.js";

/** VXLAN's outer headers (Ethernet 14 + IP 20 + UDP 8 + VXLAN 8): an overlay packet of N bytes is N + 50 on the underlay. */
export const VXLAN_OVERHEAD = 50;
/** The overlay's MTU when a network sets none: Docker takes the 50 bytes of VXLAN off a 1500-byte underlay. */
export const DEFAULT_OVERLAY_MTU = 1450;
/** IPv4 + ICMP headers: a ping of payload P is a packet of P + 28. */
export const ICMP_OVERHEAD = 28;
/** Pings of a loss measurement (a fixed number, so that runs compare) and of an RTT measurement. */
export const LOSS_PINGS = 20;
export const RTT_PINGS = 5;

/** A short, stable id for a fault on its host: names its iptables chains and the directory of its record. */
export function faultId(lab: string, name: string): string {
  // FNV-1a, 32 bits: deterministic, and 8 hex digits keep chain names far below iptables' 28 characters.
  let h = 0x811c9dc5;
  for (const ch of `${lab}/${name}`) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/** How reports name a fault: `lab:faults[1] drop-vxlan`, with its name when the user gave one. */
export function faultLabel(f: Pick<FaultPlan, "index" | "kind" | "name" | "named">): string {
  return `lab:faults[${f.index}] ${f.kind}${f.named ? ` ${f.name}` : ""}`;
}

/** The fault's setting in a few words: `30%`, `50ms ± 5ms`, `MTU 1400`. */
export function faultSetting(f: FaultPlan): string {
  switch (f.kind) {
    case "loss":
      return `${f.lossPct}%`;
    case "delay":
      return `${f.delayMs}ms${f.jitterMs ? ` ± ${f.jitterMs}ms` : ""}`;
    case "mtu":
      return `MTU ${f.mtu}`;
    default:
      return "-";
  }
}

/** The overlay network's MTU (what its containers' interfaces get). */
export function overlayMtu(net: { mtu?: number }): number {
  return net.mtu ?? DEFAULT_OVERLAY_MTU;
}

/** What the fault does, as a sentence that ends with its label. */
export function describeFault(f: FaultPlan, plan?: Pick<LabPlan, "networks">): string {
  const at = `(${faultLabel(f)})`;
  switch (f.kind) {
    case "loss":
      return `${f.host} drops ${f.lossPct}% of its underlay packets, in and out ${at}`;
    case "delay":
      return `${f.host} delays what it sends on ${f.device} by ${faultSetting(f)} ${at}`;
    case "down":
      return `${f.host}'s underlay link ${f.device} is down ${at}`;
    case "drop-vxlan":
      return `${f.host} drops VXLAN (UDP 4789) in and out ${at}`;
    case "mtu": {
      const sizes = [...new Set((plan?.networks ?? []).filter((n) => n.driver === "overlay").map((n) => overlayMtu(n)))];
      const sends = sizes.length
        ? `; the overlay sends ${sizes.join("/")} (${sizes.map((s) => s + VXLAN_OVERHEAD).join("/")} with VXLAN)`
        : "";
      return `${f.device} of ${f.host} has MTU ${f.mtu}${sends} ${at}`;
    }
    case "stop-daemon":
      return `${f.host}'s dockerd is stopped ${at}`;
  }
}

export function faultsOn(plan: Pick<LabPlan, "faults">, host: string, kinds?: readonly FaultKind[]): FaultPlan[] {
  return (plan.faults ?? []).filter((f) => f.host === host && (kinds === undefined || kinds.includes(f.kind)));
}

/** What the plan expects of one check given the faults, and the faults that decide it. */
export interface FaultEffect {
  expect: Expectation;
  faults: FaultPlan[];
  /** Through a lossy host: the tries a ping gets (1 s each), so that it passes within its retries. */
  attempts?: number;
  /** The loss faults that make those tries needed. */
  lossy?: FaultPlan[];
}

const PASS: FaultEffect = { expect: "pass", faults: [] };

function effect(noRun: FaultPlan[], fail: FaultPlan[]): FaultEffect {
  if (noRun.length) return { expect: "no-run", faults: noRun };
  if (fail.length) return { expect: "fail", faults: fail };
  return PASS;
}

/** The probe families the faults treat differently. */
export type PathProbe = "ping" | "dns";

/**
 * A probe from a container on `src` to one on `dst` (another host) over a network of `driver`:
 *  - its source's daemon is stopped: it cannot run;
 *  - the destination's daemon is stopped (its containers with it), or either host's link is down: it fails;
 *  - either host drops VXLAN: overlay pings fail; DNS does not cross VXLAN (gossip and the KV store carry
 *    the names), so it still passes; macvlan does not use VXLAN at all;
 *  - loss, delay and a smaller MTU leave small probes passing (loss within the verifier's retries).
 */
export function crossHostEffect(
  plan: Pick<LabPlan, "faults">,
  probe: PathProbe,
  driver: "overlay" | "macvlan",
  src: string,
  dst: string,
): FaultEffect {
  const noRun = faultsOn(plan, src, ["stop-daemon"]);
  const fail = [
    ...faultsOn(plan, dst, ["stop-daemon"]),
    ...(probe === "ping" ? [...cutOff(plan, src), ...cutOff(plan, dst)] : []),
    ...(probe === "ping" && driver === "overlay" ? [...faultsOn(plan, src, ["drop-vxlan"]), ...faultsOn(plan, dst, ["drop-vxlan"])] : []),
  ];
  return withAttempts(plan, effect(noRun, fail), probe === "ping" ? [src, dst] : []);
}

/** What cuts a host off its underlay entirely: its link down, or all of its packets lost. */
function cutOff(plan: Pick<LabPlan, "faults">, host: string): FaultPlan[] {
  return [...faultsOn(plan, host, ["down"]), ...faultsOn(plan, host, ["loss"]).filter((f) => (f.lossPct ?? 0) >= 100)];
}

/** Pings through these hosts lose a share (loss below 100%): how many tries make a lost reply improbable. */
export function lossAttempts(plan: Pick<LabPlan, "faults">, hosts: readonly string[]): number | undefined {
  const lossy = [...new Set(hosts)].flatMap((h) => faultsOn(plan, h, ["loss"])).filter((f) => (f.lossPct ?? 0) < 100);
  if (lossy.length === 0) return undefined;
  // A ping and its reply each cross every lossy host's underlay once.
  const through = lossy.reduce((s, f) => s * (1 - (f.lossPct ?? 0) / 100) ** 2, 1);
  const tries = Math.ceil(Math.log(LOST_PING_ODDS) / Math.log(1 - through));
  return Math.min(MAX_ATTEMPTS, Math.max(3, tries));
}

/** The odds a check through a lossy host may have of losing every try; and the most tries a probe gets (1 s each). */
const LOST_PING_ODDS = 1e-4;
const MAX_ATTEMPTS = 25;

function withAttempts(plan: Pick<LabPlan, "faults">, e: FaultEffect, hosts: readonly string[]): FaultEffect {
  if (e.expect !== "pass") return e;
  const attempts = lossAttempts(plan, hosts);
  if (attempts === undefined) return e;
  const lossy = [...new Set(hosts)].flatMap((h) => faultsOn(plan, h, ["loss"]));
  return { ...e, attempts, lossy };
}

/** A check that runs on `host` and stays there (routes, CNM view, a local name): only a stopped daemon stops it. */
export function localEffect(plan: Pick<LabPlan, "faults">, host: string): FaultEffect {
  return effect(faultsOn(plan, host, ["stop-daemon"]), []);
}

/** A container on `host` pinging an address on the underlay through its host (docker_gwbridge and NAT). */
export function outboundEffect(plan: Pick<LabPlan, "faults">, host: string): FaultEffect {
  return withAttempts(plan, effect(faultsOn(plan, host, ["stop-daemon"]), cutOff(plan, host)), [host]);
}

/**
 * The overlay's VXLAN device on `host` must see encapsulated traffic both ways this run: not when the
 * host itself drops VXLAN or is cut off, nor when every peer host on the network is.
 */
export function vxlanEffect(plan: Pick<LabPlan, "faults" | "overlayMode">, host: string, peers: readonly string[]): FaultEffect {
  const cut = (h: string): FaultPlan[] => [...faultsOn(plan, h, ["drop-vxlan", "stop-daemon"]), ...cutOff(plan, h)];
  // A classic overlay is looked up in the KV store, which a host whose link is down cannot reach: the
  // check finds no network to read the device of (swarm keeps its networks in the node's own store).
  const lookedUp = plan.overlayMode === "kv" ? faultsOn(plan, host, ["down"]) : [];
  const own = [...faultsOn(plan, host, ["drop-vxlan"]), ...cutOff(plan, host)].filter((f) => !lookedUp.includes(f));
  const peerFaults = peers.map(cut);
  const allPeersCut = peers.length > 0 && peerFaults.every((fs) => fs.length > 0);
  return effect([...faultsOn(plan, host, ["stop-daemon"]), ...lookedUp], [...own, ...(allPeersCut ? peerFaults.flat() : [])]);
}

/** A host's own ping to a macvlan child on `childHost` (another host), or such a child pinging a host. */
export function underlayEffect(
  plan: Pick<LabPlan, "faults">,
  runsOn: string,
  other: string,
  otherStopped: "fails" | "answers",
): FaultEffect {
  return effect(faultsOn(plan, runsOn, ["stop-daemon"]), [
    ...(otherStopped === "fails" ? faultsOn(plan, other, ["stop-daemon"]) : []),
    ...faultsOn(plan, runsOn, ["down"]),
    ...faultsOn(plan, other, ["down"]),
  ]);
}

/** The reason a check gets when faults decide its outcome (or give it more tries). */
export function effectReason(e: FaultEffect, plan?: Pick<LabPlan, "networks">): string {
  if (e.faults.length === 0 && e.lossy?.length) {
    return `passes within ${e.attempts} tries: ${e.lossy.map((f) => describeFault(f, plan)).join("; ")}`;
  }
  const what = e.expect === "no-run" ? "cannot run" : "fails";
  return `${what}: ${e.faults.map((f) => describeFault(f, plan)).join("; ")}`;
}

export function labels(faults: readonly FaultPlan[]): string[] {
  return [...new Set(faults.map(faultLabel))];
}

/** The smallest loss that 20 pings through the faulted host cannot miss (P(no loss) < 1e-4); below it the loss is only reported. */
export function judgedLoss(lossPct: number, pings = LOSS_PINGS): boolean {
  const oneWay = 1 - lossPct / 100;
  // A ping and its reply both cross the faulted host's underlay, each dropped with the fault's share.
  return oneWay ** (2 * pings) < 1e-4;
}

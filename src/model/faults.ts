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
    ...(probe === "ping" ? [...faultsOn(plan, src, ["down"]), ...faultsOn(plan, dst, ["down"])] : []),
    ...(probe === "ping" && driver === "overlay" ? [...faultsOn(plan, src, ["drop-vxlan"]), ...faultsOn(plan, dst, ["drop-vxlan"])] : []),
  ];
  return effect(noRun, fail);
}

/** A check that runs on `host` and stays there (routes, CNM view, a local name): only a stopped daemon stops it. */
export function localEffect(plan: Pick<LabPlan, "faults">, host: string): FaultEffect {
  return effect(faultsOn(plan, host, ["stop-daemon"]), []);
}

/** A container on `host` pinging an address on the underlay through its host (docker_gwbridge and NAT). */
export function outboundEffect(plan: Pick<LabPlan, "faults">, host: string): FaultEffect {
  return effect(faultsOn(plan, host, ["stop-daemon"]), faultsOn(plan, host, ["down"]));
}

/**
 * The overlay's VXLAN device on `host` must see encapsulated traffic both ways this run: not when the
 * host itself drops VXLAN or is cut off, nor when every peer host on the network is.
 */
export function vxlanEffect(plan: Pick<LabPlan, "faults">, host: string, peers: readonly string[]): FaultEffect {
  const cut: FaultKind[] = ["drop-vxlan", "down", "stop-daemon"];
  const own = faultsOn(plan, host, ["drop-vxlan", "down"]);
  const peerFaults = peers.map((h) => faultsOn(plan, h, cut));
  const allPeersCut = peers.length > 0 && peerFaults.every((fs) => fs.length > 0);
  return effect(faultsOn(plan, host, ["stop-daemon"]), [...own, ...(allPeersCut ? peerFaults.flat() : [])]);
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

/** The reason a check gets when faults decide its outcome. */
export function effectReason(e: FaultEffect, plan?: Pick<LabPlan, "networks">): string {
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

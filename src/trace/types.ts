// The data of a packet trace: the hops a probe should cross (planned from the lab plan), what tcpdump
// saw of it at each, and the verdict. Every renderer (text, Mermaid, SVG, --json) reads only this.

/** Where a hop's device lives: the namespace tcpdump has to enter. */
export type NamespaceRef =
  | { kind: "container"; container: string; host: string }
  | { kind: "overlay"; network: string; host: string }
  | { kind: "host"; host: string }
  | { kind: "switch" }
  | { kind: "kv" };

export type HopRole =
  | "container" // the container's interface on the network (an overlay veth end, or a macvlan child)
  | "overlay-bridge" // br0 in the overlay's own namespace
  | "vxlan" // the overlay's VXLAN device, in the same namespace
  | "underlay" // the host's underlay interface (carries VXLAN, or plain frames for macvlan/external)
  | "macvlan-parent" // the macvlan parent interface on the host
  | "switch-port" // the underlay switch's port towards a host (netns labs: a veth end in the switch namespace)
  | "gwbridge" // docker_gwbridge on the host
  | "nat" // the host's MASQUERADE, seen as the source address changing between gwbridge and the underlay
  | "target"; // the external target's port on the switch

/** What the capture filter matches: the probe itself, or the probe inside VXLAN (UDP 4789). */
export type CaptureFilter = "probe" | "vxlan";

export type CaptureAccess = { ok: true } | { ok: false; why: string };

export interface PlannedHop {
  /** Stable id, e.g. "host2/overlay/vxlan". */
  id: string;
  role: HopRole;
  /** The Docker host the device belongs to (absent for the switch and the KV host). */
  host?: string;
  ns: NamespaceRef;
  /** The device as planned; "vxlan" and container interfaces are resolved on the live lab. */
  device: string;
  filter: CaptureFilter;
  /** Whether this hop can be captured from this machine, and if not, why. */
  access: CaptureAccess;
  /** Not a device: computed from its neighbours (the NAT hop). */
  derived?: boolean;
}

export type TraceKind = "overlay" | "macvlan" | "external";

export interface TraceEnd {
  /** Container name, or for an external target its address. */
  name: string;
  host?: string;
  ip: string;
}

export interface TracePlan {
  lab: string;
  hostKind: string;
  kind: TraceKind;
  network: string;
  from: TraceEnd;
  to: TraceEnd;
  /** ICMP payload bytes: the probe is recognised everywhere by its IP total length (payload + 28). */
  payloadBytes: number;
  count: number;
  /** In the order the echo request crosses them. */
  hops: PlannedHop[];
  /** lab:faults on the hosts the probe crosses, each in words naming its key (the verdict ends with them). */
  faults?: string[];
}

/** One captured frame, as tcpdump -e -n -v printed it. */
export interface CapturedPacket {
  time: string;
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  ttl: number;
  ipId: number;
  /** IP total length. */
  ipLength: number;
  /** "echo request", "echo reply", "destination unreachable"... */
  icmp: string;
  icmpId?: number;
  seq?: number;
  /** Present when the frame was captured inside VXLAN: the outer headers. */
  vxlan?: {
    vni: number;
    srcMac: string;
    dstMac: string;
    srcIp: string;
    dstIp: string;
    srcPort: number;
    dstPort: number;
    ttl: number;
  };
}

export type HopStatus = "seen" | "not-seen" | "not-captured";

export interface HopResult extends PlannedHop {
  /** The namespace as a user finds it: "container test2 (sandbox 85e3cc728bd6)", "tr1-host2", "1-30f7c2918e". */
  namespace: string;
  status: HopStatus;
  /** not-captured: why; not-seen: nothing. */
  why?: string;
  requests: number;
  replies: number;
  request?: CapturedPacket;
  reply?: CapturedPacket;
  /** The VXLAN device's own VNI (ip -d link), on vxlan hops. */
  deviceVni?: number;
  /** The NAT hop: the source address before and after. */
  nat?: { before: string; after: string };
}

export interface ProbeOutcome {
  /** The command run in the source container. */
  command: string[];
  exitCode: number;
  transmitted: number;
  received: number;
  output: string;
}

export interface TraceResult {
  plan: TracePlan;
  startedAt: string;
  probe: ProbeOutcome;
  hops: HopResult[];
  /** The request reached the last hop of the path. */
  delivered: boolean;
  /** Replies came back to the source. */
  answered: boolean;
  /** The last hop (in request order) that saw the request. */
  lastSeen?: string;
  /** The last hop (in reply order) that saw a reply, when replies did not make it back. */
  lastReplySeen?: string;
  /** Named from the data: why the probe stopped where it did. */
  cause?: string;
  /** VNI on the wire (the underlay capture) and whether it equals the VXLAN device's own. */
  vni?: { wire?: number; device?: number; matches?: boolean };
  /** Facts read from the daemons that the verdict used (container states, attachments). */
  facts: string[];
}

// A trace's hops placed on the topology picture: where each device sits in the layout that
// src/topology/layout.ts computes for the same view, so the live page can draw the path hop by hop over
// the SVG it was given. Pure: the layout and the trace in, points out.
import { type LabPlan, switchEndName } from "../model/index.js";
import type { TopologyLayout } from "../topology/layout.js";
import type { HopResult, HopStatus, TraceResult } from "../trace/types.js";

export interface PathPoint {
  id: string;
  x: number;
  y: number;
  status: HopStatus;
  /** "vxlan0 @ host2": what the page labels the point with. */
  label: string;
  /** The hop where the probe stopped: the last one that saw the request (or the reply) when it did not get through. */
  stop?: boolean;
}

export interface TracePath {
  points: PathPoint[];
  /** Why it stopped there (the trace's cause), when it did. */
  cause?: string;
}

/** The hop whose mark carries the cause: the last that saw the request, or on the way back the last that saw the reply. */
export function stopHop(r: TraceResult): string | undefined {
  if (!r.cause) return undefined;
  if (r.delivered && r.lastReplySeen) return r.lastReplySeen;
  return r.lastSeen ?? r.hops[0]?.id;
}

export function tracePath(plan: LabPlan, layout: TopologyLayout, r: TraceResult): TracePath {
  const hostIndex = new Map(plan.hosts.map((h, i) => [h.name, i] as const));
  const portHost = new Map(plan.hosts.map((h) => [switchEndName(h), h.name] as const));
  const network = r.plan.network;
  const bandY = layout.bandY.get(network) ?? layout.hostTop + layout.hosts[0]!.box.h + 20;
  const hostBox = (host: string | undefined): TopologyLayout["hosts"][number] | undefined =>
    host === undefined ? undefined : layout.hosts[hostIndex.get(host) ?? -1];
  // The column of a host's link to the underlay (svg.ts draws it 24 px into the host's box).
  const uplinkX = (host: string | undefined): number => (hostBox(host)?.box.x ?? layout.hostsEnd) + 24;
  // The container of the trace on a host (its source or destination), and where its line meets the network.
  const dropOn = (host: string | undefined): { x: number; bottom: number } | undefined => {
    const h = hostBox(host);
    const name = [r.plan.from, r.plan.to].find((e) => e.host === host)?.name;
    const c = h?.containers.find((x) => x.name === name);
    const d = c?.drops.find((x) => x.network === network) ?? c?.drops[0];
    return c && d ? { x: d.x, bottom: c.box.y + c.box.h } : undefined;
  };
  const gateway = (host: string | undefined): { x: number; y: number } => {
    const b = hostBox(host)?.box;
    return b ? { x: b.x + 24, y: b.y + layout.headerH } : { x: uplinkX(host), y: layout.hostTop };
  };
  const place = (h: HopResult): { x: number; y: number } => {
    const host = h.host ?? (h.role === "switch-port" ? portHost.get(h.device) : undefined);
    switch (h.role) {
      case "container": {
        const d = dropOn(h.host);
        if (h.device === "eth1" || !d) return { x: d?.x ?? uplinkX(h.host), y: d?.bottom ?? layout.hostTop };
        return { x: d.x, y: d.bottom };
      }
      case "overlay-bridge":
        return { x: dropOn(h.host)?.x ?? uplinkX(h.host), y: bandY };
      case "vxlan":
        return { x: uplinkX(h.host), y: bandY };
      case "underlay":
      case "macvlan-parent":
        return { x: uplinkX(h.host), y: layout.hostTop };
      case "switch-port":
        return { x: uplinkX(host), y: layout.underlayY };
      case "gwbridge":
        return gateway(h.host);
      case "nat": {
        const g = gateway(h.host);
        return { x: g.x, y: (g.y + layout.hostTop) / 2 };
      }
      case "target":
        return layout.side ? { x: layout.side.box.x + 24, y: layout.underlayY } : { x: layout.hostsEnd, y: layout.underlayY };
    }
  };
  const stop = stopHop(r);
  const points = r.hops.map((h): PathPoint => {
    const p = place(h);
    return {
      id: h.id,
      ...p,
      status: h.status,
      label: `${h.device}${h.host ? ` @ ${h.host}` : ""}`,
      ...(h.id === stop ? { stop: true } : {}),
    };
  });
  // Two hops at one spot (a container's eth0 and its bridge on one host) would hide each other: nudge.
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    if (Math.abs(a.x - b.x) < 4 && Math.abs(a.y - b.y) < 4) b.x += 10;
  }
  return { points, ...(r.cause ? { cause: r.cause } : {}) };
}

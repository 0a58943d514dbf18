// The lab's faults (lab:faults) as the live page shows them: each fault inspect collected from the
// hosts' records (src/inspect/collect.ts: active, not applied, stale, ...), with the label reports use
// (src/model/faults.ts) and where the picture marks it. Pure: inspect's list and the plan in, rows out;
// nothing here decides a fault's state.
import type { InspectFault } from "../inspect/index.js";
import { describeFault, faultLabel, faultSetting, type LabPlan } from "../model/index.js";

/** A fault on the page: its row in the list, and its badge on the picture. */
export interface ViewFault {
  host: string;
  name: string;
  kind: string;
  /** `lab:faults[1] drop-vxlan`, as the verification's check rows name it; a stale record's name. */
  label: string;
  /** `30%`, `MTU 1400`, or `-` */
  setting: string;
  /** As inspect found it on the host. */
  state: InspectFault["state"];
  /** Why the state is unknown. */
  why?: string;
  /** What it does, in words (planned faults). */
  effect?: string;
  since?: string;
  /** The badge's text: the kind and its setting. */
  badge: string;
  /**
   * Where the picture marks it: a stopped daemon on the host's box; every other kind acts on the host's
   * underlay interface, so on its link to the underlay.
   */
  at: "host" | "uplink";
}

function row(plan: LabPlan, f: Omit<InspectFault, "setting"> & { setting?: string }): ViewFault {
  const planned = plan.faults.find((p) => p.host === f.host && p.name === f.name);
  const setting = planned ? faultSetting(planned) : (f.setting ?? "-");
  return {
    host: f.host,
    name: f.name,
    kind: f.kind,
    label: planned ? faultLabel(planned) : f.name,
    setting,
    state: f.state,
    ...(f.why !== undefined ? { why: f.why } : {}),
    ...(f.effect !== undefined ? { effect: f.effect } : planned ? { effect: describeFault(planned, plan) } : {}),
    ...(f.since !== undefined ? { since: f.since } : {}),
    badge: setting === "-" ? f.kind : `${f.kind} ${setting}`,
    at: f.kind === "stop-daemon" ? "host" : "uplink",
  };
}

/**
 * The page's faults: inspect's list when the lab was read (stale records included), else the plan's
 * faults with their state unknown and why.
 */
export function viewFaults(plan: LabPlan, live: readonly InspectFault[] | undefined, why = "the lab was not read yet"): ViewFault[] {
  if (live) return live.map((f) => row(plan, f));
  return plan.faults.map((f) => row(plan, { host: f.host, name: f.name, kind: f.kind, state: "unknown", why }));
}

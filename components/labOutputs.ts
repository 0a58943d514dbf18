// The stack outputs: what a user needs to find and use the lab, from the plan and the lab's components.
import * as pulumi from "@pulumi/pulumi";
import type { NetworkLab } from "./networkLab.js";
import { describeFault, dockerCliLine, faultSetting, type LabPlan, topologyMermaid } from "../src/model/index.js";

export function labOutputs(plan: LabPlan, lab: NetworkLab) {
  const overlayByName = new Map(lab.overlays.map((o) => [o.name, o]));
  const macvlanByName = new Map(lab.macvlans.map((m) => [m.name, m]));
  return {
    // null, not undefined, where a lab has no such thing: the engine warns on every up about undefined outputs.
    // A dind store not published on 127.0.0.1 (lab:kv.publishUi: false) has no UI the user can open.
    consulUi:
      lab.kv && plan.kv?.kind === "consul" && (plan.kv.provision !== "local-container" || plan.kv.published)
        ? lab.kv.uiUrl
        : pulumi.output<string | null>(null),
    hosts: Object.fromEntries(
      plan.hosts.map((h, i) => [
        h.name,
        {
          address: h.address,
          endpoint: lab.hosts[i]!.endpoint,
          kind: h.kind,
          daemonArgs: h.daemon.args,
          // dind: the line that points the stock docker CLI at this host (its API takes the lab's client certificate only).
          ...(lab.tls ? { dockerCli: dockerCliLine(h, lab.tls.certPath) } : {}),
        },
      ]),
    ),
    networks: Object.fromEntries(
      plan.networks.map((n) => {
        if (n.driver === "overlay") {
          const o = overlayByName.get(n.name)!;
          return [n.name, { driver: n.driver, subnet: n.subnet, id: o.id, seenOn: o.seenOn }];
        }
        const m = macvlanByName.get(n.name)!;
        return [
          n.name,
          {
            driver: n.driver,
            subnet: n.subnet,
            parent: n.parent,
            ids: m.ids,
            ranges: Object.fromEntries(n.ranges.map((r) => [r.host, r.ipRange])),
          },
        ];
      }),
    ),
    containers: Object.fromEntries(
      plan.workloads.map((w) => [w.name, { host: w.host, ips: Object.fromEntries(w.attachments.map((a) => [a.network, a.ipv4])) }]),
    ),
    kvRegistrations: lab.kvRegistrations?.summary ?? null,
    // Every check is in the saved report (npm run inspect): the outputs keep what stays small.
    verification: lab.verification
      ? {
          summary: lab.verification.summary,
          counts: lab.verification.counts,
          failures: lab.verification.failures,
          // The user's own (lab:expect), each by name, and what the measured series measured.
          expectations: lab.verification.expectations,
          measurements: lab.verification.measurements,
        }
      : null,
    // lab:faults: what each fault breaks, on which host (its resource is lab:fault:Fault).
    faults: plan.faults.map((f) => ({
      name: f.name,
      host: f.host,
      kind: f.kind,
      setting: faultSetting(f),
      effect: describeFault(f, plan),
    })),
    topology: topologyMermaid(plan),
  };
}

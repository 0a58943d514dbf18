// Kernel features a netns lab needs on the machine that runs it, checked before anything is created.
// The plan says what it needs (vxlan for every overlay, macvlan for every macvlan network, 802.1q for a
// macvlan with a vlan); the probe answers truthfully by creating such a link in a throwaway network
// namespace and deleting it again (a built-in or loadable driver works, a missing one fails with
// "Unknown device type"). /proc/modules or /sys/module cannot tell: built-in drivers without
// parameters appear in neither (this machine's macvlan), and a module not yet loaded would be missed.
//
// IPVS is reported, never required: swarm *service* VIPs use it, the lab's attachable overlays and
// standalone containers do not.
import { existsSync } from "node:fs";
import type { LabPlan } from "../model/index.js";
import { run, type RunResult } from "./run.js";

export const KERNEL_FEATURES = ["vxlan", "macvlan", "8021q", "netem"] as const;
export type KernelFeature = (typeof KERNEL_FEATURES)[number];

/** What the kernel answered for one feature: ok, or the reason it is missing. */
export type FeatureAnswer = { ok: true } | { ok: false; detail: string };

/** Answers for the features asked; a feature the probe could not decide is reported by `unknown`. */
export interface KernelProbe {
  features(wanted: readonly KernelFeature[]): Promise<Partial<Record<KernelFeature, FeatureAnswer>> & { unknown?: string }>;
  /** IPVS (ip_vs) present? Only informs a note. */
  ipvs(): Promise<boolean>;
}

/** One setting of the configuration that needs a kernel feature. */
export interface KernelNeed {
  feature: KernelFeature;
  /** The config key and value that needs it, e.g. `lab:networks[1].vlan = 100`. */
  key: string;
}

const ABOUT: Record<KernelFeature, { name: string; config: string; module: string; why: string; fix: string }> = {
  vxlan: {
    name: "VXLAN",
    config: "CONFIG_VXLAN",
    module: "vxlan",
    why: "which every Docker overlay network is built on",
    fix: "remove the overlay network or run the lab on a kernel with the vxlan module",
  },
  macvlan: {
    name: "macvlan",
    config: "CONFIG_MACVLAN",
    module: "macvlan",
    why: "which Docker's macvlan driver needs",
    fix: "remove the macvlan network or run the lab on a kernel with the macvlan module",
  },
  "8021q": {
    name: "802.1q",
    config: "CONFIG_VLAN_8021Q",
    module: "8021q",
    why: "which Docker needs to create the macvlan's parent as a VLAN sub-interface",
    fix: "remove vlan or run the lab on a kernel with the 8021q module",
  },
  netem: {
    name: "netem",
    config: "CONFIG_NET_SCH_NETEM",
    module: "sch_netem",
    why: "the queueing discipline a delay fault puts on the host's underlay interface (tc qdisc ... netem delay)",
    fix: "remove the delay fault (loss works without netem, through iptables) or run the lab on a kernel with the sch_netem module",
  },
};

/** The kernel features the plan needs, each with the config key that asks for it (pure). */
export function kernelNeeds(plan: LabPlan): KernelNeed[] {
  const needs: KernelNeed[] = [];
  plan.networks.forEach((n, i) => {
    const key = `lab:networks[${i}]`;
    if (n.driver === "overlay") needs.push({ feature: "vxlan", key: `${key}.driver = "overlay" (${n.name})` });
    else {
      needs.push({ feature: "macvlan", key: `${key}.driver = "macvlan" (${n.name})` });
      if (n.vlan !== undefined) needs.push({ feature: "8021q", key: `${key}.vlan = ${n.vlan}` });
    }
  });
  // Only delay needs netem: loss falls back to iptables' statistic match where the kernel has none.
  for (const f of plan.faults ?? []) {
    if (f.kind === "delay") needs.push({ feature: "netem", key: `lab:faults[${f.index}].kind = "delay" (${f.name} on ${f.host})` });
  }
  return needs;
}

export interface KernelCheck {
  /** One line per missing feature (naming every key that needs it); empty: the kernel has all. */
  problems: string[];
  /** Things worth knowing that refuse nothing (IPVS in swarm mode). */
  notes: string[];
}

/** Decide from the probe's answers what the plan cannot have on this kernel. */
export async function checkKernel(plan: LabPlan, probe: KernelProbe): Promise<KernelCheck> {
  const needs = kernelNeeds(plan);
  const wanted = KERNEL_FEATURES.filter((f) => needs.some((n) => n.feature === f));
  const problems: string[] = [];
  const notes: string[] = [];
  if (wanted.length > 0) {
    const answers = await probe.features(wanted);
    if (answers.unknown !== undefined) {
      problems.push(
        `cannot check the kernel for ${wanted.map((f) => ABOUT[f].name).join(", ")} (needed by ${needs.map((n) => n.key).join(", ")}): ${answers.unknown}. ` +
          "Fix: run the lab as root on Linux with iproute2 (scripts/install-deps.sh)",
      );
    } else {
      for (const f of wanted) {
        const a = answers[f];
        if (a?.ok) continue;
        const keys = needs.filter((n) => n.feature === f).map((n) => n.key);
        const about = ABOUT[f];
        const detail = a === undefined ? "not probed" : a.detail;
        problems.push(
          `${keys.join(", ")}: this kernel has no ${about.name} support (${about.config}), ${about.why} (probe: ${detail}). Fix: ${about.fix} (modprobe ${about.module})`,
        );
      }
    }
  }
  if (plan.overlayMode === "swarm" && !(await probe.ipvs())) {
    notes.push(
      "this kernel has no IPVS (ip_vs): swarm service VIPs and the routing mesh would not work here. " +
        "The lab does not need them: its overlays are attachable and its containers are standalone.",
    );
  }
  return { problems, notes };
}

/**
 * What the probe runs in its namespace for a feature: `ip` creating a link (on the veth kp0 as parent
 * where needed), or for netem `tc` putting a netem qdisc on kp0, exactly as a delay fault does.
 */
export function probeTool(feature: KernelFeature): "ip" | "tc" {
  return feature === "netem" ? "tc" : "ip";
}

/** The probe's arguments to its tool (probeTool) for one feature. */
export function probeLinkArgv(feature: KernelFeature): string[] {
  switch (feature) {
    case "netem":
      return ["qdisc", "add", "dev", "kp0", "root", "netem", "delay", "1ms"];
    case "vxlan":
      return ["link", "add", "kp-vx", "type", "vxlan", "id", "42", "dstport", "4789", "dev", "kp0"];
    case "macvlan":
      return ["link", "add", "link", "kp0", "name", "kp-mv", "type", "macvlan", "mode", "bridge"];
    case "8021q":
      return ["link", "add", "link", "kp0", "name", "kp0.100", "type", "vlan", "id", "100"];
  }
}

const firstLine = (r: RunResult): string => (r.stderr.trim() || r.stdout.trim() || `exit ${r.code ?? "timeout"}`).split("\n")[0]!;

/** A name no lab can have (lab names are lowercase letters, digits and '-'). */
export function probeNamespaceName(): string {
  return `dnlab_kprobe_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The real probe: `ip netns add` a throwaway namespace, a veth pair in it as parent, then one
 * `ip link add ... type <feature>` per feature; the namespace (and every link in it) is deleted again.
 */
export const systemKernelProbe: KernelProbe = {
  async features(wanted) {
    const ns = probeNamespaceName();
    const ip = (args: string[]): Promise<RunResult> => run(["ip", "-n", ns, ...args], { timeoutMs: 10_000 });
    const add = await run(["ip", "netns", "add", ns], { timeoutMs: 10_000 });
    if (add.code !== 0) return { unknown: `ip netns add ${ns} failed: ${firstLine(add)}` };
    try {
      const veth = await ip(["link", "add", "kp0", "type", "veth", "peer", "name", "kp1"]);
      if (veth.code !== 0) return { unknown: `a veth pair (which every netns host needs) could not be created: ${firstLine(veth)}` };
      const out: Partial<Record<KernelFeature, FeatureAnswer>> = {};
      for (const f of wanted) {
        const argv = probeLinkArgv(f);
        const r = probeTool(f) === "tc" ? await run(["tc", "-n", ns, ...argv], { timeoutMs: 10_000 }) : await ip(argv);
        out[f] =
          r.code === 0
            ? { ok: true }
            : {
                ok: false,
                detail:
                  probeTool(f) === "tc"
                    ? `tc ${argv.join(" ")}: ${firstLine(r)}`
                    : `ip ${argv.slice(0, 2).join(" ")} ... type ${f === "8021q" ? "vlan" : f}: ${firstLine(r)}`,
              };
      }
      return out;
    } finally {
      await run(["ip", "netns", "del", ns], { timeoutMs: 10_000 });
    }
  },
  async ipvs() {
    return existsSync("/proc/net/ip_vs") || existsSync("/sys/module/ip_vs");
  },
};

// Kernel features a netns lab needs (src/lab/kernel.ts), decided against fake kernels: what the plan
// needs, one error per missing feature naming every config key that needs it, IPVS only as a note in
// swarm mode, and netnsPreflight refusing before anything is created.
import { describe, expect, it } from "vitest";
import {
  checkKernel,
  type FeatureAnswer,
  type KernelFeature,
  kernelNeeds,
  type KernelProbe,
  probeNamespaceName,
} from "../../src/lab/kernel.js";
import { netnsPreflight } from "../../src/lab/netnsLab.js";
import { buildPlan, type LabConfigInput } from "../../src/model/index.js";

/** A kernel that has exactly `has`; records what it was asked. */
function fakeKernel(has: readonly KernelFeature[], ipvs = false): KernelProbe & { asked: KernelFeature[][] } {
  const asked: KernelFeature[][] = [];
  return {
    asked,
    async features(wanted) {
      asked.push([...wanted]);
      const out: Partial<Record<KernelFeature, FeatureAnswer>> = {};
      for (const f of wanted)
        out[f] = has.includes(f) ? { ok: true } : { ok: false, detail: `ip link add ... type ${f}: Error: Unknown device type.` };
      return out;
    },
    async ipvs() {
      return ipvs;
    },
  };
}

const plan = (c: LabConfigInput) => buildPlan({ hostKind: "netns", name: "lkunit", ...c });
const overlay = { name: "ov_net1", driver: "overlay" as const, subnet: "198.18.100.0/24" };
const vlan = (id: number, name = "mv_vlan", subnet = "198.18.20.0/24") => ({ name, driver: "macvlan" as const, subnet, vlan: id });
const onlyOverlay = { networks: [overlay], workloads: [{ name: "test1", host: "host1", networks: ["ov_net1"] }] };

describe("kernelNeeds: what the configuration asks of the kernel, with its key", () => {
  it("the default lab: vxlan for the overlay, macvlan for the macvlan, no 802.1q", () => {
    expect(kernelNeeds(plan({}))).toEqual([
      { feature: "vxlan", key: 'lab:networks[0].driver = "overlay" (ov_net1)' },
      { feature: "macvlan", key: 'lab:networks[1].driver = "macvlan" (mv_net1)' },
    ]);
  });

  it("a macvlan with vlan needs macvlan and 802.1q, keyed by its index", () => {
    const needs = kernelNeeds(plan({ networks: [overlay, vlan(100)], workloads: [{ name: "t", host: "host1", networks: ["ov_net1"] }] }));
    expect(needs.map((n) => n.feature)).toEqual(["vxlan", "macvlan", "8021q"]);
    expect(needs[2]!.key).toBe("lab:networks[1].vlan = 100");
  });

  it("no networks of a kind, no need of it", () => {
    expect(kernelNeeds(plan(onlyOverlay)).map((n) => n.feature)).toEqual(["vxlan"]);
  });
});

describe("checkKernel: decisions against fake kernels", () => {
  it("a kernel with everything: no problems, and only the features the plan needs are probed", async () => {
    const k = fakeKernel(["vxlan", "macvlan", "8021q"]);
    expect(await checkKernel(plan(onlyOverlay), k)).toEqual({ problems: [], notes: [] });
    expect(k.asked).toEqual([["vxlan"]]);
  });

  it("this machine (vxlan, macvlan, no 802.1q): a vlan config is refused with one error naming the key and the fix", async () => {
    const p = plan({ networks: [overlay, vlan(100)], workloads: [{ name: "t", host: "host1", networks: ["ov_net1"] }] });
    const { problems } = await checkKernel(p, fakeKernel(["vxlan", "macvlan"]));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^lab:networks\[1\]\.vlan = 100: this kernel has no 802\.1q support \(CONFIG_VLAN_8021Q\)/);
    expect(problems[0]).toContain("Unknown device type");
    expect(problems[0]).toContain("Fix: remove vlan or run the lab on a kernel with the 8021q module");
  });

  it("two vlan networks: still ONE error for 802.1q, naming both keys", async () => {
    const p = plan({
      networks: [overlay, vlan(100), vlan(200, "mv_v2", "198.18.21.0/24")],
      workloads: [{ name: "t", host: "host1", networks: ["ov_net1"] }],
    });
    const { problems } = await checkKernel(p, fakeKernel(["vxlan", "macvlan"]));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^lab:networks\[1\]\.vlan = 100, lab:networks\[2\]\.vlan = 200: this kernel has no 802\.1q support/);
  });

  it("each missing feature is its own error (vxlan, macvlan), each naming its key", async () => {
    const { problems } = await checkKernel(plan({}), fakeKernel([]));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(
      /^lab:networks\[0\]\.driver = "overlay" \(ov_net1\): this kernel has no VXLAN support \(CONFIG_VXLAN\).*Fix: remove the overlay network or run the lab on a kernel with the vxlan module/,
    );
    expect(problems[1]).toMatch(
      /^lab:networks\[1\]\.driver = "macvlan" \(mv_net1\): this kernel has no macvlan support \(CONFIG_MACVLAN\)/,
    );
  });

  it("IPVS: a note in swarm mode when missing, nothing in kv mode or when present; never a problem", async () => {
    const swarm = plan({ overlayMode: "swarm", ...onlyOverlay });
    const noIpvs = await checkKernel(swarm, fakeKernel(["vxlan"], false));
    expect(noIpvs.problems).toEqual([]);
    expect(noIpvs.notes).toHaveLength(1);
    expect(noIpvs.notes[0]).toMatch(/no IPVS \(ip_vs\): swarm service VIPs .* The lab does not need them/);
    expect((await checkKernel(swarm, fakeKernel(["vxlan"], true))).notes).toEqual([]);
    expect((await checkKernel(plan(onlyOverlay), fakeKernel(["vxlan"], false))).notes).toEqual([]);
  });

  it("a probe that cannot run (not root) is a problem that says so, not a missing feature", async () => {
    const probe: KernelProbe = { features: async () => ({ unknown: "ip netns add x failed: Permission denied" }), ipvs: async () => true };
    const { problems } = await checkKernel(plan(onlyOverlay), probe);
    expect(problems).toEqual([
      expect.stringMatching(
        /^cannot check the kernel for VXLAN \(needed by lab:networks\[0\].*Permission denied.*Fix: run the lab as root/,
      ),
    ]);
  });

  it("the probe's throwaway namespace can never be a lab's (lab names have no '_')", () => {
    expect(probeNamespaceName()).toMatch(/^dnlab_kprobe_\d+_[a-z0-9]+$/);
  });
});

describe("netnsPreflight refuses a missing kernel feature before anything is created", () => {
  it("the 802.1q error is part of the one preflight error; notes go to the log", async () => {
    const p = plan({
      overlayMode: "swarm",
      networks: [overlay, vlan(100)],
      workloads: [{ name: "t", host: "host1", networks: ["ov_net1"] }],
    });
    const lines: string[] = [];
    const err = await netnsPreflight(p, { kernelProbe: fakeKernel(["vxlan", "macvlan"]), log: (l) => lines.push(l) }).then(
      () => "",
      (e: Error) => e.message,
    );
    expect(err).toContain("netns lab lkunit cannot be created here; nothing was created:");
    expect(err).toContain("  - lab:networks[1].vlan = 100: this kernel has no 802.1q support (CONFIG_VLAN_8021Q)");
    expect(lines.some((l) => l.startsWith("[preflight] note: this kernel has no IPVS"))).toBe(true);
  });

  it("a kernel with the features adds no problem of its own", async () => {
    const p = plan({ networks: [overlay, vlan(100)], workloads: [{ name: "t", host: "host1", networks: ["ov_net1"] }] });
    const err = await netnsPreflight(p, { kernelProbe: fakeKernel(["vxlan", "macvlan", "8021q"]) }).then(
      () => "",
      (e: Error) => e.message,
    );
    // Other machine problems (no dockerd, a system containerd) may be reported; the kernel must not be.
    expect(err).not.toContain("this kernel has no");
  });
});

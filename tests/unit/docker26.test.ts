// Docker 26 on netns hosts: hosts[].dockerVersion picks the dockerd a netns host runs ("20.10", this
// machine's Debian docker.io, or "26", Debian trixie's from scripts/fetch-docker26.sh), the plan carries
// it, and the host-up step gets that binary as --dockerd. kv mode is refused up front on a Docker 26 host,
// and a Docker 26 host without a known binary fails before any command exists.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { KernelProbe } from "../../src/lab/kernel.js";
import { netnsPreflight } from "../../src/lab/netnsLab.js";
import { buildPlan, type LabConfigInput, netnsCommands } from "../../src/model/index.js";
import { docker26BinaryPath } from "../../src/lab/tools.js";
import { netnsShellSteps } from "../../src/stack/steps.js";
import { configProblems } from "./config-problems.js";

const D26 = "/var/cache/dnlab/docker-26.1.5/usr/sbin/dockerd";

function swarm26(versions: (string | undefined)[], extra: Partial<LabConfigInput> = {}): LabConfigInput {
  return {
    name: "d26u",
    hostKind: "netns",
    overlayMode: "swarm",
    hosts: versions.map((v, i) => ({
      name: `host${i + 1}`,
      address: `198.18.0.${11 + i}`,
      ...(v === undefined ? {} : { dockerVersion: v }),
    })),
    networks: [{ name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" }],
    workloads: [],
    ...extra,
  };
}

describe("netns hosts choose their Docker", () => {
  it('default and "20.10": this machine\'s Debian dockerd; "26" and "26.1": Debian trixie\'s 26.1', () => {
    const plan = buildPlan(swarm26([undefined, "20.10", "26", "26.1"]));
    expect(plan.hosts.map((h) => [h.name, h.dockerVersion, h.netnsDockerd])).toEqual([
      ["host1", "20.10", "20.10"],
      ["host2", "20.10", "20.10"],
      ["host3", "26.1", "26"],
      ["host4", "26.1", "26"],
    ]);
  });

  it("only netns hosts carry netnsDockerd", () => {
    const dind = buildPlan({
      overlayMode: "swarm",
      hosts: [
        { name: "host1", address: "198.18.0.11", dockerVersion: "27.5.1" },
        { name: "host2", address: "198.18.0.12" },
      ],
    });
    expect(dind.hosts[0]!.netnsDockerd).toBeUndefined();
    expect(dind.hosts[0]!.dockerVersion).toBe("27.5.1");
  });

  it.each([["27.5"], ["24.0.7"], ["26.0"], ["20.10.24"], ["latest"]])(
    "refuses %s on a netns host, naming the key, the choices and the fix",
    (v) => {
      const lines = configProblems(swarm26(["26", v]));
      expect(lines).toEqual([
        `- lab:hosts[1].dockerVersion = ${JSON.stringify(v)}: netns hosts run this machine's Debian docker.io 20.10 or Debian trixie's docker.io 26.1 (fetched into a cache). ` +
          'Fix: set dockerVersion to "20.10" (the default) or "26" (npm run docker26:fetch, then export DNLAB_DOCKERD_26=<the path it prints>).',
      ]);
    },
  );

  it("refuses a dockerVersion that is not a string", () => {
    const lines = configProblems({
      ...swarm26([]),
      hosts: [{ name: "host1", address: "198.18.0.11", dockerVersion: 26 as unknown as string }],
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^- lab:hosts\[0\]\.dockerVersion = 26: netns hosts run/);
  });

  it("kv mode on a Docker 26 netns host is refused up front by the --cluster-store rule, and only by it", () => {
    const lines = configProblems(swarm26(["20.10", "26"], { overlayMode: "kv", kv: { kind: "etcd" } }));
    expect(lines).toEqual([
      '- lab:hosts[1].dockerVersion = "26": kv overlay mode needs --cluster-store, which Docker 23.0 removed. Fix: set lab:overlayMode to swarm (or use Docker 20.10 on this host).',
    ]);
    // Written as 26.1 and on every host: one problem per host.
    expect(configProblems(swarm26(["26.1", "26.1"], { overlayMode: "kv" }))).toHaveLength(2);
    // kv mode on Debian's 20.10 stays fine.
    expect(() => buildPlan(swarm26(["20.10", undefined], { overlayMode: "kv" }))).not.toThrow();
  });

  it("swarm mode passes dockerd 26 only flags it accepts (no --cluster-store/--cluster-advertise)", () => {
    const plan = buildPlan(swarm26(["26", "26"]));
    for (const h of plan.hosts) {
      expect(h.daemon.args).toEqual(["--bip", `198.19.${h.index}.1/24`, "--default-address-pool", "base=198.19.128.0/17,size=24"]);
    }
  });
});

describe("the dockerd each netns host runs", () => {
  const mixed = buildPlan(swarm26(["26", undefined, "26.1"]));
  const dockerdOf = (create: readonly string[]): string | undefined => {
    const i = create.indexOf("--dockerd");
    return i < 0 ? undefined : create[i + 1];
  };

  it("Docker 26 hosts get docker26Binary as --dockerd, the others Debian's (or dockerdBinary)", () => {
    const c = netnsCommands(mixed, { docker26Binary: D26 });
    expect(c.hosts.map((s) => dockerdOf(s.create))).toEqual([D26, undefined, D26]);
    const withConsulDockerd = netnsCommands(mixed, { docker26Binary: D26, dockerdBinary: "/opt/d/dockerd" });
    expect(withConsulDockerd.hosts.map((s) => dockerdOf(s.create))).toEqual([D26, "/opt/d/dockerd", D26]);
    // --dockerd comes before the daemon flags, which follow `--`.
    const h1 = c.hosts[0]!.create;
    expect(h1.indexOf("--dockerd")).toBeLessThan(h1.indexOf("--"));
  });

  it("a Docker 26 host with no binary known fails before any command exists, naming the keys and the fix", () => {
    expect(() => netnsCommands(mixed)).toThrow(
      'lab:hosts[0].dockerVersion = "26.1", lab:hosts[2].dockerVersion = "26.1": these netns hosts run Debian trixie\'s dockerd 26 (host1, host3), ' +
        "and no Docker 26 binary was given; nothing was created. Fix: npm run docker26:fetch, then export DNLAB_DOCKERD_26=<the path it prints> (docker26Binary), " +
        "or remove dockerVersion for this machine's Docker 20.10.",
    );
    // A lab of 20.10 hosts never needs it.
    expect(() => netnsCommands(buildPlan(swarm26([undefined, "20.10"])))).not.toThrow();
  });

  it("DNLAB_DOCKERD_26 reaches the stack's host-up steps; without it the stack program stops", () => {
    expect(docker26BinaryPath({ DNLAB_DOCKERD_26: D26 })).toBe(D26);
    expect(docker26BinaryPath({})).toBeUndefined();
    const steps = netnsShellSteps(mixed, { DNLAB_DOCKERD_26: D26, DNLAB_DOCKERD: "/opt/d/dockerd" });
    expect(steps.hosts["host1"]!.up.create).toContain(`--dockerd ${D26} --`);
    expect(steps.hosts["host2"]!.up.create).toContain("--dockerd /opt/d/dockerd --");
    expect(steps.hosts["host3"]!.up.create).toContain(`--dockerd ${D26} --`);
    expect(() => netnsShellSteps(mixed, {})).toThrow(/DNLAB_DOCKERD_26/);
  });

  describe("preflight", () => {
    const dir = mkdtempSync(join(tmpdir(), "dnlab-d26-"));
    const allFeatures: KernelProbe = {
      features: async (wanted) => Object.fromEntries(wanted.map((f) => [f, { ok: true } as const])),
      ipvs: async () => true,
    };
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("a docker26Binary that does not exist is named, with the fix", async () => {
      const missing = join(dir, "no-dockerd");
      const msg = await netnsPreflight(mixed, { docker26Binary: missing, kernelProbe: allFeatures }).then(
        () => "",
        (e: unknown) => (e as Error).message,
      );
      expect(msg).toContain(`docker26Binary = ${JSON.stringify(missing)} does not exist. Fix: npm run docker26:fetch`);
    });
  });
});

// The neighbour (ARP) entries a lab makes its kernel hold, and the check that they fit (dind preflight).
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { neighbourTableProblem, readNeighbourTable } from "../../src/lab/neighbourTable.js";
import { buildPlan, type LabConfigInput, machineNeighbourNeed, neighbourNeeds, neighbourSysctl } from "../../src/model/index.js";

const overlayLab = (hostKind: "netns" | "dind" | "ssh", containers: number): LabConfigInput => ({
  name: "nb",
  hostKind,
  overlayMode: "kv",
  kv: { kind: "etcd" },
  hosts: [
    { name: "host1", address: "198.18.0.11", ...(hostKind === "ssh" ? { ssh: { user: "root", privateKeySecret: "sshPrivateKey" } } : {}) },
    { name: "host2", address: "198.18.0.12", ...(hostKind === "ssh" ? { ssh: { user: "root", privateKeySecret: "sshPrivateKey" } } : {}) },
  ],
  networks: [{ name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" }],
  workloads: Array.from({ length: containers }, (_, i) => ({ name: `c${i + 1}`, host: `host${(i % 2) + 1}`, networks: ["ov_net1"] })),
});

describe("neighbourNeeds", () => {
  it("50 containers on one overlay over 2 netns hosts: one machine, about 2,700 entries, a 4096 table", () => {
    const needs = neighbourNeeds(buildPlan(overlayLab("netns", 50)));
    // 50*49 peers + 2 sandboxes * 50 + 2 per container + 2 hosts * (2 hosts + 2)
    expect(needs).toEqual([{ scope: "machine", hosts: ["host1", "host2"], entries: 2450 + 100 + 100 + 8, gcThresh3: 4096 }]);
  });

  it("grows with the square of the containers: 200 need a table of 41 * 1024", () => {
    const need = machineNeighbourNeed(buildPlan(overlayLab("dind", 200)));
    expect(need.entries).toBe(200 * 199 + 2 * 200 + 2 * 200 + 8);
    expect(need.gcThresh3).toBe(41 * 1024);
  });

  it("ssh hosts: one need per host, for the containers on that host only", () => {
    const needs = neighbourNeeds(buildPlan(overlayLab("ssh", 10)));
    expect(needs.map((n) => n.scope)).toEqual(["host1", "host2"]);
    // 5 local containers * 9 peers + 1 sandbox * 10 + 2 * 5 + 1 host * (2 + 2)
    expect(needs[0]!.entries).toBe(45 + 10 + 10 + 4);
    expect(needs[0]!.gcThresh3).toBe(2048);
  });

  it("the sysctl that fits a size keeps gc_thresh2 at half", () => {
    expect(neighbourSysctl(4096)).toBe("sysctl -w net.ipv4.neigh.default.gc_thresh3=4096 net.ipv4.neigh.default.gc_thresh2=2048");
  });
});

describe("the kernel's neighbour table", () => {
  const fakeProc = (gcThresh3: string, entriesHex: string): string => {
    const d = mkdtempSync(join(os.tmpdir(), "dnlab-proc-"));
    mkdirSync(join(d, "sys/net/ipv4/neigh/default"), { recursive: true });
    mkdirSync(join(d, "net/stat"), { recursive: true });
    writeFileSync(join(d, "sys/net/ipv4/neigh/default/gc_thresh3"), `${gcThresh3}\n`);
    writeFileSync(
      join(d, "net/stat/arp_cache"),
      `entries  allocs   destroys\n${entriesHex} 00006fec 0000631a\n${entriesHex} 00006931 000075ca\n`,
    );
    return d;
  };

  it("reads the limit and the entries of every namespace (hex, /proc/net/stat/arp_cache)", () => {
    expect(readNeighbourTable(fakeProc("1024", "00000039"))).toEqual({ gcThresh3: 1024, entries: 57 });
  });

  it("cannot tell outside the first namespace (no gc_thresh3 there)", () => {
    expect(readNeighbourTable(mkdtempSync(join(os.tmpdir(), "dnlab-proc-")))).toBeUndefined();
  });

  it("a lab that does not fit names the limit, the entries, the containers and the sysctl that fixes it", () => {
    const plan = buildPlan(overlayLab("dind", 50));
    const p = neighbourTableProblem(plan, { gcThresh3: 1024, entries: 57 }, "of the Docker engine's machine (unix:///var/run/docker.sock)");
    expect(p).toContain("holds at most 1024 entries (net.ipv4.neigh.default.gc_thresh3) and has 57");
    expect(p).toContain("this lab's 50 containers add about 2658");
    expect(p).toContain(
      "Fix: as root on that machine, sysctl -w net.ipv4.neigh.default.gc_thresh3=4096 net.ipv4.neigh.default.gc_thresh2=2048",
    );
    expect(neighbourTableProblem(plan, { gcThresh3: 4096, entries: 57 }, "here")).toBeUndefined();
    // The default lab fits the kernel's default table.
    expect(neighbourTableProblem(buildPlan(overlayLab("dind", 3)), { gcThresh3: 1024, entries: 57 }, "here")).toBeUndefined();
  });
});

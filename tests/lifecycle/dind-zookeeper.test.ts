// ZooKeeper as the classic overlay's store on dind hosts, under the real engine: the KV container from
// dnlab-local/zookeeper (scripts/images/build.sh: Debian's ZooKeeper 3.8, no registry) with the spec
// of src/model/kvServer.ts (client port on the lab address only, no AdminServer, srvr health check),
// the hosts from dnlab-local/dind:20.10.24, whose dockerd carries the libkv ZooKeeper listing fix.
// Up, verified clean with the VNI read from ZooKeeper; Docker's records read back from ZooKeeper with
// the lab's own client; a no-change preview; the destroy leaves the engine as it was (the harness).
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  CLUSTER_ADVERTISE_PORT,
  checkCount,
  dockerKvEntriesFromZookeeper,
  type LabConfigInput,
  summarizeDockerKv,
} from "../../src/model/index.js";
import { LOCAL_IMAGES, LOCAL_ZOOKEEPER, useOuterEngine } from "./dind.js";
import { savedVerification, timed, useLabStack, verificationOf } from "./harness.js";

/** Listening TCP sockets of a /proc/net/tcp{,6} text as ip:port (IPv4 and v4-mapped IPv6). */
function listening(procNetTcp: string): string[] {
  const out: string[] = [];
  for (const line of procNetTcp.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[3] !== "0A" || !f[1]?.includes(":")) continue;
    const [hex, port] = f[1].split(":") as [string, string];
    const v4 = hex.slice(-8); // the last 32 bits of a v6 address hold a mapped v4 one
    const ip = [6, 4, 2, 0].map((i) => Number.parseInt(v4.slice(i, i + 2), 16)).join(".");
    out.push(`${ip}:${Number.parseInt(port, 16)}`);
  }
  return out.sort();
}

describe("dind kv with ZooKeeper: up, verify clean (VNI from ZooKeeper), its records, no-change preview, destroy", () => {
  const outer = useOuterEngine();
  const config: LabConfigInput = {
    name: "dzk",
    hostKind: "dind",
    kv: { kind: "zookeeper" },
    images: { ...LOCAL_IMAGES, kv: LOCAL_ZOOKEEPER },
  };
  const lab = useLabStack("enginetest-dind-zk", config, () => ({ DOCKER_HOST: outer.dockerHost() }), outer.stackOptions());
  const docker = (...args: string[]): string =>
    execFileSync("/usr/bin/docker", ["-H", outer.dockerHost(), ...args], { encoding: "utf8", timeout: 60_000 });

  it("comes up and verifies clean through zk://: ov_net1 spans both hosts, the VXLAN checks read the VNI from ZooKeeper", async () => {
    const out = await timed(lab, "up", () => lab.up());
    const v = verificationOf(out);
    expect(v.summary.failed).toBe(0);
    expect(v.summary.passed + v.summary.expectedFailures).toBe(checkCount(lab.plan.checks));
    const vx = savedVerification().results.filter((c) => c.kind === "vxlan");
    expect(vx).toHaveLength(2);
    for (const c of vx) expect(c.data).toMatchObject({ vni: 256, vniSource: "zookeeper record" });
    const networks = out["networks"] as Record<string, { seenOn?: Record<string, string> }>;
    expect(networks["ov_net1"]!.seenOn!["host2"]).toBe(networks["ov_net1"]!.seenOn!["host1"]);
    // Consul's UI and its records through @pulumi/consul are Consul's only.
    expect(out["consulUi"]).toBeNull();
    expect(out["kvRegistrations"]).toBeNull();
  });

  it("ZooKeeper listens on the lab address only and holds both daemons, ov_net1 (VNI 256) and both endpoints", async () => {
    const kv = lab.plan.kv!;
    // Docker's own DNS resolver of a user-defined network listens on 127.0.0.11 in every container.
    const socks = listening(docker("exec", `${lab.plan.name}-kv`, "cat", "/proc/net/tcp", "/proc/net/tcp6"));
    expect(socks.filter((s) => !s.startsWith("127.0.0.11:"))).toEqual([`${kv.address}:${kv.port}`]);
    // The lab's ZooKeeper client from a throwaway busybox on the underlay, where the daemons reach the store.
    const entries = await dockerKvEntriesFromZookeeper(kv, async (argv) =>
      docker("run", "--rm", "--network", `${lab.plan.name}-underlay`, "busybox:1.36.1", ...argv),
    );
    const s = summarizeDockerKv(entries);
    expect(s.nodes).toEqual(lab.plan.hosts.map((h) => `${h.address}:${CLUSTER_ADVERTISE_PORT}`).sort());
    const ov = s.networks.find((n) => n.name === "ov_net1");
    expect(ov).toMatchObject({ type: "overlay", subnets: ["198.18.100.0/24"], vni: [256], endpointCount: 2 });
    expect(s.endpoints.filter((e) => e.network === ov!.id).map((e) => [e.name, e.address, e.host])).toEqual([
      ["test1", "198.18.100.2/24", "198.18.0.11"],
      ["test2", "198.18.100.3/24", "198.18.0.12"],
    ]);
  });

  it("a second preview shows no changes", async () => {
    await timed(lab, "no-change preview", () => lab.stack.preview({ expectNoChanges: true }));
  });
});

// The daemon-netns check: a dockerd thread stuck in a deleted network namespace (Docker 20.10's classic
// overlay defect) is one failure naming the daemon, the cause and the fix; what failed through that
// daemon is counted as blocked by it, not as a wall of DNS and ping failures.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildPlan, daemonChecks, expandChecks } from "../../src/model/index.js";
import { daemonNetnsScript } from "../../src/verify/daemon.js";
import { formatTable, judgeDaemonThreads, parseDaemonThreads, verifyLab } from "../../src/verify/index.js";
import { daemonThreadsOutput, makeWorld } from "./verify-fake.js";

const plan = buildPlan({ hostKind: "netns", name: "vfd", kv: { kind: "etcd" } });

function verify(world: ReturnType<typeof makeWorld>, extra: Parameters<typeof verifyLab>[1] = {}) {
  return verifyLab(plan, { engineFactory: (_e, host) => world.engines.get(host)!, settleMs: 0, daemonRecheckS: 0, ...extra });
}

describe("which daemons are checked", () => {
  it("every host of a kv-mode lab with an overlay; none in swarm mode or without an overlay", () => {
    expect(daemonChecks(plan).map((c) => c.id)).toEqual(["daemon-netns:host1", "daemon-netns:host2"]);
    expect(daemonChecks(plan)[0]).toMatchObject({ kind: "daemon-netns", host: "host1", from: "host1", expect: "pass" });
    expect(expandChecks(plan.checks).filter((c) => c.kind === "daemon-netns")).toHaveLength(2);
    expect(daemonChecks(buildPlan({ hostKind: "netns", overlayMode: "swarm" }))).toEqual([]);
    const macvlanOnly = buildPlan({
      hostKind: "netns",
      kv: { kind: "etcd" },
      networks: [{ name: "mv_net1", driver: "macvlan", subnet: "198.18.0.0/24", ipRangePool: "198.18.0.128/25" }],
      workloads: [{ name: "test3", host: "host1", networks: ["mv_net1"] }],
    });
    expect(daemonChecks(macvlanOnly)).toEqual([]);
  });

  it("the daemon's pidfile per host kind: the lab's own on netns, dockerd's default on dind, the configured one on ssh", () => {
    expect(plan.hosts[0]!.daemon.pidFile).toBe("/run/dnlab/vfd/host1.pid");
    expect(buildPlan({}).hosts[0]!.daemon.pidFile).toBe("/var/run/docker.pid");
    const ssh = buildPlan({
      hostKind: "ssh",
      hosts: [
        { name: "host1", address: "198.18.0.11", ssh: { user: "root", privateKeySecret: "k", docker: { pidFile: "/run/docker-lab.pid" } } },
        { name: "host2", address: "198.18.0.12", ssh: { user: "root", privateKeySecret: "k" } },
      ],
    });
    expect(ssh.hosts.map((h) => h.daemon.pidFile)).toEqual(["/run/docker-lab.pid", "/var/run/docker.pid"]);
  });
});

describe("judging a daemon's threads", () => {
  it("all in its own namespace or a live sandbox's: nothing stuck, no second look needed", () => {
    const d = parseDaemonThreads(daemonThreadsOutput());
    expect(d).toMatchObject({ pid: 4242, own: "4026531001" });
    expect(d.second).toBeUndefined();
    expect(judgeDaemonThreads(d)).toEqual({ threads: 6, inOwn: 5, stuck: [], leaving: 0, inSandboxes: 1 });
  });

  it("a thread in a deleted namespace at both looks is stuck; one gone by the second look was leaving", () => {
    expect(judgeDaemonThreads(parseDaemonThreads(daemonThreadsOutput({ stuck: 2 })))).toMatchObject({
      stuck: [
        { tid: "4260", netns: "4026532999" },
        { tid: "4261", netns: "4026532999" },
      ],
      leaving: 0,
    });
    expect(judgeDaemonThreads(parseDaemonThreads(daemonThreadsOutput({ leaving: 1 })))).toMatchObject({ stuck: [], leaving: 1 });
  });

  it("a thread that moved on to another deleted namespace is still stuck only if it stayed in the same one", () => {
    const text = ["@pid 1", "@own 10", "@s1 1 10", "@s1 2 99", "@s1 3 98", "@s2 1 10", "@s2 2 99", "@s2 3 10"].join("\n");
    expect(judgeDaemonThreads(parseDaemonThreads(text))).toEqual({
      threads: 3,
      inOwn: 1,
      stuck: [{ tid: "2", netns: "99" }],
      leaving: 1,
      inSandboxes: 0,
    });
  });

  it("what the script could not read is an error", () => {
    expect(parseDaemonThreads("@err cannot read a pid from /dnlab-pid/docker.pid\n").error).toBe(
      "cannot read a pid from /dnlab-pid/docker.pid",
    );
  });
});

describe("the verifier with a stuck daemon", () => {
  it("one failure names the daemon, the cause and the fix; what failed through it is blocked, not failed", async () => {
    // host1's dockerd is stuck: its containers' probes and the probes toward them fail.
    const host1 = new Set(["198.18.100.2", "198.18.0.128", "198.18.0.11"]);
    const world = makeWorld(plan, {
      daemonThreads: (h) => daemonThreadsOutput({ stuck: h === "host1" ? 1 : 0 }),
      reach: (from, ip) => from !== "test1" && from !== "test3" && from !== "host:host1" && !host1.has(ip),
    });
    const r = await verify(world);
    const failed = r.results.filter((x) => !x.ok && x.blockedBy === undefined);
    expect(failed.map((x) => x.id)).toEqual(["daemon-netns:host1"]);
    expect(failed[0]!.detail).toBe(
      'dockerd on host1 (pid 4242) has a thread stuck in a deleted overlay network namespace (Docker 20.10 libnetwork defect, moby/libnetwork#1838: its dials to the KV store and its gossip peers fail with "network is unreachable"); restart it',
    );
    expect(failed[0]!.data).toMatchObject({ stuck: [{ tid: "4260", netns: "4026532999" }] });
    const blocked = r.results.filter((x) => x.blockedBy !== undefined);
    expect(blocked.length).toBeGreaterThan(3);
    expect(new Set(blocked.map((x) => x.blockedBy))).toEqual(new Set(["daemon-netns:host1"]));
    expect(blocked.map((x) => x.id)).toEqual(expect.arrayContaining(["ping-name:test1->test2@ov_net1", "ping-ip:test2->test1@ov_net1"]));
    expect(r.summary).toMatchObject({ failed: 1, blocked: blocked.length });
    expect(r.ok).toBe(false);
    expect(r.failures.map((f) => f.id)).toEqual(["daemon-netns:host1"]);
    // What pulumi up shows: the one row, and the summary saying how many more it stands for.
    const table = formatTable(r, { onlyFailures: true });
    expect(table.split("\n").filter((l) => /^(FAIL|ERROR|BLOCKED)/.test(l))).toHaveLength(1);
    expect(table).toContain(`1 failed (${blocked.length} more not counted: they went through a stuck dockerd)`);
    expect(formatTable(r)).toMatch(/BLOCKED +ping-name:test1->test2@ov_net1 .*\[blocked by daemon-netns:host1\]/);
    expect(r.counts["ov_net1"]!["ping-name"]).toMatchObject({ failed: 0, blocked: 2 });
  });

  it("checks through a stuck daemon are not retried while the lab settles", async () => {
    const world = makeWorld(plan, {
      daemonThreads: (h) => daemonThreadsOutput({ stuck: h === "host2" ? 1 : 0 }),
      reach: (from, ip) => from !== "test2" && ip !== "198.18.100.3" && !(from === "host:host1" && ip === "198.18.0.128"),
    });
    const t0 = performance.now();
    const r = await verify(world, { settleMs: 30_000 });
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(r.results.filter((x) => !x.ok && x.blockedBy === undefined).map((x) => x.id)).toEqual(["daemon-netns:host2"]);
  });

  it("a thread leaving a deleted namespace (a fixed daemon right after a network went) passes, and says so", async () => {
    const world = makeWorld(plan, { daemonThreads: () => daemonThreadsOutput({ leaving: 1 }) });
    const r = await verify(world);
    const d = r.results.find((x) => x.id === "daemon-netns:host1")!;
    expect(d).toMatchObject({ ok: true, data: { leaving: 1, stuck: [] } });
    expect(d.detail).toBe("dockerd pid 4242: 7 threads, 1 in live sandboxes, 1 leaving a deleted one, none stuck in a deleted namespace");
    expect(r.ok).toBe(true);
  });

  it("a pidfile naming another daemon (its threads in another namespace) is an error, never a stuck daemon", async () => {
    const other = ["@pid 77", "@own 4026531001", "@s1 77 4026539000", "@s1 78 4026539000", "@s1 79 4026531001"];
    const again = other.slice(2).map((l) => l.replace("@s1", "@s2"));
    const world = makeWorld(plan, {
      daemonThreads: (h) => (h === "host2" ? `${[...other, ...again].join("\n")}\n` : daemonThreadsOutput()),
    });
    const r = await verify(world);
    expect(r.results.find((x) => x.id === "daemon-netns:host2")).toMatchObject({
      ok: false,
      error: true,
      detail:
        "dockerd pid 77 (pidfile /run/dnlab/vfd/host2.pid) is not the daemon behind host2's endpoint: 2 of its 3 threads are in another network namespace",
    });
    expect(r.summary).toMatchObject({ failed: 1, blocked: 0 });
  });

  it("a daemon whose threads cannot be read is an error that says why, and blocks nothing", async () => {
    const world = makeWorld(plan, { daemonThreads: () => "@err cannot read a pid from /dnlab-pid/host1.pid\n" });
    const r = await verify(world);
    expect(r.results.find((x) => x.id === "daemon-netns:host1")).toMatchObject({
      ok: false,
      error: true,
      detail: "cannot read the threads of dockerd on host1 (pidfile /run/dnlab/vfd/host1.pid): cannot read a pid from /dnlab-pid/host1.pid",
    });
    expect(r.summary.blocked).toBe(0);
  });
});

describe("scripts/verify/daemon-netns.sh", () => {
  it("reads a real process's threads (busybox sh, as in the helper): all in its own namespace, no second look", () => {
    const dir = mkdtempSync(join(tmpdir(), "dnlab-daemon-netns-"));
    try {
      writeFileSync(join(dir, "pid"), `${process.pid}\n`);
      const out = execFileSync("busybox", ["sh", "-c", daemonNetnsScript(), "dnlab-daemon-netns", join(dir, "pid"), dir, "0"], {
        encoding: "utf8",
      });
      const d = parseDaemonThreads(out);
      const own = /net:\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/net"))![1];
      expect(d.pid).toBe(process.pid);
      expect(d.own).toBe(own);
      expect(d.first.size).toBeGreaterThan(1); // node's threads
      expect(new Set(d.first.values())).toEqual(new Set([own]));
      expect(d.second).toBeUndefined();
      expect(judgeDaemonThreads(d).stuck).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a pidfile without a pid: exit 3 and one @err line", () => {
    const dir = mkdtempSync(join(tmpdir(), "dnlab-daemon-netns-"));
    try {
      writeFileSync(join(dir, "pid"), "");
      let code = 0;
      let out = "";
      try {
        execFileSync("busybox", ["sh", "-c", daemonNetnsScript(), "dnlab-daemon-netns", join(dir, "pid"), dir, "0"], { encoding: "utf8" });
      } catch (e) {
        code = (e as { status: number }).status;
        out = (e as { stdout: string }).stdout;
      }
      expect(code).toBe(3);
      expect(parseDaemonThreads(out).error).toBe(`cannot read a pid from ${join(dir, "pid")}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { describe, expect, it } from "vitest";
import { buildPlan, type CheckPlan, expandChecks } from "../../src/model/index.js";
import { mapLimit, runChecks, withDeadline } from "../../src/verify/checks.js";
import { verifyLab } from "../../src/verify/index.js";
import { busyboxPing, makeWorld, sleep } from "./verify-fake.js";

const plan = buildPlan({ hostKind: "netns", name: "vfu", kv: { kind: "etcd" } });
const checks = expandChecks(plan.checks);
const byId = <T extends { id: string }>(xs: T[]): Map<string, T> => new Map(xs.map((x) => [x.id, x]));

/** The first round's outcomes (no settling window), unless a test asks for one. */
async function verify(world: ReturnType<typeof makeWorld>, extra: Parameters<typeof verifyLab>[1] = {}) {
  return verifyLab(plan, { engineFactory: (_e, host) => world.engines.get(host)!, settleMs: 0, ...extra });
}

describe("settling: a lab still converging after an apply", () => {
  it("a check that fails at first and passes on a later round counts as passed, and says on which round", async () => {
    const world = makeWorld(plan);
    const inner = world.engines.get("host1")!.onExec;
    let calls = 0;
    world.engines.get("host1")!.onExec = (c, cmd, e) =>
      cmd[0] === "ping" && cmd.at(-1) === "test2" && ++calls <= 2
        ? { exitCode: 1, stdout: "", stderr: "ping: bad address 'test2'" }
        : inner(c, cmd, e);
    const r = await verify(world, { settleMs: 10_000 });
    const check = byId(r.results).get("ping-name:test1->test2@ov_net1")!;
    expect(check).toMatchObject({ ok: true, outcome: "pass", data: { round: 3 } });
    expect(check.detail).toMatch(/\[round 3\]$/);
    expect(r.summary.failed).toBe(0);
  });

  it("a check that keeps failing is retried until the window closes, then reported failed", async () => {
    const world = makeWorld(plan);
    const inner = world.engines.get("host1")!.onExec;
    let calls = 0;
    const failPing = () => {
      calls++;
      return { exitCode: 1, stdout: "", stderr: "ping: bad address 'test2'" };
    };
    world.engines.get("host1")!.onExec = (c, cmd, e) => (cmd[0] === "ping" && cmd.at(-1) === "test2" ? failPing() : inner(c, cmd, e));
    const r = await verify(world, { settleMs: 2_500 });
    expect(byId(r.results).get("ping-name:test1->test2@ov_net1")).toMatchObject({ ok: false, outcome: "fail" });
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it("a later round inspects the containers again (an endpoint without its address yet gets it)", async () => {
    const world = makeWorld(plan);
    const e2 = world.engines.get("host2")!;
    const ready = e2.containers.get("test2")!;
    const ep = ready.NetworkSettings.Networks!["ov_net1"]!;
    e2.containers.set("test2", {
      ...ready,
      NetworkSettings: { ...ready.NetworkSettings, Networks: { ov_net1: { ...ep, IPAddress: "" } } },
    });
    const inspect = e2.inspectContainer.bind(e2);
    let calls = 0;
    e2.inspectContainer = async (name) => {
      if (name === "test2" && ++calls === 2) e2.containers.set("test2", ready); // ready from the second look on
      return inspect(name);
    };
    const first = await verify(world);
    expect(byId(first.results).get("cnm:test2")!.detail).toMatch(/^ov_net1 endpoint has no IP, planned 198\.18\.100\.3/);
    calls = 0;
    e2.containers.set("test2", {
      ...ready,
      NetworkSettings: { ...ready.NetworkSettings, Networks: { ov_net1: { ...ep, IPAddress: "" } } },
    });
    const settled = await verify(world, { settleMs: 5_000 });
    expect(byId(settled.results).get("cnm:test2")).toMatchObject({ ok: true, data: { round: 2 } });
  });

  it("a probe that cannot run (stopped container) and an expected failure are not retried", async () => {
    const world = makeWorld(plan, { stopped: ["test2"] });
    let execs = 0;
    for (const e of world.engines.values()) {
      const inner = e.onExec;
      e.onExec = (c, cmd, x) => {
        execs++;
        return inner(c, cmd, x);
      };
    }
    const once = await verify(world, { settleMs: 0 });
    const first = execs;
    execs = 0;
    const settled = await verify(world, { settleMs: 60_000 });
    expect(settled.summary).toEqual(once.summary);
    expect(execs).toBe(first);
  });
});

describe("outcome and expectation", () => {
  it("a healthy lab: every check ok, the host's own macvlan child an expected failure", async () => {
    const world = makeWorld(plan);
    const r = await verify(world);
    expect(r.results.map((x) => x.id)).toEqual(checks.map((c) => c.id)); // plan order
    // 16 probes of the network, and the daemon-netns check of each host (kv mode with an overlay).
    expect(r.summary).toMatchObject({ total: 20, passed: 19, expectedFailures: 1, failed: 0, blocked: 0 });
    expect(r.ok).toBe(true);
    const xfail = r.results.filter((x) => x.expected);
    expect(xfail.map((x) => x.id)).toEqual(["host-ping:host1->test3@mv_net1"]);
    expect(xfail[0]).toMatchObject({ outcome: "fail", ok: true, error: false });
    for (const x of r.results) expect(x.ok, `${x.id}: ${x.detail}`).toBe(true);
  });

  it("reports what each kind saw: VNI and counters, the gwbridge route, CNM endpoints", async () => {
    const r = byId((await verify(makeWorld(plan))).results);
    const vx = r.get("vxlan:host2@ov_net1")!;
    expect(vx.data).toMatchObject({ device: "vxlan0", vni: 256, sandbox: `2-${Buffer.from("ov_net1").toString("hex").slice(0, 10)}` });
    expect((vx.data as { rxPackets: number }).rxPackets).toBeGreaterThan(0);
    expect(vx.detail).toContain("VNI 256");
    expect(r.get("gwbridge-route:test1@ov_net1")!.data).toMatchObject({ dev: "eth1", gwbridgeSubnets: ["198.19.128.0/24"] });
    // The state checks' own time inside the container, like a probe's (not the wait for the exec).
    expect(r.get("gwbridge-route:test1@ov_net1")!.data).toMatchObject({ probeMs: expect.any(Number) });
    expect(r.get("cnm:test1")!.data).toMatchObject({ probeMs: expect.any(Number) });
    const cnm = r.get("cnm:test1")!.data as {
      endpoints: { network: string; interface: string; ip: string }[];
      interfaces: { name: string; network?: string }[];
    };
    expect(cnm.endpoints).toEqual([expect.objectContaining({ network: "ov_net1", interface: "eth0", ip: "198.18.100.2/24" })]);
    expect(cnm.interfaces.find((i) => i.name === "eth1")?.network).toBe("docker_gwbridge");
  });

  it("an unexpected reply to an expected failure is not ok (XPASS)", async () => {
    const r = byId((await verify(makeWorld(plan, { reach: () => true }))).results);
    const x = r.get("host-ping:host1->test3@mv_net1")!;
    expect(x).toMatchObject({ outcome: "pass", expect: "fail", ok: false, expected: true, error: false });
  });

  it("ping by name must answer from the planned address", async () => {
    const world = makeWorld(plan);
    const inner = world.engines.get("host1")!.onExec;
    world.engines.get("host1")!.onExec = (c, cmd, e) =>
      cmd[0] === "ping" && cmd.at(-1) === "test2" ? busyboxPing("test2", "198.18.100.99", true) : inner(c, cmd, e);
    const r = byId((await verify(world)).results);
    expect(r.get("ping-name:test1->test2@ov_net1")).toMatchObject({ outcome: "fail", ok: false });
    expect(r.get("ping-name:test1->test2@ov_net1")!.detail).toBe("test2 answered from 198.18.100.99, expected 198.18.100.3");
  });

  it("a cut link: exactly the cross-host probes over it fail, and its VXLAN moved nothing this run", async () => {
    // host2 loses the underlay: overlay peers, the KV host and macvlan peers on other hosts are gone.
    const host2 = new Set(["test2", "host:host2"]);
    const host2Ips = new Set(["198.18.100.3", "198.18.0.12"]);
    const world = makeWorld(plan, {
      reach: (from, ip) => {
        if (from === "host:host1" && ip === "198.18.0.128") return false;
        if (host2.has(from)) return false; // nothing but itself
        return !host2Ips.has(ip);
      },
    });
    const r = await verify(world);
    expect(
      r.results
        .filter((x) => !x.ok)
        .map((x) => x.id)
        .sort(),
    ).toEqual(
      [
        "external:test2->198.18.0.2",
        "host-ping:host2->test3@mv_net1",
        "ping-ip:test1->test2@ov_net1",
        "ping-ip:test2->test1@ov_net1",
        "ping-ip:test3->host2@mv_net1",
        "ping-name:test1->test2@ov_net1",
        "ping-name:test2->test1@ov_net1",
        // Its counters are not 0 (earlier traffic), but this run's probes pushed nothing through the tunnel.
        "vxlan:host2@ov_net1",
      ].sort(),
    );
    expect(r.summary).toMatchObject({ passed: 11, expectedFailures: 1, failed: 8, errors: 0 });
  });
});

describe("stopped, missing and unreachable", () => {
  it("a stopped container: its own checks cannot run (clear reason), probes toward it name it", async () => {
    const r = byId((await verify(makeWorld(plan, { stopped: ["test2"] }))).results);
    for (const id of ["ping-name:test2->test1@ov_net1", "dns:test2->test1@ov_net1", "gwbridge-route:test2@ov_net1", "cnm:test2"]) {
      expect(r.get(id), id).toMatchObject({ ok: false, error: true, outcome: "fail" });
      expect(r.get(id)!.detail).toBe("container test2 is not running (exited with code 137)");
    }
    // The fake world still routes to the stopped container's IP (the kernel would not); the name still fails.
    expect(r.get("cnm:test1")!.ok).toBe(true);
  });

  it("toward a stopped container, a failing ping says the target is down", async () => {
    const world = makeWorld(plan, {
      stopped: ["test2"],
      reach: (from, ip) => ip !== "198.18.100.3" && !(from === "host:host1" && ip === "198.18.0.128"),
    });
    const r = byId((await verify(world)).results);
    expect(r.get("ping-ip:test1->test2@ov_net1")!.detail).toContain("target container test2 is not running (exited with code 137)");
    expect(r.get("ping-ip:test1->test2@ov_net1")!.error).toBe(false);
  });

  it("a missing container and an unreachable daemon are errors, never credited as expected failures", async () => {
    const world = makeWorld(plan);
    world.engines.get("host2")!.containers.delete("test2");
    world.engines.get("host1")!.unreachable = "connect ENOENT /run/dnlab/vfu/host1.sock";
    const r = byId((await verify(world)).results);
    expect(r.get("cnm:test2")!.detail).toBe("container test2 does not exist on host2");
    const x = r.get("host-ping:host1->test3@mv_net1")!;
    expect(x).toMatchObject({ expect: "fail", outcome: "fail", ok: false, error: true });
    expect(x.detail).toMatch(/^host host1's Docker endpoint unix:\/\/\/run\/dnlab\/vfu\/host1\.sock is unreachable: .*ENOENT/);
    expect(r.get("host-ping:host2->test3@mv_net1")!.ok).toBe(true); // host2 still reaches test3
  });
});

describe("names Docker would answer with another container", () => {
  it("a missing container whose name is a prefix of another container's ID is missing, and nothing runs in that other one", async () => {
    const world = makeWorld(plan);
    const e = world.engines.get("host2")!;
    const other = e.containers.get("test2")!;
    e.containers.delete("test2");
    // Docker's fallback: no container is named test2, so the name is tried as an ID prefix.
    e.containers.set("other", { ...other, Name: "/other", Id: `test2${other.Id.slice(5)}` });
    const inner = e.inspectContainer.bind(e);
    e.inspectContainer = async (ref: string) => (await inner(ref)) ?? [...e.containers.values()].find((c) => c.Id.startsWith(ref));
    const r = byId((await verify(world)).results);
    expect(r.get("cnm:test2")!.detail).toBe("container test2 does not exist on host2");
    expect(r.get("cnm:test2")!.ok).toBe(false);
    expect(e.execs.map((x) => x.container)).not.toContain("other");
  });
});

describe("concurrency, ordering, timeouts, cleanup", () => {
  /** Counts probes (not the vxlan sampling around them) in flight across all engines of a world. */
  function trackInFlight(world: ReturnType<typeof makeWorld>): { peak: () => number } {
    let inFlight = 0;
    let peak = 0;
    for (const e of world.engines.values()) {
      const inner = e.onExec;
      e.onExec = async (c, cmd, eng) => {
        if (["nsenter", "ls", "timeout"].includes(cmd[0]!)) return inner(c, cmd, eng);
        peak = Math.max(peak, ++inFlight);
        try {
          return await inner(c, cmd, eng);
        } finally {
          inFlight--;
        }
      };
    }
    return { peak: () => peak };
  }

  it("checks run concurrently: every container probe is in flight at once", async () => {
    const world = makeWorld(plan, { execDelayMs: 50 });
    const t = trackInFlight(world);
    const r = await verify(world);
    expect(r.ok).toBe(true);
    // The default plan has 16 container-side probes besides the vxlan samples; all overlap.
    const containerProbes = checks.filter((c) => c.kind !== "vxlan" && c.kind !== "host-ping" && c.kind !== "daemon-netns").length;
    expect(t.peak()).toBeGreaterThanOrEqual(containerProbes);
  });

  it("a concurrency cap of 1 serialises (the cap is honoured)", async () => {
    let inFlight = 0;
    let peak = 0;
    await mapLimit([1, 2, 3, 4, 5, 6], 2, async () => {
      peak = Math.max(peak, ++inFlight);
      await sleep(10);
      inFlight--;
    });
    expect(peak).toBe(2);
    // The cap counts execs: one container's probes (one exec) at a time.
    const world = makeWorld(plan, { execDelayMs: 5 });
    let execs = 0;
    let execPeak = 0;
    for (const e of world.engines.values()) {
      const exec = e.exec.bind(e);
      e.exec = async (c, cmd, o) => {
        if (cmd[3] !== "dnlab-probes") return exec(c, cmd, o);
        execPeak = Math.max(execPeak, ++execs);
        try {
          return await exec(c, cmd, o);
        } finally {
          execs--;
        }
      };
    }
    await verify(world, { concurrency: 1 });
    expect(execPeak).toBe(1);
  });

  it("vxlan counters are read before and after every container probe", async () => {
    const world = makeWorld(plan);
    await verify(world);
    for (const e of world.engines.values()) {
      const reads = e.execs.filter((x) => x.cmd[0] === "nsenter");
      const probes = e.execs.filter((x) => !["nsenter", "ls", "timeout"].includes(x.cmd[0]!) && x.cmd[3] !== "dnlab-daemon-netns");
      expect(reads.length).toBe(2);
      expect(reads[0]!.end!).toBeLessThanOrEqual(Math.min(...probes.map((p) => p.start)));
      expect(reads[1]!.start).toBeGreaterThanOrEqual(Math.max(...probes.map((p) => p.end!)));
    }
    const r = byId((await verify(makeWorld(plan))).results);
    expect((r.get("vxlan:host1@ov_net1")!.data as { delta: { txPackets: number } }).delta.txPackets).toBeGreaterThan(0);
  });

  it("a probe that hangs times out on its own, with the check named, without holding the others", async () => {
    const world = makeWorld(plan);
    const inner = world.engines.get("host2")!.onExec;
    world.engines.get("host2")!.onExec = (c, cmd, e) => (cmd[0] === "nslookup" ? new Promise(() => undefined) : inner(c, cmd, e));
    const r = await verify(world, { checkTimeoutMs: 1000 });
    const bad = r.results.filter((x) => !x.ok);
    expect(bad.map((x) => x.id)).toEqual(["dns:test2->test1@ov_net1"]);
    expect(bad[0]).toMatchObject({ error: true, detail: "dns:test2->test1@ov_net1 timed out after 1 s" });
    expect(bad[0]!.durationMs).toBeGreaterThanOrEqual(990);
    // The same container's other probes ran in the same exec, and each reports its own time.
    const sibling = r.results.find((x) => x.id === "ping-name:test2->test1@ov_net1")!;
    expect(sibling.ok).toBe(true);
    expect(sibling.durationMs).toBeLessThan(500);
    expect(sibling.data).toMatchObject({ probeMs: expect.any(Number) });
  });

  it("one exec per container runs all of its probes, one per host for the host-level pings", async () => {
    const world = makeWorld(plan);
    const r = await verify(world);
    expect(r.ok).toBe(true);
    for (const [host, e] of world.engines) {
      const batches = e.execs.filter((x) => x.cmd[3] === "dnlab-probes");
      const containers = plan.workloads.filter((w) => w.host === host).map((w) => w.name);
      // Every container once, and the helper once (host-ping checks exist for both hosts).
      const helper = e.created.find((c) => c.spec.pidMode === undefined)!;
      expect(batches.map((x) => x.container).sort(), host).toEqual([...containers, helper.id].sort());
    }
  });

  it("withDeadline aborts the signal it handed out", async () => {
    let aborted = false;
    await expect(
      withDeadline(30, "x", (s) => {
        s.addEventListener("abort", () => (aborted = true));
        return new Promise(() => undefined);
      }),
    ).rejects.toThrow("x timed out after 0.0 s");
    expect(aborted).toBe(true);
  });

  it("helper containers: per host one for the probes (host network + netns dir) and one for the daemon's threads (host PID namespace too); all removed; engines closed", async () => {
    const world = makeWorld(plan);
    await verify(world);
    for (const [host, e] of world.engines) {
      expect(e.created.length, host).toBe(2);
      const probes = e.created.find((c) => c.spec.pidMode === undefined)!.spec;
      expect(probes).toMatchObject({ networkMode: "host", capAdd: ["SYS_ADMIN"], image: "busybox:1.36.1", autoRemove: true });
      expect(probes.binds).toEqual([`/run/dnlab/vfu/${host}.exec/netns:/netns:ro`]);
      expect(probes.name).toMatch(new RegExp(`^dnlab-verify-${host}-[a-z0-9]+$`));
      // The daemon's: its PID namespace (to see dockerd's threads), ptrace read, no AppArmor in between,
      // the netns dir and the dir of the daemon's pidfile; no SYS_ADMIN (it enters nothing).
      const daemon = e.created.find((c) => c.spec.pidMode === "host")!.spec;
      expect(daemon).toMatchObject({ networkMode: "host", capAdd: ["SYS_PTRACE"], securityOpt: ["apparmor=unconfined"], autoRemove: true });
      expect(daemon.binds).toEqual([`/run/dnlab/vfu/${host}.exec/netns:/netns:ro`, "/run/dnlab/vfu:/dnlab-pid:ro"]);
      expect(daemon.name).toMatch(new RegExp(`^dnlab-verify-${host}-daemon-[a-z0-9]+$`));
      expect(e.removed.sort()).toEqual(e.created.map((c) => c.id).sort());
      expect(e.closed).toBe(true);
    }
  });

  it("a daemon that hangs on creating the helper: the check times out, cleanup removes the helper by name", async () => {
    const world = makeWorld(plan);
    const e1 = world.engines.get("host1")!;
    e1.createContainer = () => new Promise(() => undefined);
    const r = await runChecks(plan, checks, { engines: world.engines, checkTimeoutMs: 300, cleanupGraceMs: 100, daemonRecheckS: 0 });
    expect(r.find((x) => x.id === "host-ping:host1->test3@mv_net1")).toMatchObject({ ok: false, error: true });
    expect(r.find((x) => x.id === "vxlan:host1@ov_net1")).toMatchObject({ ok: false, error: true });
    expect(r.find((x) => x.id === "daemon-netns:host1")).toMatchObject({ ok: false, error: true });
    expect(e1.removed).toHaveLength(2);
    expect(e1.removed).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^dnlab-verify-host1-[a-z0-9]+$/),
        expect.stringMatching(/^dnlab-verify-host1-daemon-[a-z0-9]+$/),
      ]),
    );
    expect(
      r
        .filter((x) => !x.ok)
        .map((x) => x.id)
        .sort(),
    ).toEqual(["daemon-netns:host1", "host-ping:host1->test3@mv_net1", "vxlan:host1@ov_net1"]);
  });

  it("duplicate check ids keep their own results (runChecks returns plan order by position)", async () => {
    const c = checks.find((x) => x.id === "cnm:test1")!;
    const twice: CheckPlan[] = [c, { ...c }];
    const world = makeWorld(plan);
    const r = await runChecks(plan, twice, { engines: world.engines });
    expect(r).toHaveLength(2);
    expect(r.every((x) => x.ok)).toBe(true);
  });
});

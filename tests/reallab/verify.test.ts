// The verifier against a real netns lab (classic overlay with etcd, macvlan): all green; a stopped
// container (its checks fail with a clear reason); then one host's underlay link cut at the switch
// (exactly the probes over it fail); each restored to green. The CLI's exit codes on the real lab, and
// the ssh:// transport through `docker system dial-stdio`. No helper container, namespace or daemon
// is left behind.
//
// Order matters: the stop/start test runs before the link cut. Docker 20.10's classic overlay has a
// defect the verifier exposes: once host2's daemon has lost and regained its KV store, a container
// restarted on host2 no longer resolves the names of remote containers (dns/ping-name test2->test1
// fail for minutes, while by-IP pings pass) — reproduced by hand, not a verifier problem.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { REPO_ROOT, run } from "../../src/lab/run.js";
import { dockerOk, hostOf } from "../../src/lab/workloads.js";
import { type CheckResult, type VerifyOptions, type VerifyReport, verifyLab } from "../../src/verify/index.js";
import { describeRealLab, realLabGate } from "./gate.js";
import { useNetnsLab } from "./harness.js";

const LAB = "vf2";

function notOk(r: VerifyReport): string[] {
  return r.results
    .filter((x) => !x.ok)
    .map((x) => x.id)
    .sort();
}

function show(r: VerifyReport): string {
  return r.results.map((x) => `${x.ok ? "ok " : "NOT"} ${x.id}: ${x.detail}`).join("\n");
}

/** The project's dockerd (scripts/build-dockerd-consul.sh: cached after its first build). */
function projectDockerd(): string {
  const fromEnv = process.env["DNLAB_DOCKERD"];
  if (fromEnv) return fromEnv;
  const out = execFileSync("bash", ["scripts/build-dockerd-consul.sh"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return out.trim().split("\n").pop() ?? "";
}

describeRealLab("verifier on a real netns lab (etcd kv mode)", () => {
  // The project's dockerd: Debian's gets stuck (Docker 20.10's thread-namespace defect) when this suite
  // stops test2, the last container of ov_net1 on host2, and its daemon-netns check would then fail.
  const runs = realLabGate().ok;
  const lab = useNetnsLab({ name: LAB, kv: { kind: "etcd" } }, { workloads: true, ...(runs ? { dockerdBinary: projectDockerd() } : {}) });
  const plan = lab.plan;
  const tmp = mkdtempSync(join(tmpdir(), "verify-reallab-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const opts: VerifyOptions = { checkTimeoutMs: 20_000 };
  const verify = (o: VerifyOptions = {}): Promise<VerifyReport> => verifyLab(plan, { ...opts, ...o });

  /** Verifies until every check is as expected (the overlay may need a moment after a repair). */
  async function untilGreen(what: string, budgetMs = 60_000): Promise<{ report: VerifyReport; ms: number; runs: number }> {
    const t0 = Date.now();
    for (let runs = 1; ; runs++) {
      const report = await verify();
      if (report.ok || Date.now() - t0 > budgetMs) {
        expect(report.ok, `${what}: still not green after ${runs} runs:\n${show(report)}`).toBe(true);
        return { report, ms: Date.now() - t0, runs };
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  /** Helper containers still there; a removal the daemon is still finishing gets a few seconds. */
  async function helpersLeft(): Promise<string[]> {
    for (let i = 0; ; i++) {
      const out: string[] = [];
      for (const h of plan.hosts) {
        const ps = await dockerOk(h, ["ps", "-a", "--filter", "label=dnlab.verify", "--format", "{{.Names}}"]);
        out.push(
          ...ps
            .split("\n")
            .filter(Boolean)
            .map((n) => `${h.name}/${n}`),
        );
      }
      if (out.length === 0 || i >= 10) return out;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** Zombie processes inside the named containers (by their pid namespace), as "container/pid comm". */
  async function zombiesIn(names: string[]): Promise<string[]> {
    const nsOf = (pid: string): string | undefined => {
      try {
        return readlinkSync(`/proc/${pid}/ns/pid`);
      } catch {
        return undefined;
      }
    };
    const byNs = new Map<string, string>();
    for (const w of plan.workloads.filter((x) => names.includes(x.name))) {
      const pid = (await dockerOk(hostOf(plan, w.host), ["inspect", "-f", "{{.State.Pid}}", w.name])).trim();
      const ns = nsOf(pid);
      if (ns) byNs.set(ns, w.name);
    }
    const found: string[] = [];
    for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      const ns = nsOf(pid);
      if (!ns || !byNs.has(ns)) continue;
      let stat = "";
      try {
        stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      } catch {
        continue;
      }
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (state === "Z") found.push(`${byNs.get(ns)}/${pid} ${stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))}`);
    }
    return found;
  }

  it("full lab: all green, the own-macvlan host ping an expected failure (timings)", async () => {
    // Traffic first: the overlay's first packets may be lost to learning on a fresh lab.
    await untilGreen("fresh lab", 30_000);
    const r = await verify();
    console.log(
      `[real-lab] ${LAB}: verify ${r.summary.total} checks in ${r.wallMs} ms wall; slowest ${r.slowest?.id} ${r.slowest?.durationMs} ms`,
    );
    for (const x of r.results) console.log(`[real-lab]   ${String(x.durationMs).padStart(5)} ms ${x.id}`);
    // 16 probes of the networks and a daemon-netns check per host.
    expect(r.summary, show(r)).toMatchObject({ total: 20, passed: 19, expectedFailures: 1, failed: 0 });
    expect(r.results.find((x) => x.expected)?.id).toBe("host-ping:host1->test3@mv_net1");
    const vx = r.results.filter((x) => x.kind === "vxlan");
    expect(vx).toHaveLength(2);
    for (const v of vx) {
      expect(v.data).toMatchObject({ device: "vxlan0", vni: 256, vniSource: "etcd record" }); // first VNI of a classic overlay
      expect((v.data as { delta: { txPackets: number; rxPackets: number } }).delta.txPackets).toBeGreaterThan(0);
      expect((v.data as { delta: { txPackets: number; rxPackets: number } }).delta.rxPackets).toBeGreaterThan(0);
    }
    const byName = r.results.find((x) => x.id === "ping-name:test2->test1@ov_net1")!;
    expect(byName.data).toMatchObject({ replyFrom: plan.workloads.find((w) => w.name === "test1")!.attachments[0]!.ipv4 });
    const cnm = r.results.find((x) => x.id === "cnm:test1")!.data as {
      sandboxKey: string;
      interfaces: { name: string; network?: string }[];
    };
    expect(cnm.sandboxKey).toContain(`${hostOf(plan, "host1").daemon.execRoot}/netns/`);
    expect(cnm.interfaces.some((i) => i.network === "docker_gwbridge")).toBe(true);
    expect(r.wallMs).toBeLessThan(15_000);
    expect(await helpersLeft()).toEqual([]);
    // The probes' orphans (busybox timeout's watcher lingers up to a second) are reaped by the
    // containers' init, not left as zombies: one per probe per run would exhaust the machine's pids.
    await new Promise((res) => setTimeout(res, 2500));
    expect(await zombiesIn(plan.workloads.map((w) => w.name))).toEqual([]);
  }, 90_000);

  it("CLI on the real lab: table with the summary line, exit 0; --json; exit 1 when a check fails", async () => {
    const planFile = join(tmp, "plan.json");
    writeFileSync(planFile, JSON.stringify(plan));
    const cli = (args: string[]) => run(["npx", "tsx", "src/cli/verify.ts", "--plan", planFile, "--quiet", ...args], { timeoutMs: 90_000 });
    const green = await cli([]);
    expect(green.code, green.stdout + green.stderr).toBe(0);
    expect(green.stdout).toMatch(/^verify: 19 passed, 1 expected failure, 0 failed \(/m);
    const json = await cli(["--json"]);
    expect((JSON.parse(json.stdout) as VerifyReport).ok).toBe(true);
    // A wrong endpoint for host2 (host1's socket): test2 is not there, its checks fail -> exit 1.
    const wrong = await cli(["--endpoint", `host2=${hostOf(plan, "host1").endpoint}`]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain("container test2 does not exist on host2");
  }, 120_000);

  it("ssh:// endpoints: the same checks through `docker system dial-stdio` over an ssh stand-in", async () => {
    // A stand-in for ssh that runs what ssh would run on the remote host: docker system dial-stdio.
    const fake = join(tmp, "ssh");
    writeFileSync(
      fake,
      `#!/bin/sh\n# args: -p PORT -o BatchMode=yes -- USER@HOST docker system dial-stdio\nexec /usr/bin/docker -H "$DNLAB_FAKE_SSH_TARGET" system dial-stdio\n`,
    );
    chmodSync(fake, 0o755);
    process.env["DNLAB_FAKE_SSH_TARGET"] = hostOf(plan, "host2").endpoint;
    try {
      const r = await verify({ endpoints: { host2: `ssh://root@${hostOf(plan, "host2").address}:22` }, ssh: { command: fake } });
      expect(r.summary, show(r)).toMatchObject({ passed: 19, expectedFailures: 1, failed: 0 });
    } finally {
      delete process.env["DNLAB_FAKE_SSH_TARGET"];
    }
  }, 90_000);

  it("stop the macvlan container: its checks cannot run (clear reason), the host ping toward it fails; started again: green", async () => {
    const h1 = hostOf(plan, "host1");
    await dockerOk(h1, ["stop", "-t", "1", "test3"]);
    let stopped: VerifyReport;
    try {
      stopped = await verify();
    } finally {
      await dockerOk(h1, ["start", "test3"]);
    }
    console.log(`[real-lab] ${LAB}: with test3 stopped: ${stopped.wallMs} ms wall\n${show(stopped)}`);
    const byId = new Map(stopped.results.map((x) => [x.id, x] as [string, CheckResult]));
    for (const id of ["ping-ip:test3->host2@mv_net1", "cnm:test3"]) {
      expect(byId.get(id), id).toMatchObject({ ok: false, error: true });
      expect(byId.get(id)!.detail).toMatch(/^container test3 is not running \(exited with code \d+\)$/);
    }
    expect(byId.get("host-ping:host2->test3@mv_net1")).toMatchObject({ ok: false, error: false, outcome: "fail" });
    expect(byId.get("host-ping:host2->test3@mv_net1")!.detail).toContain("; target container test3 is not running");
    // host1 never reaches its own macvlan child: still the expected failure, probed for real.
    expect(byId.get("host-ping:host1->test3@mv_net1")).toMatchObject({ ok: true, expected: true, error: false });
    expect(notOk(stopped)).toEqual(["cnm:test3", "host-ping:host2->test3@mv_net1", "ping-ip:test3->host2@mv_net1"]);
    const green = await untilGreen("after starting test3 again");
    console.log(`[real-lab] ${LAB}: green again ${green.ms} ms after test3 started (${green.runs} run(s))`);
  }, 240_000);

  it("stop an overlay container: its checks cannot run, probes toward it fail, host2's overlay sandbox is gone; started again: green", async () => {
    const h2 = hostOf(plan, "host2");
    await dockerOk(h2, ["stop", "-t", "1", "test2"]);
    let stopped: VerifyReport;
    try {
      stopped = await verify();
    } finally {
      await dockerOk(h2, ["start", "test2"]);
    }
    console.log(`[real-lab] ${LAB}: with test2 stopped: ${stopped.wallMs} ms wall\n${show(stopped)}`);
    const from = stopped.results.filter((x) => x.from === "test2");
    expect(from.length).toBe(6);
    for (const x of from) {
      expect(x, x.id).toMatchObject({ ok: false, error: true });
      expect(x.detail).toMatch(/^container test2 is not running \(exited with code \d+\)$/);
    }
    const toward = stopped.results.filter((x) => x.from === "test1" && (x.target === "test2" || x.target === "198.18.100.3"));
    expect(toward.map((x) => x.id).sort()).toEqual([
      "dns:test1->test2@ov_net1",
      "ping-ip:test1->test2@ov_net1",
      "ping-name:test1->test2@ov_net1",
    ]);
    for (const x of toward) {
      expect(x, x.id).toMatchObject({ ok: false, error: false, outcome: "fail" });
      expect(x.detail).toContain("target container test2 is not running");
    }
    // host2 has no container left on ov_net1: Docker removed the overlay's sandbox there. And host1's
    // VXLAN device carried nothing both ways this run: its only peer on ov_net1 is gone.
    expect(notOk(stopped)).toEqual(
      [...from, ...toward]
        .map((x) => x.id)
        .concat("vxlan:host1@ov_net1", "vxlan:host2@ov_net1")
        .sort(),
    );

    // Docker 20.10 classic-overlay defect (reproduced by hand): now and then a container restarted on
    // host2 never again resolves remote names (dns/ping-name test2->test1 fail for minutes while the
    // by-IP pings pass). The verifier reports exactly that; a further restart of test2 clears it.
    let green = await verify();
    for (let i = 0; !green.ok && i < 10; i++) {
      const names = notOk(green).every((id) => id === "dns:test2->test1@ov_net1" || id === "ping-name:test2->test1@ov_net1");
      if (names && i >= 3) {
        console.log(`[real-lab] ${LAB}: Docker defect: test2 does not resolve test1 after its restart; restarting test2 again`);
        await dockerOk(h2, ["restart", "-t", "1", "test2"]);
      } else await new Promise((r) => setTimeout(r, 2000));
      green = await verify();
    }
    expect(green.ok, `after starting test2 again:\n${show(green)}`).toBe(true);
    expect(await helpersLeft()).toEqual([]);
  }, 300_000);

  it("cut host2's underlay link: exactly the probes over it fail; restored: green again", async () => {
    const sw = plan.netns!.switchNamespace;
    const ns = hostOf(plan, "host2").netns!.namespace;
    // eth0@ifN inside host2: N is the switch-side veth's index in the switch namespace.
    const link = spawnSync("ip", ["-n", ns, "-o", "link", "show", "eth0"], { encoding: "utf8" }).stdout;
    const peerIndex = /eth0@if(\d+)/.exec(link)?.[1];
    expect(peerIndex, link).toBeDefined();
    const peer = /^\d+:\s+([^@:]+)/.exec(
      spawnSync("ip", ["-n", sw, "-o", "link", "show"], { encoding: "utf8" })
        .stdout.split("\n")
        .find((l) => l.startsWith(`${peerIndex}:`)) ?? "",
    )?.[1];
    expect(peer).toBeDefined();
    const setLink = (state: "up" | "down"): void => {
      const r = spawnSync("ip", ["-n", sw, "link", "set", peer!, state], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`ip link set ${peer} ${state}: ${r.stderr}`);
    };
    let cut: VerifyReport;
    setLink("down");
    try {
      cut = await verify();
    } finally {
      setLink("up");
    }
    console.log(`[real-lab] ${LAB}: with host2's link cut: ${cut.wallMs} ms wall\n${show(cut)}`);
    // Data plane: every probe whose packets cross host2's link. Control plane: host2's daemon lost its
    // KV store too, so it can no longer look up the global overlay (vxlan) nor start its helper
    // (host-ping). Its daemon-netns helper may not start either: that check then could not run.
    expect(notOk(cut).filter((id) => id !== "daemon-netns:host2")).toEqual(
      [
        "ping-name:test1->test2@ov_net1",
        "ping-ip:test1->test2@ov_net1",
        "ping-name:test2->test1@ov_net1",
        "ping-ip:test2->test1@ov_net1",
        "external:test2->198.18.0.2",
        "host-ping:host2->test3@mv_net1",
        "ping-ip:test3->host2@mv_net1",
        "vxlan:host2@ov_net1",
        // host1's own device is fine, but with its only peer cut off it moved nothing both ways this run.
        "vxlan:host1@ov_net1",
      ].sort(),
    );
    const byId = new Map(cut.results.map((x) => [x.id, x] as [string, CheckResult]));
    expect(byId.get("ping-ip:test1->test2@ov_net1")).toMatchObject({ outcome: "fail", error: false });
    expect(byId.get("ping-ip:test1->test2@ov_net1")!.detail).toMatch(/^no reply from 198\.18\.100\.3/);
    expect(byId.get("vxlan:host2@ov_net1")!.detail).toMatch(/ov_net1.*host2|host2.*ov_net1|timed out/);
    expect(byId.get("vxlan:host1@ov_net1")).toMatchObject({ ok: false, error: false });
    expect(byId.get("vxlan:host1@ov_net1")!.detail).toMatch(/no encapsulated traffic both ways this run/);
    const d2 = byId.get("daemon-netns:host2")!;
    expect(d2.ok || d2.error, d2.detail).toBe(true); // never a stuck verdict: the project's dockerd
    expect(byId.get("daemon-netns:host1")!.ok).toBe(true);
    expect(byId.get("host-ping:host1->test3@mv_net1")).toMatchObject({ ok: true, expected: true });

    const green = await untilGreen("after restoring the link");
    console.log(`[real-lab] ${LAB}: green again ${green.ms} ms after the link came back (${green.runs} run(s))`);
    // The helper whose start hung on host2 during the cut is gone too.
    expect(await helpersLeft()).toEqual([]);
  }, 240_000);
});

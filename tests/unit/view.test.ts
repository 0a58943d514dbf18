// npm run view without a browser: which checks colour which element of the picture, where a trace's hops
// sit on it, the server's doors (loopback only by default; a token off loopback, 401 without it; the
// actions only from the page, only on the plan's containers) and the command line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { planFromArgs, processIo } from "../../src/cli/cli.js";
import { main as viewMain, parseViewCli } from "../../src/cli/view.js";
import { buildPlan, topologyView } from "../../src/model/index.js";
import { layoutTopology } from "../../src/topology/layout.js";
import type { VerifyReport } from "../../src/verify/index.js";
import { labAccess, startCommands, ViewLab } from "../../src/view/lab.js";
import { isLoopback, startViewServer, type ViewServer } from "../../src/view/server.js";
import { viewFaults } from "../../src/view/faults.js";
import { CheckIndex, checkRows, combine, expectationRows, Progress, statusOfResult } from "../../src/view/status.js";
import { stopHop, tracePath } from "../../src/view/tracePath.js";
import { FakeLab, faultedPlan, fakePlan, savedTrace } from "./view-fake.js";

class Sink extends Writable {
  text = "";
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

const dir = mkdtempSync(join(tmpdir(), "view-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("which checks colour which element", () => {
  const plan = fakePlan();
  const index = new CheckIndex(plan);
  const ids = (key: string): string[] => [...(index.checksOf.get(key) ?? [])].sort();

  it("a container: the checks it runs and the checks aimed at it, by name, by address or by alias", () => {
    expect(ids("container:test1")).toEqual(
      [
        "cnm:test1",
        "dns:test1->test2@ov_net1",
        "dns:test2->test1@ov_net1",
        "external:test1->198.18.0.2",
        "gwbridge-route:test1@ov_net1",
        "ping-ip:test1->test2@ov_net1",
        "ping-ip:test2->test1@ov_net1",
        "ping-name:test1->test2@ov_net1",
        "ping-name:test2->test1@ov_net1",
      ].sort(),
    );
    // test3 on the macvlan: the hosts ping it by address.
    expect(ids("container:test3")).toEqual(
      ["cnm:test3", "host-ping:host1->test3@mv_net1", "host-ping:host2->test3@mv_net1", "ping-ip:test3->host2@mv_net1"].sort(),
    );
    const aliased = new CheckIndex({
      ...plan,
      checks: {
        pairs: [],
        expectations: [],
        single: [
          {
            id: "dns-alias:test2->web=test1@ov_net1",
            kind: "dns",
            from: "test2",
            host: "host2",
            network: "ov_net1",
            target: "web",
            expectedIp: "198.18.100.2",
            expect: "pass",
            reason: "alias",
          },
        ],
      },
    });
    expect(aliased.elementsOf.get("dns-alias:test2->web=test1@ov_net1")).toEqual([
      "container:test2",
      "link:test2@ov_net1",
      "container:test1",
      "link:test1@ov_net1",
      "network:ov_net1",
    ]);
  });

  it("a link is the container's checks on that network; a host its own probes and the pings aimed at it; the KV store the external ones", () => {
    // Every check of test1 names ov_net1 but its CNM check, which is of no one network.
    expect(ids("link:test1@ov_net1")).toEqual(ids("container:test1").filter((id) => id !== "cnm:test1"));
    expect(ids("link:test3@mv_net1")).not.toContain("cnm:test3");
    // A host's own checks include its daemon's (daemon-netns: kv mode with an overlay).
    expect(ids("host:host1")).toEqual(["daemon-netns:host1", "host-ping:host1->test3@mv_net1", "vxlan:host1@ov_net1"]);
    expect(ids("host:host2")).toEqual([
      "daemon-netns:host2",
      "host-ping:host2->test3@mv_net1",
      "ping-ip:test3->host2@mv_net1",
      "vxlan:host2@ov_net1",
    ]);
    expect(ids("kv")).toEqual(["external:test1->198.18.0.2", "external:test2->198.18.0.2"]);
    expect(ids("network:mv_net1")).toEqual([
      "host-ping:host1->test3@mv_net1",
      "host-ping:host2->test3@mv_net1",
      "ping-ip:test3->host2@mv_net1",
    ]);
  });

  it("colours: any failure is red; then blocked; else a pass is green; only expected failures their own; nothing run grey", () => {
    expect(combine({ pass: 3, xfail: 1, fail: 1, blocked: 2, notrun: 0 })).toBe("fail");
    expect(combine({ pass: 3, xfail: 1, fail: 0, blocked: 1, notrun: 0 })).toBe("blocked");
    expect(combine({ pass: 3, xfail: 1, fail: 0, blocked: 0, notrun: 2 })).toBe("pass");
    expect(combine({ pass: 0, xfail: 1, fail: 0, blocked: 0, notrun: 0 })).toBe("xfail");
    expect(combine({ pass: 0, xfail: 0, fail: 0, blocked: 0, notrun: 5 })).toBe("notrun");
    expect(index.statuses(new Map())["container:test1"]).toEqual({
      status: "notrun",
      counts: { pass: 0, xfail: 0, fail: 0, blocked: 0, notrun: 9 },
    });
    // A result's own colour: blocked wins over its not being ok (the verifier does not count it as failed).
    expect(statusOfResult({ ok: false, expected: false, blockedBy: "daemon-netns:host2" })).toBe("blocked");
    expect(statusOfResult({ ok: false, expected: true })).toBe("fail");
    expect(statusOfResult({ ok: true, expected: true })).toBe("xfail");
    expect(statusOfResult(undefined)).toBe("notrun");
  });

  it("a verification's results: test1 down makes test1, its link and ov_net1 red, and leaves test3 green", async () => {
    const fake = new FakeLab();
    fake.down.add("test1");
    const progress = new Progress(index);
    const changed: Record<string, string> = {};
    const report = await fake.verify(plan, (r) => {
      for (const [k, s] of Object.entries(progress.add(r))) changed[k] = s.status;
    });
    const s = index.statuses(new Map(report.results.map((r) => [r.id, r] as const)));
    expect(s["container:test1"]!.status).toBe("fail");
    expect(s["link:test1@ov_net1"]!.status).toBe("fail");
    expect(s["network:ov_net1"]!.status).toBe("fail");
    expect(s["container:test3"]!.status).toBe("pass");
    expect(s["link:test3@mv_net1"]!.status).toBe("pass");
    // What the page saw stream in ends where the whole report does.
    for (const [k, v] of Object.entries(changed)) expect(v, k).toBe(s[k]!.status);
    const rows = checkRows(index, "container:test1", new Map(report.results.map((r) => [r.id, r] as const)))!;
    expect(rows[0]!.status).toBe("fail"); // failures first
    expect(rows.find((r) => r.id === "cnm:test1")).toMatchObject({
      detail: "test1 is not running",
      durationMs: 40,
      reason: expect.any(String),
    });
    expect(checkRows(index, "container:nope", new Map())).toBeUndefined();
  });
});

describe("the lab's faults and the user's expectations", () => {
  const plan = faultedPlan();
  const results = async (fake: FakeLab, p = plan) => new Map((await fake.verify(p, () => {})).results.map((r) => [r.id, r] as const));

  it("the faults as inspect found them: label, setting, state, the badge and where it sits; stale records too", async () => {
    const fake = new FakeLab();
    fake.extraFaults = [{ host: "host1", name: "loss-host1", kind: "loss", setting: "-", state: "stale", since: "2026-12-05T09:00:00Z" }];
    const live = await fake.inspect(plan);
    expect(viewFaults(plan, live.faults)).toEqual([
      {
        host: "host2",
        name: "drop-vxlan-host2",
        kind: "drop-vxlan",
        label: "lab:faults[0] drop-vxlan",
        setting: "-",
        state: "active",
        effect: "host2 drops VXLAN (UDP 4789) in and out (lab:faults[0] drop-vxlan)",
        since: "2026-12-06T10:00:00Z",
        badge: "drop-vxlan",
        at: "uplink",
      },
      {
        host: "host1",
        name: "small-underlay",
        kind: "mtu",
        label: "lab:faults[1] mtu small-underlay",
        setting: "MTU 1400",
        state: "active",
        effect: expect.stringMatching(/^eth0 of host1 has MTU 1400; the overlay sends 1450/),
        since: "2026-12-06T10:00:00Z",
        badge: "mtu MTU 1400",
        at: "uplink",
      },
      {
        host: "host1",
        name: "loss-host1",
        kind: "loss",
        label: "loss-host1",
        setting: "-",
        state: "stale",
        since: "2026-12-05T09:00:00Z",
        badge: "loss",
        at: "uplink",
      },
    ]);
    // A stopped daemon sits on its host; a lab not read yet has the plan's faults, their state unknown and why.
    const stopped = buildPlan({ name: "lab", hostKind: "netns", faults: [{ host: "host2", kind: "stop-daemon" }] });
    expect(viewFaults(stopped, undefined, "connect ENOENT")).toMatchObject([
      { host: "host2", label: "lab:faults[0] stop-daemon", state: "unknown", why: "connect ENOENT", badge: "stop-daemon", at: "host" },
    ]);
  });

  it("the page's state: the faults from the same collection inspect makes, the expectations with their results", async () => {
    const fake = new FakeLab();
    const lab = new ViewLab(plan, fake, { source: { kind: "default" }, verifyFile: join(dir, "faulted.json") });
    await lab.refresh();
    const s = lab.state();
    expect(s.faults).toEqual(viewFaults(plan, (await fake.inspect(plan)).faults));
    expect(s.faults.map((f) => [f.label, f.state])).toEqual([
      ["lab:faults[0] drop-vxlan", "active"],
      ["lab:faults[1] mtu small-underlay", "active"],
    ]);
    // Before any verification: the expectations in the order written, not run.
    expect(s.expectations.map((r) => [r.expectation?.name, r.expectation?.key, r.status, r.word])).toEqual([
      ["test2 finds test1 by name", "lab:expect[0]", "notrun", undefined],
      ["test2 cannot ping test1", "lab:expect[1]", "notrun", undefined],
      ["test3 reaches its host", "lab:expect[2]", "notrun", undefined],
    ]);
  });

  it("checks a fault decides are expected failures naming it, not red; a user's expectation that does not hold is", async () => {
    const fake = new FakeLab();
    // A macvlan child cannot reach its own host: the user's third expectation does not hold.
    fake.flipped.add("expect:test3 reaches its host");
    const r = await results(fake);
    const index = new CheckIndex(plan);
    const st = index.statuses(r);
    for (const k of ["container:test1", "container:test2", "link:test1@ov_net1", "link:test2@ov_net1", "host:host2", "network:ov_net1"])
      expect(st[k]!.status, k).not.toBe("fail");
    expect(st["container:test3"]!.status).toBe("fail");
    const rows = checkRows(index, "container:test2", r)!;
    expect(rows.find((x) => x.id === "ping-name:test2->test1@ov_net1")).toMatchObject({
      status: "xfail",
      word: "XFAIL",
      expect: "fail",
      faults: ["lab:faults[0] drop-vxlan"],
      reason: "fails: host2 drops VXLAN (UDP 4789) in and out (lab:faults[0] drop-vxlan)",
    });
    expect(rows.find((x) => x.id === "dns:test2->test1@ov_net1")).toMatchObject({ status: "pass", word: "PASS" });
    expect(rows.find((x) => x.id === "dns:test2->test1@ov_net1")!.faults).toBeUndefined();
    expect(expectationRows(plan, r).map((x) => [x.expectation!.name, x.status, x.word, x.expect])).toEqual([
      ["test2 finds test1 by name", "pass", "PASS", "pass"],
      ["test2 cannot ping test1", "xfail", "XFAIL", "fail"],
      ["test3 reaches its host", "fail", "FAIL", "pass"],
    ]);
  });

  it("a stopped daemon's checks are NORUN, as expected; checks through a stuck daemon are BLOCKED by its check, which is the red one", async () => {
    const stopped = buildPlan({ name: "lab", hostKind: "netns", kv: { kind: "etcd" }, faults: [{ host: "host2", kind: "stop-daemon" }] });
    const fake = new FakeLab();
    fake.stuck.add("host1");
    const r = await results(fake, stopped);
    const index = new CheckIndex(stopped);
    const st = index.statuses(r);
    const row = (key: string, id: string) => checkRows(index, key, r)!.find((x) => x.id === id)!;
    expect(row("container:test2", "cnm:test2")).toMatchObject({
      status: "xfail",
      word: "NORUN",
      expect: "no-run",
      faults: ["lab:faults[0] stop-daemon"],
    });
    expect(row("container:test1", "cnm:test1")).toMatchObject({ status: "blocked", word: "BLOCKED", blockedBy: "daemon-netns:host1" });
    expect(row("host:host1", "daemon-netns:host1")).toMatchObject({ status: "fail", word: "FAIL" });
    expect(st["host:host1"]!.status).toBe("fail");
    expect(st["container:test1"]!.status).toBe("blocked");
    expect(st["container:test3"]!.status).toBe("blocked");
    // Blocked rows come after the failures, before the rest.
    expect(checkRows(index, "host:host1", r)!.map((x) => x.status)[0]).toBe("fail");
  });
});

describe("a trace's hops on the picture", () => {
  const plan = fakePlan();
  const layout = layoutTopology(topologyView(plan));

  it("each hop of test2 -> test1 at its device's place: containers, the overlay band, the hosts' links, the switch", () => {
    const p = tracePath(plan, layout, savedTrace());
    const at = (id: string): { x: number; y: number } => {
      const { x, y } = p.points.find((q) => q.id === id)!;
      return { x, y };
    };
    const band = layout.bandY.get("ov_net1")!;
    const test2 = layout.hosts[1]!.containers.find((c) => c.name === "test2")!;
    expect(p.points).toHaveLength(10);
    expect(at("test2/eth0")).toEqual({ x: test2.drops[0]!.x, y: test2.box.y + test2.box.h });
    expect(at("host2/overlay/br0")).toEqual({ x: test2.drops[0]!.x, y: band });
    expect(at("host2/overlay/vxlan")).toEqual({ x: layout.hosts[1]!.box.x + 24, y: band });
    expect(at("host2/eth0")).toEqual({ x: layout.hosts[1]!.box.x + 24, y: layout.hostTop });
    expect(at("switch/v-host2")).toEqual({ x: layout.hosts[1]!.box.x + 24, y: layout.underlayY });
    expect(at("switch/v-host1")).toEqual({ x: layout.hosts[0]!.box.x + 24, y: layout.underlayY });
    expect(p.points.every((x) => x.status === "seen" && !x.stop)).toBe(true);
    expect(p.cause).toBeUndefined();
  });

  it("a probe that stops: the last hop that saw it carries the mark and the cause", async () => {
    const fake = new FakeLab();
    fake.down.add("test1");
    const r = await fake.trace(plan, { from: "test2", to: "test1" });
    expect(stopHop(r)).toBe("host1/overlay/vxlan");
    const p = tracePath(plan, layout, r);
    expect(p.points.filter((x) => x.stop).map((x) => x.id)).toEqual(["host1/overlay/vxlan"]);
    expect(p.cause).toMatch(/test1 is exited/);
    // Lost on the way back: the mark goes where the reply was last seen.
    expect(stopHop({ ...savedTrace(), cause: "the reply was last seen at ...", lastReplySeen: "host1/eth0" })).toBe("host1/eth0");
  });
});

describe("the server", () => {
  const servers: ViewServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  async function serve(o: { listen?: string; token?: string; fake?: FakeLab; verifyFile?: string } = {}) {
    const fake = o.fake ?? new FakeLab();
    const lab = new ViewLab(fakePlan(), fake, { source: { kind: "default" }, verifyFile: o.verifyFile ?? join(dir, "none.json") });
    await lab.refresh();
    const s = await startViewServer(lab, { listen: o.listen ?? "127.0.0.1", port: 0, ...(o.token ? { token: o.token } : {}) });
    servers.push(s);
    return { s, fake, lab, base: `http://127.0.0.1:${s.port}` };
  }

  const post = (url: string, body: unknown, headers: Record<string, string> = { "Content-Type": "application/json" }): Promise<Response> =>
    fetch(url, { method: "POST", headers, body: JSON.stringify(body) });

  it("off loopback every request needs the token: 401 without it or with a wrong one; the URL's token becomes a cookie", async () => {
    const token = "t0k3n-for-the-test";
    const { s, base } = await serve({ listen: "0.0.0.0", token });
    expect(s.openUrl).toBe(`http://0.0.0.0:${s.port}/?token=${token}`);
    for (const path of ["/", "/app.js", "/api/state", "/api/events", "/api/checks?element=kv", "/nope"]) {
      const r = await fetch(`${base}${path}`);
      expect(r.status, path).toBe(401);
      expect(await r.text(), path).toMatch(/needs the token/);
    }
    expect((await fetch(`${base}/api/state?token=wrong`)).status).toBe(401);
    expect((await fetch(`${base}/api/state`, { headers: { Authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await post(`${base}/api/verify`, {})).status).toBe(401);
    const first = await fetch(`${base}/?token=${token}`);
    expect(first.status).toBe(200);
    const cookie = first.headers.get("set-cookie")!;
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await fetch(`${base}/api/state`, { headers: { Cookie: cookie.split(";")[0]! } })).status).toBe(200);
    expect((await fetch(`${base}/api/state`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it("refuses to listen off loopback without a token", async () => {
    const lab = new ViewLab(fakePlan(), new FakeLab(), { source: { kind: "default" }, verifyFile: join(dir, "none.json") });
    await expect(startViewServer(lab, { listen: "0.0.0.0", port: 0 })).rejects.toThrow(/needs a token/);
    expect(isLoopback("127.0.0.1") && isLoopback("::1") && isLoopback("localhost") && !isLoopback("0.0.0.0")).toBe(true);
  });

  it("on loopback it answers only requests addressed to it (another Host is 403: no DNS rebinding)", async () => {
    const { base, s } = await serve();
    expect((await fetch(`${base}/`)).status).toBe(200);
    const http = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port: s.port, path: "/api/state", headers: { Host: `evil.example:${s.port}` } }, (r) =>
          resolve(r.statusCode!),
        )
        .on("error", reject);
    });
    expect(status).toBe(403);
  });

  it("serves its three files and the state; nothing else by path", async () => {
    const { base } = await serve();
    const page = await fetch(`${base}/`);
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
    expect(await page.text()).toContain('<script src="/app.js" defer></script>');
    expect((await fetch(`${base}/style.css`)).headers.get("content-type")).toMatch(/text\/css/);
    for (const path of ["/index.html", "/../package.json", "/page/app.js", "/src/view/server.ts"])
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    const state = (await (await fetch(`${base}/api/state`)).json()) as {
      running: boolean;
      svg: string;
      containers: { name: string; ips: Record<string, string> }[];
    };
    expect(state.running).toBe(true);
    expect(state.svg).toMatch(/^<svg /);
    expect(state.svg).toContain("VXLAN VNI 256");
    expect(state.containers.map((c) => [c.name, c.ips])).toEqual([
      ["test1", { ov_net1: "198.18.100.2" }],
      ["test2", { ov_net1: "198.18.100.3" }],
      ["test3", { mv_net1: "198.18.0.128" }],
    ]);
    expect((await fetch(`${base}/api/checks?element=container:test1`)).status).toBe(200);
    expect((await fetch(`${base}/api/checks?element=container:nope`)).status).toBe(404);
  });

  it("actions: only the page's JSON requests; the trace only between containers of the plan; one verification at a time", async () => {
    const verifyFile = join(dir, "verify-action.json");
    const fake = new FakeLab();
    let release: () => void = () => {};
    fake.gate = new Promise<void>((r) => (release = r));
    const { base } = await serve({ fake, verifyFile });
    // A form post (text/plain) or another site's script cannot act.
    expect((await post(`${base}/api/verify`, {}, { "Content-Type": "text/plain" })).status).toBe(403);
    expect((await post(`${base}/api/verify`, {}, { "Content-Type": "application/json", Origin: "http://evil.example" })).status).toBe(403);
    for (const body of [{ from: "test2", to: "/bin/sh" }, { from: "test2; reboot", to: "test1" }, { from: "test2", to: "test2" }, {}]) {
      const r = await post(`${base}/api/trace`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    expect(fake.traces).toEqual([]);
    expect((await post(`${base}/api/verify`, {})).status).toBe(202);
    expect((await post(`${base}/api/verify`, {})).status).toBe(409);
    release();
    for (let i = 0; i < 500 && (await (await fetch(`${base}/api/state`)).json()).verifying; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(fake.verifications).toBe(1);
    // Saved where the page (and npm run inspect) reads it.
    const saved = JSON.parse(readFileSync(verifyFile, "utf8")) as VerifyReport;
    expect(saved.summary).toMatchObject({ passed: 19, expectedFailures: 1, failed: 0 });
    const t = (await (await post(`${base}/api/trace`, { from: "test2", to: "test1" })).json()) as {
      path: { points: unknown[] };
      svg: string;
    };
    expect(t.path.points).toHaveLength(10);
    expect(t.svg).toContain("<svg");
    expect(fake.traces.map((x) => [x.from, x.to])).toEqual([["test2", "test1"]]);
  });

  it("streams a verification's progress and then the new state (server-sent events)", async () => {
    const { base } = await serve({ verifyFile: join(dir, "verify-events.json") });
    const res = await fetch(`${base}/api/events`);
    const reader = res.body!.getReader();
    expect((await post(`${base}/api/verify`, {})).status).toBe(202);
    let text = "";
    while (!/event: state\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    const events = [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    expect(events[0]).toBe("verify-start");
    expect(events).toContain("verify-progress");
    expect(events.slice(-2)).toEqual(["verify-done", "state"]);
    expect(text).toMatch(/"done":20,"total":20/);
  });

  it("without a running lab the state says so, with the command that starts it", async () => {
    const fake = new FakeLab();
    fake.running = false;
    const { base } = await serve({ fake });
    const s = (await (await fetch(`${base}/api/state`)).json()) as { running: boolean; notRunning: { reason: string; commands: string[] } };
    expect(s.running).toBe(false);
    expect(s.notRunning.reason).toMatch(/host1: unix:\/\/\/run\/dnlab\/lab\/host1\.sock: GET \/version: connect ENOENT/);
    expect(s.notRunning.commands).toEqual(["sudo npm run lab -- up"]);
    const plan = fakePlan();
    expect(startCommands(plan, { kind: "config", file: "lab.json" })[0]).toBe("sudo npm run lab -- up --config lab.json");
    expect(startCommands(plan, { kind: "stack", stack: "netns" })).toEqual(["LAB_STACK=netns npm run up"]);
    expect(startCommands({ ...plan, hostKind: "dind" }, { kind: "default" })).toEqual(["npm run up"]);
  });
});

describe("a dind lab without its client certificate", () => {
  it("is a lab that is not running: the page says the files are missing and how to start the lab; nothing is contacted", async () => {
    const plan = buildPlan({ name: "nocert2", hostKind: "dind" });
    const lab = new ViewLab(plan, labAccess({}), { source: { kind: "default" }, verifyFile: join(dir, "none.json") });
    await lab.refresh();
    const s = lab.state();
    expect(s.running).toBe(false);
    expect(s.notRunning!.reason).toMatch(/^host1: no TLS client material at \.lab\/tls\/nocert2\/ca\.pem \(ENOENT\)/);
    expect(s.notRunning!.commands).toEqual(["npm run up"]);
  });
});

describe("npm run view: the command line", () => {
  const cfg = join(dir, "lab.json");
  writeFileSync(cfg, JSON.stringify({ name: "cl1", hostKind: "netns", kv: { kind: "etcd" } }));

  it("--config, --port, --listen, --settle; defaults 127.0.0.1:8080 and no retries", () => {
    const a = parseViewCli(["--config", cfg], { env: {} });
    if (a === "help") throw new Error("help");
    expect([a.plan.name, a.listen, a.port, a.source, a.access.settleMs]).toEqual([
      "cl1",
      "127.0.0.1",
      8080,
      { kind: "config", file: cfg },
      undefined,
    ]);
    const b = parseViewCli(["--config", cfg, "--port", "0", "--listen", "0.0.0.0", "--settle", "5"], { env: {} });
    if (b === "help") throw new Error("help");
    expect([b.port, b.listen, b.access.settleMs]).toEqual([0, "0.0.0.0", 5000]);
  });

  it("LAB_STACK=name reads Pulumi.<name>.yaml as verify, inspect and trace do; a flag naming the lab wins over it", async () => {
    // Pulumi.dev.yaml, the repository's own stack file: the default dind lab.
    const a = parseViewCli([], { env: { LAB_STACK: "dev" } });
    if (a === "help") throw new Error("help");
    expect([a.plan.name, a.plan.hostKind, a.plan.hosts.length, a.source]).toEqual(["lab", "dind", 2, { kind: "stack", stack: "dev" }]);
    expect(a.plan).toEqual(planFromArgs({}, { ...processIo, env: { LAB_STACK: "dev" } }));
    const b = parseViewCli(["--config", cfg], { env: { LAB_STACK: "dev" } });
    expect(b !== "help" && [b.plan.name, b.source]).toEqual(["cl1", { kind: "config", file: cfg }]);
    // A stack without its file: exit 2, naming the file, before anything listens.
    const err = new Sink();
    expect(await viewMain([], new Sink(), err, { env: { LAB_STACK: "nosuch" } })).toBe(2);
    expect(err.text).toMatch(/^view: error: LAB_STACK=nosuch: cannot read .*Pulumi\.nosuch\.yaml \(ENOENT\)/);
  });

  it("bad values are exit 2 naming the flag, before anything listens", async () => {
    for (const [argv, msg] of [
      [["--port", "70000"], /--port 70000: must be at most 65535/],
      [["--port", "http"], /--port "http": must be a positive whole number/],
      [["--listen", "a b"], /--listen "a b": give an address/],
      [["--endpoint", "host9=unix:///x.sock"], /no host named "host9"/],
    ] as const) {
      const err = new Sink();
      expect(await viewMain(["--config", cfg, ...argv], new Sink(), err, { env: {} })).toBe(2);
      expect(err.text).toMatch(msg);
    }
  });

  it("serves until told to stop, printing the URL (with the token off loopback) on stdout; a taken port is exit 1", async () => {
    const out = new Sink();
    const err = new Sink();
    let stop: () => void = () => {};
    const until = new Promise<void>((r) => (stop = r));
    let url = "";
    const running = viewMain(["--config", cfg, "--port", "0", "--verify-file", join(dir, "none.json")], out, err, {
      env: {},
      access: new FakeLab(),
      until,
      onListening: (u) => (url = u),
    });
    for (let i = 0; i < 500 && !url; i++) await new Promise((r) => setTimeout(r, 10));
    expect(out.text).toBe(`${url}\n`);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await fetch(url)).status).toBe(200);
    // The same port again: taken.
    const port = new URL(url).port;
    const err2 = new Sink();
    expect(
      await viewMain(["--config", cfg, "--port", port], new Sink(), err2, { env: {}, access: new FakeLab(), until: Promise.resolve() }),
    ).toBe(1);
    expect(err2.text).toMatch(/the port is in use; pick another with --port N/);
    stop();
    expect(await running).toBe(0);
    expect(err.text).toMatch(/view: lab cl1 .*: 2 of 2 hosts answer/);

    const out3 = new Sink();
    const err3 = new Sink();
    expect(
      await viewMain(["--config", cfg, "--port", "0", "--listen", "0.0.0.0"], out3, err3, {
        env: {},
        access: new FakeLab(),
        until: Promise.resolve(),
      }),
    ).toBe(0);
    expect(out3.text).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/\?token=[A-Za-z0-9_-]{32}\n$/);
    expect(err3.text).toMatch(/every request needs the token/);
  });
});

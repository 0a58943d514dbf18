// The reference scenario on real dockerds in network namespaces, classic overlay with etcd (kv mode):
// cluster store in `docker info`, ov_net1 global on both hosts, ping by name across hosts over VXLAN
// (seen on the underlay switch), docker_gwbridge default route, macvlan with per-host ranges; then
// idempotency of up/down, rollback of a failed bring-up, and a teardown that leaves nothing.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { DOCKERD, downNetnsLab, isClean, labLeftovers, netnsPreflight, upNetnsLab } from "../../src/lab/netnsLab.js";
import { run } from "../../src/lab/run.js";
import { dockerOk, hostOf } from "../../src/lab/workloads.js";
import { buildPlan, contains, type MacvlanNetworkPlan, netnsCommands, parseCidr, parseIp } from "../../src/model/index.js";
import { statSync } from "node:fs";
import { apiAnswered, probeApi } from "../security/apiProbe.js";
import { tcpListeners } from "../security/listeners.js";
import { describeRealLab } from "./gate.js";
import { assertNoLeftovers, useNetnsLab } from "./harness.js";

const LAB = "rlnetns";

function inRange(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  const i = parseIp(ip);
  return c !== undefined && i !== undefined && contains(c, i);
}

/** tcpdump on the switch bridge, bounded by -c and a timeout; resolves once it is listening. */
function capture(ns: string, bridge: string, filter: string, count: number, seconds: number): Promise<{ done: Promise<string> }> {
  return new Promise((listening, fail) => {
    const p = spawn(
      "nsenter",
      [
        `--net=/run/netns/${ns}`,
        "timeout",
        String(seconds),
        "tcpdump",
        "-l",
        "-n",
        "-i",
        bridge,
        "-c",
        String(count),
        ...filter.split(" "),
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    const done = new Promise<string>((resolve) => p.on("close", () => resolve(out)));
    p.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    p.stderr.setEncoding("utf8").on("data", (c: string) => {
      err += c;
      // Wrapped: resolving with the bare promise would wait for the capture to end.
      if (err.includes("listening on")) listening({ done });
    });
    p.on("error", fail);
    p.on("close", (code) => {
      if (!err.includes("listening on")) fail(new Error(`tcpdump did not start (exit ${code}): ${err}`));
    });
  });
}

describeRealLab("netns lab: reference scenario, etcd kv mode (real dockerds)", () => {
  const lab = useNetnsLab({ name: LAB, kv: { kind: "etcd" } }, { workloads: true });
  const plan = lab.plan;
  const h1 = hostOf(plan, "host1");
  const h2 = hostOf(plan, "host2");
  const ip = (container: string): string => plan.workloads.find((w) => w.name === container)!.attachments[0]!.ipv4;

  it("brings the 2-host lab up (timings)", () => {
    console.log(`[real-lab] ${LAB}: hosts up in ${lab.upMs} ms, networks+containers in ${lab.applyMs} ms`);
    expect(lab.upMs).toBeGreaterThan(0);
  });

  it("docker info on each host shows the cluster store and its advertise address", async () => {
    for (const h of [h1, h2]) {
      const info = await dockerOk(h, ["info"]);
      expect(info).toContain(`Cluster Store: etcd://${plan.kv!.address}:2379`);
      expect(info).toContain(`Cluster Advertise: ${h.address}:2376`);
      expect((await dockerOk(h, ["info", "--format", "{{.Name}}"])).trim()).toBe(h.name);
    }
  });

  it("no way in for other users: each host's socket is root:docker (or root) 0660, nobody gets no answer; dockerd listens on no TCP port for its API", () => {
    const docker = (() => {
      try {
        return Number(execFileSync("getent", ["group", "docker"], { encoding: "utf8" }).split(":")[2]);
      } catch {
        return undefined;
      }
    })();
    for (const h of [h1, h2]) {
      const sock = h.netns!.socket;
      const st = statSync(sock);
      expect(st.isSocket()).toBe(true);
      expect(st.mode & 0o777, sock).toBe(0o660);
      expect(st.uid).toBe(0);
      expect([0, docker].filter((g) => g !== undefined)).toContain(st.gid);
      // The socket is the API: root gets it, an unprivileged user is refused at the door.
      expect(apiAnswered(probeApi({ socketPath: sock }))).toBe(true);
      expect(probeApi({ socketPath: sock }, { asNobody: true })).toMatch(/^error: EACCES/);
      // Over TCP only the classic overlay's gossip (serf, 7946): no API listener.
      const pid = Number(readFileSync(h.netns!.pidFile, "utf8").trim());
      expect(tcpListeners(`/run/netns/${h.netns!.namespace}`, pid).map((l) => l.port)).toEqual([7946]);
    }
  });

  it("ov_net1 created on host1 appears on host2 with scope global", async () => {
    const scope = (await dockerOk(h2, ["network", "inspect", "--format", "{{.Scope}} {{.Driver}}", "ov_net1"])).trim();
    expect(scope).toBe("global overlay");
  });

  it("test1 runs on host1 and test2 on host2", async () => {
    expect((await dockerOk(h1, ["inspect", "--format", "{{.State.Running}}", "test1"])).trim()).toBe("true");
    expect((await dockerOk(h2, ["inspect", "--format", "{{.State.Running}}", "test2"])).trim()).toBe("true");
  });

  it("test2 (host2) pings test1 (host1) by name; the name resolves to test1's overlay IP", async () => {
    const out = await dockerOk(h2, ["exec", "test2", "ping", "-c", "2", "-W", "3", "test1"]);
    expect(out).toContain(`bytes from ${ip("test1")}`);
    expect(out).toMatch(/2 packets received/);
  });

  it("docker_gwbridge exists and test1's default route leaves through eth1", async () => {
    expect((await dockerOk(h1, ["network", "inspect", "--format", "{{.Driver}}", "docker_gwbridge"])).trim()).toBe("bridge");
    const routes = await dockerOk(h1, ["exec", "test1", "ip", "route"]);
    expect(routes).toMatch(/^default via \S+ dev eth1/m);
    expect(routes).toMatch(new RegExp(`dev eth0 .*src ${ip("test1").replace(/\./g, "\\.")}`));
  });

  it("the underlay switch sees the ping as VXLAN (UDP 4789)", async () => {
    const cap = await capture(plan.netns!.switchNamespace, plan.netns!.bridge, "udp port 4789", 4, 20);
    await dockerOk(h2, ["exec", "test2", "ping", "-c", "3", "-W", "3", ip("test1")]);
    const out = await cap.done;
    expect(out).toContain(`${h2.address}.`);
    expect(out).toMatch(/\.4789: VXLAN, flags \[I\] \(0x08\), vni \d+/);
    expect(out).toContain(`${ip("test2")} > ${ip("test1")}: ICMP echo request`);
  });

  it("macvlan: test3 (host1) reaches host2's underlay address; hosts cannot reach their own children", async () => {
    const out = await dockerOk(h1, ["exec", "test3", "ping", "-c", "1", "-W", "3", h2.address]);
    expect(out).toContain("1 packets received");
    const fromHost2 = await run(["nsenter", `--net=/run/netns/${h2.netns!.namespace}`, "ping", "-c", "1", "-W", "2", ip("test3")]);
    expect(fromHost2.code).toBe(0);
    const fromHost1 = await run(["nsenter", `--net=/run/netns/${h1.netns!.namespace}`, "ping", "-c", "1", "-W", "2", ip("test3")]);
    expect(fromHost1.code).not.toBe(0);
  });

  it("macvlan IPAM is per host: each host's first dynamic container takes an address from its own range", async () => {
    const mv = plan.networks.find((n): n is MacvlanNetworkPlan => n.name === "mv_net1")!;
    for (const h of [h1, h2]) {
      const name = `rl-mv-${h.name}`;
      await dockerOk(h, ["run", "-d", "-i", "-t", "--name", name, "--network", "mv_net1", "busybox:latest"]);
      const got = (await dockerOk(h, ["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name])).trim();
      const range = mv.ranges.find((r) => r.host === h.name)!.ipRange;
      expect(inRange(got, range), `${name} got ${got}, expected inside ${range}`).toBe(true);
    }
  });

  it("up twice is harmless: same daemons, containers still running", async () => {
    const pidBefore = (await run(["cat", h1.netns!.pidFile])).stdout.trim();
    await upNetnsLab(plan);
    expect((await run(["cat", h1.netns!.pidFile])).stdout.trim()).toBe(pidBefore);
    expect((await dockerOk(h1, ["inspect", "--format", "{{.State.Running}}", "test1"])).trim()).toBe("true");
    await dockerOk(h2, ["exec", "test2", "ping", "-c", "1", "-W", "3", "test1"]);
  });

  it("teardown leaves nothing, and down twice is harmless", async () => {
    expect(isClean(labLeftovers(plan))).toBe(false);
    const down = await downNetnsLab(plan);
    lab.downMs = down.ms;
    console.log(`[real-lab] ${LAB}: torn down in ${down.ms} ms`);
    assertNoLeftovers(plan);
    await downNetnsLab(plan);
    assertNoLeftovers(plan);
  }, 120_000);
});

describeRealLab("netns lab: a failed bring-up is rolled back", () => {
  it("a host whose dockerd cannot start takes the whole lab down with it", async () => {
    const plan = buildPlan({ name: "rlfail", hostKind: "netns", kv: { kind: "etcd" } });
    plan.hosts[1]!.daemon.args.push("--no-such-dockerd-flag");
    await downNetnsLab(plan);
    await expect(upNetnsLab(plan)).rejects.toThrow(/step host:host2 failed[\s\S]*no-such-dockerd-flag/);
    assertNoLeftovers(plan);
  }, 120_000);

  it("a consul lab without a consul binary fails before anything is created", async () => {
    const plan = buildPlan({ name: "rlfail", hostKind: "netns", kv: { kind: "consul" } });
    await expect(upNetnsLab(plan)).rejects.toThrow(/consul binary/);
    assertNoLeftovers(plan);
  });

  it("a consul-kv lab is refused before anything is created when dockerd has no consul backend", async () => {
    const plan = buildPlan({ name: "rlfail", hostKind: "netns", kv: { kind: "consul" } });
    const hasBackend = (await run(["grep", "-q", "libkv/store/consul", DOCKERD])).code === 0;
    const check = netnsPreflight(plan, { consulBinary: "/bin/true" });
    if (hasBackend) await expect(check).resolves.toBeUndefined();
    else
      await expect(check).rejects.toThrow(/lab:kv\.kind = "consul".*without the consul cluster-store backend.*Fix: set kv\.kind to etcd/);
    await expect(upNetnsLab(plan, { consulBinary: "/bin/true" })).rejects.toThrow();
    assertNoLeftovers(plan);
  });
});

// Consul as the KV host (the article's store): Debian's dockerd cannot use it, but the KV host itself
// must come up, elect itself leader and go away cleanly. The binary comes from npm run consul:build.
const CONSUL = process.env["DNLAB_CONSUL"] ?? "/var/cache/dnlab/consul-1.16.3/consul";
describeRealLab(
  "netns lab: consul KV host",
  () => {
    it("starts in its namespace, answers /v1/status/leader, is idempotent, and stops without leftovers", async () => {
      const plan = buildPlan({ name: "rlconsul", hostKind: "netns", kv: { kind: "consul" } });
      const c = netnsCommands(plan, { consulBinary: CONSUL });
      const sh = async (argv: string[]): Promise<void> => {
        const r = await run(argv);
        expect(r.code, r.stdout + r.stderr).toBe(0);
      };
      await downNetnsLab(plan);
      try {
        const t0 = Date.now();
        await sh(c.switch.create);
        await sh(c.kv!.create);
        console.log(`[real-lab] rlconsul: consul KV ready in ${Date.now() - t0} ms`);
        await sh(c.kv!.create);
        const leader = await run([
          "nsenter",
          `--net=/run/netns/${plan.netns!.kvNamespace}`,
          "/bin/busybox",
          "wget",
          "-qO-",
          `http://${plan.kv!.address}:8500/v1/status/leader`,
        ]);
        expect(leader.stdout.trim()).toBe(`"${plan.kv!.address}:8300"`);
      } finally {
        await sh(c.kv!.delete);
        await sh(c.switch.delete);
      }
      assertNoLeftovers(plan);
      await sh(c.kv!.delete);
    }, 120_000);
  },
  { binaries: [CONSUL] },
);

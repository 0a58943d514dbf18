// Swarm-mode overlay on two real netns hosts (Debian's dockerd 20.10), driven by scripts/swarm/*.sh
// exactly as src/model/remoteCommands.ts computes the calls: init on the manager (prints only the join
// token), join, an attachable overlay with the plan's subnet/gateway, containers on both hosts that
// ping each other by name, and leave on teardown. Every step is run twice: the second run is a no-op.
import { afterAll, expect, it } from "vitest";
import { run, type RunResult, sleep, tail } from "../../src/lab/run.js";
import { docker, dockerOk } from "../../src/lab/workloads.js";
import {
  fillSwarmToken,
  type HostPlan,
  type LabConfigInput,
  localShell,
  type ScriptCall,
  SWARM_TOKEN_ENV,
  swarmCalls,
} from "../../src/model/index.js";
import { describeRealLab } from "./gate.js";
import { useNetnsLab } from "./harness.js";

const config: LabConfigInput = {
  name: "sw1",
  overlayMode: "swarm",
  swarm: { defaultAddrPool: "198.18.128.0/17", maskLength: 24 },
  networks: [{ name: "ov_sw", driver: "overlay", subnet: "198.18.110.0/24", gateway: "198.18.110.254" }],
  workloads: [],
};
const T = 180_000;

describeRealLab("swarm mode: init/join/attachable overlay/leave with scripts/swarm", () => {
  const lab = useNetnsLab(config);
  const plan = lab.plan;
  const s = swarmCalls(plan, { dockerCli: "/usr/bin/docker" });
  const [h1, h2] = plan.hosts as [HostPlan, HostPlan];
  let token = "";

  /** Run a call as local.Command would: `bash scripts/swarm/x.sh ARGS` from the repo root, env added. */
  function runCall(c: ScriptCall, env: Record<string, string> = {}): Promise<RunResult> {
    expect(c.where).toBe("local");
    return run(["sh", "-c", localShell(c)], { env: { ...process.env, ...c.env, ...env }, timeoutMs: 120_000 });
  }
  async function ok(c: ScriptCall, env: Record<string, string> = {}): Promise<RunResult> {
    const r = await runCall(c, env);
    if (r.code !== 0) throw new Error(`${c.script} ${c.args.join(" ")} failed (exit ${r.code}):\n${tail(r)}`);
    return r;
  }
  const nodeState = async (h: HostPlan): Promise<string> => (await dockerOk(h, ["info", "--format", "{{.Swarm.LocalNodeState}}"])).trim();
  /** The env a join gets: the placeholder replaced by the token, as the component does from its secret. */
  const joinEnv = (c: ScriptCall): Record<string, string> => ({ [SWARM_TOKEN_ENV]: fillSwarmToken(c.env[SWARM_TOKEN_ENV]!, token) });

  afterAll(async () => {
    // If a test failed half-way, the swarm still goes away before the harness stops the daemons.
    for (const h of [h1, h2]) await docker(h, ["rm", "-f", `c-${h.name}`]);
    for (const c of s.leave) await runCall(c);
  }, T);

  it("init: the manager's swarm, with the plan's address pool; stdout is the token only; twice = same token", async () => {
    expect(s.manager).toBe("host1");
    const r = await ok(s.init);
    token = r.stdout.trim();
    expect(token).toMatch(/^SWMTKN-1-[a-z0-9]+-[a-z0-9]+$/);
    expect(r.stdout.split("\n").filter(Boolean)).toHaveLength(1);
    // The token is not repeated in the progress output (kept out of logs).
    expect(r.stderr).not.toContain(token);
    expect(await nodeState(h1)).toBe("active");
    expect((await dockerOk(h1, ["info", "--format", "{{.Swarm.ControlAvailable}} {{.Swarm.NodeAddr}}"])).trim()).toBe(`true ${h1.address}`);
    const pool = await dockerOk(h1, ["info", "--format", "{{json .Swarm.Cluster.DefaultAddrPool}} {{.Swarm.Cluster.SubnetSize}}"]);
    expect(pool.trim()).toBe('["198.18.128.0/17"] 24');
    const again = await ok(s.init);
    expect(again.stdout.trim()).toBe(token);
    expect(again.stderr).toContain("already a swarm manager");
  }, T);

  it("join: refuses a missing token, joins with it, second join is a no-op", async () => {
    const join = s.join[0]!;
    expect(join.host).toBe("host2");
    const noToken = await runCall(join, { [SWARM_TOKEN_ENV]: "" });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain("SWARM_JOIN_TOKEN is not set");
    expect(await nodeState(h2)).toBe("inactive");

    await ok(join, joinEnv(join));
    expect(await nodeState(h2)).toBe("active");
    const again = await ok(join, joinEnv(join));
    expect(again.stderr).toContain("already in the swarm");
    const nodes = await dockerOk(h1, ["node", "ls", "--format", "{{.Hostname}} {{.Status}}"]);
    expect(nodes.trim().split("\n").sort()).toEqual(["host1 Ready", "host2 Ready"]);
  }, T);

  it("network: an attachable swarm overlay with the plan's subnet and gateway; idempotent; a different one is refused", async () => {
    const net = s.networks[0]!;
    await ok(net.create);
    const again = await ok(net.create);
    expect(again.stderr).toContain("already exists as planned");
    const info = await dockerOk(h1, ["network", "inspect", "-f", "{{.Driver}} {{.Scope}} {{.Attachable}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}", "ov_sw"]);
    expect(info.trim()).toBe("overlay swarm true 198.18.110.0/24 198.18.110.254");
    const other: ScriptCall = { ...net.create, args: ["create", h1.endpoint, "ov_sw", "198.18.111.0/24", "198.18.111.1"] };
    const refused = await runCall(other);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("the lab wants 'overlay swarm true 198.18.111.0/24 198.18.111.1'");
  }, T);

  it("containers on both hosts reach each other by name over the overlay", async () => {
    for (const h of [h1, h2]) {
      await dockerOk(h, ["run", "-d", "--name", `c-${h.name}`, "--hostname", `c-${h.name}`, "--network", "ov_sw", "busybox:latest", "sleep", "3600"]);
    }
    // Gossip needs a few seconds after the join before names and peers are known on both sides.
    const ping = async (from: HostPlan, to: string): Promise<RunResult> => {
      let r: RunResult | undefined;
      for (let i = 0; i < 20; i++) {
        r = await docker(from, ["exec", `c-${from.name}`, "ping", "-c", "2", "-W", "2", to]);
        if (r.code === 0) return r;
        await sleep(1000);
      }
      return r!;
    };
    const a = await ping(h2, "c-host1");
    expect(a.code, tail(a)).toBe(0);
    expect(a.stdout).toMatch(/PING c-host1 \(198\.18\.110\.\d+\)/);
    expect(a.stdout).toContain("2 packets received");
    const b = await ping(h1, "c-host2");
    expect(b.code, tail(b)).toBe(0);
    expect(b.stdout).toMatch(/PING c-host2 \(198\.18\.110\.\d+\)/);
  }, T);

  it("leave: workers first, then the manager; nodes end inactive; twice is harmless; the network is gone", async () => {
    for (const h of [h1, h2]) await dockerOk(h, ["rm", "-f", `c-${h.name}`]);
    await ok(s.networks[0]!.remove);
    expect((await ok(s.networks[0]!.remove)).stderr).toContain("absent");
    expect(s.leave.map((c) => c.host)).toEqual(["host2", "host1"]);
    for (const c of s.leave) await ok(c);
    expect(await nodeState(h1)).toBe("inactive");
    expect(await nodeState(h2)).toBe("inactive");
    for (const c of s.leave) expect((await ok(c)).stderr).toContain("not in a swarm");
    const nets = await dockerOk(h1, ["network", "ls", "--format", "{{.Name}}"]);
    expect(nets).not.toContain("ov_sw");
    expect(nets).not.toContain("ingress");
  }, T);
});

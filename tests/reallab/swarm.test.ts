// Swarm-mode overlay on three real netns hosts (Debian's dockerd 20.10), driven by scripts/swarm/*.sh
// exactly as src/model/remoteCommands.ts computes the calls: init on the manager (prints only the join
// token), joins, an attachable overlay with the plan's subnet/gateway/ip-range (from its spec, by the lab driver), the plan's containers
// at their static addresses on every host (never colliding with swarm's own lb endpoints), pinging
// each other by name, and leave on teardown. Every step is run twice: the second run is a no-op.
import { afterAll, expect, it } from "vitest";
import { run, type RunResult, sleep, tail } from "../../src/lab/run.js";
import { applyNetworks, docker, dockerOk } from "../../src/lab/workloads.js";
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
  hosts: [
    { name: "host1", address: "198.18.0.11" },
    { name: "host2", address: "198.18.0.12" },
    { name: "host3", address: "198.18.0.13" },
  ],
  networks: [{ name: "ov_sw", driver: "overlay", subnet: "198.18.110.0/24", gateway: "198.18.110.254" }],
  workloads: [1, 2, 3].map((i) => ({ name: `c-host${i}`, host: `host${i}`, networks: ["ov_sw"] })),
};
const T = 180_000;

describeRealLab("swarm mode: init/join/attachable overlay/leave with scripts/swarm", () => {
  const lab = useNetnsLab(config);
  const plan = lab.plan;
  const s = swarmCalls(plan, { dockerCli: "/usr/bin/docker" });
  const [h1, h2, h3] = plan.hosts as [HostPlan, HostPlan, HostPlan];
  const hosts = [h1, h2, h3];
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
    for (const h of hosts) await docker(h, ["rm", "-f", `c-${h.name}`]);
    for (const c of s.leave) await runCall(c);
  }, T);

  it(
    "init: the manager's swarm, with the plan's address pool; stdout is the token only; twice = same token",
    async () => {
      expect(s.manager).toBe("host1");
      const r = await ok(s.init);
      token = r.stdout.trim();
      expect(token).toMatch(/^SWMTKN-1-[a-z0-9]+-[a-z0-9]+$/);
      expect(r.stdout.split("\n").filter(Boolean)).toHaveLength(1);
      // The token is not repeated in the progress output (kept out of logs).
      expect(r.stderr).not.toContain(token);
      expect(await nodeState(h1)).toBe("active");
      expect((await dockerOk(h1, ["info", "--format", "{{.Swarm.ControlAvailable}} {{.Swarm.NodeAddr}}"])).trim()).toBe(
        `true ${h1.address}`,
      );
      const pool = await dockerOk(h1, ["info", "--format", "{{json .Swarm.Cluster.DefaultAddrPool}} {{.Swarm.Cluster.SubnetSize}}"]);
      expect(pool.trim()).toBe('["198.18.128.0/17"] 24');
      const again = await ok(s.init);
      expect(again.stdout.trim()).toBe(token);
      expect(again.stderr).toContain("already a swarm manager");
    },
    T,
  );

  it(
    "join: refuses a missing token, joins with it, second join is a no-op",
    async () => {
      expect(s.join.map((j) => j.host)).toEqual(["host2", "host3"]);
      const noToken = await runCall(s.join[0]!, { [SWARM_TOKEN_ENV]: "" });
      expect(noToken.code).toBe(1);
      expect(noToken.stderr).toContain("SWARM_JOIN_TOKEN is not set");
      expect(await nodeState(h2)).toBe("inactive");

      for (const join of s.join) {
        await ok(join, joinEnv(join));
        const again = await ok(join, joinEnv(join));
        expect(again.stderr).toContain("already in the swarm");
      }
      for (const h of hosts) expect(await nodeState(h)).toBe("active");
      const nodes = await dockerOk(h1, ["node", "ls", "--format", "{{.Hostname}} {{.Status}}"]);
      expect(nodes.trim().split("\n").sort()).toEqual(["host1 Ready", "host2 Ready", "host3 Ready"]);
    },
    T,
  );

  it(
    "network: the lab driver makes the attachable swarm overlay from its spec on the manager; idempotent; a different one is refused",
    async () => {
      await applyNetworks(plan);
      await applyNetworks(plan);
      const info = await dockerOk(h1, [
        "network",
        "inspect",
        "-f",
        "{{.Driver}} {{.Scope}} {{.Attachable}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}}{{end}}",
        "ov_sw",
      ]);
      expect(info.trim()).toBe("overlay swarm true 198.18.110.0/24 198.18.110.254 198.18.110.128/25");
      const ov = plan.networks[0]!;
      const other = { ...plan, networks: [{ ...ov, subnet: "198.18.111.0/24", gateway: "198.18.111.1" }] };
      await expect(applyNetworks(other)).rejects.toThrow(
        /network ov_sw exists on host1 with subnet "198\.18\.110\.0\/24" \(planned "198\.18\.111\.0\/24"\), gateway "198\.18\.110\.254" \(planned "198\.18\.111\.1"\)/,
      );
    },
    T,
  );

  it(
    "the plan's containers start at their static addresses on every host (below swarm's range) and reach each other by name",
    async () => {
      const planned = (h: HostPlan): string => plan.workloads.find((w) => w.host === h.name)!.attachments[0]!.ipv4;
      expect(hosts.map(planned)).toEqual(["198.18.110.1", "198.18.110.2", "198.18.110.3"]); // the gateway is .254
      for (const h of hosts) {
        // Before the fix this failed on the second host after 20 s: swarm had given that address to a node's lb endpoint.
        await dockerOk(
          h,
          [
            "run",
            "-d",
            "--name",
            `c-${h.name}`,
            "--hostname",
            `c-${h.name}`,
            "--network",
            "ov_sw",
            "--ip",
            planned(h),
            "busybox:latest",
            "sleep",
            "3600",
          ],
          90_000,
        );
      }
      // Every node's own load-balancer endpoint (ov_sw-endpoint on 20.10, lb-ov_sw later) sits in swarm's range.
      for (const h of hosts) {
        const eps = await dockerOk(h, ["network", "inspect", "-f", "{{range .Containers}}{{.Name}}={{.IPv4Address}} {{end}}", "ov_sw"]);
        const lb = /(?:lb-ov_sw|ov_sw-endpoint)=198\.18\.110\.(\d+)\/24/.exec(eps);
        expect(lb, eps).not.toBeNull();
        expect(Number(lb![1])).toBeGreaterThanOrEqual(128);
        expect(eps).toContain(`c-${h.name}=${planned(h)}/24`);
      }
      // Gossip needs a few seconds after the join before names and peers are known on every side.
      const ping = async (from: HostPlan, to: string): Promise<RunResult> => {
        let r: RunResult | undefined;
        for (let i = 0; i < 20; i++) {
          r = await docker(from, ["exec", `c-${from.name}`, "ping", "-c", "2", "-W", "2", to]);
          if (r.code === 0) return r;
          await sleep(1000);
        }
        return r!;
      };
      for (const [from, to] of [
        [h2, h1],
        [h3, h2],
        [h1, h3],
      ] as const) {
        const r = await ping(from, `c-${to.name}`);
        expect(r.code, tail(r)).toBe(0);
        expect(r.stdout).toContain(`PING c-${to.name} (${planned(to)})`);
        expect(r.stdout).toContain("2 packets received");
      }
    },
    T,
  );

  it(
    "leave: workers first, then the manager; nodes end inactive; twice is harmless; the network is gone",
    async () => {
      for (const h of hosts) await dockerOk(h, ["rm", "-f", `c-${h.name}`]);
      await dockerOk(h1, ["network", "rm", "ov_sw"]);
      expect(s.leave.map((c) => c.host)).toEqual(["host2", "host3", "host1"]);
      for (const c of s.leave) await ok(c);
      for (const h of hosts) expect(await nodeState(h)).toBe("inactive");
      for (const c of s.leave) expect((await ok(c)).stderr).toContain("not in a swarm");
      const nets = await dockerOk(h1, ["network", "ls", "--format", "{{.Name}}"]);
      expect(nets).not.toContain("ov_sw");
      expect(nets).not.toContain("ingress");
    },
    T,
  );
});

// A swarm-mode lab of three netns hosts through the lab driver (what `npm run lab -- up|down` runs):
// one upLab call makes the hosts, the swarm (scripts/swarm/ init + joins, as the stack runs them), the
// attachable overlay (from its spec, with the plan's ip-range), the macvlan and the containers at their
// planned addresses; verifyLab finds nothing unexpected; up again changes nothing; downLab removes
// containers, leaves the swarm (workers first) and tears down, leaving nothing on the machine.
import { afterAll, beforeAll, expect, it } from "vitest";
import { downLab, upLab } from "../../src/lab/lab.js";
import { isClean, labLeftovers } from "../../src/lab/netnsLab.js";
import { dockerOk, hostOf } from "../../src/lab/workloads.js";
import { buildPlan } from "../../src/model/index.js";
import { formatTable, verifyLab } from "../../src/verify/index.js";
import { describeRealLab } from "./gate.js";
import { assertNoLeftovers } from "./harness.js";
import { expectSwarmOverlay, expectSwarmRoles, expectWorkloadsAsPlanned, threeHostSwarm } from "./swarm-scenario.js";

const config = threeHostSwarm("lt3");
const T = 240_000;

describeRealLab("lab driver: a 3-host swarm lab up, verified and down in one call each", () => {
  const plan = buildPlan(config);
  const lines: string[] = [];
  const log = (l: string): void => void lines.push(l);
  const times: Record<string, number> = {};

  beforeAll(async () => {
    // A crashed earlier run may have left this lab behind.
    if (!isClean(labLeftovers(plan))) await downLab(plan);
  }, T);

  afterAll(async () => {
    await downLab(plan);
    assertNoLeftovers(plan);
    console.log(`[real-lab] lt3 (3-host swarm): up ${times["up"]} ms, verify ${times["verify"]} ms, down ${times["down"]} ms`);
  }, T);

  it(
    "up: hosts, swarm, networks and containers in one call",
    async () => {
      const t0 = Date.now();
      const up = await upLab(plan, { log });
      times["up"] = Date.now() - t0;
      expect(up.swarmMs).toBeGreaterThan(0);
      await expectSwarmRoles(plan);
      const nodes = await dockerOk(hostOf(plan, "host1"), ["node", "ls", "--format", "{{.Hostname}} {{.Status}}"]);
      expect(nodes.trim().split("\n").sort()).toEqual(["host1 Ready", "host2 Ready", "host3 Ready"]);
      await expectSwarmOverlay(plan);
      expect(lines.some((l) => l.includes("[host1] docker network create --driver overlay --attachable --subnet 198.18.100.0/24"))).toBe(
        true,
      );
      // The join token never reaches the log.
      const token = (await dockerOk(hostOf(plan, "host1"), ["swarm", "join-token", "-q", "worker"])).trim();
      expect(lines.join("\n")).not.toContain(token);
      await expectWorkloadsAsPlanned(plan);
    },
    T,
  );

  it(
    "up again changes nothing: same containers, same swarm",
    async () => {
      const ids = async (): Promise<string[]> =>
        Promise.all(plan.workloads.map(async (w) => (await dockerOk(hostOf(plan, w.host), ["inspect", "-f", "{{.Id}}", w.name])).trim()));
      const before = await ids();
      const again = await upLab(plan);
      expect(await ids()).toEqual(before);
      expect(again.ms).toBeLessThan(60_000);
    },
    T,
  );

  it(
    "verifyLab: every check as expected",
    async () => {
      const t0 = Date.now();
      const report = await verifyLab(plan);
      times["verify"] = Date.now() - t0;
      expect(report.summary.failed, formatTable(report)).toBe(0);
      expect(report.ok).toBe(true);
      expect(report.summary.passed).toBeGreaterThan(20);
    },
    T,
  );

  it(
    "down: containers, swarm leave (workers, then the manager), teardown: nothing is left; twice is harmless",
    async () => {
      lines.length = 0;
      const t0 = Date.now();
      const down = await downLab(plan, { log });
      times["down"] = Date.now() - t0;
      expect(down.warnings).toEqual([]);
      const leaves = lines
        .filter((l) => l.includes("swarm/leave.sh:") && l.includes("left the swarm"))
        .map((l) => /\[swarm (host\d)\]/.exec(l)![1]);
      expect(leaves).toHaveLength(3);
      expect(leaves[2]).toBe("host1");
      assertNoLeftovers(plan);
      await downLab(plan);
      assertNoLeftovers(plan);
    },
    T,
  );
});

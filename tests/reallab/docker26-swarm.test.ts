// Docker 26 for real on netns hosts: Debian trixie's dockerd 26.1.5 (scripts/fetch-docker26.sh, fetched
// into the cache in beforeAll unless scripts/test.sh exported DNLAB_DOCKERD_26) runs three hosts of a
// swarm-mode lab through the lab driver (what `npm run lab -- up|down` runs), as tests/reallab/lab-swarm.test.ts
// does on Debian's 20.10: hosts, swarm, overlay and macvlan, containers at their planned addresses,
// verifyLab with nothing failed, down leaving nothing. kv mode on the same hosts is refused before
// anything exists, and so is a Docker 26 lab whose binary is not known.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { downLab, upLab } from "../../src/lab/lab.js";
import { isClean, labLeftovers } from "../../src/lab/netnsLab.js";
import { run } from "../../src/lab/run.js";
import { dockerOk, hostOf } from "../../src/lab/workloads.js";
import { buildPlan, type LabConfigInput, LabConfigError } from "../../src/model/index.js";
import { formatTable, verifyLab } from "../../src/verify/index.js";
import { DOCKER26_GATE, docker26Binary } from "./docker26.js";
import { describeRealLab } from "./gate.js";
import { assertNoLeftovers } from "./harness.js";
import { expectSwarmOverlay, expectSwarmRoles, expectWorkloadsAsPlanned, threeHostSwarm } from "./swarm-scenario.js";

const LAB = "d26s";
const config = threeHostSwarm(LAB, "26");
const T = 240_000;

describeRealLab(
  "Docker 26 on netns hosts: a 3-host swarm lab up, verified and down",
  () => {
    const plan = buildPlan(config);
    const lines: string[] = [];
    const log = (l: string): void => void lines.push(l);
    const times: Record<string, number> = {};
    let verified = "";
    let docker26 = "";
    const opts = (): { docker26Binary: string; log: typeof log } => ({ docker26Binary: docker26, log });

    beforeAll(async () => {
      docker26 = docker26Binary();
      expect(execFileSync(docker26, ["--version"], { encoding: "utf8" })).toMatch(/^Docker version 26\.1\./);
      // A crashed earlier run may have left this lab behind.
      if (!isClean(labLeftovers(plan))) await downLab(plan, opts());
    }, T);

    afterAll(async () => {
      if (docker26 !== "") await downLab(plan, opts());
      assertNoLeftovers(plan);
      console.log(
        `[real-lab] ${LAB} (3-host swarm, Docker 26): up ${times["up"]} ms, verify ${times["verify"]} ms${verified}, down ${times["down"]} ms`,
      );
    }, T);

    it("kv mode on these hosts is refused before anything exists (the --cluster-store rule)", () => {
      let err: unknown;
      try {
        buildPlan({ ...config, overlayMode: "kv", kv: { kind: "etcd" } });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LabConfigError);
      const msg = (err as LabConfigError).message;
      expect(msg).toMatch(/^Invalid lab configuration \(3 problems\); nothing was created:/);
      for (const i of [0, 1, 2]) {
        expect(msg).toContain(
          `lab:hosts[${i}].dockerVersion = "26": kv overlay mode needs --cluster-store, which Docker 23.0 removed. Fix: set lab:overlayMode to swarm (or use Docker 20.10 on this host).`,
        );
      }
      assertNoLeftovers(plan);
    });

    it(
      "npm run lab -- up refuses kv mode, and a Docker 26 lab without DNLAB_DOCKERD_26, creating nothing",
      async () => {
        const dir = mkdtempSync(join(tmpdir(), "dnlab-d26-"));
        try {
          const env = { ...process.env };
          delete env["DNLAB_DOCKERD_26"];
          const cli = async (c: LabConfigInput): Promise<{ code: number | null; out: string }> => {
            const file = join(dir, "lab.json");
            writeFileSync(file, JSON.stringify(c));
            const r = await run(["npx", "--no-install", "tsx", "src/cli/lab.ts", "up", "--config", file], { timeoutMs: 120_000, env });
            return { code: r.code, out: r.stdout + r.stderr };
          };
          const kv = await cli({ ...config, overlayMode: "kv" });
          expect(kv.code, kv.out).toBe(2); // invalid configuration: exit 2, like every CLI
          expect(kv.out).toContain('lab:hosts[0].dockerVersion = "26": kv overlay mode needs --cluster-store, which Docker 23.0 removed');
          const noBinary = await cli(config);
          expect(noBinary.code, noBinary.out).toBe(1);
          expect(noBinary.out).toContain(
            "these netns hosts run Debian trixie's dockerd 26 (host1, host2, host3), and no Docker 26 binary was given; nothing was created.",
          );
          expect(noBinary.out).toContain("Fix: npm run docker26:fetch, then export DNLAB_DOCKERD_26=<the path it prints>");
          expect(noBinary.out).toContain(`nothing of lab ${LAB} is on this machine.`);
          assertNoLeftovers(plan);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      T,
    );

    it(
      "up: Docker 26 daemons, swarm, networks and containers at their planned addresses in one call",
      async () => {
        const t0 = Date.now();
        const up = await upLab(plan, opts());
        times["up"] = Date.now() - t0;
        expect(up.swarmMs).toBeGreaterThan(0);
        for (const h of plan.hosts) {
          // The running daemon is the fetched binary, and it says 26.1 (to the 20.10 client, by API negotiation).
          const pid = readFileSync(h.netns!.pidFile, "utf8").trim();
          expect(readlinkSync(`/proc/${pid}/exe`), h.name).toBe(docker26);
          expect((await dockerOk(h, ["version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}"])).trim(), h.name).toMatch(
            /^26\.1\.\d+\S* 1\.45$/,
          );
          expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toContain("--cluster-store");
        }
        await expectSwarmRoles(plan);
        const nodes = await dockerOk(hostOf(plan, "host1"), ["node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.EngineVersion}}"]);
        expect(nodes.trim().split("\n").sort()).toEqual(["host1", "host2", "host3"].map((h) => `${h} Ready 26.1.5+dfsg1`));
        await expectSwarmOverlay(plan);
        await expectWorkloadsAsPlanned(plan);
      },
      T,
    );

    it(
      "verifyLab: every check as expected",
      async () => {
        const t0 = Date.now();
        const report = await verifyLab(plan);
        times["verify"] = Date.now() - t0;
        verified = ` (${report.summary.passed} passed, ${report.summary.expectedFailures} failed as expected)`;
        expect(report.summary.failed, formatTable(report)).toBe(0);
        expect(report.ok).toBe(true);
        expect(report.summary.passed).toBeGreaterThan(20);
      },
      T,
    );

    it(
      "down: containers, swarm leave, teardown: nothing is left",
      async () => {
        lines.length = 0;
        const t0 = Date.now();
        const down = await downLab(plan, opts());
        times["down"] = Date.now() - t0;
        expect(down.warnings).toEqual([]);
        const leaves = lines.filter((l) => l.includes("swarm/leave.sh:") && l.includes("left the swarm"));
        expect(leaves).toHaveLength(3);
        assertNoLeftovers(plan);
      },
      T,
    );
  },
  DOCKER26_GATE,
);

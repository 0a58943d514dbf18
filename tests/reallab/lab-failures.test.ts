// A failed `lab up` leaves nothing unexplained, on real daemons:
// - a container that cannot be created (two containers planned on one address) fails up at the
//   containers stage; every retry removed the half-created container first (the last error is the
//   real cause, not "Conflict. The container name is already in use"), and the lab is rolled back;
// - a container whose address is taken for a while is created once it is free (retries start clean);
// - an up over a lab that was already running is not rolled back: it stays up as it was;
// - `npm run lab -- up` with a config whose network cannot be created rolls back and says nothing is
//   left; over a running lab it prints what is up and the one command that removes it, which does.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { downLab, LabUpError, upLab } from "../../src/lab/lab.js";
import { isClean, labLeftovers } from "../../src/lab/netnsLab.js";
import { run, type RunResult, sleep } from "../../src/lab/run.js";
import { applyNetworks, applyWorkloads, docker, dockerOk, hostOf } from "../../src/lab/workloads.js";
import { buildPlan, type LabConfigInput, type LabPlan } from "../../src/model/index.js";
import { describeRealLab } from "./gate.js";
import { assertNoLeftovers } from "./harness.js";

const T = 240_000;
const kvConfig = (name: string): LabConfigInput => ({
  name,
  hostKind: "netns",
  kv: { kind: "etcd" },
  networks: [{ name: "ov_net1", driver: "overlay", subnet: "198.18.100.0/24" }],
  workloads: [
    { name: "test1", host: "host1", networks: ["ov_net1"] },
    { name: "test2", host: "host1", networks: ["ov_net1"] },
    { name: "test3", host: "host2", networks: ["ov_net1"] },
  ],
});
/** A macvlan whose parent no host has: Docker refuses to create it (a failure at the networks stage). */
const badParent = (c: LabConfigInput): LabConfigInput => ({
  ...c,
  networks: [...(c.networks ?? []), { name: "mv_bad", driver: "macvlan", subnet: "198.18.30.0/24", parent: "eth9" }],
});
const ipOf = (plan: LabPlan, name: string): string => plan.workloads.find((w) => w.name === name)!.attachments[0]!.ipv4;

async function fresh(plan: LabPlan): Promise<void> {
  if (!isClean(labLeftovers(plan))) await downLab(plan);
}

describeRealLab("lab driver: a failed up is rolled back, retries start clean", () => {
  const plans: LabPlan[] = [];
  afterAll(async () => {
    for (const p of plans) {
      await downLab(p);
      assertNoLeftovers(p);
    }
  }, T);

  it(
    "a container that cannot be created: up fails at containers with the real cause, and nothing is left",
    async () => {
      const plan = buildPlan(kvConfig("lk3"));
      plans.push(plan);
      await fresh(plan);
      // test2 planned on test1's address: its container is created and connected, then cannot start.
      plan.workloads.find((w) => w.name === "test2")!.attachments[0]!.ipv4 = ipOf(plan, "test1");
      const lines: string[] = [];
      const e = await upLab(plan, { convergeTimeoutMs: 4_000, log: (l) => void lines.push(l) }).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(LabUpError);
      const err = e as LabUpError;
      expect(err.stage).toBe("containers");
      expect(err.rolledBack).toBe(true);
      expect(err.preexisting).toBe(false);
      expect(err.message).toContain("lab up failed at containers; rolled back: nothing of the lab is left on this machine.");
      expect(err.message).toMatch(/create test2 on host1: still failing after 4000 ms \((\d+) attempts\)/);
      const attempts = Number(/\((\d+) attempts\)/.exec(err.message)![1]);
      expect(attempts).toBeGreaterThan(1);
      // Without the cleanup every attempt after the first fails on the name instead.
      expect(err.message).not.toContain("Conflict");
      expect(err.message).toMatch(/[Aa]ddress already in use/);
      expect(lines).toContain("[lab] containers of lk3 failed; rolling the lab back");
      assertNoLeftovers(plan);
    },
    T,
  );

  it(
    "a container whose address is taken for a while is created once it is free",
    async () => {
      const plan = buildPlan(kvConfig("lk4"));
      plans.push(plan);
      await fresh(plan);
      await upLab(plan, { hostsOnly: true });
      await applyNetworks(plan);
      const h1 = hostOf(plan, "host1");
      // A squatter on test1's planned address, gone after 4 s.
      await dockerOk(h1, [
        "run",
        "-d",
        "-i",
        "-t",
        "--name",
        "squat",
        "--network",
        "ov_net1",
        "--ip",
        ipOf(plan, "test1"),
        "busybox:latest",
      ]);
      const apply = applyWorkloads(plan, { convergeTimeoutMs: 60_000 });
      await sleep(4_000);
      const during = await docker(h1, ["inspect", "-f", "{{.State.Running}}", "test1"]);
      await dockerOk(h1, ["rm", "-f", "squat"]);
      await apply;
      // While the address was taken, no attempt left a test1 behind for long (each failed one was removed).
      expect(during.stdout.trim()).not.toBe("true");
      for (const w of plan.workloads) {
        const got = await dockerOk(hostOf(plan, w.host), [
          "inspect",
          "-f",
          "{{.State.Running}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
          w.name,
        ]);
        expect(got.trim(), w.name).toBe(`true ${ipOf(plan, w.name)}`);
      }
    },
    T,
  );

  it(
    "an up over a running lab that fails is not rolled back: the lab stays up as it was",
    async () => {
      const plan = plans.find((p) => p.name === "lk4")!;
      const bad = buildPlan(badParent(kvConfig("lk4")));
      const e = await upLab(bad).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(LabUpError);
      const err = e as LabUpError;
      expect(err.stage).toBe("networks");
      expect(err.preexisting).toBe(true);
      expect(err.rolledBack).toBe(false);
      expect(err.message).toContain("the lab was already up when this run started, so it was not rolled back");
      expect(err.message).toContain("mv_bad");
      expect((await dockerOk(hostOf(plan, "host1"), ["inspect", "-f", "{{.State.Running}}", "test1"])).trim()).toBe("true");
      await downLab(plan);
      assertNoLeftovers(plan);
    },
    T,
  );
});

describeRealLab("npm run lab -- up: a failed up rolls back, or says what is up and how to remove it", () => {
  const dir = mkdtempSync(join(tmpdir(), "dnlab-lk5-"));
  const good = buildPlan(kvConfig("lk5"));
  const goodFile = join(dir, "lk5.json");
  const badFile = join(dir, "lk5 bad.json");
  writeFileSync(goodFile, JSON.stringify(kvConfig("lk5")));
  writeFileSync(badFile, JSON.stringify(badParent(kvConfig("lk5"))));
  const lab = (...args: string[]): Promise<RunResult> =>
    run(["npx", "--no-install", "tsx", "src/cli/lab.ts", ...args], { timeoutMs: 200_000 });

  afterAll(async () => {
    await downLab(good);
    assertNoLeftovers(good);
    rmSync(dir, { recursive: true, force: true });
  }, T);

  it(
    "a fresh lab whose network cannot be created: rolled back, nothing left, and it says so",
    async () => {
      await fresh(good);
      const r = await lab("up", "--config", badFile);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toContain("error: lab up failed at networks; rolled back: nothing of the lab is left on this machine.");
      expect(r.stderr).toContain("-o parent=eth9 mv_bad");
      expect(r.stderr).toContain("nothing of lab lk5 is on this machine.");
      assertNoLeftovers(good);
    },
    T,
  );

  it(
    "over a running lab: what is up, and the one command that removes it (which does)",
    async () => {
      const up = await lab("up", "--config", goodFile);
      expect(up.code, up.stdout + up.stderr).toBe(0);
      const r = await lab("up", "--config", badFile);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toContain(
        "error: lab up failed at networks; the lab was already up when this run started, so it was not rolled back.",
      );
      expect(r.stderr).toContain("what of lab lk5 is up now:");
      expect(r.stderr).toMatch(/up {3}host {3}lk5-host1 .*dockerd ok \(hostname host1\), containers: .*test1 \(running\)/);
      expect(r.stderr).toContain("on the machine: ");
      const cmd = /remove it with: (.*)$/m.exec(r.stderr)?.[1];
      expect(cmd).toBe(`npm run lab -- down --config '${badFile}'`);
      // The command, as printed (the path quoted for the shell), removes everything.
      const down = await run(["sh", "-c", cmd!], { timeoutMs: 200_000 });
      expect(down.code, down.stdout + down.stderr).toBe(0);
      assertNoLeftovers(good);
    },
    T,
  );
});

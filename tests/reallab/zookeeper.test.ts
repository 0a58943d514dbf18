// The reference scenario with ZooKeeper as the KV store, on a netns lab driven by `npm run lab`:
// Debian's zookeeper 3.8 runs in the KV namespace (scripts/netns/kv-up.sh), the hosts run the
// project's dockerd (scripts/build-dockerd-consul.sh: with the libkv ZooKeeper listing fix; Debian's
// own panics at the first container, and the preflight says so before anything is created). The lab
// comes up, `npm run verify` passes with the VNI read from ZooKeeper's record, `npm run inspect` reads
// it too, ZooKeeper holds Docker's nodes, network and endpoints (read with the lab's own ZooKeeper
// client: src/model/zookeeper.ts over busybox nc), and `npm run lab -- down` leaves nothing.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import { main as inspectMain } from "../../src/cli/inspect.js";
import { main as verifyMain } from "../../src/cli/verify.js";
import type { InspectReport } from "../../src/inspect/index.js";
import { DOCKERD, downNetnsLab, netnsPreflight } from "../../src/lab/netnsLab.js";
import { REPO_ROOT, run } from "../../src/lab/run.js";
import { dockerOk, hostOf } from "../../src/lab/workloads.js";
import {
  buildPlan,
  CLUSTER_ADVERTISE_PORT,
  dockerKvEntriesFromZookeeper,
  type LabConfigInput,
  summarizeDockerKv,
} from "../../src/model/index.js";
import type { VerifyReport } from "../../src/verify/index.js";
import { describeRealLab } from "./gate.js";
import { assertNoLeftovers } from "./harness.js";

const GATE = { binaries: ["java", "go", "gcc", "apt-get"] } as const;

class Sink extends Writable {
  text = "";
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describeRealLab(
  "ZooKeeper KV: the reference scenario on a netns lab, under npm run lab",
  () => {
    const config: LabConfigInput = { name: "zk2", hostKind: "netns", kv: { kind: "zookeeper" } };
    const plan = buildPlan(config);
    const kv = plan.kv!;
    const h1 = hostOf(plan, "host1");
    const h2 = hostOf(plan, "host2");
    const ip = (c: string): string => plan.workloads.find((w) => w.name === c)!.attachments[0]!.ipv4;
    const dir = mkdtempSync(join(tmpdir(), "dnlab-zk-"));
    const cfg = join(dir, "lab.json");
    writeFileSync(cfg, JSON.stringify(config));
    // scripts/test.sh builds it first and exports the path; a bare `vitest` builds (or reuses) it here.
    const dockerd =
      process.env["DNLAB_DOCKERD"] ??
      execFileSync("bash", ["scripts/build-dockerd-consul.sh"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 40 * 60_000 })
        .trim()
        .split("\n")
        .pop()!;
    const lab = (...args: string[]) =>
      run(["node", "--import", "tsx", "src/cli/lab.ts", ...args, "--config", cfg, "--dockerd-bin", dockerd], { timeoutMs: 180_000 });
    const cli = async (main: typeof verifyMain, args: string[]): Promise<{ code: number; out: string; err: string }> => {
      const out = new Sink();
      const err = new Sink();
      const code = await main(["--config", cfg, ...args], out, err);
      return { code, out: out.text, err: err.text };
    };
    /** Docker's tree in ZooKeeper, read from host1's namespace (the store as the daemons reach it). */
    const zkEntries = () =>
      dockerKvEntriesFromZookeeper(kv, async (argv) => {
        const r = await run(["nsenter", `--net=/run/netns/${h1.netns!.namespace}`, "busybox", ...argv], { timeoutMs: 20_000 });
        if (r.code !== 0) throw new Error(`ZooKeeper session from ${h1.netns!.namespace} failed (exit ${r.code}): ${r.stderr}`);
        return r.stdout;
      });
    const ms: Record<string, number> = {};

    beforeAll(async () => {
      await downNetnsLab(plan);
      const t0 = Date.now();
      const up = await lab("up");
      ms["up"] = Date.now() - t0;
      if (up.code !== 0) throw new Error(`npm run lab -- up failed (exit ${up.code}):\n${up.stdout}\n${up.stderr}`);
    }, 200_000);

    afterAll(async () => {
      await downNetnsLab(plan).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      console.log(
        `[real-lab] zk2: ${Object.entries(ms)
          .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
          .join(", ")}`,
      );
    });

    it("Debian's own dockerd is refused for zookeeper before anything is created, naming the panic and the fix", async () => {
      const other = buildPlan({ ...config, name: "zkfail" });
      await expect(netnsPreflight(other)).rejects.toThrow(
        new RegExp(
          `lab:kv\\.kind = "zookeeper": ${DOCKERD} \\(Debian's docker\\.io 20\\.10\\): its dockerd .* panics .*Fix: npm run dockerd:build`,
        ),
      );
      assertNoLeftovers(other);
    });

    it("ZooKeeper serves standalone on the lab address only: its client port, no AdminServer, nothing on 0.0.0.0", async () => {
      const ns = plan.netns!.kvNamespace;
      const srvr = await run([
        "sh",
        "-c",
        'printf srvr | nsenter --net="/run/netns/$1" busybox nc "$2" "$3"',
        "sh",
        ns,
        kv.address,
        String(kv.port),
      ]);
      expect(srvr.stdout).toMatch(/^Zookeeper version: 3\.8\./);
      expect(srvr.stdout).toContain("Mode: standalone");
      const listen = await run(["nsenter", `--net=/run/netns/${ns}`, "ss", "-Htln"]);
      const addrs = listen.stdout
        .trim()
        .split("\n")
        .map((l) => l.trim().split(/\s+/)[3]);
      expect(addrs).toEqual([`${kv.address}:${kv.port}`]);
    });

    it("docker info on each host shows the zk:// cluster store", async () => {
      for (const h of [h1, h2]) {
        const info = await dockerOk(h, ["info"]);
        expect(info).toContain(`Cluster Store: zk://${kv.address}:${kv.port}`);
        expect(info).toContain(`Cluster Advertise: ${h.address}:${CLUSTER_ADVERTISE_PORT}`);
      }
    });

    it("npm run verify passes every check, the VXLAN checks with the VNI read from ZooKeeper's record", async () => {
      const t0 = Date.now();
      const r = await cli(verifyMain, ["--json", "--quiet"]);
      ms["verify"] = Date.now() - t0;
      const report = JSON.parse(r.out) as VerifyReport;
      expect(r.code, r.err).toBe(0);
      expect(report.results.filter((c) => !c.ok)).toEqual([]);
      const vxlan = report.results.filter((c) => c.kind === "vxlan");
      expect(vxlan).toHaveLength(2);
      for (const v of vxlan) expect(v.data).toMatchObject({ vni: 256, vniSource: "zookeeper record" });
    });

    it("npm run inspect reads ov_net1's VNI from ZooKeeper through a container on it", async () => {
      const r = await cli(inspectMain, ["--json"]);
      const j = JSON.parse(r.out) as InspectReport;
      expect(j.healthy).toBe(true);
      expect(j.kv).toEqual({ kind: "zookeeper", url: `zk://${kv.address}:${kv.port}` });
      expect(j.networks.find((n) => n.name === "ov_net1")).toMatchObject({ vni: 256, vniSource: "zookeeper record" });
    });

    it("ZooKeeper holds Docker's entries: both nodes, ov_net1 (subnet, VNI) and both endpoints", async () => {
      const s = summarizeDockerKv(await zkEntries());
      expect(s.nodes).toEqual([h1, h2].map((h) => `${h.address}:${CLUSTER_ADVERTISE_PORT}`).sort());
      const id = (await dockerOk(h1, ["network", "inspect", "--format", "{{.Id}}", "ov_net1"])).trim();
      const ov = s.networks.find((n) => n.name === "ov_net1");
      expect(ov).toMatchObject({ id, type: "overlay", subnets: ["198.18.100.0/24"], vni: [256], endpointCount: 2 });
      const eps = s.endpoints.filter((e) => e.network === id).map((e) => [e.name, e.address?.split("/")[0], e.host]);
      expect(eps).toEqual([
        ["test1", ip("test1"), h1.address],
        ["test2", ip("test2"), h2.address],
      ]);
    });

    it("test2 leaves: its endpoint leaves ZooKeeper; test1 and test2 again: the overlay works on", async () => {
      await dockerOk(h2, ["rm", "-f", "test2"]);
      const s = summarizeDockerKv(await zkEntries());
      expect(s.endpoints.map((e) => e.name)).toEqual(["test1"]);
      expect(s.networks.find((n) => n.name === "ov_net1")?.endpointCount).toBe(1);
      // npm run lab -- apply puts it back (the daemons' listing of ZooKeeper drives this).
      const again = await lab("apply");
      expect(again.code, again.stderr).toBe(0);
      const out = await dockerOk(h2, ["exec", "test2", "ping", "-c", "2", "-W", "3", "test1"]);
      expect(out).toContain(`bytes from ${ip("test1")}`);
    });

    it("npm run lab -- down removes everything: no process, namespace, mount or dir of the lab is left", async () => {
      const t0 = Date.now();
      const down = await lab("down");
      ms["down"] = Date.now() - t0;
      expect(down.code, down.stderr).toBe(0);
      assertNoLeftovers(plan);
    });
  },
  GATE,
);

// The reference scenario with Consul as the KV store, on real daemons in network namespaces:
// Consul v<CONSUL_VERSION> built from source (scripts/build-consul.sh) runs as the KV host; both
// dockerds use --cluster-store=consul://...; ov_net1 created on host1 appears on host2; test2 pings
// test1 by name; Consul's HTTP API and UI answer on 8500; and Consul really holds Docker's entries,
// read through /v1/kv/docker/?recurse and interpreted by the same summarizeDockerKv the stack uses.
//
// Debian's dockerd has no Consul store (debian/patches/avoid-consul.patch), so the hosts run the
// dockerd that scripts/build-dockerd-consul.sh rebuilds from the same Debian source with Consul back.
import { execFileSync } from "node:child_process";
import { expect, it } from "vitest";
import { REPO_ROOT, run } from "../../src/lab/run.js";
import { dockerOk, hostOf } from "../../src/lab/workloads.js";
import {
  CLUSTER_ADVERTISE_PORT,
  CONSUL_VERSION,
  dockerKvEntriesFromConsul,
  kvRecordUrl,
  summarizeDockerKv,
} from "../../src/model/index.js";
import { vniFromKvRecord } from "../../src/verify/parse.js";
import { describeRealLab, realLabGate } from "./gate.js";
import { useNetnsLab } from "./harness.js";

const LAB = "cs2";
const GATE = { binaries: ["go", "gcc", "apt-get", "flock"] } as const;

/** Run a build script (reuses its cached binary in ~0.1 s; a first build takes minutes). */
function build(script: string): string {
  const t0 = Date.now();
  const out = execFileSync("bash", [script], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 40 * 60_000,
  });
  const path = out.trim().split("\n").pop() ?? "";
  console.log(`[real-lab] ${script}: ${path} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return path;
}

describeRealLab(
  "Consul KV: reference scenario on a netns lab (Consul built from source)",
  () => {
    // describe.skip still collects: build only when the suite really runs.
    const runs = realLabGate(GATE).ok;
    // scripts/test.sh builds both first and exports their paths; a bare `vitest` builds them here.
    const consulBinary = process.env["DNLAB_CONSUL"] ?? (runs ? build("scripts/build-consul.sh") : "consul");
    const dockerdBinary = process.env["DNLAB_DOCKERD"] ?? (runs ? build("scripts/build-dockerd-consul.sh") : "dockerd");
    const lab = useNetnsLab({ name: LAB, kv: { kind: "consul" } }, { workloads: true, consulBinary, dockerdBinary });
    const plan = lab.plan;
    const kv = plan.kv!;
    const h1 = hostOf(plan, "host1");
    const h2 = hostOf(plan, "host2");
    const ip = (container: string): string => plan.workloads.find((w) => w.name === container)!.attachments[0]!.ipv4;

    /** GET from host1's namespace: the Consul server as the Docker hosts reach it across the underlay.
     *  (busybox-static 1.35's `wget -T` segfaults, hence coreutils timeout.) */
    async function get(path: string): Promise<string> {
      const url = `http://${kv.address}:${kv.port}${path}`;
      const r = await run(
        ["nsenter", `--net=/run/netns/${h1.netns!.namespace}`, "timeout", "10", "busybox", "wget", "-q", "-O", "-", url],
        { timeoutMs: 15_000 },
      );
      if (r.code !== 0) throw new Error(`GET ${url} from ${h1.netns!.namespace} failed (exit ${r.code}): ${r.stderr}`);
      return r.stdout;
    }

    it("the built Consul is the pinned MPL release and the plan points the daemons at it", async () => {
      expect(execFileSync(consulBinary, ["version"], { encoding: "utf8" }).split("\n")[0]).toBe(`Consul v${CONSUL_VERSION}`);
      expect(kv.url).toBe(`consul://${kv.address}:${kv.port}`);
      console.log(`[real-lab] ${LAB}: hosts up in ${lab.upMs} ms, networks+containers in ${lab.applyMs} ms`);
    });

    it("Consul answers on 8500: a leader, its version and node name, and the web UI", async () => {
      expect(JSON.parse(await get("/v1/status/leader"))).toBe(`${kv.address}:8300`);
      const self = JSON.parse(await get("/v1/agent/self")) as { Config: { Version: string; NodeName: string } };
      expect(self.Config.Version).toBe(CONSUL_VERSION);
      expect(self.Config.NodeName).toBe(kv.nodeName);
      const ui = await get("/ui/");
      expect(ui).toContain("<title>Consul by HashiCorp</title>");
    });

    it("docker info on each host shows the Consul cluster store and its advertise address", async () => {
      for (const h of [h1, h2]) {
        const info = await dockerOk(h, ["info"]);
        expect(info).toContain(`Cluster Store: ${kv.url}`);
        expect(info).toContain(`Cluster Advertise: ${h.address}:${CLUSTER_ADVERTISE_PORT}`);
      }
    });

    it("ov_net1 created on host1 appears on host2 as a global overlay with the same id", async () => {
      const fmt = ["network", "inspect", "--format", "{{.Id}} {{.Scope}} {{.Driver}}", "ov_net1"];
      const [on1, on2] = [(await dockerOk(h1, fmt)).trim(), (await dockerOk(h2, fmt)).trim()];
      expect(on2).toBe(on1);
      expect(on2).toMatch(/^[0-9a-f]{64} global overlay$/);
    });

    it("test2 (host2) pings test1 (host1) by name; the name resolves to test1's overlay IP", async () => {
      const out = await dockerOk(h2, ["exec", "test2", "ping", "-c", "2", "-W", "3", "test1"]);
      expect(out).toContain(`bytes from ${ip("test1")}`);
      expect(out).toMatch(/2 packets received/);
    });

    it("Consul's KV holds Docker's entries: both nodes, ov_net1 (subnet, VNI) and both endpoints", async () => {
      const s = summarizeDockerKv(dockerKvEntriesFromConsul(JSON.parse(await get("/v1/kv/docker/?recurse"))));
      expect(s.nodes).toEqual([h1, h2].map((h) => `${h.address}:${CLUSTER_ADVERTISE_PORT}`).sort());
      const id = (await dockerOk(h1, ["network", "inspect", "--format", "{{.Id}}", "ov_net1"])).trim();
      const ov = s.networks.find((n) => n.name === "ov_net1");
      const planned = plan.networks.find((n) => n.name === "ov_net1")!;
      expect(ov).toMatchObject({ id, type: "overlay", subnets: [planned.subnet], endpointCount: 2 });
      expect(ov?.vni?.[0]).toBeGreaterThanOrEqual(256);
      const eps = s.endpoints.filter((e) => e.network === id).map((e) => [e.name, e.address?.split("/")[0], e.host]);
      expect(eps).toEqual([
        ["test1", ip("test1"), h1.address],
        ["test2", ip("test2"), h2.address],
      ]);
    });

    it("the record URL the verifier and inspect ask for answers with ov_net1's VNI (Docker's key ends in /)", async () => {
      const id = (await dockerOk(h1, ["network", "inspect", "--format", "{{.Id}}", "ov_net1"])).trim();
      const url = kvRecordUrl(kv, id)!;
      const record = await get(url.slice(`http://${kv.address}:${kv.port}`.length));
      const s = summarizeDockerKv(dockerKvEntriesFromConsul(JSON.parse(await get("/v1/kv/docker/?recurse"))));
      expect(vniFromKvRecord(record)).toBe(s.networks.find((n) => n.name === "ov_net1")?.vni?.[0]);
    });

    it("removing test2 on host2 removes its endpoint from Consul", async () => {
      await dockerOk(h2, ["rm", "-f", "test2"]);
      const s = summarizeDockerKv(dockerKvEntriesFromConsul(JSON.parse(await get("/v1/kv/docker/?recurse"))));
      expect(s.endpoints.map((e) => e.name)).toEqual(["test1"]);
      expect(s.networks.find((n) => n.name === "ov_net1")?.endpointCount).toBe(1);
    });
  },
  GATE,
);

// The dind kind's images, run for real without Pulumi (CI has no provider plugins): the images of
// scripts/images/build.sh (busybox from busybox-static, Consul built from source, Debian docker.io dind
// images; cached in /var/cache/dnlab/images) on an outer engine of this suite's own
// (scripts/images/outer-up.sh under its own netns/run/state names, so a user's outer engine is never
// touched). The default dind kv lab's underlay network, KV container and both host containers are
// started from the model's specs (underlayNetworkSpec, kvContainerSpec, dindHostSpec: what the stack's
// components create), through the docker CLI mapping of src/docker/cli.ts, then: each inner dockerd answers on its published port on
// 127.0.0.1 (inside the outer engine's namespace), has busybox without any registry, uses Consul as its
// cluster store; ov_net1 made on host1 appears on host2 and test2 pings test1 by name across the
// VXLAN. Each host serves its API only with TLS and the lab's client certificate (the certificates the
// stack makes, put where the spec's uploads say): an unprivileged local user, a client without the
// certificate and a workload container get no answer from any host's API. The swarm-mode image's daemon
// really is Docker 26. afterAll stops the outer engine by its pid and fails if its namespace, process or
// directories are left.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/lab/run.js";
import { containerArgvs, DOCKER_CLI, networkCreateArgv } from "../../src/docker/cli.js";
import { hostOf } from "../../src/lab/workloads.js";
import { dindPreflight, localCapBnd, missingCapabilities } from "../../src/lab/dindPreflight.js";
import {
  buildPlan,
  dindHostSpec,
  type HostPlan,
  kvContainerSpec,
  type LabPlan,
  networkSpec,
  underlayNetworkSpec,
  type UploadContent,
  workloadSpec,
} from "../../src/model/index.js";
import { type CaMaterial, generateCa, generateServer } from "../../src/tls/certs.js";
import { apiAnswered, probeApi } from "../security/apiProbe.js";
import type { VerifyReport } from "../../src/verify/index.js";
import { describeRealLab, realLabGate } from "./gate.js";

const LAB = "di1";
/** This suite's own outer engine (scripts/images/outer-env.sh reads these). */
const OUTER = {
  DNLAB_OUTER_NETNS: `dnlab-outer-${LAB}`,
  DNLAB_OUTER_RUN: `/run/dnlab-outer-${LAB}`,
  DNLAB_OUTER_STATE: `/var/lib/dnlab-outer-${LAB}`,
};
const ENV = { ...process.env, ...OUTER };
const GATE = { binaries: ["mmdebstrap", "jq", "flock", "apt-get"] } as const;

const images = (name: string): string => join(REPO_ROOT, "scripts/images", name);

/** The lab's certificates (as the stack makes them) and where this suite keeps them. */
let certs: CaMaterial | undefined;
const certsDir = mkdtempSync(join(tmpdir(), "dnlab-dind-certs-"));
const clientDir = join(certsDir, "client");

/** Run argv; stdout returned. Scripts' progress and timings (stderr) go to the test log with `progress`. */
function sh(argv: string[], timeoutMs = 120_000, progress = false): string {
  return execFileSync(argv[0]!, argv.slice(1), {
    cwd: REPO_ROOT,
    env: ENV,
    encoding: "utf8",
    stdio: ["ignore", "pipe", progress ? "inherit" : "pipe"],
    timeout: timeoutMs,
  }).trim();
}

/** The Debian docker CLI where the outer engine's ports are (its namespace), DOCKER_HOST = the outer engine. */
const outer = (args: string[], timeoutMs?: number): string => sh(["bash", images("outer-exec.sh"), DOCKER_CLI, ...args], timeoutMs);
/** The same against one dind host's inner daemon, through its published API port, with the lab's client certificate. */
const inner = (host: HostPlan, args: string[], timeoutMs?: number): string =>
  outer(
    [
      "--tlsverify",
      `--tlscacert=${join(clientDir, "ca.pem")}`,
      `--tlscert=${join(clientDir, "cert.pem")}`,
      `--tlskey=${join(clientDir, "key.pem")}`,
      "-H",
      host.endpoint,
      ...args,
    ],
    timeoutMs,
  );
/** Where the outer engine's published ports are: the probes run there. */
const OUTER_NS = ["bash", images("outer-exec.sh")];

/** A dind host as the stack starts it: created from its spec, its uploads put in place (docker cp), started. */
async function startDind(plan: LabPlan, host: HostPlan): Promise<void> {
  const spec = dindHostSpec(plan, host);
  const server = await generateServer(certs!, host.tls!);
  const content: Record<UploadContent, string> = {
    "tls.caCert": certs!.caCert,
    "tls.serverCert": server.cert,
    "tls.serverKey": server.key,
  };
  const root = join(certsDir, host.name);
  for (const u of spec.uploads ?? []) {
    mkdirSync(dirname(join(root, u.path)), { recursive: true });
    writeFileSync(join(root, u.path), content[u.content], { mode: Number.parseInt(u.mode, 8) });
  }
  for (const argv of containerArgvs(spec, root)) outer(argv);
}

function until<T>(what: string, timeoutMs: number, probe: () => T): T {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      return probe();
    } catch (e) {
      last = (e as { stderr?: string; message: string }).stderr || (e as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs / 1000} s; last error: ${last.trim().split("\n").slice(-3).join(" | ")}`);
    execFileSync("sleep", ["0.5"]);
  }
}

/** A process that still runs: a zombie has exited (the daemon is reparented, and its reaper may take a while). */
function alive(pid: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "")[0] !== "Z";
  } catch {
    return false;
  }
}

describeRealLab(
  "dind images: the default dind kv lab's containers from locally built images on an outer engine",
  () => {
    const runs = realLabGate(GATE).ok;
    const tags = new Map<string, string>();
    let plan: LabPlan | undefined;
    let outerPid = "";
    const timings: string[] = [];
    const timed = <T>(what: string, f: () => T): T => {
      const t0 = Date.now();
      const r = f();
      timings.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return r;
    };

    beforeAll(() => {
      if (!runs) return;
      // A crashed earlier run may have left this suite's engine: start from nothing.
      sh(["bash", images("outer-down.sh")], 180_000, true);
      timed("outer-up", () => sh(["bash", images("outer-up.sh")], 120_000, true));
      outerPid = readFileSync(join(OUTER.DNLAB_OUTER_RUN, "dockerd.pid"), "utf8").trim();
      const built = timed("build.sh (cold: minutes; cached: seconds)", () => sh(["bash", images("build.sh")], 60 * 60_000, true));
      for (const line of built.split("\n")) {
        const [name, tag] = line.split(/\s+/);
        if (name && tag) tags.set(name, tag);
      }
      plan = buildPlan({ name: LAB, images: { dindKv: tags.get("dind-20.10"), kv: tags.get("consul"), workload: tags.get("busybox") } });
    }, 65 * 60_000);

    beforeAll(async () => {
      if (!runs) return;
      certs = await generateCa(plan!.tls!);
      mkdirSync(clientDir, { recursive: true, mode: 0o700 });
      writeFileSync(join(clientDir, "ca.pem"), certs.caCert, { mode: 0o600 });
      writeFileSync(join(clientDir, "cert.pem"), certs.clientCert, { mode: 0o600 });
      writeFileSync(join(clientDir, "key.pem"), certs.clientKey, { mode: 0o600 });
    });

    afterAll(() => {
      rmSync(certsDir, { recursive: true, force: true });
      if (!runs) return;
      console.log(`[real-lab] dind images: ${timings.join(", ")}`);
      sh(["bash", images("outer-down.sh")], 180_000, true);
      const left = [
        existsSync(`/run/netns/${OUTER.DNLAB_OUTER_NETNS}`) ? `netns ${OUTER.DNLAB_OUTER_NETNS}` : "",
        existsSync(OUTER.DNLAB_OUTER_RUN) ? OUTER.DNLAB_OUTER_RUN : "",
        existsSync(OUTER.DNLAB_OUTER_STATE) ? OUTER.DNLAB_OUTER_STATE : "",
        outerPid !== "" && alive(outerPid) ? `outer dockerd pid ${outerPid}` : "",
        readFileSync("/proc/self/mountinfo", "utf8").includes(OUTER.DNLAB_OUTER_STATE) ? `mounts under ${OUTER.DNLAB_OUTER_STATE}` : "",
      ].filter((x) => x !== "");
      expect(left, "the outer engine left things behind").toEqual([]);
    }, 240_000);

    it("build.sh reports every image, and the plan runs them", () => {
      expect([...tags.keys()].sort()).toEqual(["busybox", "consul", "dind-20.10", "dind-26", "zookeeper"]);
      expect(plan!.images).toEqual({ dind: tags.get("dind-20.10"), kv: tags.get("consul"), workload: tags.get("busybox") });
    });

    it("preflight: the outer engine gives the inner daemons what they need; plain runc is refused on a machine whose bounding set lacks a capability, naming it", async () => {
      const engine = `unix://${OUTER.DNLAB_OUTER_RUN}/docker.sock`;
      await expect(dindPreflight(plan!, engine)).resolves.toEqual([]);
      const missing = missingCapabilities(localCapBnd(engine)!, Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8")));
      const plain = dindPreflight(plan!, engine, { runtime: "runc" });
      if (missing.length === 0) await expect(plain).resolves.toEqual([]);
      else await expect(plain).rejects.toThrow(new RegExp(`privileged containers cannot start .*lacks ${missing.join(", ")}`));
      // The probe removed its container.
      expect(outer(["ps", "-aq"])).toBe("");
    }, 120_000);

    it("the KV server and both dind hosts come up with the plan's settings; each inner daemon answers on its published port, has busybox and uses Consul", async () => {
      const p = plan!;
      const kv = p.kv!;
      const spec = kvContainerSpec(p, kv);
      outer(networkCreateArgv(underlayNetworkSpec(p)));
      timed("kv healthy", () => {
        for (const argv of containerArgvs(spec)) outer(argv);
        // The container's own healthcheck (the one the stack waits for) turns it healthy.
        until("consul healthy", 60_000, () => {
          const health = outer(["inspect", "--format", "{{.State.Health.Status}}", spec.name]);
          if (health !== "healthy") throw new Error(`health ${health}`);
        });
      });
      const t0 = Date.now();
      for (const h of p.hosts) await startDind(p, h);
      for (const h of p.hosts)
        until(`${h.name} API on ${h.endpoint}`, 90_000, () => inner(h, ["version", "--format", "{{.Server.Version}}"]));
      timings.push(`dind hosts answering ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      for (const h of p.hosts) {
        // The version the plan shows for the host (from the image's tag) is the one that really runs: the
        // project's dockerd, with the Consul store and the thread-namespace and ZooKeeper listing fixes (scripts/build-dockerd-consul.sh).
        expect(inner(h, ["version", "--format", "{{.Server.Version}}"])).toBe("20.10.24+dfsg1+consul+nsfix+zklist");
        expect("20.10.24+dfsg1+consul+nsfix+zklist".startsWith(`${h.dockerVersion}.`)).toBe(true);
        expect(inner(h, ["info", "--format", "{{.Name}} {{.ClusterStore}} {{.ClusterAdvertise}}"])).toBe(
          `${h.name} ${h.daemon.clusterStore} ${h.address}:2376`,
        );
        expect(inner(h, ["image", "inspect", "--format", "{{.Id}}", p.images.workload])).toMatch(/^sha256:/);
        // The healthcheck command the stack gives the host container works inside it.
        outer(["exec", `${p.name}-${h.name}`, "docker", "info"]);
      }
    }, 300_000);

    it("classic overlay through Consul across the dind hosts: ov_net1 from host1 appears on host2, test2 pings test1 by name", () => {
      const p = plan!;
      const ov = p.networks.find((n) => n.driver === "overlay")!;
      if (ov.driver !== "overlay") throw new Error("the default plan has an overlay");
      inner(hostOf(p, ov.createdOn), networkCreateArgv(networkSpec(ov, ov.createdOn)));
      const other = p.hosts.find((h) => h.name !== ov.createdOn)!;
      until(`${ov.name} on ${other.name}`, 30_000, () => inner(other, ["network", "inspect", "--format", "{{.Scope}}", ov.name]));
      expect(inner(other, ["network", "inspect", "--format", "{{.Scope}}", ov.name])).toBe("global");
      const onOverlay = p.workloads.filter((w) => w.attachments[0]?.network === ov.name);
      expect(onOverlay.map((w) => w.name)).toEqual(["test1", "test2"]);
      timed("overlay ping", () => {
        for (const w of onOverlay) for (const argv of containerArgvs(workloadSpec(w))) inner(hostOf(p, w.host), argv);
        const [a, b] = onOverlay as [(typeof onOverlay)[number], (typeof onOverlay)[number]];
        until(`${b.name} pings ${a.name} by name`, 60_000, () =>
          inner(hostOf(p, b.host), ["exec", b.name, "ping", "-c", "1", "-W", "2", a.name]),
        );
      });
      // The daemon-netns check inside a dind host (the host's PID namespace is the dind container's, the
      // pidfile dockerd's default): the verifier reads every thread of each inner dockerd, run where the
      // published ports are. The image's dockerd carries the fix: none is stuck.
      const dir = mkdtempSync(join(tmpdir(), "dnlab-dind-daemon-"));
      try {
        const { checks: _derived, ...rest } = p;
        // The verifier presents the lab's client certificate: this suite keeps it in clientDir.
        writeFileSync(join(dir, "plan.json"), JSON.stringify({ ...rest, tls: { ...rest.tls!, clientDir } }));
        // The plan's other checks fail here (test3 and the macvlan are not made): exit 1, the report is on
        // stdout; no settling window for them (a synchronous call this long would stall vitest's worker).
        const checks = timed("verify (daemon-netns checks)", () => {
          try {
            return sh(
              [
                "bash",
                images("outer-exec.sh"),
                "node",
                "--import",
                "tsx",
                "src/cli/verify.ts",
                "--plan",
                join(dir, "plan.json"),
                "--json",
                "--settle",
                "0",
              ],
              120_000,
            );
          } catch (e) {
            return (e as { stdout: string }).stdout;
          }
        });
        const daemons = (JSON.parse(checks) as VerifyReport).results.filter((r) => r.kind === "daemon-netns");
        expect(daemons.map((r) => r.id)).toEqual(["daemon-netns:host1", "daemon-netns:host2"]);
        for (const r of daemons) {
          expect(r, r.detail).toMatchObject({ ok: true, error: false });
          expect(r.detail).toMatch(/^dockerd pid \d+: \d+ threads, \d+ in live sandboxes.*none stuck in a deleted namespace$/);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 240_000);

    it("no host's API answers an unprivileged local user, a client without the lab's certificate, or a workload container", () => {
      const p = plan!;
      const client = { ca: certs!.caCert, cert: certs!.clientCert, key: certs!.clientKey };
      for (const h of p.hosts) {
        const published = { host: "127.0.0.1", port: h.publishedApiPort! };
        // The probe works: the lab's client certificate gets the API's answer.
        expect(
          apiAnswered(probeApi({ ...published, tls: client }, { under: OUTER_NS, env: ENV })),
          `${h.name} with the client certificate`,
        ).toBe(true);
        for (const asNobody of [true, false]) {
          const o = { under: OUTER_NS, env: ENV, asNobody };
          const who = asNobody ? "nobody" : "root";
          // Published port, plain HTTP: the listener speaks TLS only.
          expect(apiAnswered(probeApi(published, o)), `${who}: plain ${h.endpoint}`).toBe(false);
          // TLS without a client certificate (trusting any server, or the lab's CA): refused in the handshake.
          expect(probeApi({ ...published, tls: {} }, o), `${who}: TLS without a certificate on ${h.endpoint}`).toMatch(/^(error|closed)/);
          expect(probeApi({ ...published, tls: { ca: certs!.caCert } }, o)).toMatch(/^(error|closed)/);
          // On the underlay: nothing on 2375 at all, 2376 as above.
          expect(probeApi({ host: h.address, port: 2375 }, o), `${who}: ${h.address}:2375`).toMatch(/^error: ECONNREFUSED/);
          expect(apiAnswered(probeApi({ host: h.address, port: 2376 }, o))).toBe(false);
          expect(probeApi({ host: h.address, port: 2376, tls: {} }, o)).toMatch(/^(error|closed)/);
        }
      }
      // From the workloads (busybox wget: no client certificate), toward every host's underlay address.
      for (const w of p.workloads.filter((x) => x.attachments[0]?.network === "ov_net1")) {
        for (const h of p.hosts) {
          for (const port of [2375, 2376]) {
            let r: string;
            try {
              r = inner(hostOf(p, w.host), ["exec", w.name, "timeout", "5", "wget", "-q", "-O", "-", `http://${h.address}:${port}/_ping`]);
            } catch (e) {
              r = `failed: ${String((e as { stderr?: string }).stderr ?? "").trim()}`;
            }
            expect(r, `${w.name} -> ${h.address}:${port}`).toMatch(/^failed/);
          }
        }
      }
    }, 120_000);

    it("the swarm-mode dind image runs Docker 26 with the swarm plan's flags and has busybox", async () => {
      const swarm = buildPlan({
        name: `${LAB}s`,
        overlayMode: "swarm",
        images: { dindSwarm: tags.get("dind-26"), workload: tags.get("busybox") },
      });
      const h = swarm.hosts[0]!;
      // The kv lab above holds the same underlay subnet and published port: remove it first.
      const kvLab = plan!;
      outer(["rm", "-f", "-v", `${kvLab.name}-kv`, ...kvLab.hosts.map((x) => `${kvLab.name}-${x.name}`)]);
      outer(["network", "rm", `${kvLab.name}-underlay`]);
      outer(networkCreateArgv(underlayNetworkSpec(swarm)));
      await startDind(swarm, h);
      until(`${h.name} API`, 90_000, () => inner(h, ["version"]));
      const version = inner(h, ["version", "--format", "{{.Server.Version}}"]);
      expect(version).toMatch(/^26\.1\.5\+/);
      expect(version.startsWith(`${h.dockerVersion}.`)).toBe(true);
      expect(inner(h, ["image", "inspect", "--format", "{{.Id}}", swarm.images.workload])).toMatch(/^sha256:/);
    }, 180_000);
  },
  GATE,
);

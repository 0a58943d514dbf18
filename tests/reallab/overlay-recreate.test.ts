// Overlay changes always converge with the project's dockerd (issue 24): the overlay replacement that
// left Docker 20.10 daemons with a thread stuck in a deleted network namespace (their dials then fail
// with "network is unreachable": to the KV store, to the gossip peers), 20 times in a row on a netns
// lab, with etcd and with Consul; every round verifies clean, the daemon-netns checks included.
// The hosts run scripts/build-dockerd-consul.sh's dockerd: Debian's 20.10.24 source with the Consul
// store back and the nsfix (tools/consul/dockerd/patches/). The stock daemon's side is
// stuck-daemon.test.ts.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/lab/run.js";
import { buildPlan } from "../../src/model/index.js";
import { formatTable, verifyLab } from "../../src/verify/index.js";
import { describeRealLab, realLabGate } from "./gate.js";
import { useNetnsLab } from "./harness.js";
import { overlayConfig, replaceOverlay } from "./overlay-rounds.js";

const ROUNDS = 20;
const GATE = { binaries: ["go", "gcc", "apt-get", "flock"] } as const;

function build(script: string): string {
  const out = execFileSync("bash", [script], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 40 * 60_000,
  });
  return out.trim().split("\n").pop() ?? "";
}

describeRealLab(
  `overlay replaced ${ROUNDS} times with plain docker commands, each round verified clean (the project's dockerd)`,
  () => {
    const runs = realLabGate(GATE).ok;
    const consulBinary = process.env["DNLAB_CONSUL"] ?? (runs ? build("scripts/build-consul.sh") : "consul");
    const dockerdBinary = process.env["DNLAB_DOCKERD"] ?? (runs ? build("scripts/build-dockerd-consul.sh") : "dockerd");

    for (const [name, kind] of [
      ["rr1", "etcd"],
      ["rr2", "consul"],
    ] as const) {
      describe(kind, () => {
        const lab = useNetnsLab({ ...overlayConfig(name, kind), hostKind: "netns" }, { workloads: true, consulBinary, dockerdBinary });

        it(
          `${ROUNDS} rounds: containers and network removed, the network created with another MTU, the containers again; all verified`,
          async () => {
            expect(execFileSync(dockerdBinary, ["--version"], { encoding: "utf8" })).toMatch(/\+consul\+nsfix\+zklist,/);
            const seen = { leaving: 0, sandboxThreads: 0 };
            const times: number[] = [];
            for (let round = 1; round <= ROUNDS; round++) {
              const plan = buildPlan({ ...overlayConfig(name, kind, round % 2 ? 1400 : 1450), hostKind: "netns" });
              const t0 = Date.now();
              await replaceOverlay(plan);
              const report = await verifyLab(plan);
              times.push(Date.now() - t0);
              expect(report.failures, `round ${round} (${kind}):\n${formatTable(report, { onlyFailures: true })}`).toEqual([]);
              expect(report.summary.blocked).toBe(0);
              for (const r of report.results.filter((x) => x.kind === "daemon-netns")) {
                const d = r.data as { leaving: number; inSandboxes: number; stuck: unknown[] };
                expect(d.stuck, `round ${round}: ${r.detail}`).toEqual([]);
                seen.leaving += d.leaving;
                seen.sandboxThreads += d.inSandboxes;
              }
            }
            // The check really looked: each host keeps its overlay's watcher thread in the live sandbox.
            expect(seen.sandboxThreads).toBeGreaterThanOrEqual(ROUNDS * lab.plan.hosts.length);
            const s = times.map((t) => t / 1000);
            console.log(
              `[real-lab] ${name} (${kind}): ${ROUNDS} replacements verified clean; per round ${Math.min(...s).toFixed(1)}-${Math.max(...s).toFixed(1)} s ` +
                `(mean ${(s.reduce((a, b) => a + b, 0) / s.length).toFixed(1)} s); threads seen leaving a deleted namespace: ${seen.leaving}`,
            );
          },
          ROUNDS * 60_000,
        );
      });
    }
  },
  GATE,
);

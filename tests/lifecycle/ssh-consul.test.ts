// The article's set-up on ssh hosts under the real engine: Consul in a container with host networking on
// host1, both daemons pointed at it over ssh (tests/lifecycle/sshMachines.ts plays the machines). Restarting
// host1's daemon stops Consul too; the stack must still bring a working overlay up on the first try.
// Ten fresh labs in a row, each verified clean on its first up and destroyed back to the bare machines.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/lab/run.js";
import { docker, dockerOk } from "../../src/lab/workloads.js";
import { LOCAL_IMAGES } from "./dind.js";
import { failed, netnsDiagnostics, testTool } from "./harness.js";
import { useSshMachines } from "./sshMachines.js";

const ROUNDS = Number(process.env["ROUNDS"] ?? 10);
const CONSUL_IMAGE = LOCAL_IMAGES.kv;

describe(`ssh hosts, kv mode with Consul on host1: ${ROUNDS} fresh labs verify clean on their first up`, () => {
  const consul = testTool("DNLAB_CONSUL", "scripts/build-consul.sh");
  const dockerd = testTool("DNLAB_DOCKERD", "scripts/build-dockerd-consul.sh");
  const m = useSshMachines({
    machinesLab: "ek4",
    stackName: "enginetest-ssh-consul",
    plugins: ["command", "docker", "consul"],
    dockerdBinary: dockerd,
    config: (mm) => ({
      name: "ek4",
      hostKind: "ssh",
      overlayMode: "kv",
      kv: { kind: "consul", image: CONSUL_IMAGE },
      hosts: mm.hostsConfig(),
    }),
    // No registry here: host1 gets the Consul image the dind suites use (scripts/images/build.sh, cached).
    prepare: async (mm) => {
      const h1 = mm.plan.hosts[0]!;
      execFileSync("bash", ["scripts/images/build.sh", "--socket", h1.netns!.socket, "--only", "consul"], {
        cwd: REPO_ROOT,
        env: { ...process.env, DNLAB_CONSUL: consul, DNLAB_DOCKERD: dockerd },
        stdio: ["ignore", "ignore", "inherit"],
        timeout: 30 * 60_000,
      });
    },
  });

  it("a fresh preview plans the lab without reaching for the machines' daemons or Consul", async () => {
    // Read from the printed summary: the engine's event stream does not reach the Automation API
    // through the nsenter wrapper.
    let printed = "";
    await m.stack().preview({ onOutput: (o) => (printed += o) });
    expect(Number(/\+ (\d+) to create/.exec(printed)?.[1]), printed.slice(-3000)).toBeGreaterThan(20);
  });

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: up verifies clean on its first try; destroy leaves the machines as they were`, async () => {
      const before = m.plan.hosts.map((_, i) => m.argvOf(i));
      let printed = "";
      const r = await m
        .stack()
        .up({ onOutput: (o) => (printed += o) })
        .catch((e: unknown) => {
          console.log(printed.slice(-6000));
          console.log(netnsDiagnostics(m.plan));
          throw e;
        });
      const out = Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.value]));
      expect(failed(out), printed.slice(-4000)).toBe(0);
      // Both daemons are in Consul's node list, which Consul itself serves from host1.
      const nodes = await dockerOk(m.plan.hosts[0]!, [
        "exec",
        "ek4-kv",
        "consul",
        "kv",
        "get",
        "-http-addr=http://198.18.0.11:8500",
        "-keys",
        "docker/nodes/",
      ]);
      expect(nodes.trim().split("\n")).toHaveLength(2);
      await m.stack().destroy({ onOutput: () => undefined });
      for (const [i, h] of m.plan.hosts.entries()) {
        expect(m.argvOf(i), h.name).toBe(before[i]);
        expect((await docker(h, ["ps", "-aq"])).stdout.trim(), h.name).toBe("");
        expect((await docker(h, ["network", "inspect", "docker_gwbridge"])).code, h.name).not.toBe(0);
      }
    }, 300_000);
  }
});

// Swarm mode on dind hosts, for real: the dind image this machine can build is Debian trixie's
// docker.io 26.1.5 (scripts/images/build.sh: dnlab-local/dind:26.1.5), named through lab:images.dindSwarm;
// the hosts' dockerVersion is what its tag says, and the daemons answer with that very version.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkCount, type LabConfigInput } from "../../src/model/index.js";
import { REPO_ROOT } from "../../src/lab/run.js";
import { filesContaining } from "../security/secrets.js";
import { LOCAL_IMAGES, useOuterEngine } from "./dind.js";
import { assertDindLocked } from "./dindSecurity.js";
import { timed, useLabStack, verificationOf } from "./harness.js";

describe("dind swarm on Docker 26.1.5: up, the join token kept secret, npm run inspect, no-change preview, destroy", () => {
  const outer = useOuterEngine();
  const config: LabConfigInput = { hostKind: "dind", overlayMode: "swarm", images: LOCAL_IMAGES };
  const lab = useLabStack("enginetest-dind-swarm", config, () => ({ DOCKER_HOST: outer.dockerHost() }), outer.stackOptions());

  it("comes up and verifies clean; the join token never reaches the output", async () => {
    expect(lab.plan.hosts.map((h) => h.dockerVersion)).toEqual(["26.1", "26.1"]);
    let printed = "";
    const r = await timed(lab, "up", () => lab.stack.up({ onOutput: (o) => (printed += o) }));
    const out = Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.value]));
    const v = verificationOf(out);
    expect(v.summary.failed).toBe(0);
    expect(v.summary.passed + v.summary.expectedFailures).toBe(checkCount(lab.plan.checks));
    expect(printed).toContain("swarm-init");
    expect(printed).not.toMatch(/SWMTKN-/);
    expect(JSON.stringify(r.outputs)).not.toMatch(/SWMTKN-/);
    expect(out["kvRegistrations"]).toBeNull();
    // The token in no file of the lab's or the engine's (the state keeps it encrypted).
    expect(filesContaining([join(REPO_ROOT, ".lab"), ...lab.engineDirs()], "SWMTKN-")).toEqual([]);
    // Docker 26 hosts behind TLS as well; the swarm steps' docker CLI reached them with the client's files.
    assertDindLocked(lab, out, outer.dockerHost(), printed);
  });

  it("npm run verify / inspect -- --config (the stack's lab: settings as JSON) show the daemons' real version and swarm mode", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dnlab-dind-swarm-"));
    const file = join(dir, "swarm-lab.json");
    writeFileSync(file, JSON.stringify(config));
    try {
      const verify = await timed(lab, "npm run verify", () => outer.npmRun("verify", "--config", file));
      expect(verify.out).toMatch(/verify: \d+ passed, 1 expected failure, 0 failed/);
      expect(verify.code).toBe(0);
      const inspect = await timed(lab, "npm run inspect", () => outer.npmRun("inspect", "--config", file));
      expect(inspect.code, inspect.out).toBe(0);
      expect(inspect.out).toMatch(
        /host1\s+dind\s+198\.18\.0\.11\s+tcp:\/\/127\.0\.0\.1:23751\s+yes\s+26\.1\.5\+dfsg1\s+swarm active \(manager\)/,
      );
      expect(inspect.out).toMatch(/host2\s+dind\s+198\.18\.0\.12\s+tcp:\/\/127\.0\.0\.1:23752\s+yes\s+26\.1\.5\+dfsg1\s+swarm active/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a second preview shows no changes", async () => {
    await timed(lab, "no-change preview", () => lab.stack.preview({ expectNoChanges: true }));
  });
});
